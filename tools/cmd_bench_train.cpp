// `sushi bench train [--json]`: fp32 training throughput (forward, backward and an SGD step on a batch) of
// the training core for the max and min subnets of a space at 1 and 2 threads, side by side in the same run
// with PyTorch on the same layer list and batch when /usr/bin/python3 has torch (Debian python3-torch); the
// benchmark says so when it has not.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "base/errors.h"
#include "base/json.h"
#include "base/paths.h"
#include "base/provenance.h"
#include "base/random.h"
#include "models/train/network.h"
#include "models/train/optim.h"
#include "models/train/trainer.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

using namespace sushi::train;

double seconds_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double ours(const SupernetSpace& space, const Subnet& s, int batch, int threads, int steps) {
  retain_freed_memory();
  Checkpoint params = initial_supernet(space, 1), momentum;
  const std::vector<Layer> layers = space.layers(s);
  Rng rng(2);
  Act x(space.input_channels(), batch, s.resolution, s.resolution);
  for (float& v : x.d) v = float(rng.uniform());
  std::vector<int> labels(static_cast<size_t>(batch));
  for (int& l : labels) l = int(rng.uniform_int(uint64_t(space.classes())));
  const std::vector<float> targets = smoothed_targets(labels, space.classes(), 0.1);
  PassOptions o;
  o.threads = threads;
  auto step = [&] {
    Checkpoint grads;
    SubnetPass pass(params, layers, o);
    Act d;
    soft_cross_entropy(pass.forward(x), targets, 1.0, d);
    pass.backward(d, grads);
    sgd_step(params, momentum, grads, 0.01, SgdConfig{});
  };
  step();
  const double t0 = seconds_now();
  for (int i = 0; i < steps; ++i) step();
  return double(batch) * steps / (seconds_now() - t0);
}

std::string layers_json(const SupernetSpace& space, const Subnet& s) {
  JsonWriter w;
  w.begin_object().field("resolution", s.resolution).field("input_channels", space.input_channels());
  w.field("classes", space.classes()).key("layers").begin_array();
  for (const Layer& l : space.layers(s))
    w.begin_object()
        .field("kind", to_string(l.kind))
        .field("weights", l.has_weights())
        .field("in_c", l.in_c)
        .field("out_c", l.out_c)
        .field("kernel", l.kernel)
        .field("stride", l.stride)
        .field("pad", l.pad)
        .field("bias", l.slice.has_bias && !l.batch_norm)
        .field("bn", l.batch_norm)
        .field("act", to_string(l.act))
        .field("input", l.input)
        .field("input2", l.input2)
        .end_object();
  w.end_array().end_object();
  return w.str();
}

// images/s from the PyTorch script, or < 0 when torch is unavailable (`why` says so).
double torch_rate(const SupernetSpace& space, const Subnet& s, int batch, int threads, int steps,
                  std::string& why) {
  const std::string script = project_file("tools/bench_train_torch.py");
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
    why = "PyTorch not installed (/usr/bin/python3 cannot import torch; Debian package python3-torch)";
    return -1;
  }
  const std::string file = "/tmp/sushi_bench_train_" + std::to_string(::getpid()) + ".json";
  write_file_atomic(file, layers_json(space, s));
  const std::string cmd = "/usr/bin/python3 " + script + " " + file + " " + std::to_string(batch) + " " +
                          std::to_string(threads) + " " + std::to_string(steps);
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::string text;
  char buf[512];
  while (p && fgets(buf, sizeof buf, p.get())) text += buf;
  std::remove(file.c_str());
  const size_t at = text.find("\"images_per_s\": ");
  if (at == std::string::npos) {
    why = "PyTorch run failed: " + text;
    return -1;
  }
  return std::strtod(text.c_str() + at + 16, nullptr);
}

int bench_train(const std::vector<std::string>& args) {
  po::options_description o("bench train options");
  std::string supernet = "workloads/supernets/fmnist_tiny.yaml";
  int batch = 128, steps = 5;
  o.add_options()("supernet", po::value(&supernet)->default_value(supernet), "supernet space YAML")(
      "batch", po::value(&batch)->default_value(128), "batch size")(
      "steps", po::value(&steps)->default_value(5), "timed training steps per measurement")(
      "json", "print one JSON object");
  po::variables_map vm;
  if (!parse("bench train", "[--supernet S.yaml] [--batch N] [--steps N] [--json]", o, args, vm)) return 0;
  if (batch < 2 || steps < 1) throw InputError("--batch >= 2 and --steps >= 1 expected");
  Provenance prov("sushi bench train");
  const SupernetSpace space =
      SupernetSpace::from_yaml(YamlView::parse(prov.read_input("supernet", supernet), supernet));
  JsonWriter w;
  w.begin_object().field("batch", batch).field("steps", steps).key("rows").begin_array();
  std::string why;
  char line[256];
  if (!vm.count("json")) out() << "subnet threads  sushi img/s  torch img/s  sushi/torch\n";
  for (const char* name : {"max", "min"})
    for (int threads : {1, 2}) {
      const Subnet s = space.parse_subnet(name);
      const double a = ours(space, s, batch, threads, steps);
      const double b = torch_rate(space, s, batch, threads, steps, why);
      w.begin_object().field("subnet", name).field("threads", threads).field("sushi_images_per_s", a);
      if (b > 0) w.field("torch_images_per_s", b).field("ratio", a / b);
      w.end_object();
      std::snprintf(line, sizeof line, "%-6s %7d  %11.1f  %11s  %11s\n", name, threads, a,
                    b > 0 ? std::to_string(int(b)).c_str() : "-",
                    b > 0 ? std::to_string(a / b).c_str() : "-");
      if (!vm.count("json")) out() << line;
    }
  w.end_array();
  if (!why.empty()) w.field("torch", why);
  w.key("provenance");
  prov.write_json(w);
  w.end_object();
  if (vm.count("json"))
    out() << w.str() << "\n";
  else if (!why.empty())
    out() << why << "\n";
  return 0;
}

const bool registered = register_bench(
    {"train", "fp32 training images/s (max, min subnet; 1, 2 threads) vs PyTorch", bench_train});

}  // namespace
}  // namespace sushi::cli
