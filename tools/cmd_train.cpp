// `sushi train CONFIG.yaml [--resume] [--threads N] [--json]`: weight-shared training (models/train), then
// BN recalibration and fp32 / int8 evaluation of the evaluated subnets; writes the trained supernet, the
// accuracy tables the serving experiments read, the training curves and a summary into the config's
// output folder. `sushi train compare SUMMARY.json...` compares finished runs (models/train/compare.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "base/csv.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/manifest.h"
#include "base/provenance.h"
#include "base/record.h"
#include "models/ref/forward.h"
#include "models/train/compare.h"
#include "models/train/trainer.h"
#include "sched/svg_plot.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

using namespace sushi::train;

double wall_now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

void print_progress(const Progress& p, bool tty) {
  if (tty) {
    const int width = 24, done = int(double(p.step) / p.steps * width);
    std::fprintf(stderr, "\r[%-*s] epoch %d/%d %s step %d/%d loss %.4f acc %.1f%% %.0f img/s ETA %.0fs  ",
                 width, std::string(size_t(done), '#').c_str(), p.epoch + 1, p.epochs, p.phase.c_str(),
                 p.step, p.steps, p.loss, p.acc, p.images_per_s, p.eta_s);
    if (p.step == p.steps) std::fprintf(stderr, "\n");
  } else if (p.step == p.steps || p.step % 20 == 0) {
    std::fprintf(stderr, "epoch %d/%d %s step %d/%d loss %.4f acc %.2f%% %.1f img/s eta %.0fs\n", p.epoch + 1,
                 p.epochs, p.phase.c_str(), p.step, p.steps, p.loss, p.acc, p.images_per_s, p.eta_s);
  }
  std::fflush(stderr);
}

std::string jsonl(const SupernetSpace& space, const std::vector<SubnetResult>& rs, bool int8) {
  std::string out;
  for (const SubnetResult& r : rs) {
    if (int8 && r.top1_int8 < 0) continue;
    std::string j = space.to_json(r.subnet);
    j.pop_back();
    char buf[64];
    std::snprintf(buf, sizeof buf, ",\"top1\":%.2f}", int8 ? r.top1_int8 : r.top1_fp32);
    out += j + buf + "\n";
  }
  return out;
}

std::string curves_svg(const std::vector<EpochRecord>& h, const Provenance& prov, const std::string& name) {
  PlotSeries loss{"training loss", {}}, tacc{"train acc / 100", {}}, vacc{"val acc (max) / 100", {}},
      lr{"learning rate (last step)", {}};
  for (const EpochRecord& r : h) {
    loss.points.emplace_back(r.epoch + 1.0, r.loss);
    tacc.points.emplace_back(r.epoch + 1.0, r.train_acc / 100);
    vacc.points.emplace_back(r.epoch + 1.0, r.val_acc / 100);
    lr.points.emplace_back(r.epoch + 1.0, r.lr);
  }
  PlotSpec spec{name + ": training curves", "epoch", "loss, accuracy, learning rate", prov.line(), true};
  return render_svg(spec, {loss, tacc, vacc, lr});
}

void write_outputs(const Trainer& t, const SupernetSpace& space, const std::vector<SubnetResult>& rs,
                   const Provenance& prov, double wall_s, double eval_cpu_s, bool json) {
  const TrainConfig& c = t.config();
  OutputManifest m(c.output);
  m.write_file(c.output + "/supernet.ckpt", t.weights().serialize());
  m.write_file(c.output + "/accuracy_fp32.jsonl", jsonl(space, rs, false));
  m.write_file(c.output + "/accuracy_int8.jsonl", jsonl(space, rs, true));
  CsvTable acc({"label", "subnet", "macs", "test_images", "top1_fp32", "top1_fp32_int8_subset", "top1_int8",
                "robust"});
  for (const SubnetResult& r : rs)
    acc.add_row({r.label, csv_cell(space.to_json(r.subnet)), std::to_string(r.macs),
                 std::to_string(r.test_images), csv_number(r.top1_fp32), csv_number(r.top1_fp32_subset),
                 csv_number(r.top1_int8), csv_number(r.robust)});
  m.write_file(c.output + "/accuracy.csv", acc.str(prov));
  CsvTable hist(
      {"epoch", "phase", "loss", "train_acc", "val_acc_max", "lr", "images_per_s", "seconds", "cpu_seconds"});
  for (const EpochRecord& r : t.history())
    hist.add_row({std::to_string(r.epoch + 1), r.phase, csv_number(r.loss), csv_number(r.train_acc),
                  csv_number(r.val_acc), csv_number(r.lr), csv_number(r.images_per_s), csv_number(r.seconds),
                  csv_number(r.cpu_seconds)});
  m.write_file(c.output + "/history.csv", hist.str(prov));
  m.write_file(c.output + "/curves.svg", curves_svg(t.history(), prov, c.name));
  JsonWriter w;
  double train_s = 0, train_cpu = 0, sum = 0, lo = 101, hi = -1, worst_gap = 0, worst_abs = 0;
  int rnd = 0;
  for (const EpochRecord& r : t.history()) {
    train_s += r.seconds;
    train_cpu += r.cpu_seconds;
  }
  for (const SubnetResult& r : rs) {
    if (r.label == "random") {
      sum += r.top1_fp32;
      ++rnd;
    }
    lo = std::min(lo, r.top1_fp32);
    hi = std::max(hi, r.top1_fp32);
    if (r.top1_int8 >= 0) {
      worst_gap = std::max(worst_gap, r.top1_fp32_subset - r.top1_int8);
      worst_abs = std::max(worst_abs, std::abs(r.top1_fp32_subset - r.top1_int8));
    }
  }
  w.begin_object().field("name", c.name).field("algorithm", to_string(c.algorithm)).field("epochs", c.epochs);
  w.field("train_seconds", train_s).field("train_cpu_seconds", train_cpu).field("wall_seconds", wall_s);
  w.field("eval_cpu_seconds", eval_cpu_s).field("evaluated_subnets", int(rs.size()));
  w.field("random_subnets", rnd).field("mean_top1_random", rnd ? sum / rnd : 0.0);
  w.field("min_top1", lo).field("max_top1", hi).field("worst_int8_drop", worst_gap);
  w.field("worst_int8_abs_diff", worst_abs);
  w.key("subnets").begin_array();
  for (const SubnetResult& r : rs)
    w.begin_object()
        .field("label", r.label)
        .key("subnet")
        .raw(space.to_json(r.subnet))
        .field("macs", r.macs)
        .field("test_images", r.test_images)
        .field("top1_fp32", r.top1_fp32)
        .field("top1_int8", r.top1_int8)
        .field("top1_fp32_int8_subset", r.top1_fp32_subset)
        .field("robust", r.robust)
        .end_object();
  w.end_array().key("provenance");
  prov.write_json(w);
  w.end_object();
  m.write_file(c.output + "/summary.json", w.str() + "\n");
  m.finish();
  if (json) out() << w.str() << "\n";
}

