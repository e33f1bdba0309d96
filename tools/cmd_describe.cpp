// `sushi describe [KIND [NAME]] [--json]`: every registered component and its parameters, generated from
// their declarations (base/params.h), never written by hand.
#include <iostream>

#include "base/params.h"
#include "base/registry.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

void describe_json(const std::vector<ComponentInfo>& components) {
  JsonWriter w;
  w.begin_array();
  for (const ComponentInfo& c : components) {
    w.begin_object().field("kind", c.kind).field("name", c.name).field("doc", c.doc).key("params");
    if (c.params)
      c.params->describe_json(w);
    else
      w.raw("null");
    w.end_object();
  }
  w.end_array();
  out() << w.str() << "\n";
}

void describe_text(const std::vector<ComponentInfo>& components) {
  std::string kind;
  for (const ComponentInfo& c : components) {
    if (c.kind != kind) out() << (kind.empty() ? "" : "\n") << "== " << c.kind << "\n";
    kind = c.kind;
    out() << c.name << ": " << c.doc << "\n";
    if (c.params && !c.params->params().empty())
      out() << c.params->describe_text("    ");
    else
      out() << "    (no parameters)\n";
  }
}

int describe_cmd(const std::vector<std::string>& args) {
  po::options_description o("describe options");
  std::string kind, name;
  o.add_options()("kind", po::value(&kind), "component kind (omit to list every kind)")(
      "name", po::value(&name), "one component of that kind")("json", "print as JSON");
  po::positional_options_description pos;
  pos.add("kind", 1).add("name", 1);
  po::variables_map vm;
  if (!parse("describe", "[KIND [NAME]] [--json]", o, args, vm, &pos)) return 0;
  std::vector<ComponentInfo> shown;
  const std::vector<std::string> kinds = ComponentIndex::kinds();
  std::string known;
  for (const std::string& k : kinds) known += (known.empty() ? "" : ", ") + k;
  if (kind.empty()) {
    for (const std::string& k : kinds)
      for (const ComponentInfo& c : ComponentIndex::of_kind(k)) shown.push_back(c);
  } else {
    shown = ComponentIndex::of_kind(kind);
    if (shown.empty())
      throw InputError("describe '" + kind + "': unknown kind (expected one of: " + known + ")");
    if (!name.empty()) {
      const ComponentInfo* c = ComponentIndex::find(kind, name);
      if (!c) {
        std::string names;
        for (const ComponentInfo& i : shown) names += (names.empty() ? "" : ", ") + i.name;
        throw InputError("describe " + kind + " '" + name + "': unknown (expected one of: " + names + ")");
      }
      shown = {*c};
    }
  }
  if (vm.count("json"))
    describe_json(shown);
  else
    describe_text(shown);
  return 0;
}

const bool registered = register_command(
    {"describe", "list registered components and every parameter they declare", describe_cmd});

}  // namespace
}  // namespace sushi::cli
