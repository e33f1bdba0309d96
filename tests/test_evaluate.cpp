// Evaluate one point: sim::evaluate(Point) is cached by content, overrides change the point, and the result
// equals a direct simulate() of the same inputs.
#include <catch2/catch.hpp>

#include "base/errors.h"
#include "base/registry.h"
#include "sim/evaluate.h"
#include "sim/model.h"

using namespace sushi;

namespace {
sim::SimRequest request(const std::string& model) {
  sim::SimRequest r;
  r.accel_file = "workloads/accel/zcu104_sushi.yaml";
  r.supernet_file = "workloads/supernets/fmnist_tiny.yaml";
  r.subnet = "random:3";
  r.cache = "min";
  r.model = model;
  return r;
}
}  // namespace

TEST_CASE("evaluate: a point equals simulate() on its inputs, for every registered model", "[sim][point]") {
  for (const std::string& model : Registry<sim::AccelModel>::names()) {
    INFO("model " << model);
    Provenance prov;
    const Point p = sim::make_sim_point(request(model), prov);
    const auto e = sim::evaluate(p);
    const SupernetSpace space = SupernetSpace::load("workloads/supernets/fmnist_tiny.yaml");
    const sim::AccelConfig accel = sim::AccelConfig::load("workloads/accel/zcu104_sushi.yaml");
    const Subnet s = space.parse_subnet("random:3");
    const sim::RunResult direct =
        sim::simulate(accel, space, s, sim::fit_to_pb(accel, space, space.min_subnet()), model);
    CHECK(e->run.cycles == direct.cycles);
    CHECK(e->run.offchip_weight_bytes == direct.offchip_weight_bytes);
    CHECK(e->run.pb_hit_bytes == direct.pb_hit_bytes);
    CHECK(e->run.pb_hit_bytes > 0);
    CHECK(sim::evaluate(p).get() == e.get());  // cached by content
    REQUIRE(prov.inputs().size() == 2);
    CHECK(prov.config_hash() == content_hash(p.canonical()));
  }
}

TEST_CASE("evaluate: overrides by dotted path make a different point with the new value", "[sim][point]") {
  Provenance p1, p2;
  sim::SimRequest r = request("analytic");
  const Point base = sim::make_sim_point(r, p1);
  r.overrides = {parse_override("accel.buffers.persistent_bytes=0")};
  const Point no_pb = sim::make_sim_point(r, p2);
  CHECK(base.hash() != no_pb.hash());
  CHECK(sim::evaluate(no_pb)->accel.pb_bytes == 0);
  CHECK(sim::evaluate(no_pb)->run.pb_hit_bytes == 0);
  CHECK(sim::evaluate(no_pb)->run.cycles >= sim::evaluate(base)->run.cycles);
  r.overrides = {parse_override("accel.buffers.persistent=0")};
  CHECK_THROWS_WITH(sim::make_sim_point(r, p2), Catch::Matchers::Contains("not a parameter of accel"));
  r.overrides = {parse_override("accel.dram.efficiency=1.5")};
  CHECK_THROWS_WITH(sim::make_sim_point(r, p2), Catch::Matchers::Contains("dram.efficiency"));
}