void print_table(const SupernetSpace& space, const std::vector<SubnetResult>& rs) {
  char buf[512];
  out() << "label        MACs       fp32%   int8%  (fp32 on int8 subset)  subnet\n";
  for (const SubnetResult& r : rs) {
    std::snprintf(buf, sizeof buf, "%-11s %9lld  %6.2f  %6.2f  (%6.2f)  %s\n", r.label.c_str(),
                  (long long)r.macs, r.top1_fp32, r.top1_int8, r.top1_fp32_subset,
                  space.to_json(r.subnet).c_str());
    out() << buf;
  }
}

// `sushi train compare SUMMARY.json...`: runs side by side, seeds pooled per config, paired differences.
int compare_command(const std::vector<std::string>& args) {
  po::options_description o("train compare options");
  std::vector<std::string> files;
  o.add_options()("summary", po::value(&files)->composing(),
                  "a run's summary.json (two or more; the first "
                  "run's config is the baseline)")("json", "print the comparison as one JSON object");
  po::positional_options_description pos;
  pos.add("summary", -1);
  po::variables_map vm;
  if (!parse("train compare", "SUMMARY.json SUMMARY.json... [--json]", o, args, vm, &pos)) return 0;
  if (files.size() < 2)
    throw InputError("compare: expected two or more summary.json files, got " + std::to_string(files.size()));
  std::vector<RunScores> runs;
  for (const std::string& f : files) runs.push_back(load_run_scores(f));
  const RunComparison c = compare_runs(std::move(runs));
  out() << (vm.count("json") ? comparison_json(c) + "\n" : comparison_text(c));
  return 0;
}

int train_command(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "compare") return compare_command({args.begin() + 1, args.end()});
  po::options_description o("train options");
  std::string config;
  std::vector<std::string> sets;
  int threads = 1;
  o.add_options()("config", po::value(&config)->required(), "training config YAML (workloads/train/*.yaml)")(
      "resume", "continue from the output folder's state.ckpt (exactly: same final weights)")(
      "threads", po::value(&threads)->default_value(1), "worker threads (results identical at any count)")(
      "set", po::value(&sets)->composing(),
      "train.KEY=VALUE: override a config key (train.seed=2 train.output=out/train/run_s2)")(
      "json", "print the summary as one JSON object");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  if (!parse("train",
             "CONFIG.yaml [--resume] [--threads N] [--set train.KEY=V]... [--json]\n"
             "       sushi train compare SUMMARY.json SUMMARY.json... [--json]",
             o, args, vm, &pos))
    return 0;
  if (threads < 1 || threads > 256) throw InputError("--threads: expected 1 .. 256");
  Provenance prov("sushi train");
  const TrainConfig cfg =
      load_train_config(config, &prov, set_overrides(sets, "train", "train", "the training config's keys"));
  const SupernetSpace space =
      SupernetSpace::from_yaml(YamlView::parse(prov.read_input("supernet", cfg.supernet), cfg.supernet));
  make_directories(cfg.output);
  check_writable(cfg.output + "/.write_check");
  std::remove((cfg.output + "/.write_check").c_str());
  const double t0 = wall_now_s();
  FashionMnist data = load_fashion_mnist(cfg.validation, cfg.seed, cfg.limit_train, cfg.limit_test);
  Trainer t(cfg, space, std::move(data), threads);
  const bool tty = isatty(2);
  t.run(vm.count("resume") > 0, [tty](const Progress& p) { print_progress(p, tty); });
  const double e0 = process_cpu_seconds();
  const std::vector<SubnetResult> rs =
      t.evaluate([](const std::string& s) { std::cerr << "eval " << s << "\n"; });
  const double eval_cpu_s = process_cpu_seconds() - e0;
  if (!vm.count("json")) print_table(space, rs);
  write_outputs(t, space, rs, prov, wall_now_s() - t0, eval_cpu_s, vm.count("json") > 0);
  std::remove(t.eval_progress_path().c_str());  // only an interrupted evaluation needs it
  return 0;
}

const bool registered = register_command(
    {"train", "weight-shared supernet training on Fashion-MNIST (OFA, CompOFA, DεpS)", train_command});

}  // namespace
}  // namespace sushi::cli
