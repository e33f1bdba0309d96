// Running a sweep: points identified and evaluated on a thread pool (and other ranks through a
// Distributor), finished points appended to the store, result files regenerated from the rows in point
// order.
#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "base/csv.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/manifest.h"
#include "base/random.h"
#include "explore/area.h"
#include "explore/store.h"
#include "explore/sweep.h"
#include "sim/accel.h"

namespace sushi::explore {
namespace {

struct Column {
  const char* name;
  Unit unit;
};
// The results of one point, in this order in the store, CSV and JSON (units in the names and in "units").
const Column kColumns[] = {
    {"latency_ms", Unit::Ms},           {"cycles", Unit::Cycles},       {"compute_cycles", Unit::Cycles},
    {"stall_cycles", Unit::Cycles},     {"energy_uj", Unit::Uj},        {"energy_dram_uj", Unit::Uj},
    {"energy_sram_uj", Unit::Uj},       {"energy_mac_uj", Unit::Uj},    {"offchip_weight_bytes", Unit::Bytes},
    {"offchip_act_bytes", Unit::Bytes}, {"pb_hit_bytes", Unit::Bytes},  {"cached_bytes", Unit::Bytes},
    {"pb_load_cycles", Unit::Cycles},   {"pb_load_bytes", Unit::Bytes}, {"macs", Unit::Count},
    {"utilization", Unit::Ratio},       {"layers", Unit::Count},        {"area_mm2_est", Unit::None}};
constexpr size_t kNumColumns = sizeof kColumns / sizeof kColumns[0];
using Values = std::array<double, kNumColumns>;
const char* const kStoreFile = "results.v1.store";

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

// `area`: the config's area_estimate_mm2() (explore/area.h).
Values column_values(const sim::SimTotals& t, double area) {
  const sim::RunResult& x = t.run;
  const auto uj = [](double pj) { return convert(pj, Unit::Pj, Unit::Uj); };
  return Values{x.latency_ms,
                double(x.cycles),
                double(x.compute_cycles),
                double(x.stall_cycles),
                uj(x.energy_pj),
                uj(x.energy_dram_pj),
                uj(x.energy_sram_pj),
                uj(x.energy_mac_pj),
                double(x.offchip_weight_bytes),
                double(x.offchip_act_bytes),
                double(x.pb_hit_bytes),
                double(t.cached_bytes),
                double(t.pb_load.cycles),
                double(t.pb_load.bytes),
                double(x.macs),
                x.utilization,
                double(t.layers),
                area};
}

// One point of a batch: its grid index, hash and result.
struct Row {
  size_t index = 0;
  std::string hash;
  bool ok = false;
  std::string reason, detail;  // skipped
  Values v{};
};

void skip(Row& row, const std::string& reason, const std::string& detail) {
  row.ok = false;
  row.reason = reason;
  row.detail = detail;
}

// An integral value below 2^53 as an integer, else the shortest text that reads back exactly.
void append_number(std::string& s, double x) {
  char b[32];
  const auto r = std::fabs(x) < 9007199254740992.0 && x == std::floor(x) && !(x == 0 && std::signbit(x))
                     ? std::to_chars(b, b + sizeof b, int64_t(x))
                     : std::to_chars(b, b + sizeof b, x);
  s.append(b, r.ptr);
}

// Store payload: "ok V1,V2,..." (the columns in kColumns order, each read back exactly) or
// "skipped MESSAGE".
std::string encode(const Row& r) {
  if (!r.ok) return "skipped " + r.detail;
  std::string s = "ok ";
  s.reserve(kNumColumns * 20);
  for (size_t i = 0; i < kNumColumns; ++i) {
    if (i) s += ',';
    append_number(s, r.v[i]);
  }
  return s;
}

bool decode(const std::string& payload, Row& r) {
  if (payload.rfind("skipped ", 0) == 0) {
    const std::string detail = payload.substr(8);
    skip(r, reason_class(detail), detail);
    return true;
  }
  if (payload.rfind("ok ", 0) != 0) return false;
  const char* p = payload.c_str() + 3;
  for (size_t i = 0; i < kNumColumns; ++i) {
    char* end = nullptr;
    r.v[i] = std::strtod(p, &end);
    if (end == p || *end != (i + 1 == kNumColumns ? '\0' : ',')) return false;
    p = end + 1;
  }
  r.ok = true;
  return true;
}

// Evaluates the point loaded in `s` into `row`: the fast path, else the Point path.
void evaluate_row(const PointBuilder& b, PointScratch& s, Row& row, int64_t& layers) {
  if (const std::optional<sim::SimTotals> t = b.evaluate_fast(s)) {
    row.ok = true;
    row.v = column_values(*t, area_estimate_mm2(s.accels[s.base]));  // the config evaluate_fast() left
    layers = t->layers;
    return;
  }
  SweepPoint unused;
  const PointResult r = evaluate_point(b.build(s.values, unused, &s, false), &layers);
  if (r.status != "ok") return skip(row, r.reason, r.detail);
  row.ok = true;
  for (size_t i = 0; i < kNumColumns; ++i) row.v[i] = r.stats.find(kColumns[i].name)->value;
}

}  // namespace

PointResult evaluate_point(const Point& point, int64_t* layers) {
  PointResult r;
  std::shared_ptr<const sim::SimEvaluation> e;
  try {
    e = sim::evaluate(point);
  } catch (const InputError& error) {
    r.status = "skipped";
    r.detail = one_line(error.what());
    r.reason = reason_class(r.detail);
    return r;
  }
  r.status = "ok";
  sim::SimTotals t;
  t.run = e->run;
  t.pb_load = e->pb_load;
  t.cached_bytes = e->cached.bytes();
  t.layers = int64_t(e->run.layers.size());
  const Values v = column_values(t, area_estimate_mm2(e->accel));
  for (size_t i = 0; i < kNumColumns; ++i) r.stats.add(kColumns[i].name, v[i], kColumns[i].unit);
  if (layers) *layers = t.layers;
  return r;
}

std::string evaluate_payload(const PointBuilder& builder, PointScratch& scratch, size_t index,
                             int64_t* layers) {
  builder.load(index, scratch);
  Row row;
  int64_t n = 0;
  evaluate_row(builder, scratch, row, n);
  if (layers) *layers = n;
  return encode(row);
}

std::vector<std::string> result_columns() {
  std::vector<std::string> out;
  for (const Column& c : kColumns) out.emplace_back(c.name);
  return out;
}

namespace {

constexpr uint64_t kPow10[] = {1,
                               10,
                               100,
                               1000,
                               10000,
                               100000,
                               1000000,
                               10000000,
                               100000000,
                               1000000000,
                               10000000000,
                               100000000000,
                               1000000000000,
                               10000000000000,
                               100000000000000,
                               1000000000000000};

// printf's %.{digits}g of a non-negative integer n < 2^53 (ties to even, trailing zeros dropped).
void append_g_integer(std::string& s, uint64_t n, int digits) {
  char d[24];
  const int len = int(std::to_chars(d, d + sizeof d, n).ptr - d);
  if (len <= digits) return void(s.append(d, size_t(len)));
  const uint64_t p = kPow10[len - digits], half = p / 2, rem = n % p;
  uint64_t q = n / p;
  if (rem > half || (rem == half && (q & 1))) ++q;
  int exp = len - 1;
  if (q == kPow10[digits]) q /= 10, ++exp;
  char m[24];
  int mlen = int(std::to_chars(m, m + sizeof m, q).ptr - m);
  while (mlen > 1 && m[mlen - 1] == '0') --mlen;
  s += m[0];
  if (mlen > 1) s.append(1, '.').append(m + 1, size_t(mlen - 1));
  s.append(exp < 10 ? "e+0" : "e+").append(std::to_string(exp));
}

// csv_number() and JsonWriter's number format (printf's %.{digits}g, digits <= 15), without printf.
void append_g(std::string& s, double x, int digits) {
  if (std::fabs(x) < 9007199254740992.0 && x == std::floor(x) && !(x == 0 && std::signbit(x))) {
    if (x < 0) s += '-';
    return append_g_integer(s, uint64_t(std::fabs(x)), digits);
  }
  char b[40];
  s.append(b, std::to_chars(b, b + sizeof b, x, std::chars_format::general, digits).ptr);
}

// JsonWriter::escape() appended in place (no temporary for the common case of nothing to escape).
void append_json(std::string& out, const std::string& v) {
  if (v.find_first_of("\"\\\n\t\r") == std::string::npos &&
      std::all_of(v.begin(), v.end(), [](char c) { return (unsigned char)c >= 0x20; })) {
    out.append(1, '"').append(v).append(1, '"');
    return;
  }
  out += JsonWriter::escape(v);
}

void append_csv(std::string& out, const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos)
    out += v;
  else
    out += csv_cell(v);
}

// The axis values of grid point `index`, in axis_paths() order (references into the spec).
void grid_values(const SweepSpec& spec, size_t index, std::vector<const std::string*>& out) {
  out.assign(spec.axis_paths().size(), nullptr);
  size_t i = out.size();
  for (size_t k = spec.axes.size(); k-- > 0;) {
    const std::vector<std::string>& v = spec.axes[k].values[index % spec.axes[k].values.size()];
    index /= spec.axes[k].values.size();
    for (size_t p = v.size(); p-- > 0;) out[--i] = &v[p];
  }
}

void csv_row(const SweepSpec& spec, size_t i, const Row& r, std::string& out) {
  thread_local std::vector<const std::string*> values;
  grid_values(spec, r.index, values);
  out.append(std::to_string(i)).append(1, ',').append(r.hash);
  for (const std::string* v : values) append_csv(out.append(1, ','), *v);
  out.append(r.ok ? ",ok," : ",skipped,");
  if (!r.ok) append_csv(out, r.reason);
  for (size_t c = 0; c < kNumColumns; ++c) {
    out += ',';
    if (!r.ok || !std::isfinite(r.v[c])) continue;
    if (kColumns[c].unit == Unit::Count)
      out += std::to_string(int64_t(r.v[c]));
    else
      append_g(out, r.v[c], 6);
  }
  out += '\n';
}

void json_row(const SweepSpec& spec, const std::vector<std::string>& paths, size_t i, const Row& r,
              std::string& out) {
  thread_local std::vector<const std::string*> values;
  grid_values(spec, r.index, values);
  out.append("{\"point\":").append(std::to_string(i)).append(",\"hash\":");
  append_json(out, r.hash);
  out.append(",\"values\":{");
  for (size_t k = 0; k < paths.size(); ++k) {
    if (k) out += ',';
    append_json(out, paths[k]);
    append_json(out.append(1, ':'), *values[k]);
  }
  if (!r.ok) {
    append_json(out.append("},\"status\":\"skipped\",\"reason\":"), r.reason);
    append_json(out.append(",\"detail\":"), r.detail);
    out += '}';
    return;
  }
  out.append("},\"status\":\"ok\",\"results\":{");
  for (size_t c = 0; c < kNumColumns; ++c) {
    out.append(c ? ",\"" : "\"").append(kColumns[c].name).append("\":");
    if (kColumns[c].unit == Unit::Count)
      out += std::to_string(int64_t(r.v[c]));
    else if (!std::isfinite(r.v[c]))
      out += "null";
    else
      append_g(out, r.v[c], 10);
  }
  out += "}}";
}

// The CSV rows and the JSON rows (comma-separated), formatted on `threads` threads in contiguous parts.
std::pair<std::string, std::string> format_rows(const SweepSpec& spec, const std::vector<Row>& rows,
                                                int threads) {
  const std::vector<std::string> paths = spec.axis_paths();
  const size_t parts = std::max<size_t>(1, std::min<size_t>(size_t(threads), rows.size() / 256 + 1));
  std::vector<std::string> csv(parts), json(parts);
  const auto format = [&](size_t part) {
    for (size_t i = rows.size() * part / parts; i < rows.size() * (part + 1) / parts; ++i) {
      csv_row(spec, i, rows[i], csv[part]);
      if (i) json[part] += ',';
      json_row(spec, paths, i, rows[i], json[part]);
    }
  };
  std::vector<std::thread> pool;
  for (size_t p = 1; p < parts; ++p) pool.emplace_back(format, p);
  format(0);
  for (std::thread& t : pool) t.join();
  std::pair<std::string, std::string> out;
  for (size_t p = 0; p < parts; ++p) {
    out.first += csv[p];
    out.second += json[p];
  }
  return out;
}

std::string csv_text(const SweepSpec& spec, const std::string& rows) {
  const std::string line = spec.provenance.line();
  std::string out = line.empty() ? "" : "# " + line + "\n";
  out += "point,hash";
  for (const std::string& p : spec.axis_paths()) out += "," + p;
  out += ",status,reason";
  for (const Column& c : kColumns) out += "," + std::string(c.name);
  return out + "\n" + rows;
}

std::string json_text(const SweepSpec& spec, const std::string& rows, const SweepSummary& s) {
  JsonWriter j;
  j.begin_object().field("sweep", spec.name).key("provenance");
  spec.provenance.write_json(j);
  j.key("axes").begin_array();
  for (const std::string& p : spec.axis_paths()) j.value(p);
  j.end_array().key("units").begin_object();
  for (const Column& c : kColumns) j.field(c.name, unit_name(c.unit));
  j.end_object().field("points", int64_t(s.points)).field("skipped", int64_t(s.skipped));
  j.key("skipped_by_reason").begin_object();
  for (const auto& [reason, n] : s.skipped_by_reason) j.field(reason, int64_t(n));
  j.end_object().key("rows").begin_array();
  if (!rows.empty()) j.raw(rows);
  j.end_array().end_object();
  return j.str() + "\n";
}

// One batch on the local threads (and the distributor's ranks).
class Batch : public BatchAccess {
 public:
  Batch(const PointBuilder& b, ResultStore& store, std::vector<Row>& rows, const SweepRunOptions& o)
      : builder_(b), store_(store), rows_(rows), options_(o) {}
  size_t size() const override { return rows_.size(); }
  size_t done() const override { return done_; }
  bool failed() const override { return failed_; }
  std::pair<size_t, size_t> claim(size_t n) override {
    const size_t first = std::min(next_.fetch_add(n), rows_.size());
    return {first, std::min(first + n, rows_.size())};
  }
  size_t grid_index(size_t position) const override { return rows_[position].index; }
  bool pending(size_t position) override { return prefill(position, manager_scratch_); }
  void complete(size_t position, const std::string& payload, int64_t layers) override;
  void progress() override {
    if (options_.progress) options_.progress(done_, rows_.size());
  }
  void run(int threads);
  size_t evaluated() const { return evaluated_; }
  size_t reused() const { return reused_; }
  int64_t layers() const { return layers_; }

