// `sushi info` and `sushi subnets`: inspect a supernet space.
#include <cstdio>
#include <iostream>

#include "base/json.h"
#include "base/provenance.h"
#include "models/space/supernet.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

std::string shape(int c, int h, int w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

void write_layer_json(JsonWriter& j, const SupernetSpace& space, const Layer& l) {
  j.begin_object()
      .field("name", l.name)
      .field("kind", to_string(l.kind))
      .field("input", l.input)
      .field("input2", l.input2)
      .key("in")
      .begin_array()
      .value(l.in_c)
      .value(l.in_h)
      .value(l.in_w)
      .end_array()
      .key("out")
      .begin_array()
      .value(l.out_c)
      .value(l.out_h)
      .value(l.out_w)
      .end_array()
      .field("kernel", l.kernel)
      .field("stride", l.stride)
      .field("groups", l.groups)
      .field("act", to_string(l.act))
      .field("macs", l.macs)
      .field("params", l.params)
      .field("weight_bytes", l.weight_bytes);
  if (l.has_weights()) {
    j.key("slice")
        .begin_object()
        .field("tensor", space.tensors()[l.slice.tensor].name)
        .field("out", l.slice.out)
        .field("in", l.slice.in)
        .field("k", l.slice.k)
        .end_object();
  }
  j.end_object();
}

void print_info_json(const SupernetSpace& space, const Provenance& provenance, const Subnet& s,
                     const std::vector<Layer>& layers, const LayerTotals& t) {
  JsonWriter j;
  j.begin_object().field("supernet", space.name()).key("provenance");
  provenance.write_json(j);
  j.key("subnet")
      .raw(space.to_json(s))
      .field("resolution", s.resolution)
      .field("macs", t.macs)
      .field("params", t.params)
      .field("weight_bytes", t.weight_bytes)
      .key("layers")
      .begin_array();
  for (const Layer& l : layers) write_layer_json(j, space, l);
  j.end_array().end_object();
  out() << j.str() << "\n";
}

void print_info_table(const SupernetSpace& space, const Subnet& s, const std::vector<Layer>& layers,
                      const LayerTotals& t) {
  out() << "supernet " << space.name() << "  subnet " << space.to_json(s) << "\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-4s %-28s %-12s %-14s %-14s %3s %2s %12s %10s %10s  %s\n", "#", "layer",
                "kind", "in", "out", "k", "s", "MACs", "params", "w.bytes", "slice (out,in,k)");
  out() << buf;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    std::string slice = l.has_weights()
                            ? "(" + std::to_string(l.slice.out) + "," + std::to_string(l.slice.in) + "," +
                                  std::to_string(l.slice.k) + ") of (" +
                                  std::to_string(space.tensors()[l.slice.tensor].full.out) + "," +
                                  std::to_string(space.tensors()[l.slice.tensor].full.in) + "," +
                                  std::to_string(space.tensors()[l.slice.tensor].full.k) + ")"
                            : "-";
    std::snprintf(buf, sizeof buf, "%-4zu %-28s %-12s %-14s %-14s %3d %2d %12lld %10lld %10lld  %s\n", i,
                  l.name.c_str(), to_string(l.kind), shape(l.in_c, l.in_h, l.in_w).c_str(),
                  shape(l.out_c, l.out_h, l.out_w).c_str(), l.kernel, l.stride, (long long)l.macs,
                  (long long)l.params, (long long)l.weight_bytes, slice.c_str());
    out() << buf;
  }
  std::snprintf(buf, sizeof buf,
                "total: %zu layers, %.3f M MACs, %.3f M params, %.3f MB int8 weights (%lld bytes)\n",
                layers.size(), t.macs / 1e6, t.params / 1e6, t.weight_bytes / 1e6, (long long)t.weight_bytes);
  out() << buf;
}

int info(const std::vector<std::string>& args) {
  po::options_description o("info options");
  std::string supernet, subnet_spec;
  int resolution = 0;
  o.add_options()("supernet", po::value(&supernet)->required(),
                  "supernet space YAML (workloads/supernets/*.yaml)")(
      "subnet", po::value(&subnet_spec)->default_value("max"), "max | min | random:SEED | JSON subnet")(
      "resolution", po::value(&resolution)->default_value(0), "input resolution (0 = the subnet's own)")(
      "json", "print one JSON object");
  po::variables_map vm;
  if (!parse("info", "--supernet FILE [--subnet SPEC] [--resolution R] [--json]", o, args, vm)) return 0;
  Provenance provenance("sushi info");
  const SupernetSpace space =
      SupernetSpace::from_yaml(YamlView::parse(provenance.read_input("supernet", supernet), supernet));
  Subnet s = subnet_option(space, subnet_spec, resolution);
  const auto layers = space.layers(s, s.resolution);
  const LayerTotals t = totals(layers);
  if (vm.count("json"))
    print_info_json(space, provenance, s, layers, t);
  else
    print_info_table(space, s, layers, t);
  return 0;
}

int subnets(const std::vector<std::string>& args) {
  po::options_description o("subnets options");
  std::string supernet;
  int count = 10;
  uint64_t seed = 0;
  o.add_options()("supernet", po::value(&supernet)->required(), "supernet space YAML")(
      "count", po::value(&count)->default_value(10), "number of random subnets to sample")(
      "seed", po::value(&seed)->default_value(0), "random seed")("json", "print one JSON object");
  po::variables_map vm;
  if (!parse("subnets", "--supernet FILE [--count N] [--seed S] [--json]", o, args, vm)) return 0;
  if (count < 0 || count > 10000000)
    throw InputError("--count " + std::to_string(count) + ": expected 0..10000000");
  Provenance provenance("sushi subnets");
  const SupernetSpace space =
      SupernetSpace::from_yaml(YamlView::parse(provenance.read_input("supernet", supernet), supernet));
  provenance.set_seed("subnets", seed);
  Rng rng(seed);
  const auto total = space.count();
  if (vm.count("json")) {
    JsonWriter j;
    j.begin_object().field("supernet", space.name()).field("seed", seed).key("provenance");
    provenance.write_json(j);
    if (total)
      j.field("space_size_per_resolution", *total);
    else
      j.field("space_size_per_resolution", "more than 2^64");
    j.key("subnets").begin_array();
    for (int i = 0; i < count; ++i) j.raw(space.to_json(space.random_subnet(rng)));
    j.end_array().end_object();
    out() << j.str() << "\n";
    return 0;
  }
  std::cerr << "# " << space.name() << ": " << (total ? std::to_string(*total) : std::string("> 2^64"))
            << " subnets per resolution, " << space.elastic().resolutions.size() << " resolutions; seed "
            << seed << "\n";
  for (int i = 0; i < count; ++i) out() << space.to_json(space.random_subnet(rng)) << "\n";
  return 0;
}

const bool registered = register_command({"info", "layer table and totals of one subnet", info}) &&
                        register_command({"subnets", "sample subnets of a space in canonical form", subnets});

}  // namespace
}  // namespace sushi::cli
