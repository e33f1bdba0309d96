// `sushi export`: writes supernet weights, or one subnet extracted into standalone tensors, as a checkpoint
// (models/checkpoint.h) and optionally every tensor as NumPy .npy.
#include <filesystem>
#include <iostream>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "base/yaml.h"
#include "models/ref/checkpoint.h"
#include "models/ref/forward.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

// The checkpoint's producer must have used the same space (its metadata names it).
void check_space(const Checkpoint& ckpt, const SupernetSpace& space, const std::string& file) {
  if (ckpt.metadata.empty()) return;
  const YamlView meta = YamlView::parse(ckpt.metadata, file + " metadata");
  if (meta.is_map() && meta.has("space") && meta.get<std::string>("space") != space.name())
    throw InputError(file + ": checkpoint is for space '" + meta.get<std::string>("space") + "', not '" +
                     space.name() + "'");
}

int export_weights(const std::vector<std::string>& args) {
  po::options_description o("export options");
  std::string supernet, checkpoint, subnet_spec, out_path, npy_dir;
  uint64_t seed = 0;
  o.add_options()("supernet", po::value(&supernet)->required(),
                  "supernet space YAML (workloads/supernets/*.yaml)")("checkpoint", po::value(&checkpoint),
                                                                      "supernet checkpoint to read")(
      "random-seed", po::value(&seed),
      "instead of --checkpoint: random He-init supernet weights from this seed")(
      "subnet", po::value(&subnet_spec),
      "max | min | random:SEED | JSON subnet (omit to export the whole supernet)")(
      "out", po::value(&out_path)->required(), "checkpoint file to write")(
      "npy", po::value(&npy_dir), "also write every tensor as DIR/<name>.npy")("json",
                                                                               "print a JSON summary");
  po::variables_map vm;
  if (!parse("export",
             "--supernet FILE (--checkpoint FILE | --random-seed S) [--subnet SPEC] --out FILE [--npy DIR] "
             "[--json]",
             o, args, vm))
    return 0;
  if (vm.count("checkpoint") == vm.count("random-seed"))
    throw InputError("give exactly one of --checkpoint FILE and --random-seed S (see sushi export --help)");
  Provenance provenance("sushi export");
  const SupernetSpace space =
      SupernetSpace::from_yaml(YamlView::parse(provenance.read_input("supernet", supernet), supernet));
  Checkpoint weights;
  std::string source;
  if (vm.count("checkpoint")) {
    weights = Checkpoint::load(checkpoint);
    provenance.add_input("checkpoint", checkpoint, file_hash(checkpoint));
    check_space(weights, space, checkpoint);
    source = checkpoint;
  } else {
    weights = make_random_supernet(space, seed);
    provenance.set_seed("weights", seed);
    source = "random-seed " + std::to_string(seed);
  }
  Checkpoint result;
  std::string subnet_json;
  if (vm.count("subnet")) {
    const Subnet s = space.parse_subnet(subnet_spec);
    subnet_json = space.to_json(s);
    try {
      result = extract_subnet(weights, space, s);
    } catch (const InputError& e) {
      throw InputError(source + ": " + e.what());
    }
  } else {
    result = std::move(weights);
  }
  result.save(out_path);
  if (vm.count("npy")) {
    std::filesystem::create_directories(npy_dir);
    for (const std::string& name : result.names())
      write_npy((std::filesystem::path(npy_dir) / npy_file_name(name)).string(), result.at(name));
  }
  if (vm.count("json")) {
    JsonWriter j;
    j.begin_object()
        .field("out", out_path)
        .field("out_hash", file_hash(out_path))
        .field("supernet", space.name())
        .field("source", source)
        .key("provenance");
    provenance.write_json(j);
    if (!subnet_json.empty()) j.key("subnet").raw(subnet_json);
    j.field("tensors", int64_t(result.size())).field("parameters", result.parameter_count()).end_object();
    out() << j.str() << "\n";
  } else {
    out() << out_path << ": " << result.size() << " tensors, " << result.parameter_count() << " parameters"
          << (subnet_json.empty() ? " (supernet)" : " (subnet " + subnet_json + ")") << "\n";
  }
  return 0;
}

const bool registered = register_command(
    {"export", "write supernet weights or one subnet's standalone tensors (+ .npy)", export_weights});

}  // namespace
}  // namespace sushi::cli
