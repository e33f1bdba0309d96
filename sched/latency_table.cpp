#include "sched/latency_table.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "base/checked.h"
#include "base/csv.h"
#include "base/errors.h"
#include "base/provenance.h"

namespace sushi {

LatencyTable LatencyTable::from_matrix(const std::vector<double>& accuracy,
                                       const std::vector<std::vector<double>>& latency,
                                       const std::vector<PbLoadCost>& pb_load) {
  LatencyTable t;
  t.platform = "matrix";
  t.accuracy = accuracy;
  for (size_t s = 0; s < accuracy.size(); ++s) t.subnet_names.push_back("s" + std::to_string(s));
  const size_t g_count = latency.empty() ? 1 : latency[0].size();
  for (size_t g = 0; g < g_count; ++g) {
    t.subgraph_names.push_back(g == 0 ? "none" : "g" + std::to_string(g));
    t.subgraph_source.push_back(g == 0 ? -1 : int(g) - 1);
    t.subgraph_bytes.push_back(0);
    t.pb_load.push_back(g < pb_load.size() ? pb_load[g] : PbLoadCost{});
  }
  t.entries.resize(accuracy.size() * g_count);
  for (size_t s = 0; s < accuracy.size(); ++s)
    for (size_t g = 0; g < g_count; ++g) t.at(s, g).latency_ms = latency.at(s).at(g);
  return t;
}

namespace {
std::string slices_to_text(const SubGraph& g) {
  std::ostringstream o;
  int n = 0;
  for (const auto& s : g.slices) n += s.empty() ? 0 : 1;
  o << n;
  for (const auto& s : g.slices)
    if (!s.empty())
      o << " " << s.tensor << ":" << s.out << ":" << s.in << ":" << s.k << ":" << (s.has_bias ? 1 : 0);
  return o.str();
}

}  // namespace

std::string latency_table_to_text(const LatencyTable& t) {
  std::ostringstream o;
  o.precision(17);
  o << "sushi-latency-table " << kLatencyTableVersion << "\n";
  o << "platform " << t.platform << "\nkey " << t.key << "\n";
  o << "subnets " << t.num_subnets() << "\n";
  for (size_t s = 0; s < t.num_subnets(); ++s) o << t.accuracy[s] << "\t" << t.subnet_names[s] << "\n";
  o << "subgraphs " << t.num_subgraphs() << "\n";
  for (size_t g = 0; g < t.num_subgraphs(); ++g)
    o << t.subgraph_names[g] << "\t" << t.subgraph_source[g] << "\t" << t.subgraph_bytes[g] << "\t"
      << t.pb_load[g].latency_ms << "\t" << t.pb_load[g].bytes << "\t" << t.pb_load[g].energy_pj << "\t"
      << (g < t.subgraphs.size() ? slices_to_text(t.subgraphs[g]) : std::string("0")) << "\n";
  o << "batches " << t.num_batches();
  for (int b : t.batch_sizes) o << " " << b;
  o << "\nentries " << t.entries.size() << "\n";
  for (const LtEntry& e : t.entries)
    o << e.latency_ms << " " << e.cycles << " " << e.offchip_weight_bytes << " " << e.offchip_act_bytes << " "
      << e.pb_hit_bytes << " " << e.energy_pj << " " << e.offchip_energy_pj << "\n";
  o << "end\n";
  const std::string body = o.str();
  return body + "checksum " + content_hash(body) + "\n";  // a damaged or hand-edited entry is a miss
}

namespace {

// Line-by-line reading of a latency table file; errors name the origin and the line.
class TableReader {
 public:
  TableReader(const std::string& text, const std::string& origin) : in_(text), origin_(origin) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(origin_ + ": line " + std::to_string(lineno_) + ": " + what);
  }
  const std::string& next() {
    if (!std::getline(in_, line_)) fail("unexpected end of file (truncated latency table)");
    ++lineno_;
    return line_;
  }
  // The rest of the next line, which must start with `word`.
  std::string expect_word(const std::string& word) {
    std::istringstream ls(next());
    std::string w;
    ls >> w;
    if (w != word) fail("expected '" + word + "', got '" + w + "'");
    std::string rest;
    std::getline(ls, rest);
    return rest.empty() ? rest : rest.substr(1);
  }
  // A count after `word`, at most `max` (a bound, not a blow-up, on a damaged file).
  size_t count(const std::string& word, size_t max = 10000000) {
    return count_in(expect_word(word), word, max);
  }
  size_t count_in(const std::string& text, const std::string& what, size_t max) const {
    size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || text[0] == '-' || v > max)
      fail("expected a count in [0, " + std::to_string(max) + "] for " + what);
    return size_t(v);
  }
  double number(const std::string& text, const std::string& what) const {
    const std::optional<double> v = parse_number(text);
    if (!v) fail("expected a number for " + what + ", got '" + text + "'");
    return *v;
  }

 private:
  std::istringstream in_;
  std::string origin_, line_;
  int lineno_ = 0;
};

void read_subnets(TableReader& r, LatencyTable& t, const SupernetSpace* space) {
  const size_t n_s = r.count("subnets");
  for (size_t s = 0; s < n_s; ++s) {
    const std::string& line = r.next();
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) r.fail("expected 'accuracy<TAB>subnet'");
    t.accuracy.push_back(r.number(line.substr(0, tab), "accuracy"));
    t.subnet_names.push_back(line.substr(tab + 1));
    if (space) t.subnets.push_back(space->parse_subnet(t.subnet_names.back()));
  }
}

