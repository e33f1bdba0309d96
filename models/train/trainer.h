#pragma once
// Weight-shared training of a supernet space on Fashion-MNIST (configs in workloads/train/):
//   algorithm: ofa      progressive shrinking: full net, then elastic kernel, depth, expand (channels
//                       re-sorted by importance before expand); phases are fractions of the epoch budget,
//                       each with its own cosine schedule (the first with warm-up)
//              compofa  the compound space (each stage's expand ratio coupled to its depth, kernel fixed at
//                       the largest), every compound subnet trained together from the start, no phases
//              deps     Delayed eps-Shrinking: only the full model until teacher_fraction of the budget minus
//                       W = deps.warmup_epochs; then one channel re-sort and sandwich training in which the
//                       other subnets' gradients are scaled so their learning rate ramps per step from 0 to
//                       the full model's scheduled rate at teacher_fraction over W epochs, then equal
//              single   one subnet (`subnet:`), optionally PGD adversarial training (`adversarial:`)
// Every step past the full-model phases is a sandwich: the largest subnet of the phase with (smoothed)
// labels, the smallest and random ones against the largest's soft labels (in-place distillation),
// gradients summed before one SGD step. Slicing reads and writes the leading parts of the shared tensors.
//
// Determinism: the data order, augmentation, sampled subnets and dropout of a step come from seeds derived
// from (seed, epoch, step), so a run resumed from an epoch checkpoint repeats exactly what an uninterrupted
// run does; the kernels are bit-identical at any thread count (models/train/network.h).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/point.h"
#include "base/provenance.h"
#include "models/ref/checkpoint.h"
#include "models/ref/int8.h"
#include "models/ref/tensor.h"
#include "models/space/supernet.h"
#include "models/train/data.h"
#include "models/train/optim.h"

namespace sushi::train {

enum class Algorithm { Ofa, CompOfa, Deps, Single };
enum class LrSchedule { Cosine, Auto };

struct TrainConfig {
  std::string name, supernet, subnet = "max", output;
  Algorithm algorithm = Algorithm::Ofa;
  LrSchedule lr_schedule = LrSchedule::Cosine;
  uint64_t seed = 1;
  int epochs = 1, batch = 128, warmup_epochs = 1, subnets_per_step = 4;
  double lr = 0.1, label_smoothing = 0.1;
  double momentum = 0.9, weight_decay = 3e-5;
  bool nesterov = true;
  SgdConfig sgd() const { return {momentum, weight_decay, nesterov}; }
  bool distill = true;
  double dropout = 0.1;
  // data
  int validation = 5000, limit_train = 0, limit_test = 0, pad = 2;
  bool augment = true;
  // ofa
  std::vector<double> ofa_phases = {0.25, 0.25, 0.25, 0.25};
  double ofa_phase_lr = 0.5;
  // deps
  double teacher_fraction = 0.5;
  int deps_warmup_epochs = 1;
  // compofa
  std::map<int, double> expand_from_depth;
  // adversarial (single): PGD with L-inf radius eps, `steps` steps of size alpha; eps 0 = natural training
  double adv_eps = 0, adv_alpha = 0;
  int adv_steps = 0;
  // evaluation
  bool eval_extremes = true;  // also each dimension at its smallest with the rest largest, each resolution
  int eval_subnets = 50, calib_images = 2000, int8_images = 2000, robust_images = 500;
  int random_test_images = 0;  // random subnets: fp32 on the first N test images (0 = all)
  // int8 export: calibration images (0 = calibration_image_count) and the share of each layer's values
  // clipped at each end of its range. 512 images at 1e-4 took the full-data DεpS supernet's mean int8 drop
  // from 0.37 pt (64 images, min/max) to 0.0 (README "Training").
  int int8_calib_images = 512;
  double int8_range_clip = 1e-4;
};

// `overrides` (`--set train.seed=2`) are applied to the file's tree, checked against the schema, before it
// is read; the provenance records the resulting config.
TrainConfig load_train_config(const std::string& path, Provenance* provenance = nullptr,
                              const std::vector<Override>& overrides = {});
const char* to_string(Algorithm a);

struct EpochRecord {
  int epoch = 0;
  std::string phase;
  double loss = 0, train_acc = 0, val_acc = 0, lr = 0, images_per_s = 0, seconds = 0;
  double cpu_seconds = 0;  // process CPU time of the epoch (training and validation), all threads
};

// Process CPU time in seconds (all threads): the budget measure on a shared machine, where wall time
// depends on the other load.
double process_cpu_seconds();

struct SubnetResult {
  Subnet subnet;
  std::string label;  // max, min, kernel3, random, ...
  int64_t macs = 0;
  int test_images = 0;
  double top1_fp32 = 0;         // on the first test_images test images (the whole set but for random ones
                                // with eval.random_test_images)
  double top1_fp32_subset = 0;  // the int8 subset
  double top1_int8 = -1;        // int8 reference on the first int8_images test images (-1 = not run)
  double robust = -1;           // PGD accuracy (adversarial runs)
};

struct Progress {
  int epoch = 0, epochs = 0, step = 0, steps = 0;
  double loss = 0, acc = 0, images_per_s = 0, eta_s = 0;
  std::string phase;
};

class Trainer {
 public:
  Trainer(TrainConfig config, const SupernetSpace& space, FashionMnist data, int threads);
  // Trains the remaining epochs (from the state file in the output folder when resuming), writing the state
  // atomically after every epoch.
  void run(bool resume, const std::function<void(const Progress&)>& progress = {});
  // BN-recalibrates and evaluates the evaluated subnets (fp32 on the whole test set, int8 on a subset);
  // stores each one's SubnetNorm statistics in the weights.
  std::vector<SubnetResult> evaluate(const std::function<void(const std::string&)>& note = {});
  const Checkpoint& weights() const { return params_; }
  const std::vector<EpochRecord>& history() const { return history_; }
  const TrainConfig& config() const { return cfg_; }
  std::string state_path() const { return cfg_.output + "/state.ckpt"; }
  std::string eval_progress_path() const;
  std::vector<Subnet> evaluated_subnets(std::vector<std::string>& labels) const;

