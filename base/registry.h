#pragma once
// The one registry of choosable components (ARCHITECTURE.md contract 3), in the style of Ramulator 2: an
// interface declares its kind and factory signature, each implementation registers itself by name from its
// own file with SUSHI_REGISTER, and configs pick it with `impl: NAME`. Every folder is an OBJECT library, so
// a registration is linked whenever its file is part of the build: there are no force-link lists.
//
//   struct Policy {
//     static constexpr const char* kRegistryKind = "policy";            // `sushi describe policy`
//     using Factory = std::function<std::unique_ptr<Policy>(const YamlView&)>;
//     ...
//   };
//   SUSHI_REGISTER(Policy, "sushi", "SushiSched: ...", make_sushi_sched, &sushi_sched_params());
//   auto p = Registry<Policy>::create("sushi", "policies[0].impl")(view);
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/errors.h"

namespace sushi {

class ParamSchemaBase;

// What `sushi describe` lists: every registered component of every kind, with its parameters.
struct ComponentInfo {
  std::string kind;
  std::string name;
  std::string doc;
  const ParamSchemaBase* params = nullptr;  // may be null: the component has no parameters
};

class ComponentIndex {
 public:
  static void add(ComponentInfo info);
  // Kinds in name order; components of a kind in name order.
  static std::vector<std::string> kinds();
  static std::vector<ComponentInfo> of_kind(const std::string& kind);
  static const ComponentInfo* find(const std::string& kind, const std::string& name);
};

template <typename Interface>
class Registry {
 public:
  using Factory = typename Interface::Factory;
  struct Entry {
    std::string doc;
    Factory factory;
    const ParamSchemaBase* params = nullptr;
  };

  static bool add(const std::string& name, const std::string& doc, Factory factory,
                  const ParamSchemaBase* params = nullptr) {
    entries()[name] = Entry{doc, std::move(factory), params};
    ComponentIndex::add(ComponentInfo{Interface::kRegistryKind, name, doc, params});
    return true;
  }

  // The factory registered as `name`; `where` names the config key in the error ("file.yaml: key impl").
  static const Factory& get(const std::string& name, const std::string& where) {
    auto it = entries().find(name);
    if (it == entries().end())
      throw InputError(where + ": unknown " + std::string(Interface::kRegistryKind) + " '" + name +
                       "' (expected one of: " + joined_names() + ")");
    return it->second.factory;
  }
  static bool has(const std::string& name) { return entries().count(name) != 0; }
  static const Entry* find(const std::string& name) {
    auto it = entries().find(name);
    return it == entries().end() ? nullptr : &it->second;
  }

  static std::vector<std::string> names() {
    std::vector<std::string> out;
    for (const auto& kv : entries()) out.push_back(kv.first);
    return out;
  }
  static std::string joined_names() {
    std::string out;
    for (const auto& kv : entries()) out += (out.empty() ? "" : ", ") + kv.first;
    return out;
  }

 private:
  // A function-local static: safe to use from other files' static initializers.
  static std::map<std::string, Entry>& entries() {
    static std::map<std::string, Entry> e;
    return e;
  }
};

#define SUSHI_CONCAT_INNER(a, b) a##b
#define SUSHI_CONCAT(a, b) SUSHI_CONCAT_INNER(a, b)
// Registers an implementation of Interface by name at static-initialization time. Arguments after the
// interface: name, one-line doc, factory, and optionally a pointer to the parameter schema.
#define SUSHI_REGISTER(Interface, ...)                                           \
  [[maybe_unused]] static const bool SUSHI_CONCAT(sushi_registered_, __LINE__) = \
      ::sushi::Registry<Interface>::add(__VA_ARGS__)

}  // namespace sushi
