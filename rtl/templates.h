#pragma once
// The SystemVerilog templates of rtl/templates/*.sv.in, embedded at build time (rtl/CMakeLists.txt writes
// the definition of templates()); `@NAME@` placeholders are filled by the generator (rtl/generator.cpp).
#include <string>
#include <vector>

namespace sushi::rtl {

struct Template {
  std::string module;
  std::string text;
};
// In dependency order (leaves first).
const std::vector<Template>& templates();

}  // namespace sushi::rtl
