#include "base/params.h"

#include <cctype>
#include <sstream>

namespace sushi {

const char* to_string(ParamType t) {
  switch (t) {
    case ParamType::Int:
      return "int";
    case ParamType::Real:
      return "real";
    case ParamType::Bool:
      return "bool";
    case ParamType::String:
      return "string";
    case ParamType::Choice:
      return "choice";
    case ParamType::Bytes:
      return "bytes";
    case ParamType::List:
      return "list";
    case ParamType::IntList:
      return "int list";
    case ParamType::RealList:
      return "real list";
    case ParamType::IntRealMap:
      return "int: real map";
  }
  return "?";
}

namespace {
std::string bound_text(double x) {
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  JsonWriter w;
  w.value(x);
  return w.str();
}
}  // namespace

std::string Range::text() const {
  return std::string(open_min ? "(" : "[") + bound_text(min) + ", " + bound_text(max) + "]";
}

std::optional<int64_t> parse_bytes(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  const size_t digits = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == digits || i - digits > 18) return std::nullopt;
  const int64_t n = std::stoll(text.substr(digits, i - digits));
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  const std::string suffix = text.substr(i);
  static const std::pair<const char*, int64_t> units[] = {
      {"", 1},      {"B", 1},     {"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30},
      {"kB", 1000}, {"KB", 1000}, {"MB", 1000000},    {"GB", 1000000000}};
  for (const auto& [name, scale] : units)
    if (suffix == name) {
      if (n > std::numeric_limits<int64_t>::max() / scale) return std::nullopt;
      return n * scale;
    }
  return std::nullopt;
}

const ParamInfo* ParamSchemaBase::find(const std::string& path) const {
  for (const ParamInfo& p : infos_)
    if (p.path == path) return &p;
  return nullptr;
}

std::string ParamSchemaBase::check_path(const std::string& path) const {
  if (find(path)) return "";
  // A list entry's field: "sram.2.max_bytes".
  for (const ParamInfo& p : infos_) {
    if (p.type != ParamType::List || path.compare(0, p.path.size() + 1, p.path + ".") != 0) continue;
    const std::string rest = path.substr(p.path.size() + 1);
    const size_t dot = rest.find('.');
    const std::string index = rest.substr(0, dot);
    if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos ||
        dot == std::string::npos)
      return "'" + path + "': expected " + p.path + ".INDEX.FIELD";
    const std::string inner = p.item->check_path(rest.substr(dot + 1));
    return inner.empty() ? "" : "'" + path + "': " + inner;
  }
  std::string known;
  for (const ParamInfo& p : infos_) known += (known.empty() ? "" : ", ") + p.path;
  return "'" + path + "' is not a parameter of " + component_ + " (expected one of: " + known + ")";
}

std::string ParamSchemaBase::describe_text(const std::string& indent) const {
  std::ostringstream os;
  size_t width = 0;
  for (const ParamInfo& p : infos_) width = std::max(width, p.path.size());
  for (const ParamInfo& p : infos_) {
    os << indent << p.path << std::string(width + 2 - p.path.size(), ' ') << to_string(p.type);
    if (p.type == ParamType::Choice) {
      std::string c;
      for (const std::string& s : p.choices) c += (c.empty() ? "" : "|") + s;
      os << " {" << c << "}";
    }
    os << "  default "
       << (p.default_text ? (p.default_text->empty() ? "\"\"" : *p.default_text) : "(required)");
    if (p.type == ParamType::Int || p.type == ParamType::Real || p.type == ParamType::Bytes)
      os << "  range " << p.range.text();
    if (p.type == ParamType::IntList || p.type == ParamType::RealList || p.type == ParamType::IntRealMap)
      os << "  each in " << p.range.text();
    if (p.min_items > 0) os << "  at least " << p.min_items;
    if (!p.unit.empty()) os << "  unit " << p.unit;
    os << "\n" << indent << std::string(width + 2, ' ') << p.doc << "\n";
    if (p.item) os << p.item->describe_text(indent + "    " + p.path + "[]. ");
  }
  return os.str();
}

void ParamSchemaBase::describe_json(JsonWriter& w) const {
  w.begin_object().field("component", component_).field("doc", doc_).key("params").begin_array();
  for (const ParamInfo& p : infos_) {
    w.begin_object().field("path", p.path).field("type", to_string(p.type));
    w.key("default");
    if (p.default_text)
      w.value(*p.default_text);
    else
      w.raw("null");
    if (p.type == ParamType::Int || p.type == ParamType::Real || p.type == ParamType::Bytes)
      w.field("range", p.range.text());
    if (p.type == ParamType::IntList || p.type == ParamType::RealList || p.type == ParamType::IntRealMap)
      w.field("item_range", p.range.text()).field("min_items", int64_t(p.min_items));
    w.field("unit", p.unit).field("doc", p.doc);
    if (!p.choices.empty()) {
      w.key("choices").begin_array();
      for (const std::string& c : p.choices) w.value(c);
      w.end_array();
    }
    if (p.item) {
      w.key("item");
      p.item->describe_json(w);
    }
    w.end_object();
  }
  w.end_array().end_object();
}

}  // namespace sushi