 private:
  bool prefill(size_t position, PointScratch& s);
  void evaluate(size_t position, PointScratch& s);
  void worker();

  const PointBuilder& builder_;
  ResultStore& store_;
  std::vector<Row>& rows_;
  const SweepRunOptions& options_;
  PointScratch manager_scratch_;
  std::atomic<size_t> next_{0}, done_{0}, evaluated_{0}, reused_{0};
  std::atomic<int64_t> layers_{0};
  std::atomic<bool> failed_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
};

bool Batch::prefill(size_t position, PointScratch& s) {
  Row& row = rows_[position];
  builder_.load(row.index, s);
  SweepPoint id;
  builder_.identify(s, id);
  row.hash = std::move(id.hash);
  bool finished = !id.skip_reason.empty();
  if (finished) skip(row, id.skip_reason, id.skip_detail);
  if (const std::string* stored = finished ? nullptr : store_.find(row.hash);
      stored && decode(*stored, row)) {
    ++reused_;
    finished = true;
  }
  if (finished) ++done_;
  return !finished;
}

void Batch::evaluate(size_t position, PointScratch& s) {
  Row& row = rows_[position];
  int64_t layers = 0;
  evaluate_row(builder_, s, row, layers);
  store_.append(row.hash, encode(row));  // before anything else: a kill loses nothing
  layers_ += layers;
  ++evaluated_;
  ++done_;
}

void Batch::complete(size_t position, const std::string& payload, int64_t layers) {
  Row& row = rows_[position];
  if (!decode(payload, row)) throw std::runtime_error("sweep: a malformed result from another rank");
  store_.append(row.hash, payload);
  layers_ += layers;
  ++evaluated_;
  ++done_;
}

void Batch::worker() {
  PointScratch s;
  for (;;) {
    const auto [first, end] = claim(8);
    if (first == end || failed_) return;
    try {
      for (size_t i = first; i < end && !failed_; ++i)
        if (prefill(i, s)) evaluate(i, s);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
      failed_ = true;
    }
  }
}

void Batch::run(int threads) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back([this] { worker(); });
  if (options_.distributor) {
    try {
      options_.distributor->serve(*this);
    } catch (...) {
      failed_ = true;
      for (std::thread& w : workers) w.join();
      throw;
    }
  }
  while (options_.progress && done_ < rows_.size() && !failed_) {
    progress();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (std::thread& w : workers) w.join();
  progress();
  if (error_) std::rethrow_exception(error_);
}

void count_skips(const std::vector<Row>& rows, SweepSummary& s) {
  for (const Row& r : rows) {
    if (r.ok) continue;
    ++s.skipped;
    ++s.skipped_by_reason[r.reason];
  }
}

int thread_count(const SweepRunOptions& options) {
  return options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

// Evaluates `indices` (grid points) and appends their rows.
void run_batch(const std::vector<size_t>& indices, const PointBuilder& builder, ResultStore& store,
               const SweepRunOptions& options, std::vector<Row>& rows, SweepSummary& s) {
  std::vector<Row> batch(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) batch[i].index = indices[i];
  Batch b(builder, store, batch, options);
  b.run(options.distributor && !options.local_workers ? 0 : thread_count(options));
  s.evaluated += b.evaluated();
  s.reused += b.reused();
  s.layers += b.layers();
  for (Row& r : batch) rows.push_back(std::move(r));
}

std::vector<std::vector<double>> objective_values(const SweepSpec& spec, const std::vector<Row>& rows) {
  std::vector<size_t> columns;
  for (const std::string& o : spec.objectives)
    for (size_t c = 0; c < kNumColumns; ++c)
      if (o == kColumns[c].name) columns.push_back(c);
  std::vector<std::vector<double>> out;
  for (const Row& r : rows) {
    std::vector<double> v;
    for (size_t c : columns) v.push_back(r.ok ? r.v[c] : NAN);
    out.push_back(v);
  }
  return out;
}

void write_results(const SweepSpec& spec, const std::vector<Row>& rows, int threads, SweepSummary& s) {
  s.csv_path = spec.output_dir + "/results.csv";
  s.json_path = spec.output_dir + "/results.json";
  const auto [csv_rows, json_rows] = format_rows(spec, rows, threads);
  OutputManifest manifest(spec.output_dir);  // the store is appended, not listed: never removed by it
  manifest.write_file(s.csv_path, csv_text(spec, csv_rows));
  manifest.write_file(s.json_path, json_text(spec, json_rows, s));
  manifest.finish();
}

}  // namespace

SweepSummary run_sweep(SweepSpec& spec, const SweepRunOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<size_t> indices = enumerate_indices(spec);
  const PointBuilder builder(spec);
  make_directories(spec.output_dir);
  SweepSummary s;
  s.store_path = spec.output_dir + "/" + kStoreFile;
  ResultStore store(s.store_path);
  std::vector<Row> rows;
  std::vector<size_t> all = indices;
  run_batch(indices, builder, store, options, rows, s);
  if (spec.search == "evolutionary") {
    uint64_t state = spec.seed;
    Rng rng(splitmix64(state));  // a stream apart from generation 0's sample
    std::set<size_t> seen(all.begin(), all.end());
    for (int64_t g = 1; g < spec.generations; ++g) {
      indices = next_generation(spec, all, objective_values(spec, rows), rng, seen);
      if (indices.empty()) break;
      all.insert(all.end(), indices.begin(), indices.end());
      run_batch(indices, builder, store, options, rows, s);
    }
  }
  if (options.distributor) options.distributor->finish();
  store.sync();
  s.points = rows.size();
  count_skips(rows, s);
  if (options.write) write_results(spec, rows, thread_count(options), s);
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

DryRun dry_run(SweepSpec& spec, size_t sample_size) {
  const std::vector<std::vector<std::string>> combos = enumerate(spec);
  const PointBuilder builder(spec);
  const std::map<std::string, std::string> stored = read_store(spec.output_dir + "/" + kStoreFile);
  DryRun d;
  d.points = combos.size();
  PointBuilder::Scratch scratch;
  for (const std::vector<std::string>& c : combos) {
    SweepPoint p;
    builder.build(c, p, &scratch);
    if (!p.skip_reason.empty()) {
      ++d.skipped;
      ++d.skipped_by_reason[p.skip_reason];
    }
    d.stored += stored.count(p.hash);
    if (d.sample.size() < sample_size) d.sample.push_back(p);
  }
  return d;
}

}  // namespace sushi::explore
