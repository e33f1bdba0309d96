#include "sim/evaluate.h"

#include <map>
#include <mutex>

#include "base/content_cache.h"
#include "base/errors.h"
#include "sim/model.h"

namespace sushi::sim {
namespace {

// Spaces loaded by evaluate(), by content hash: a Point names its space by file and hash.
std::shared_ptr<const SupernetSpace> space_for(const std::string& file, const std::string& hash) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const SupernetSpace>> spaces;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& slot = spaces[hash];
  if (!slot) {
    const std::string text = read_file(file);
    if (content_hash(text) != hash)
      throw InputError(file + ": changed since the point was made (hash " + content_hash(text) +
                       ", expected " + hash + ")");
    slot = std::make_shared<const SupernetSpace>(SupernetSpace::from_yaml(YamlView::parse(text, file)));
  }
  return slot;
}

SubGraph cache_subgraph(const AccelConfig& accel, const SupernetSpace& space, const std::string& spec) {
  if (spec.empty() || spec == "none") return space.empty_subgraph();
  return fit_to_pb(accel, space, space.parse_subnet(spec));
}

SimEvaluation compute(const Point& point) {
  const YamlView v = point.view();
  SimEvaluation e;
  e.accel = accel_schema().parse(v.at("accel"));
  e.accel.file = v.at("accel").where();
  e.accel.hash = content_hash(canonical_json(e.accel));
  e.space = space_for(v.at("supernet").get<std::string>("file"), v.at("supernet").get<std::string>("hash"));
  e.subnet = e.space->parse_subnet(v.get<std::string>("subnet"));
  const int resolution = v.get<int>("resolution");
  if (resolution != 0) {
    e.subnet.resolution = resolution;
    e.space->validate(e.subnet, "resolution");
  }
  e.cached = cache_subgraph(e.accel, *e.space, v.get<std::string>("cache"));
  e.pb_load = pb_load_cost(e.accel, e.cached);
  e.run = simulate(e.accel, *e.space, e.subnet, e.cached, parse_fidelity(v.get<std::string>("model")));
  return e;
}

}  // namespace

Point make_sim_point(const SimRequest& r, Provenance& provenance) {
  const AccelConfig accel = AccelConfig::load(r.accel_file, r.overrides);
  provenance.add_input("accel", r.accel_file, content_hash(read_file(r.accel_file)));
  const std::string space_text = provenance.read_input("supernet", r.supernet_file);
  JsonWriter w;
  w.begin_object().key("accel");
  accel_schema().write(w, accel);
  w.key("supernet")
      .begin_object()
      .field("file", r.supernet_file)
      .field("hash", content_hash(space_text))
      .end_object()
      .field("subnet", r.subnet)
      .field("resolution", r.resolution)
      .field("cache", r.cache)
      .field("model", parse_fidelity(r.model))
      .end_object();
  Point point = Point::parse(w.str(), "sushi sim");
  provenance.set_config(point.canonical());
  provenance.set_fidelity(r.model);
  return point;
}

std::shared_ptr<const SimEvaluation> evaluate(const Point& point) {
  static ContentCache<SimEvaluation> cache;
  return cache.get(point.hash(), [&] { return compute(point); });
}

}  // namespace sushi::sim
