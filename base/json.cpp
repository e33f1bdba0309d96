#include "base/json.h"

#include <cmath>
#include <cstdio>

namespace sushi {

std::string JsonWriter::escape(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      case '\r':
        o += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += char(c);
        }
    }
  }
  return o + "\"";
}

void JsonWriter::separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.back()) out_ << ",";
  first_.back() = false;
}

JsonWriter& JsonWriter::begin_object() {
  separator();
  out_ << "{";
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  first_.pop_back();
  out_ << "}";
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  separator();
  out_ << "[";
  first_.push_back(true);
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  first_.pop_back();
  out_ << "]";
  return *this;
}
JsonWriter& JsonWriter::key(const std::string& k) {
  separator();
  out_ << escape(k) << ":";
  after_key_ = true;
  return *this;
}
JsonWriter& JsonWriter::value(const std::string& v) {
  separator();
  out_ << escape(v);
  return *this;
}
JsonWriter& JsonWriter::value(double v) {
  separator();
  if (!std::isfinite(v)) {
    out_ << "null";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    out_ << buf;
  }
  return *this;
}
JsonWriter& JsonWriter::value(int64_t v) {
  separator();
  out_ << v;
  return *this;
}
JsonWriter& JsonWriter::value(uint64_t v) {
  separator();
  out_ << v;
  return *this;
}
JsonWriter& JsonWriter::value(bool v) {
  separator();
  out_ << (v ? "true" : "false");
  return *this;
}
JsonWriter& JsonWriter::raw(const std::string& json) {
  separator();
  out_ << json;
  return *this;
}

}  // namespace sushi