SubGraph read_slices(TableReader& r, std::istringstream& ls, size_t n_slices, const SupernetSpace& space) {
  SubGraph sg = space.empty_subgraph();
  for (size_t i = 0; i < n_slices; ++i) {
    std::string item;
    ls >> item;
    WeightSlice w;
    int bias = 0;
    if (std::sscanf(item.c_str(), "%d:%d:%d:%d:%d", &w.tensor, &w.out, &w.in, &w.k, &bias) != 5 ||
        w.tensor < 0 || size_t(w.tensor) >= sg.slices.size())
      r.fail("malformed weight slice '" + item + "'");
    w.has_bias = bias != 0;
    sg.slices[w.tensor] = w;
  }
  return sg;
}

void read_subgraphs(TableReader& r, LatencyTable& t, const SupernetSpace* space) {
  const size_t n_g = r.count("subgraphs");
  for (size_t g = 0; g < n_g; ++g) {
    std::istringstream ls(r.next());
    std::string name;
    PbLoadCost load;
    int source = 0;
    int64_t bytes = 0;
    size_t n_slices = 0;
    std::getline(ls, name, '\t');
    if (!(ls >> source >> bytes >> load.latency_ms >> load.bytes >> load.energy_pj >> n_slices))
      r.fail("malformed SubGraph line");
    t.subgraph_names.push_back(name);
    t.subgraph_source.push_back(source);
    t.subgraph_bytes.push_back(bytes);
    t.pb_load.push_back(load);
    if (space) t.subgraphs.push_back(read_slices(r, ls, n_slices, *space));
  }
}

void read_entries(TableReader& r, LatencyTable& t) {
  {
    std::istringstream ls(r.expect_word("batches"));
    std::string n_text;
    ls >> n_text;
    const size_t n_b = r.count_in(n_text, "batches", 4096);
    t.batch_sizes.assign(n_b, 0);
    for (auto& b : t.batch_sizes) ls >> b;
  }
  const size_t n_e = r.count("entries", size_t(1) << 40);
  if (n_e !=
      checked::mul(checked::mul(t.num_subnets(), t.num_subgraphs(), "entries"), t.num_batches(), "entries"))
    r.fail("entry count does not match subnets x subgraphs x batches");
  for (size_t i = 0; i < n_e; ++i) {
    std::istringstream ls(r.next());
    LtEntry e;
    if (!(ls >> e.latency_ms >> e.cycles >> e.offchip_weight_bytes >> e.offchip_act_bytes >> e.pb_hit_bytes >>
          e.energy_pj >> e.offchip_energy_pj))
      r.fail("malformed entry");
    t.entries.push_back(e);
  }
}

}  // namespace

LatencyTable latency_table_from_text(const std::string& text, const std::string& origin,
                                     const SupernetSpace* space) {
  const size_t at = text.rfind("checksum ", text.size() < 26 ? 0 : text.size() - 26);
  if (at == std::string::npos || (at > 0 && text[at - 1] != '\n') ||
      text.compare(at, std::string::npos, "checksum " + content_hash(text.substr(0, at)) + "\n") != 0)
    throw InputError(origin + ": checksum missing or wrong (a damaged or edited latency table)");
  TableReader r(text.substr(0, at), origin);
  LatencyTable t;
  if (r.expect_word("sushi-latency-table") != std::to_string(kLatencyTableVersion))
    r.fail("unsupported latency table version");
  t.platform = r.expect_word("platform");
  t.key = r.expect_word("key");
  read_subnets(r, t, space);
  read_subgraphs(r, t, space);
  read_entries(r, t);
  r.expect_word("end");
  return t;
}

LatencyTable load_profile_table(const std::string& path) {
  const YamlView root = YamlView::load_file(path);
  root.expect_keys({"name", "description", "source", "unit", "batch_sizes", "subnets"});
  LatencyTable t;
  t.platform = root.get<std::string>("name");
  t.key = file_hash(path);
  if (root.get<std::string>("unit", "ms") != "ms") root.at("unit").fail("expected ms");
  t.batch_sizes = root.get_list<int>("batch_sizes");
  if (t.batch_sizes.empty()) root.at("batch_sizes").fail("expected at least one batch size");
  for (size_t i = 0; i < t.batch_sizes.size(); ++i)
    if (t.batch_sizes[i] <= 0 || (i > 0 && t.batch_sizes[i] <= t.batch_sizes[i - 1]))
      root.at("batch_sizes").fail("expected increasing positive batch sizes");
  t.subgraph_names = {"none"};
  t.subgraph_source = {-1};
  t.subgraph_bytes = {0};
  t.pb_load = {PbLoadCost{}};
  const YamlView list = root.at("subnets");
  for (const YamlView& s : list.items()) {
    s.expect_keys({"id", "top1", "latency_ms", "config"});
    t.subnet_names.push_back(s.get<std::string>("id"));
    const double acc = s.get<double>("top1");
    if (acc <= 0 || acc > 100) s.at("top1").fail("expected a percentage");
    t.accuracy.push_back(acc);
    const std::vector<double> lat = s.get_list<double>("latency_ms");
    if (lat.size() != t.batch_sizes.size())
      s.at("latency_ms")
          .fail("expected one latency per batch size (" + std::to_string(t.batch_sizes.size()) + ")");
    for (double ms : lat) {
      if (!(ms > 0)) s.at("latency_ms").fail("expected positive latencies");
      LtEntry e;
      e.latency_ms = ms;
      t.entries.push_back(e);
    }
  }
  if (t.accuracy.empty()) list.fail("expected at least one subnet");
  return t;
}

}  // namespace sushi
