#include "models/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <numeric>
#include <set>

#include "base/errors.h"
#include "base/json.h"
#include "base/params.h"
#include "base/paths.h"
#include "base/provenance.h"
#include "base/yaml.h"
#include "models/ref/forward.h"
#include "models/ref/int8.h"
#include "models/train/network.h"

namespace sushi::train {

namespace {

void add_run_keys(ParamSchema<TrainConfig>& p) {
  p.string("name", &TrainConfig::name, required, "run name")
      .string("supernet", &TrainConfig::supernet, required, "supernet space YAML")
      .choice("algorithm", &TrainConfig::algorithm, required,
              {{"ofa", Algorithm::Ofa},
               {"compofa", Algorithm::CompOfa},
               {"deps", Algorithm::Deps},
               {"single", Algorithm::Single}},
              "ofa | compofa | deps | single")
      .choice("lr_schedule", &TrainConfig::lr_schedule, LrSchedule::Cosine,
              {{"cosine", LrSchedule::Cosine}, {"auto", LrSchedule::Auto}}, "cosine with warm-up, or auto")
      .string("subnet", &TrainConfig::subnet, "max", "algorithm single: the subnet trained")
      .string("output", &TrainConfig::output, required, "output folder (relative to the working directory)")
      .integer("seed", &TrainConfig::seed, 1, Range{0, 1e15}, "", "seed of init, data order and sampling")
      .integer("epochs", &TrainConfig::epochs, required, Range{1, 10000}, "epochs", "total budget")
      .integer("batch", &TrainConfig::batch, 128, Range{2, 4096}, "images", "batch size")
      .integer("warmup_epochs", &TrainConfig::warmup_epochs, 1, Range{0, 1000}, "epochs", "linear warm-up")
      .integer("subnets_per_step", &TrainConfig::subnets_per_step, 4, Range{1, 16}, "",
               "sandwich: the largest, the smallest and the rest random")
      .real("lr", &TrainConfig::lr, 0.1, Range{0, 10, true}, "", "base learning rate (auto: the first)")
      .real("label_smoothing", &TrainConfig::label_smoothing, 0.1, Range{0, 1}, "", "label smoothing")
      .real("momentum", &TrainConfig::momentum, 0.9, Range{0, 1}, "", "SGD momentum")
      .real("weight_decay", &TrainConfig::weight_decay, 3e-5, Range{0, 1}, "", "on conv/FC weights")
      .boolean("nesterov", &TrainConfig::nesterov, true, "Nesterov momentum")
      .boolean("distill", &TrainConfig::distill, true, "in-place distillation from the largest subnet")
      .real("dropout", &TrainConfig::dropout, 0.1, Range{0, 0.9}, "",
            "before the classifier, largest subnet only");
}

void add_algorithm_keys(ParamSchema<TrainConfig>& p) {
  p.integer("data.validation", &TrainConfig::validation, 5000, Range{0, 59999}, "images",
            "held out of the training set")
      .integer("data.limit_train", &TrainConfig::limit_train, 0, Range{0, 60000}, "images", "0 = all")
      .integer("data.limit_test", &TrainConfig::limit_test, 0, Range{0, 10000}, "images", "0 = all")
      .integer("data.pad", &TrainConfig::pad, 2, Range{0, 8}, "pixels", "random-crop padding")
      .boolean("data.augment", &TrainConfig::augment, true, "random crop with padding and flip")
      .real_list("ofa.phases", &TrainConfig::ofa_phases, std::vector<double>{0.25, 0.25, 0.25, 0.25},
                 Range{0, 1}, 4, "", "budget shares of full, kernel, depth, expand")
      .real("ofa.phase_lr", &TrainConfig::ofa_phase_lr, 0.5, Range{0, 10, true}, "",
            "learning-rate factor of the shrinking phases")
      .real("deps.teacher_fraction", &TrainConfig::teacher_fraction, 0.5, Range{0, 1}, "",
            "T_w / T: where the subnets reach the full model's rate")
      .integer("deps.warmup_epochs", &TrainConfig::deps_warmup_epochs, 1, Range{0, 1000}, "epochs",
               "W: the subnets' learning-rate ramp")
      .int_real_map("compofa.expand_from_depth", &TrainConfig::expand_from_depth, Range{1, 64},
                    Range{0, 64, true}, "", "compound coupling depth: expand (empty: the space's)")
      .real("adversarial.eps", &TrainConfig::adv_eps, 0.0, Range{0, 1}, "", "PGD L-inf radius (0 = off)")
      .real("adversarial.alpha", &TrainConfig::adv_alpha, 0.0, Range{0, 1}, "", "PGD step size")
      .integer("adversarial.steps", &TrainConfig::adv_steps, 0, Range{0, 100}, "", "PGD steps")
      .integer("eval.subnets", &TrainConfig::eval_subnets, 50, Range{0, 100000}, "",
               "random subnets evaluated besides max, min and the kernel/depth/expand extremes")
      .boolean("eval.extremes", &TrainConfig::eval_extremes, true,
               "also one dimension at its smallest (rest largest) and every resolution")
      .integer("eval.calib_images", &TrainConfig::calib_images, 2000, Range{1, 60000}, "images",
               "BN recalibration sample")
      .integer("eval.int8_images", &TrainConfig::int8_images, 2000, Range{0, 10000}, "images",
               "test images of the int8 evaluation")
      .integer("eval.int8_calib_images", &TrainConfig::int8_calib_images, 512, Range{0, 60000}, "images",
               "int8 calibration sample, seeded training images (0 = calibration_image_count's)")
      .real("eval.int8_range_clip", &TrainConfig::int8_range_clip, 1e-4, Range{0, 0.01}, "",
            "int8 calibration: share of each layer's values clipped at each end of its range")
      .integer("eval.random_test_images", &TrainConfig::random_test_images, 0, Range{0, 10000}, "images",
               "random subnets: fp32 on the first N test images only (0 = all); the named ones see all")
      .integer("eval.robust_images", &TrainConfig::robust_images, 500, Range{0, 10000}, "images",
               "test images of the PGD evaluation (adversarial runs)");
}

const ParamSchema<TrainConfig>& train_schema() {
  static const ParamSchema<TrainConfig> s = [] {
    ParamSchema<TrainConfig> p("train", "a weight-shared (or single-subnet) training run on Fashion-MNIST");
    add_run_keys(p);
    add_algorithm_keys(p);
    return p;
  }();
  return s;
}

uint64_t mix(uint64_t a, uint64_t b, uint64_t c = 0) {
  uint64_t s = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) ^ (c << 32);
  splitmix64(s);
  return splitmix64(s);
}

std::vector<int> all_indices(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

template <typename T>
T vmax(const std::vector<T>& v) {
  return *std::max_element(v.begin(), v.end());
}
template <typename T>
T vmin(const std::vector<T>& v) {
  return *std::min_element(v.begin(), v.end());
}

// The choices a phase samples from, per stage.
struct SampleSpace {
  std::vector<std::vector<int>> kernel, depth;
  std::vector<std::vector<double>> expand;
  std::vector<int> resolutions;
  std::map<int, double> compound;  // depth -> expand (CompOFA); empty = independent
};

Subnet build_subnet(const SupernetSpace& space, const SampleSpace& ss, int which, Rng* rng) {
  // which: 1 = largest, -1 = smallest, 0 = random
  const ElasticSpec& e = space.elastic();
  auto pick = [&](const auto& v) {
    return which > 0 ? vmax(v) : which < 0 ? vmin(v) : v[size_t(rng->uniform_int(uint64_t(v.size())))];
  };
  Subnet s;
  s.resolution = pick(ss.resolutions);
  for (int st = 0; st < e.stages; ++st) s.depth.push_back(pick(ss.depth[size_t(st)]));
  for (int slot = 0; slot < e.block_slots(); ++slot) {
    const int st = e.stage_of_slot(slot);
    s.kernel.push_back(pick(ss.kernel[size_t(st)]));
    s.expand.push_back(ss.compound.empty() ? pick(ss.expand[size_t(st)])
                                           : ss.compound.at(s.depth[size_t(st)]));
  }
  for (const auto& w : e.width_choices) s.width.push_back(which > 0 ? vmax(w) : vmin(w));
  return space.canonical(s);
}

SampleSpace full_space(const SupernetSpace& space) {
  const ElasticSpec& e = space.elastic();
  return {e.kernel_choices, e.depth_choices, e.expand_choices, e.resolutions, {}};
}

// Restricts a dimension to its largest choice.
template <typename T>
void only_max(std::vector<std::vector<T>>& dims) {
  for (auto& d : dims) d = {vmax(d)};
}

std::string fmt(double v, const char* f = "%.17g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

double now_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

double process_cpu_seconds() {
  return now_cpu_s();
}

const char* to_string(Algorithm a) {
  switch (a) {
    case Algorithm::Ofa:
      return "ofa";
    case Algorithm::CompOfa:
      return "compofa";
    case Algorithm::Deps:
      return "deps";
    case Algorithm::Single:
      return "single";
  }
  return "?";
}

TrainConfig load_train_config(const std::string& path, Provenance* provenance,
                              const std::vector<Override>& overrides) {
  const std::string text = provenance ? provenance->read_input("train_config", path) : read_file(path);
  Point point = Point::parse(text, path);
  point.apply(overrides, "train", train_schema());
  const YamlView root = point.view();
  TrainConfig c = train_schema().parse(root);
  std::vector<std::string> tried;
  const std::string sp = resolve_yaml_path(c.supernet, path, &tried);
  if (sp.empty()) root.at("supernet").fail("file not found: " + c.supernet);
  c.supernet = sp;
  double share = 0;
  for (double v : c.ofa_phases) share += v;
  if (std::abs(share - 1.0) > 1e-6) root.at("ofa").fail("expected ofa.phases to add up to 1");
  if (c.adv_eps > 0 && (c.adv_steps == 0 || c.adv_alpha <= 0))
    root.at("adversarial").fail("expected steps >= 1 and alpha > 0 with eps > 0");
  if (provenance) {
    JsonWriter w;
    train_schema().write(w, c);
    provenance->set_config(w.str());
    provenance->set_seed("train", c.seed);
  }
  return c;
}

std::string trained_metadata(const SupernetSpace& space, const TrainConfig& c) {
  JsonWriter w;
  w.begin_object()
      .field("format", "sushi supernet")
      .field("space", space.name())
      .field("trained", c.name)
      .field("algorithm", to_string(c.algorithm))
      .field("seed", c.seed)
      .field("epochs", c.epochs)
      .field("validation", c.validation)
      .field("limit_train", c.limit_train)
      .field("int8_calib_images", c.int8_calib_images)
      .field("int8_range_clip", c.int8_range_clip)
      .end_object();
  return w.str();
}

Int8Calibration int8_calibration(const TrainConfig& c) {
  return {c.int8_calib_images, c.int8_range_clip, c.seed, c.validation, c.limit_train};
}

Int8Calibration int8_calibration_of(const Checkpoint& trained, const std::string& path) {
  const YamlView meta = YamlView::parse(trained.metadata.empty() ? "{}" : trained.metadata, path);
  if (meta.get<std::string>("format", "") != "sushi supernet" || !meta.has("trained"))
    throw InputError(path +
                     ": not a trained supernet (its metadata has no \"trained\" run; expected the "
                     "supernet.ckpt that sushi train writes)");
  Int8Calibration c;
  c.seed = meta.get<uint64_t>("seed");
  c.validation = meta.get<int>("validation", c.validation);  // files from before it was recorded: 5000
  c.limit_train = meta.get<int>("limit_train", 0);
  c.images = meta.get<int>("int8_calib_images", 0);
  c.range_clip = meta.get<double>("int8_range_clip", 0.0);
  return c;
}

Tensor image_tensor(const ImageSet& set, int index, int res) {
  Tensor t(1, res, res);
  if (res == set.h && res == set.w)
    std::copy_n(set.image(index), t.data.size(), t.data.begin());
  else
    resize_bilinear(set.image(index), set.h, set.w, t.data.data(), res);
  return t;
}

QNetwork export_int8(const Checkpoint& weights, const SupernetSpace& space, const Subnet& s,
                     const ImageSet& train, const Int8Calibration& c) {
  Rng pick(mix(c.seed, 12));
  std::vector<int> order = all_indices(train.size());
  pick.shuffle(order);
  const int n = std::min(c.images > 0 ? c.images : calibration_image_count(s.resolution), train.size());
  std::vector<Tensor> images;
  for (int i = 0; i < n; ++i) images.push_back(image_tensor(train, order[size_t(i)], s.resolution));
  return quantize_subnet(weights, space.layers(s), images, subnet_key(space, s), c.range_clip);
}

Checkpoint initial_supernet(const SupernetSpace& space, uint64_t seed) {
  Checkpoint c = make_random_supernet(space, seed);
  for (const std::string& name : c.names())  // elastic kernels start as plain centre crops
    if (name.find(".kernel_transform.") != std::string::npos) {
      NdArray& m = *c.find_mutable(name);
      const int64_t n = m.shape[0];
      for (int64_t r = 0; r < n; ++r)
        for (int64_t q = 0; q < n; ++q) m.data[size_t(r * n + q)] = r == q ? 1.0f : 0.0f;
    }
  return c;
}

Trainer::Trainer(TrainConfig config, const SupernetSpace& space, FashionMnist data, int threads)
    : cfg_(std::move(config)), space_(space), data_(std::move(data)), threads_(std::max(1, threads)) {
  retain_freed_memory();
  params_ = initial_supernet(space_, cfg_.seed);
  params_.metadata = trained_metadata(space_, cfg_);
  steps_per_epoch_ = data_.train.size() / cfg_.batch;
  if (steps_per_epoch_ < 1)
    throw InputError(cfg_.name + ": batch " + std::to_string(cfg_.batch) + " exceeds the " +
                     std::to_string(data_.train.size()) + " training images");
  if (cfg_.algorithm == Algorithm::CompOfa && cfg_.expand_from_depth.empty())
    cfg_.expand_from_depth = space_.elastic().expand_from_depth;
  if (cfg_.algorithm == Algorithm::CompOfa && cfg_.expand_from_depth.empty())
    throw InputError(cfg_.name + ": compofa needs compofa.expand_from_depth (or a coupled space)");
}

std::string Trainer::phase_of(int epoch) const {
  const int E = cfg_.epochs;
  switch (cfg_.algorithm) {
    case Algorithm::Ofa: {
      static const char* names[] = {"full", "kernel", "depth", "expand"};
      double edge = 0;
      for (int p = 0; p < 4; ++p) {
        edge += cfg_.ofa_phases[size_t(p)] * E;
        if (epoch < int(std::lround(edge))) return names[p];
      }
      return "expand";
    }
    case Algorithm::Deps: {
      const int start = int(std::lround(cfg_.teacher_fraction * E)) - cfg_.deps_warmup_epochs;
      if (epoch < start) return "full";
      return epoch < start + cfg_.deps_warmup_epochs ? "eps_warmup" : "shrink";
    }
    case Algorithm::CompOfa:
      return "compound";
    case Algorithm::Single:
      return cfg_.adv_eps > 0 ? "adversarial" : "single";
  }
  return "";
}

std::vector<Trainer::Planned> Trainer::plan(int epoch, int step, Rng& rng) const {
  const std::string phase = phase_of(epoch);
  if (cfg_.algorithm == Algorithm::Single) return {{space_.parse_subnet(cfg_.subnet), true, 1.0}};
  SampleSpace ss = full_space(space_);
  if (phase == "full") {
    only_max(ss.kernel);
    only_max(ss.depth);
    only_max(ss.expand);
    ss.resolutions = {vmax(ss.resolutions)};
  } else if (cfg_.algorithm == Algorithm::Ofa) {
    if (phase == "kernel" || phase == "depth") only_max(ss.expand);
    if (phase == "kernel") only_max(ss.depth);
  } else if (cfg_.algorithm == Algorithm::CompOfa) {
    only_max(ss.kernel);
    ss.compound = cfg_.expand_from_depth;
  }
  std::vector<Planned> out;
  out.push_back({build_subnet(space_, ss, 1, nullptr), true, 1.0});
  if (phase == "full") return out;
  const double beta = cfg_.algorithm == Algorithm::Deps ? deps_beta(epoch, step, steps_per_epoch_) : 1.0;
  if (cfg_.subnets_per_step >= 2) out.push_back({build_subnet(space_, ss, -1, nullptr), false, beta});
  for (int i = 2; i < cfg_.subnets_per_step; ++i)
    out.push_back({build_subnet(space_, ss, 0, &rng), false, beta});
  return out;
}

double Trainer::scheduled_lr(int epoch, int step, int steps) const {
  if (cfg_.lr_schedule == LrSchedule::Auto) return auto_lr(cfg_.lr, auto_);
  const int64_t t = int64_t(epoch) * steps + step;
  if (cfg_.algorithm != Algorithm::Ofa)
    return cosine_lr(cfg_.lr, t, int64_t(cfg_.warmup_epochs) * steps, int64_t(cfg_.epochs) * steps);
  // OFA: every phase restarts a cosine schedule over its own epochs.
  double edge = 0;
  int first = 0;
  for (int p = 0; p < 4; ++p) {
    const int last = int(std::lround(edge + cfg_.ofa_phases[size_t(p)] * cfg_.epochs));
    edge += cfg_.ofa_phases[size_t(p)] * cfg_.epochs;
    if (epoch < last || p == 3) {
      const double base = p == 0 ? cfg_.lr : cfg_.lr * cfg_.ofa_phase_lr;
      const int64_t local = int64_t(epoch - first) * steps + step;
      const int64_t warm = p == 0 ? int64_t(cfg_.warmup_epochs) * steps : 0;
      return cosine_lr(base, local, warm, int64_t(std::max(1, last - first)) * steps);
    }
    first = last;
  }
  return cfg_.lr;
}

// DεpS ε-shrinking: the subnets' rate ramps linearly per step from 0 to the full model's scheduled rate at
// T_w over W epochs; the gradient scale is that rate over the current one, then 1.
double Trainer::deps_beta(int epoch, int step, int steps) const {
  const int tw = int(std::lround(cfg_.teacher_fraction * cfg_.epochs));
  const int start = tw - cfg_.deps_warmup_epochs;
  if (epoch >= tw || cfg_.deps_warmup_epochs == 0) return 1.0;
  const double frac =
      double(int64_t(epoch - start) * steps + step) / double(int64_t(cfg_.deps_warmup_epochs) * steps);
  const double target = scheduled_lr(tw, 0, steps), now = scheduled_lr(epoch, step, steps);
  return now > 0 ? frac * target / now : 0.0;
}

namespace {

Act batch_input(const std::vector<float>& x, int n, int from, int res) {
  if (res == from) return to_cnhw(x, n, 1, res, res);
  std::vector<float> r(size_t(n) * res * res);
  for (int i = 0; i < n; ++i)
    resize_bilinear(x.data() + size_t(i) * from * from, from, from, r.data() + size_t(i) * res * res, res);
  return to_cnhw(r, n, 1, res, res);
}

}  // namespace

// PGD (Madry et al.): a uniform start in the eps-ball, `steps` signed-gradient steps of alpha, each projected
// onto the ball and [0, 1]. The attack's own seed makes it repeatable.
std::vector<float> Trainer::pgd(const std::vector<float>& x, const std::vector<int>& labels, const Subnet& s,
                                bool batch_stats, uint64_t seed, const std::string& key) {
  const int n = int(labels.size()), res = data_.train.h;
  Rng rng(seed);
  std::vector<float> adv(x);
  for (size_t i = 0; i < adv.size(); ++i)
    adv[i] = std::clamp(float(x[i] + rng.uniform(-cfg_.adv_eps, cfg_.adv_eps)), 0.0f, 1.0f);
  const std::vector<float> targets = smoothed_targets(labels, space_.classes(), 0.0);
  PassOptions o;
  o.bn = batch_stats ? BnMode::Batch : BnMode::Stats;
  o.subnet_key = key;
  o.threads = threads_;
  for (int it = 0; it < cfg_.adv_steps; ++it) {
    SubnetPass pass(params_, space_.layers(s), o);
    const Act in = batch_input(adv, n, res, s.resolution);
    Act dlog;
    soft_cross_entropy(pass.forward(in), targets, 1.0, dlog);
    Checkpoint scratch;
    const Act g = pass.backward(dlog, scratch, true);
    if (s.resolution != res) throw InputError("adversarial training runs at the stored resolution only");
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < res * res; ++j) {
        const size_t k = size_t(i) * res * res + size_t(j);
        const float step = g.d[k] > 0 ? 1.0f : g.d[k] < 0 ? -1.0f : 0.0f;
        const float v = adv[k] + float(cfg_.adv_alpha) * step;
        adv[k] =
            std::clamp(std::clamp(v, float(x[k] - cfg_.adv_eps), float(x[k] + cfg_.adv_eps)), 0.0f, 1.0f);
      }
  }
  return adv;
}

double Trainer::train_step(int epoch, int step, const std::vector<int>& order, double lr, double& acc) {
  const uint64_t gstep = uint64_t(epoch) * uint64_t(steps_per_epoch_) + uint64_t(step);
  Rng rng(mix(cfg_.seed, gstep, 1));
  std::vector<int> labels;
  std::vector<float> x = make_batch(data_.train, order, step * cfg_.batch, cfg_.batch, data_.train.h,
                                    cfg_.augment, cfg_.pad, rng, labels);
  const std::vector<Planned> subnets = plan(epoch, step, rng);
  if (cfg_.adv_eps > 0) x = pgd(x, labels, subnets.front().subnet, true, mix(cfg_.seed, gstep, 2), "");
  Checkpoint grads;
  const std::vector<float> hard = smoothed_targets(labels, space_.classes(), cfg_.label_smoothing);
  std::vector<float> soft;
  double loss = 0;
  acc = 0;
  for (size_t k = 0; k < subnets.size(); ++k) {
    const Planned& p = subnets[k];
    PassOptions o;
    o.threads = threads_;
    if (p.largest) {
      o.dropout = cfg_.dropout;
      o.dropout_seed = mix(cfg_.seed, gstep, 3);
    }
    SubnetPass pass(params_, space_.layers(p.subnet), o);
    const Act in = batch_input(x, cfg_.batch, data_.train.h, p.subnet.resolution);
    const Act& logits = pass.forward(in);
    Act dlog;
    const bool kd = !p.largest && cfg_.distill && !soft.empty();
    const double l = soft_cross_entropy(logits, kd ? soft : hard, p.beta, dlog);
    if (p.largest) {
      soft = softmax_rows(logits);
      loss = l;
      const std::vector<int> pred = argmax_rows(logits);
      for (size_t i = 0; i < pred.size(); ++i) acc += pred[i] == labels[i];
      acc /= double(pred.size());
    }
    if (p.beta > 0) pass.backward(dlog, grads);
  }
  sgd_step(params_, momentum_, grads, lr, cfg_.sgd());
  return loss;
}

// OFA's re_organize_middle_weights: per block, the expanded (middle) channels sorted by the L1 norm of the
// projection weights that read them, largest first; the permutation is applied to every tensor (and
// momentum) indexed by those channels.
void Trainer::channel_resort() {
  auto permute = [&](const std::string& name, int dim, const std::vector<int>& perm) {
    for (Checkpoint* c : {&params_, &momentum_}) {
      NdArray* a = c->find_mutable(name);
      if (!a) continue;
      const int64_t d0 = a->dim(0), d1 = a->dim(1);
      const int64_t inner = int64_t(a->data.size()) / (d0 * (a->shape.size() > 1 ? d1 : 1));
      const std::vector<float> old = a->data;
      for (int64_t i = 0; i < d0; ++i)
        for (int64_t j = 0; j < (a->shape.size() > 1 ? d1 : 1); ++j) {
          const int64_t si = dim == 0 ? perm[size_t(i)] : i, sj = dim == 1 ? perm[size_t(j)] : j;
          const int64_t dd1 = a->shape.size() > 1 ? d1 : 1;
          std::copy_n(old.data() + (si * dd1 + sj) * inner, inner, a->data.data() + (i * dd1 + j) * inner);
        }
    }
  };
  for (const Layer& l : space_.layers(space_.max_subnet())) {
    const std::string suffix = ".project";
    if (l.name.size() < suffix.size() || l.name.compare(l.name.size() - suffix.size(), suffix.size(), suffix))
      continue;
    const std::string block = l.name.substr(0, l.name.size() - suffix.size());
    if (!params_.has(block + ".expand.weight")) continue;
    const NdArray& pw = params_.at(l.name + ".weight");
    const int64_t O = pw.dim(0), I = pw.dim(1);
    std::vector<double> imp(size_t(I), 0.0);
    for (int64_t o = 0; o < O; ++o)
      for (int64_t i = 0; i < I; ++i) imp[size_t(i)] += std::abs(pw.data[size_t(o * I + i)]);
    std::vector<int> perm = all_indices(int(I));
    std::stable_sort(perm.begin(), perm.end(), [&](int a, int b) { return imp[size_t(a)] > imp[size_t(b)]; });
    for (const char* t :
         {".expand.weight", ".expand.bn.weight", ".expand.bn.bias", ".expand.bn.running_mean",
          ".expand.bn.running_var", ".dw.weight", ".dw.bn.weight", ".dw.bn.bias", ".dw.bn.running_mean",
          ".dw.bn.running_var", ".se.expand.weight", ".se.expand.bias"})
      permute(block + t, 0, perm);
    permute(block + ".se.reduce.weight", 1, perm);
    permute(block + ".project.weight", 1, perm);
  }
}

void Trainer::maybe_resort(int epoch) {
  if (epoch == 0) return;
  const std::string now = phase_of(epoch), before = phase_of(epoch - 1);
  if (now == before) return;
  if ((cfg_.algorithm == Algorithm::Ofa && now == "expand") ||
      (cfg_.algorithm == Algorithm::Deps && before == "full"))
    channel_resort();
}

void Trainer::save_state(int epochs_done) const {
  Checkpoint st;
  JsonWriter w;
  w.begin_object()
      .field("format", "sushi train state")
      .field("name", cfg_.name)
      .field("seed", cfg_.seed)
      .field("epochs_done", epochs_done)
      .key("auto")
      .begin_object()
      .field("exponent", auto_.exponent)
      .field("exploring", auto_.exploring)
      .field("best_loss", fmt(auto_.best_loss))
      .field("since_best", auto_.since_best)
      .field("patience", auto_.patience)
      .field("has_snapshot", auto_.has_snapshot)
      .end_object()
      .key("history")
      .begin_array();
  for (const EpochRecord& r : history_)
    w.begin_object()
        .field("epoch", r.epoch)
        .field("phase", r.phase)
        .field("loss", r.loss)
        .field("train_acc", r.train_acc)
        .field("val_acc", r.val_acc)
        .field("lr", r.lr)
        .field("images_per_s", r.images_per_s)
        .field("seconds", r.seconds)
        .field("cpu_seconds", r.cpu_seconds)
        .end_object();
  w.end_array().end_object();
  st.metadata = w.str();
  auto put = [&](const std::string& prefix, const Checkpoint& c) {
    for (const std::string& n : c.names()) st.add(prefix + n, c.at(n));
  };
  put("param/", params_);
  put("momentum/", momentum_);
  put("snapshot/", snapshot_);
  put("snapshot_momentum/", snapshot_momentum_);
  make_directories(cfg_.output);
  st.save(state_path());
}

int Trainer::load_state() {
  const Checkpoint st = Checkpoint::load(state_path());
  const YamlView meta = YamlView::parse(st.metadata, state_path());
  if (meta.get<std::string>("format", "") != "sushi train state" ||
      meta.get<std::string>("name", "") != cfg_.name)
    throw InputError(state_path() + ": not a training state of run '" + cfg_.name + "'");
  if (meta.has("seed") && meta.get<uint64_t>("seed") != cfg_.seed)
    throw InputError(state_path() + ": a state of seed " + meta.get<std::string>("seed") + ", not of seed " +
                     std::to_string(cfg_.seed) + " (give each seed its own train.output)");
  params_ = Checkpoint();
  momentum_ = Checkpoint();
  snapshot_ = Checkpoint();
  snapshot_momentum_ = Checkpoint();
  for (const std::string& n : st.names()) {
    const size_t slash = n.find('/');
    const std::string prefix = n.substr(0, slash + 1), rest = n.substr(slash + 1);
    Checkpoint* dst = prefix == "param/"      ? &params_
                      : prefix == "momentum/" ? &momentum_
                      : prefix == "snapshot/" ? &snapshot_
                                              : &snapshot_momentum_;
    dst->add(rest, st.at(n));
  }
  params_.metadata = trained_metadata(space_, cfg_);
  const YamlView a = meta.at("auto");
  auto_.exponent = a.get<int>("exponent");
  auto_.exploring = a.get<bool>("exploring");
  auto_.best_loss = std::strtod(a.get<std::string>("best_loss").c_str(), nullptr);
  auto_.since_best = a.get<int>("since_best");
  auto_.patience = a.get<int>("patience");
  auto_.has_snapshot = a.get<bool>("has_snapshot");
  history_.clear();
  for (const YamlView& r : meta.at("history").items())
    history_.push_back({r.get<int>("epoch"), r.get<std::string>("phase"), r.get<double>("loss"),
                        r.get<double>("train_acc"), r.get<double>("val_acc"), r.get<double>("lr"),
                        r.get<double>("images_per_s"), r.get<double>("seconds"),
                        r.get<double>("cpu_seconds", 0.0)});
  return meta.get<int>("epochs_done");
}

void Trainer::end_epoch_auto(double loss) {
  bool improved = false;
  const AutoLrAction act = auto_lr_epoch_end(auto_, loss, improved);
  if (improved) {
    snapshot_ = params_;
    snapshot_momentum_ = momentum_;
  }
  if (act == AutoLrAction::HalvedRestored && auto_.has_snapshot) {
    params_ = snapshot_;
    momentum_ = snapshot_momentum_;
  }
}

double Trainer::validate(const Subnet& s) {
  if (data_.validation.size() == 0) return 0;
  Checkpoint stats;
  recalibrate(s, "", stats);
  Checkpoint saved;
  for (const std::string& n : stats.names()) {
    saved.add(n, params_.at(n));
    *params_.find_mutable(n) = stats.at(n);
  }
  const std::vector<int> idx = all_indices(data_.validation.size());
  int correct = 0;
  Rng unused(0);
  for (int first = 0; first < data_.validation.size(); first += 200) {
    const int n = std::min(200, data_.validation.size() - first);
    std::vector<int> labels;
    const std::vector<float> x =
        make_batch(data_.validation, idx, first, n, data_.validation.h, false, 0, unused, labels);
    PassOptions o;
    o.bn = BnMode::Stats;
    o.threads = threads_;
    SubnetPass pass(params_, space_.layers(s), o);
    const std::vector<int> pred =
        argmax_rows(pass.forward(batch_input(x, n, data_.validation.h, s.resolution)));
    for (int i = 0; i < n; ++i) correct += pred[size_t(i)] == labels[size_t(i)];
  }
  for (const std::string& n : saved.names()) *params_.find_mutable(n) = saved.at(n);
  return 100.0 * correct / data_.validation.size();
}

void Trainer::run(bool resume, const std::function<void(const Progress&)>& progress) {
  int start = 0;
  if (resume && std::ifstream(state_path())) start = load_state();
  const int steps = steps_per_epoch_;
  for (int epoch = start; epoch < cfg_.epochs; ++epoch) {
    maybe_resort(epoch);
    Rng order_rng(mix(cfg_.seed, uint64_t(epoch), 7));
    std::vector<int> order = all_indices(data_.train.size());
    order_rng.shuffle(order);
    const double t0 = now_s(), c0 = now_cpu_s();
    double loss_sum = 0, acc_sum = 0, lr = 0;
    for (int step = 0; step < steps; ++step) {
      lr = scheduled_lr(epoch, step, steps);
      double acc = 0;
      loss_sum += train_step(epoch, step, order, lr, acc);
      acc_sum += acc;
      if (progress) {
        const double el = now_s() - t0, ips = double(step + 1) * cfg_.batch / std::max(1e-9, el);
        const double left = double(steps - step - 1 + int64_t(cfg_.epochs - epoch - 1) * steps) * cfg_.batch;
        progress({epoch, cfg_.epochs, step + 1, steps, loss_sum / (step + 1), 100 * acc_sum / (step + 1), ips,
                  left / std::max(1e-9, ips), phase_of(epoch)});
      }
    }
    EpochRecord r;
    r.epoch = epoch;
    r.phase = phase_of(epoch);
    r.loss = loss_sum / steps;
    r.train_acc = 100 * acc_sum / steps;
    r.lr = lr;
    r.seconds = now_s() - t0;
    r.images_per_s = double(steps) * cfg_.batch / std::max(1e-9, r.seconds);
    if (cfg_.lr_schedule == LrSchedule::Auto) end_epoch_auto(r.loss);
    r.val_acc = validate(cfg_.algorithm == Algorithm::Single ? space_.parse_subnet(cfg_.subnet)
                                                             : space_.max_subnet());
    r.cpu_seconds = now_cpu_s() - c0;
    history_.push_back(r);
    save_state(epoch + 1);
  }
}

void Trainer::recalibrate(const Subnet& s, const std::string& key, Checkpoint& out) {
  Rng pick(mix(cfg_.seed, 11));
  std::vector<int> idx = all_indices(data_.train.size());
  pick.shuffle(idx);
  const int total = std::min(cfg_.calib_images, data_.train.size());
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> sums;
  std::vector<std::string> order;
  Rng unused(0);
  int batches = 0;
  for (int first = 0; first < total; first += 200, ++batches) {
    const int n = std::min(200, total - first);
    std::vector<int> labels;
    const std::vector<float> x =
        make_batch(data_.train, idx, first, n, data_.train.h, false, 0, unused, labels);
    PassOptions o;
    o.threads = threads_;
    SubnetPass pass(params_, space_.layers(s), o);
    pass.forward(batch_input(x, n, data_.train.h, s.resolution));
    for (const BnBatchStats& st : pass.batch_stats()) {
      auto& [m, v] = sums[st.layer];
      if (m.empty()) {
        order.push_back(st.layer);
        m.assign(st.mean.size(), 0.0);
        v.assign(st.var.size(), 0.0);
      }
      for (size_t c = 0; c < m.size(); ++c) {
        m[c] += st.mean[c] * n;
        v[c] += st.var[c] * n;
      }
    }
  }
  const std::string prefix = key.empty() ? "" : "subnet_norm/" + key + "/";
  for (const std::string& layer : order) {
    const auto& [m, v] = sums[layer];
    NdArray mean({int64_t(m.size())}), var({int64_t(v.size())});
    for (size_t c = 0; c < m.size(); ++c) {
      mean.data[c] = float(m[c] / total);
      var.data[c] = float(v[c] / total);
    }
    // A subnet's slice of the shared statistics keeps the full tensor's length (the rest unchanged).
    if (key.empty()) {
      NdArray full_m = params_.at(layer + ".bn.running_mean"), full_v = params_.at(layer + ".bn.running_var");
      std::copy(mean.data.begin(), mean.data.end(), full_m.data.begin());
      std::copy(var.data.begin(), var.data.end(), full_v.data.begin());
      mean = std::move(full_m);
      var = std::move(full_v);
    }
    out.add(prefix + layer + ".bn.running_mean", std::move(mean));
    out.add(prefix + layer + ".bn.running_var", std::move(var));
  }
}

std::vector<Subnet> Trainer::evaluated_subnets(std::vector<std::string>& labels) const {
  std::vector<Subnet> out;
  labels.clear();
  auto add = [&](const Subnet& s, const std::string& label) {
    if (std::find(out.begin(), out.end(), s) != out.end()) return;
    out.push_back(s);
    labels.push_back(label);
  };
  if (cfg_.algorithm == Algorithm::Single) {
    add(space_.parse_subnet(cfg_.subnet), "trained");
    return out;
  }
  SampleSpace ss = full_space(space_);
  if (cfg_.algorithm == Algorithm::CompOfa) {
    only_max(ss.kernel);
    ss.compound = cfg_.expand_from_depth;
  }
  add(build_subnet(space_, ss, 1, nullptr), "max");
  add(build_subnet(space_, ss, -1, nullptr), "min");
  const Subnet mx = build_subnet(space_, ss, 1, nullptr), mn = build_subnet(space_, ss, -1, nullptr);
  if (cfg_.algorithm != Algorithm::CompOfa &&
      cfg_.eval_extremes) {  // one dimension at its smallest, the rest largest
    Subnet k = mx, d = mx, e = mx;
    for (size_t i = 0; i < k.kernel.size(); ++i) k.kernel[i] = mn.kernel[i] ? mn.kernel[i] : k.kernel[i];
    d.depth = mn.depth;
    for (size_t i = 0; i < e.expand.size(); ++i)
      e.expand[i] = e.expand[i] > 0 ? vmin(ss.expand[space_.elastic().stage_of_slot(int(i))]) : 0;
    add(space_.canonical(k), "min_kernel");
    add(space_.canonical(d), "min_depth");
    add(space_.canonical(e), "min_expand");
    for (int r : space_.elastic().resolutions) {
      Subnet m = mx;
      m.resolution = r;
      add(m, "max_r" + std::to_string(r));
    }
  }
  Rng rng(mix(cfg_.seed, 99));
  for (int i = 0, tries = 0; i < cfg_.eval_subnets && tries < 100 * cfg_.eval_subnets + 100; ++tries) {
    const size_t before = out.size();
    add(build_subnet(space_, ss, 0, &rng), "random");
    if (out.size() > before) ++i;
  }
  return out;
}

SubnetResult Trainer::evaluate_one(const Subnet& s, const std::string& label, const std::string& key) {
  const ImageSet& test = data_.test;
  const std::vector<int> idx = all_indices(test.size());
  Rng unused(0);
  SubnetResult r;
  r.subnet = s;
  r.label = label;
  const std::vector<Layer> layers = space_.layers(s);
  r.macs = totals(layers).macs;
  const int n_test = r.label == "random" && cfg_.random_test_images > 0
                         ? std::min(cfg_.random_test_images, test.size())
                         : test.size();
  const int n_int8 = std::min(cfg_.int8_images, n_test);
  int correct = 0, correct_subset = 0;
  for (int first = 0; first < n_test; first += 200) {
    const int n = std::min(200, n_test - first);
    std::vector<int> lab;
    const std::vector<float> x = make_batch(test, idx, first, n, test.h, false, 0, unused, lab);
    PassOptions o;
    o.bn = BnMode::Stats;
    o.subnet_key = key;
    o.threads = threads_;
    SubnetPass pass(params_, layers, o);
    const std::vector<int> pred = argmax_rows(pass.forward(batch_input(x, n, test.h, s.resolution)));
    for (int i = 0; i < n; ++i) {
      correct += pred[size_t(i)] == lab[size_t(i)];
      if (first + i < n_int8) correct_subset += pred[size_t(i)] == lab[size_t(i)];
    }
  }
  r.top1_fp32 = 100.0 * correct / n_test;
  r.test_images = n_test;
  r.top1_fp32_subset = n_int8 ? 100.0 * correct_subset / n_int8 : 0;
  if (n_int8 > 0) r.top1_int8 = int8_accuracy(s, n_int8);
  if (cfg_.adv_eps > 0 && cfg_.robust_images > 0) r.robust = robust_accuracy(s, key);
  return r;
}

std::string Trainer::eval_progress_path() const {
  return cfg_.output + "/eval_progress.json";
}

std::string Trainer::eval_fingerprint() const {
  const TrainConfig& c = cfg_;
  std::string s = content_hash(params_.serialize());
  for (double v :
       {double(c.seed), double(c.validation), double(c.limit_train), double(c.limit_test),
        double(c.eval_subnets), double(c.eval_extremes), double(c.calib_images), double(c.int8_images),
        double(c.int8_calib_images), c.int8_range_clip, double(c.random_test_images), double(c.robust_images),
        c.adv_eps, c.adv_alpha, double(c.adv_steps)})
    s += " " + fmt(v);
  return content_hash(s);
}

void Trainer::save_eval_progress(const std::string& fingerprint,
                                 const std::vector<SubnetResult>& done) const {
  JsonWriter w;
  w.begin_object().field("fingerprint", fingerprint).key("done").begin_array();
  for (const SubnetResult& r : done)
    w.begin_object()
        .field("key", subnet_key(space_, r.subnet))
        .field("label", r.label)
        .field("macs", r.macs)
        .field("test_images", r.test_images)
        .key("top1_fp32")
        .raw(fmt(r.top1_fp32))
        .key("top1_fp32_subset")
        .raw(fmt(r.top1_fp32_subset))
        .key("top1_int8")
        .raw(fmt(r.top1_int8))
        .key("robust")
        .raw(fmt(r.robust))
        .end_object();
  w.end_array().end_object();
  write_file_atomic(eval_progress_path(), w.str() + "\n");
}

std::vector<SubnetResult> Trainer::load_eval_progress(const std::string& fingerprint,
                                                      const std::vector<Subnet>& subnets) const {
  std::ifstream f(eval_progress_path());
  if (!f) return {};
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<SubnetResult> out;
  try {
    const YamlView v = YamlView::parse(text, eval_progress_path());
    if (v.get<std::string>("fingerprint") != fingerprint) return {};  // other weights or evaluation keys
    for (const YamlView& d : v.at("done").items()) {
      if (out.size() >= subnets.size() ||
          d.get<std::string>("key") != subnet_key(space_, subnets[out.size()]))
        return {};
      SubnetResult r;
      r.subnet = subnets[out.size()];
      r.label = d.get<std::string>("label");
      r.macs = d.get<int64_t>("macs");
      r.test_images = d.get<int>("test_images");
      r.top1_fp32 = d.get<double>("top1_fp32");
      r.top1_fp32_subset = d.get<double>("top1_fp32_subset");
      r.top1_int8 = d.get<double>("top1_int8");
      r.robust = d.get<double>("robust");
      out.push_back(r);
    }
  } catch (const InputError&) {
    return {};  // a damaged progress file only costs the evaluation again
  }
  return out;
}

std::vector<SubnetResult> Trainer::evaluate(const std::function<void(const std::string&)>& note) {
  const std::string fingerprint = eval_fingerprint();
  Checkpoint shared;
  recalibrate(space_.max_subnet(), "", shared);
  for (const std::string& n : shared.names()) *params_.find_mutable(n) = shared.at(n);
  std::vector<std::string> labels;
  const std::vector<Subnet> subnets = evaluated_subnets(labels);
  std::vector<SubnetResult> results = load_eval_progress(fingerprint, subnets);
  const size_t saved = results.size();
  for (size_t si = 0; si < subnets.size(); ++si) {
    const Subnet& s = subnets[si];
    const std::string key = subnet_key(space_, s);
    // The statistics go into the exported weights, so saved subnets are recalibrated too (cheap).
    Checkpoint stats;
    recalibrate(s, key, stats);
    for (const std::string& n : stats.names()) params_.add(n, stats.at(n));
    if (si < saved) continue;
    results.push_back(evaluate_one(s, labels[si], key));
    save_eval_progress(fingerprint, results);
    const SubnetResult& r = results.back();
    if (note)
      note(r.label + " " + key + ": fp32 " + fmt(r.top1_fp32, "%.2f") + "%, int8 " +
           fmt(r.top1_int8, "%.2f") + "%");
  }
  if (note && saved)
    note("reused " + std::to_string(saved) + " subnets' results from " + eval_progress_path());
  return results;
}

double Trainer::int8_accuracy(const Subnet& s, int n_images) {
  const ImageSet& test = data_.test;
  const QNetwork net = export_int8(params_, space_, s, data_.train, int8_calibration(cfg_));
  int correct = 0;
  for (int first = 0; first < n_images; first += 100) {
    const int n = std::min(100, n_images - first);
    Tensor t = Tensor::batch(n, 1, s.resolution, s.resolution);
    for (int i = 0; i < n; ++i) {
      const Tensor one = image_tensor(test, first + i, s.resolution);
      std::copy(one.data.begin(), one.data.end(), t.image(i).data);
    }
    const QTensor q = quantize(t, QuantParams{net.in_scale, net.in_zp});
    const std::vector<QTensor> outs = run_qnetwork(net, q);
    for (int i = 0; i < n; ++i)
      correct += predicted_class(outs.back(), i) == test.labels[size_t(first) + size_t(i)];
  }
  return 100.0 * correct / n_images;
}

double Trainer::robust_accuracy(const Subnet& s, const std::string& key) {
  const ImageSet& test = data_.test;
  const std::vector<int> idx = all_indices(test.size());
  const int total = std::min(cfg_.robust_images, test.size());
  int correct = 0;
  Rng unused(0);
  for (int first = 0; first < total; first += 100) {
    const int n = std::min(100, total - first);
    std::vector<int> lab;
    const std::vector<float> x = make_batch(test, idx, first, n, test.h, false, 0, unused, lab);
    const std::vector<float> adv = pgd(x, lab, s, false, mix(cfg_.seed, uint64_t(first), 13), key);
    PassOptions o;
    o.bn = BnMode::Stats;
    o.subnet_key = key;
    o.threads = threads_;
    SubnetPass pass(params_, space_.layers(s), o);
    const std::vector<int> pred = argmax_rows(pass.forward(batch_input(adv, n, test.h, s.resolution)));
    for (int i = 0; i < n; ++i) correct += pred[size_t(i)] == lab[size_t(i)];
  }
  return 100.0 * correct / total;
}

}  // namespace sushi::train
