#include "base/registry.h"

#include <algorithm>

namespace sushi {
namespace {
std::vector<ComponentInfo>& all_components() {
  static std::vector<ComponentInfo> c;
  return c;
}
}  // namespace

void ComponentIndex::add(ComponentInfo info) {
  auto& all = all_components();
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const ComponentInfo& c) { return c.kind == info.kind && c.name == info.name; });
  if (it != all.end())
    *it = std::move(info);
  else
    all.push_back(std::move(info));
}

std::vector<std::string> ComponentIndex::kinds() {
  std::vector<std::string> out;
  for (const ComponentInfo& c : all_components())
    if (std::find(out.begin(), out.end(), c.kind) == out.end()) out.push_back(c.kind);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<ComponentInfo> ComponentIndex::of_kind(const std::string& kind) {
  std::vector<ComponentInfo> out;
  for (const ComponentInfo& c : all_components())
    if (c.kind == kind) out.push_back(c);
  std::sort(out.begin(), out.end(),
            [](const ComponentInfo& a, const ComponentInfo& b) { return a.name < b.name; });
  return out;
}

const ComponentInfo* ComponentIndex::find(const std::string& kind, const std::string& name) {
  for (const ComponentInfo& c : all_components())
    if (c.kind == kind && c.name == name) return &c;
  return nullptr;
}

}  // namespace sushi
