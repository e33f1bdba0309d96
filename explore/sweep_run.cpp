// Running a sweep: points built and evaluated on a thread pool, finished points appended to the store,
// result files regenerated from the store in point order.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "base/errors.h"
#include "base/json.h"
#include "base/manifest.h"
#include "base/params.h"
#include "base/random.h"
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
    {"utilization", Unit::Ratio},       {"layers", Unit::Count}};
constexpr size_t kNumColumns = sizeof kColumns / sizeof kColumns[0];
const char* const kStoreFile = "results.v1.store";

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

std::optional<double> scalar_number(const YamlView& v, const std::string& path) {
  const size_t dot = path.find('.');
  const std::string key = path.substr(0, dot);
  if (!v.is_map() || !v.has(key)) return std::nullopt;
  if (dot != std::string::npos) return scalar_number(v.at(key), path.substr(dot + 1));
  const YamlView leaf = v.at(key);
  const YAML::Node& n = leaf.node();
  if (!n.IsScalar()) return std::nullopt;
  if (const std::optional<int64_t> b = parse_bytes(n.Scalar())) return double(*b);
  try {
    return std::stod(n.Scalar());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

PointBuilder::PointBuilder(SweepSpec& spec) : spec_(spec), paths_(spec.axis_paths()) {
  std::set<std::string> accels{spec.base.accel_file}, spaces{spec.base.supernet_file};
  for (size_t k = 0; k < spec.axes.size(); ++k)
    for (size_t p = 0; p < spec.axes[k].paths.size(); ++p)
      for (const auto& v : spec.axes[k].values) {
        if (spec.axes[k].paths[p] == "accel") accels.insert(v[p]);
        if (spec.axes[k].paths[p] == "supernet") spaces.insert(v[p]);
      }
  for (const std::string& a : accels)
    for (const std::string& s : spaces) {
      sim::SimRequest r = spec.base;
      r.accel_file = a;
      r.supernet_file = s;
      Provenance scratch;
      bases_[{a, s}] = sim::make_sim_point(r, scratch).canonical();
      for (const Provenance::Input& i : scratch.inputs()) spec.provenance.add_input(i.role, i.path, i.hash);
    }
}

Point PointBuilder::build(const std::vector<std::string>& values, SweepPoint& out, Scratch* scratch,
                          bool check_config) const {
  out.values = values;
  std::string accel = spec_.base.accel_file, space = spec_.base.supernet_file;
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i] == "accel") accel = values[i];
    if (paths_[i] == "supernet") space = values[i];
  }
  Point p;
  if (scratch) {
    auto it = scratch->find({accel, space});
    if (it == scratch->end())
      it = scratch
               ->emplace(std::make_pair(accel, space),
                         Point::parse(bases_.at({accel, space}), spec_.file + " point"))
               .first;
    p = it->second;  // shares the worker's tree
  } else {
    p = Point::parse(bases_.at({accel, space}), spec_.file + " point");
  }
  for (size_t i = 0; i < paths_.size(); ++i)
    if (paths_[i] != "accel" && paths_[i] != "supernet") p.set(paths_[i], values[i]);
  out.hash = p.hash();
  for (const Constraint& c : spec_.constraints) {
    const std::optional<double> x = scalar_number(p.view(), c.path);
    if (x && (*x < c.min || *x > c.max)) {
      out.skip_reason = out.skip_detail = c.reason;
      return p;
    }
  }
  if (!check_config) return p;
  try {
    sim::accel_schema().parse(p.view().at("accel"));  // the config's own checks (buffers over the chip, ...)
  } catch (const InputError& e) {
    out.skip_detail = one_line(e.what());
    out.skip_reason = reason_class(out.skip_detail);
  }
  return p;
}

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
  const sim::RunResult& x = e->run;
  r.stats.add("latency_ms", x.latency_ms, Unit::Ms)
      .add("cycles", double(x.cycles), Unit::Cycles)
      .add("compute_cycles", double(x.compute_cycles), Unit::Cycles)
      .add("stall_cycles", double(x.stall_cycles), Unit::Cycles)
      .add("energy_uj", x.energy_pj, Unit::Pj, Unit::Uj)
      .add("energy_dram_uj", x.energy_dram_pj, Unit::Pj, Unit::Uj)
      .add("energy_sram_uj", x.energy_sram_pj, Unit::Pj, Unit::Uj)
      .add("energy_mac_uj", x.energy_mac_pj, Unit::Pj, Unit::Uj)
      .add("offchip_weight_bytes", double(x.offchip_weight_bytes), Unit::Bytes)
      .add("offchip_act_bytes", double(x.offchip_act_bytes), Unit::Bytes)
      .add("pb_hit_bytes", double(x.pb_hit_bytes), Unit::Bytes)
      .add("cached_bytes", double(e->cached.bytes()), Unit::Bytes)
      .add("pb_load_cycles", double(e->pb_load.cycles), Unit::Cycles)
      .add("pb_load_bytes", double(e->pb_load.bytes), Unit::Bytes)
      .count("macs", x.macs)
      .add("utilization", x.utilization, Unit::Ratio)
      .count("layers", int64_t(x.layers.size()));
  if (layers) *layers = int64_t(x.layers.size());
  return r;
}

