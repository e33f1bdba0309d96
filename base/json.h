#pragma once
// A small streaming JSON writer: the one way every `--json` output and result file is written.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace sushi {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& v);
  JsonWriter& value(const char* v) { return value(std::string(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(int64_t v);
  JsonWriter& value(int v) { return value(int64_t(v)); }
  JsonWriter& value(uint64_t v);
  JsonWriter& value(bool v);
  JsonWriter& raw(const std::string& json);  // an already-serialized JSON value
  template <typename T>
  JsonWriter& field(const std::string& k, const T& v) {
    key(k);
    return value(v);
  }
  std::string str() const { return out_.str(); }
  static std::string escape(const std::string& s);

 private:
  void separator();
  std::ostringstream out_;
  std::vector<bool> first_{true};
  bool after_key_ = false;
};

}  // namespace sushi
