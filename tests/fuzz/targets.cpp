#include "tests/fuzz/targets.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/errors.h"
#include "base/manifest.h"
#include "base/paths.h"
#include "base/provenance.h"
#include "base/random.h"
#include "base/yaml.h"
#include "explore/pareto.h"
#include "explore/store.h"
#include "explore/sweep.h"
#include "models/ref/checkpoint.h"
#include "models/space/accuracy.h"
#include "models/space/supernet.h"
#include "models/train/compare.h"
#include "models/train/data.h"
#include "models/train/trainer.h"
#include "sched/experiment.h"
#include "sched/latency_table.h"
#include "sim/accel.h"
#include "sim/calibrate.h"
#include "traces/trace.h"

namespace sushi::fuzz {
namespace {

// Loaders that take a path get the bytes in a per-process scratch folder (tmpfs when there is one). The
// file keeps `name`, so extension-sensitive code sees what it would see.
std::string as_file(const std::string& bytes, const std::string& name) {
  static const std::string dir = [] {
    const std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    const std::filesystem::path d = base / ("sushi-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

const SupernetSpace& mbv3() {
  static const SupernetSpace s = SupernetSpace::load(project_file("workloads/supernets/ofa_mbv3.yaml"));
  return s;
}

void exercise(const SupernetSpace& s) {
  for (const Subnet& n : {s.min_subnet(), s.max_subnet()}) {
    (void)totals(s.layers(n));
    (void)s.bytes(n);
    (void)s.to_json(n);
  }
  Rng rng(1);
  (void)s.layers(s.random_subnet(rng));
  (void)s.count();
}

void supernet_yaml(const std::string& b) {
  exercise(SupernetSpace::from_yaml(YamlView::parse(b, "fuzz.yaml")));
}

void accel_yaml(const std::string& b) {
  (void)sim::AccelConfig::parse(b, "fuzz.yaml");
}

void experiment_yaml(const std::string& b) {
  (void)ExperimentSpec::load(as_file(b, "experiment.yaml"));
}

void subnet_json(const std::string& b) {
  const SupernetSpace& s = mbv3();
  const Subnet n = s.from_json(YamlView::parse(b, "fuzz.json"));
  (void)totals(s.layers(s.canonical(n)));
  (void)s.parse_subnet(b);
}

void trace_spec_yaml(const std::string& b) {
  const TraceSpec t = TraceSpec::from_yaml(YamlView::parse(b, "fuzz.yaml"));
  if (t.count <= 2000) (void)generate_trace(t);  // larger valid counts are legal, only slow
}

void trace_csv(const std::string& b) {
  (void)read_trace_csv(as_file(b, "trace.csv"));
}

// The format has no slack (sizes exact, nothing after the last tensor), so what loads writes back byte for
// byte (bytes, not values: a NaN weight is a valid float that compares unequal to itself).
void use_checkpoint(const std::string& b) {
  const Checkpoint c = Checkpoint::deserialize(b, "fuzz.ckpt");
  (void)c.parameter_count();
  if (c.serialize() != b) throw std::logic_error("checkpoint does not round-trip byte for byte");
}

// The bytes as given, then with the size field and checksum made right, so mutations reach the records
// behind the checksum instead of stopping at it.
void checkpoint(const std::string& b) {
  try {
    use_checkpoint(b);
  } catch (const InputError&) {
  }
  if (b.size() < 36 || b.compare(0, 8, "SUSHICKP") != 0) return;
  std::string fixed = b;
  const uint64_t n = fixed.size();
  std::memcpy(&fixed[12], &n, sizeof n);
  fixed.replace(n - 16, 16, content_hash(fixed.substr(0, n - 16)));
  use_checkpoint(fixed);
}

void sweep_yaml(const std::string& b) {
  const explore::SweepSpec s = explore::SweepSpec::load(as_file(b, "sweep.yaml"));
  if (s.grid_size() <= 4096) (void)explore::enumerate(s);
}

void profile_yaml(const std::string& b) {
  (void)load_profile_table(as_file(b, "profile.yaml"));
}

// As given, then with the checksum line made right (so mutations reach the parser behind it).
void latency_table_cache(const std::string& b) {
  try {
    (void)latency_table_from_text(b, "lt.txt", &mbv3());
  } catch (const InputError&) {
  }
  std::string body = b;
  const size_t at = body.rfind("checksum ");
  if (at != std::string::npos) body.resize(at);
  (void)latency_table_from_text(body + "checksum " + content_hash(body) + "\n", "lt.txt", &mbv3());
}

void accuracy_jsonl(const std::string& b) {
  (void)AccuracyTable::load_jsonl(as_file(b, "acc.jsonl"), mbv3());
}

void results_csv(const std::string& b) {
  (void)explore::read_csv(as_file(b, "results.csv"));
}

void result_store(const std::string& b) {
  (void)explore::read_store(as_file(b, "results.v1.store"));
}

void manifest_json(const std::string& b) {
  const std::string dir = std::filesystem::path(as_file(b, OutputManifest::kFileName)).parent_path().string();
  (void)OutputManifest::read(dir);
}

void calibrate_csv(const std::string& b) {
  (void)sim::read_layers_csv(as_file(b, "measured.csv"), true);
}

void train_config(const std::string& b) {
  (void)train::load_train_config(as_file(b, "train.yaml"));
}

void train_summary_json(const std::string& b) {
  (void)train::load_run_scores(as_file(b, "summary.json"));
}

// An IDX image file and its label file in one input: the first byte says where the label file starts.
// zlib's gzread passes bytes that are not gzip through unchanged, so the seeds are plain IDX.
void fmnist_idx(const std::string& b) {
  if (b.empty()) return;
  const size_t cut = std::min(b.size(), size_t(1) + size_t(uint8_t(b[0])) * 4);
  (void)train::read_idx_gz(as_file(b.substr(1, cut - 1), "images.idx.gz"),
                           as_file(b.substr(cut), "labels.idx.gz"));
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"supernet_yaml", "supernet space YAML (workloads/supernets)", true, supernet_yaml},
      {"accel_yaml", "accelerator YAML (workloads/accel)", true, accel_yaml},
      {"experiment_yaml", "serving experiment YAML (workloads/experiments)", true, experiment_yaml},
      {"subnet_json", "subnet JSON form and --subnet spec", true, subnet_json},
      {"trace_spec_yaml", "trace generator spec YAML (trace generate --spec, experiment streams)", true,
       trace_spec_yaml},
      {"trace_csv", "query trace CSV (traces/*.csv)", false, trace_csv},
      {"checkpoint", "binary checkpoint (models/ref/checkpoint.h)", false, checkpoint},
      {"sweep_yaml", "sweep spec YAML (workloads/sweeps)", true, sweep_yaml},
      {"profile_yaml", "measured latency profile YAML (workloads/profiles)", true, profile_yaml},
      {"latency_table_cache", "latency-table cache text (.sushi_cache/lt-*.txt)", false, latency_table_cache},
      {"accuracy_jsonl", "accuracy table JSON lines (../shared/data/*_top1.jsonl)", true, accuracy_jsonl},
      {"results_csv", "results CSV read by sushi pareto", false, results_csv},
      {"result_store", "sweep result store (results.v1.store)", false, result_store},
      {"manifest_json", "output folder MANIFEST.json", true, manifest_json},
      {"calibrate_csv", "measured per-layer latency CSV (sushi calibrate --measured, sim --layers)", false,
       calibrate_csv},
      {"train_config", "training config YAML (workloads/train)", true, train_config},
      {"train_summary_json", "sushi train summary.json (read by sushi train compare)", true,
       train_summary_json},
      {"fmnist_idx", "Fashion-MNIST IDX image and label files (gzip or plain)", false, fmnist_idx},
  };
  return t;
}

const Target* find_target(const std::string& name) {
  for (const Target& t : targets())
    if (name == t.name) return &t;
  return nullptr;
}

void run_one(const Target& t, const std::string& bytes) {
  try {
    t.run(bytes);
  } catch (const InputError&) {
    // a clean rejection: the CLI prints it and exits 2
  }
}

}  // namespace sushi::fuzz