namespace {

// Store payload: "ok V1,V2,..." (%.17g, the columns in kColumns order) or "skipped MESSAGE".
std::string encode(const PointResult& r) {
  if (r.status != "ok") return "skipped " + r.detail;
  std::string s = "ok ";
  char b[40];
  for (size_t i = 0; i < kNumColumns; ++i) {
    const Stat* st = r.stats.find(kColumns[i].name);
    std::snprintf(b, sizeof b, "%.17g", st ? st->value : NAN);
    s += (i ? "," : "") + std::string(b);
  }
  return s;
}

std::optional<PointResult> decode(const std::string& payload) {
  PointResult r;
  if (payload.rfind("skipped ", 0) == 0) {
    r.status = "skipped";
    r.detail = payload.substr(8);
    r.reason = reason_class(r.detail);
    return r;
  }
  if (payload.rfind("ok ", 0) != 0) return std::nullopt;
  r.status = "ok";
  size_t start = 3;
  for (size_t i = 0; i < kNumColumns; ++i) {
    const size_t comma = payload.find(',', start);
    if ((comma == std::string::npos) != (i + 1 == kNumColumns)) return std::nullopt;
    r.stats.add(kColumns[i].name, std::strtod(payload.c_str() + start, nullptr), kColumns[i].unit);
    start = comma + 1;
  }
  return r;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

struct Row {
  SweepPoint point;
  std::optional<PointResult> result;  // nullopt: skipped before evaluation (reason in point)
};

std::string write_csv(const SweepSpec& spec, const std::vector<Row>& rows) {
  std::vector<std::string> columns{"point", "hash"};
  for (const std::string& p : spec.axis_paths()) columns.push_back(p);
  columns.push_back("status");
  columns.push_back("reason");
  for (const Column& c : kColumns) columns.push_back(c.name);
  CsvTable t(columns);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::vector<std::string> cells{std::to_string(i), r.point.hash};
    for (const std::string& v : r.point.values) cells.push_back(csv_cell(v));
    const bool ok = r.result && r.result->status == "ok";
    cells.push_back(ok ? "ok" : "skipped");
    cells.push_back(csv_cell(ok ? "" : r.result ? r.result->reason : r.point.skip_reason));
    for (const Column& c : kColumns) {
      const Stat* s = ok ? r.result->stats.find(c.name) : nullptr;
      cells.push_back(!s                      ? ""
                      : c.unit == Unit::Count ? std::to_string(int64_t(s->value))
                                              : csv_number(s->value));
    }
    t.add_row(std::move(cells));
  }
  return t.str(spec.provenance);
}

void write_row_json(JsonWriter& j, const std::vector<std::string>& paths, size_t index, const Row& r) {
  j.begin_object().field("point", int64_t(index)).field("hash", r.point.hash).key("values").begin_object();
  for (size_t k = 0; k < paths.size(); ++k) j.field(paths[k], r.point.values[k]);
  j.end_object();
  const bool ok = r.result && r.result->status == "ok";
  j.field("status", ok ? "ok" : "skipped");
  if (!ok) {
    j.field("reason", r.result ? r.result->reason : r.point.skip_reason)
        .field("detail", r.result ? r.result->detail : r.point.skip_detail);
  } else {
    j.key("results").begin_object();
    r.result->stats.write_fields(j);
    j.end_object();
  }
  j.end_object();
}

std::string write_json(const SweepSpec& spec, const std::vector<Row>& rows, const SweepSummary& s) {
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
  const std::vector<std::string> paths = spec.axis_paths();
  for (size_t i = 0; i < rows.size(); ++i) write_row_json(j, paths, i, rows[i]);
  j.end_array().end_object();
  return j.str() + "\n";
}

// Shared state of the workers of one run.
struct Pool {
  const std::vector<std::vector<std::string>>* combos = nullptr;
  const PointBuilder* builder = nullptr;
  ResultStore* store = nullptr;
  std::vector<Row>* rows = nullptr;
  std::atomic<size_t> next{0}, done{0}, evaluated{0}, reused{0};
  std::atomic<int64_t> layers{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;
};

void run_one(Pool& pool, size_t i, PointBuilder::Scratch& scratch) {
  Row& row = (*pool.rows)[i];
  const Point p = pool.builder->build((*pool.combos)[i], row.point, &scratch, false);
  if (!row.point.skip_reason.empty()) return;
  if (const std::string* stored = pool.store->find(row.point.hash)) {
    row.result = decode(*stored);
    if (row.result) {
      ++pool.reused;
      return;
    }
  }
  int64_t layers = 0;
  row.result = evaluate_point(p, &layers);
  pool.store->append(row.point.hash, encode(*row.result));  // before anything else: a kill loses nothing
  pool.layers += layers;
  ++pool.evaluated;
}

void worker(Pool& pool) {
  PointBuilder::Scratch scratch;
  for (;;) {
    const size_t i = pool.next.fetch_add(1);
    if (i >= pool.combos->size() || pool.failed) return;
    try {
      run_one(pool, i, scratch);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(pool.error_mutex);
      if (!pool.error) pool.error = std::current_exception();
      pool.failed = true;
    }
    ++pool.done;
  }
}

void run_pool(Pool& pool, int threads, const SweepRunOptions& options) {
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back([&pool] { worker(pool); });
  const size_t total = pool.combos->size();
  while (options.progress && pool.done < total && !pool.failed) {
    options.progress(pool.done, total);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (std::thread& w : workers) w.join();
  if (options.progress) options.progress(pool.done, total);
  if (pool.error) std::rethrow_exception(pool.error);
}

void count_skips(const std::vector<Row>& rows, SweepSummary& s) {
  for (const Row& r : rows) {
    const bool ok = r.result && r.result->status == "ok";
    if (ok) continue;
    ++s.skipped;
    ++s.skipped_by_reason[r.result ? r.result->reason : r.point.skip_reason];
  }
}

}  // namespace

namespace {

// Evaluates `indices` (grid points) on the pool and appends their rows.
void run_batch(const SweepSpec& spec, const std::vector<size_t>& indices, const PointBuilder& builder,
               ResultStore& store, const SweepRunOptions& options, std::vector<Row>& rows, SweepSummary& s) {
  std::vector<std::vector<std::string>> combos;
  for (size_t i : indices) combos.push_back(grid_point(spec, i));
  std::vector<Row> batch(combos.size());
  Pool pool;
  pool.combos = &combos;
  pool.builder = &builder;
  pool.store = &store;
  pool.rows = &batch;
  const int threads =
      options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  run_pool(pool, threads, options);
  s.evaluated += pool.evaluated;
  s.reused += pool.reused;
  s.layers += pool.layers;
  for (Row& r : batch) rows.push_back(std::move(r));
}

std::vector<std::vector<double>> objective_values(const SweepSpec& spec, const std::vector<Row>& rows) {
  std::vector<std::vector<double>> out;
  for (const Row& r : rows) {
    std::vector<double> v;
    for (const std::string& o : spec.objectives) {
      const Stat* st = r.result && r.result->status == "ok" ? r.result->stats.find(o) : nullptr;
      v.push_back(st ? st->value : NAN);
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace

std::vector<std::string> result_columns() {
  std::vector<std::string> out;
  for (const Column& c : kColumns) out.push_back(c.name);
  return out;
}

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
  run_batch(spec, indices, builder, store, options, rows, s);
  if (spec.search == "evolutionary") {
    uint64_t state = spec.seed;
    Rng rng(splitmix64(state));  // a stream apart from generation 0's sample
    std::set<size_t> seen(all.begin(), all.end());
    for (int64_t g = 1; g < spec.generations; ++g) {
      indices = next_generation(spec, all, objective_values(spec, rows), rng, seen);
      if (indices.empty()) break;
      all.insert(all.end(), indices.begin(), indices.end());
      run_batch(spec, indices, builder, store, options, rows, s);
    }
  }
  store.sync();
  s.points = rows.size();
  count_skips(rows, s);
  if (options.write) {
    s.csv_path = spec.output_dir + "/results.csv";
    s.json_path = spec.output_dir + "/results.json";
    OutputManifest manifest(spec.output_dir);  // the store is appended, not listed: never removed by it
    manifest.write_file(s.csv_path, write_csv(spec, rows));
    manifest.write_file(s.json_path, write_json(spec, rows, s));
    manifest.finish();
  }
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