  // One step's loss and accuracy (exposed for tests).
  double train_step(int epoch, int step, const std::vector<int>& order, double lr, double& acc);

 private:
  struct Planned {
    Subnet subnet;
    bool largest = false;
    double beta = 1;
  };
  std::vector<Planned> plan(int epoch, int step, Rng& rng) const;
  std::string phase_of(int epoch) const;
  double scheduled_lr(int epoch, int step, int steps) const;
  double deps_beta(int epoch, int step, int steps) const;
  void channel_resort();
  void maybe_resort(int epoch);
  void save_state(int epochs_done) const;
  int load_state();
  void end_epoch_auto(double loss);
  std::vector<float> pgd(const std::vector<float>& x, const std::vector<int>& labels, const Subnet& s,
                         bool batch_stats, uint64_t seed, const std::string& key);
  void recalibrate(const Subnet& s, const std::string& key, Checkpoint& out);
  double validate(const Subnet& s);
  double int8_accuracy(const Subnet& s, int n_images);
  double robust_accuracy(const Subnet& s, const std::string& key);
  SubnetResult evaluate_one(const Subnet& s, const std::string& label, const std::string& key);
  // Evaluation progress, rewritten after every subnet so that a killed evaluation (about an hour of one core
  // for a full run's 55 subnets) resumes where it stopped; it holds only results of the same weights and
  // evaluation keys (the fingerprint).
  std::string eval_fingerprint() const;
  void save_eval_progress(const std::string& fingerprint, const std::vector<SubnetResult>& done) const;
  std::vector<SubnetResult> load_eval_progress(const std::string& fingerprint,
                                               const std::vector<Subnet>& subnets) const;

  TrainConfig cfg_;
  const SupernetSpace& space_;
  FashionMnist data_;
  int threads_;
  Checkpoint params_, momentum_, snapshot_, snapshot_momentum_;
  AutoLrState auto_;
  std::vector<EpochRecord> history_;
  int steps_per_epoch_ = 0;
};

// The training state checkpoint's trained weights with batch-norm statistics for the max subnet, ready for
// models/ref (forward_fp32, quantize_subnet, extract_subnet). The metadata records what export_int8 needs
// to rebuild the evaluated int8 networks: the seed, the validation split and the int8 calibration.
std::string trained_metadata(const SupernetSpace& space, const TrainConfig& c);

// int8 export of one subnet of a trained supernet: what `sushi train` evaluates and what the accelerator
// models run (`sushi sim --weights`, the bit-exact tests). Batch norm comes from the subnet's recalibrated
// statistics when the weights hold them (else the shared ones); activation ranges from seeded training
// images.
struct Int8Calibration {
  int images = 0;         // 0 = calibration_image_count(resolution)
  double range_clip = 0;  // share of each layer's values clipped at each end of its range
  uint64_t seed = 1;      // the run's seed: which training images calibrate
  int validation = 5000;  // the run's validation split and training-set limit: which images are training
  int limit_train = 0;    // images
};
Int8Calibration int8_calibration(const TrainConfig& c);
// The calibration a trained supernet (`sushi train`'s supernet.ckpt) records; throws InputError naming
// `path` when its metadata is not a trained supernet's.
Int8Calibration int8_calibration_of(const Checkpoint& trained, const std::string& path);
// Image `index` of `set` as a models/ref tensor (1 x res x res, bilinearly resized when res differs).
Tensor image_tensor(const ImageSet& set, int index, int res);
QNetwork export_int8(const Checkpoint& weights, const SupernetSpace& space, const Subnet& s,
                     const ImageSet& train, const Int8Calibration& c);
Checkpoint initial_supernet(const SupernetSpace& space, uint64_t seed);

}  // namespace sushi::train
