// Stand-alone layers (spec strings, layers CSV) and `sushi calibrate` (see sim/calibrate.h).
#include "sim/calibrate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "base/checked.h"
#include "base/csv.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "base/random.h"
#include "base/yaml.h"

namespace sushi::sim {
namespace {

constexpr int kMaxDim = 1 << 16;

struct Shape {
  LayerKind kind = LayerKind::Conv;
  std::map<std::string, int64_t> v;  // K C R S X Y stride pad
};

LayerKind parse_kind(const std::string& k, const std::string& where) {
  if (k == "conv") return LayerKind::Conv;
  if (k == "depthwise" || k == "dw") return LayerKind::Depthwise;
  if (k == "pointwise" || k == "pw") return LayerKind::Pointwise;
  if (k == "fc") return LayerKind::FC;
  throw InputError(where + ": layer kind '" + k + "': expected conv, depthwise (dw), pointwise (pw) or fc");
}

int64_t get(const Shape& s, const std::string& key, int64_t fallback) {
  auto it = s.v.find(key);
  return it == s.v.end() ? fallback : it->second;
}

int dim(const Shape& s, const std::string& key, int64_t fallback, int lo, const std::string& where) {
  const int64_t x = get(s, key, fallback);
  if (!s.v.count(key) && fallback < 0)
    throw InputError(where + ": " + key + " is missing (give " + key + "=N)");
  if (x < lo || x > kMaxDim)
    throw InputError(where + ": " + key + " = " + std::to_string(x) + ": expected an integer in [" +
                     std::to_string(lo) + ", " + std::to_string(kMaxDim) + "]");
  return int(x);
}

// The layer of a shape, as the supernet builders make one (int8 weights with an int32 bias per channel).
Layer make_layer(const Shape& s, const std::string& name, int index, const std::string& where) {
  const bool flat = s.kind == LayerKind::FC, point = s.kind == LayerKind::Pointwise;
  Layer l;
  l.name = name;
  l.kind = s.kind;
  l.out_c = dim(s, "K", -1, 1, where);
  l.in_c = dim(s, "C", s.kind == LayerKind::Depthwise ? l.out_c : -1, 1, where);
  const int r = dim(s, "R", flat || point ? 1 : -1, 1, where);
  if (dim(s, "S", r, 1, where) != r) throw InputError(where + ": R and S differ; only square kernels map");
  if ((flat || point) && r != 1) throw InputError(where + ": pointwise and fc layers have R = S = 1");
  if (s.kind == LayerKind::Depthwise && l.in_c != l.out_c)
    throw InputError(where + ": a depthwise layer has C = K");
  l.in_w = dim(s, "X", flat ? 1 : -1, 1, where);
  l.in_h = dim(s, "Y", flat ? 1 : -1, 1, where);
  if (flat && (l.in_w != 1 || l.in_h != 1)) throw InputError(where + ": an fc layer has X = Y = 1");
  l.kernel = r;
  l.stride = dim(s, "stride", 1, 1, where);
  l.pad = dim(s, "pad", r / 2, 0, where);
  const int span_w = l.in_w + 2 * l.pad - r, span_h = l.in_h + 2 * l.pad - r;
  if (span_w < 0 || span_h < 0) throw InputError(where + ": the kernel is larger than the padded input");
  l.out_w = span_w / l.stride + 1;
  l.out_h = span_h / l.stride + 1;
  l.groups = s.kind == LayerKind::Depthwise ? l.in_c : 1;
  const int in_per_group = l.in_c / l.groups;
  l.macs = checked::mul(checked::mul<int64_t>(l.out_h, l.out_w, where),
                        int64_t(l.out_c) * in_per_group * r * r, where);
  l.slice = WeightSlice{index, l.out_c, in_per_group, r, true};
  l.weight_bytes = l.slice.bytes();
  l.batch_norm = true;
  return l;
}

int64_t parse_int(const std::string& text, const std::string& where, const std::string& key) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw InputError(where + ": " + key + " = '" + text + "': expected an integer");
  return v;
}

const std::set<std::string>& shape_keys() {
  static const std::set<std::string> k = {"K", "C", "R", "S", "X", "Y", "stride", "pad"};
  return k;
}

// The line's cells with surrounding blanks removed (hand-written layer lists align their columns).
std::vector<std::string> trimmed_cells(const std::string& line, const std::string& where) {
  std::vector<std::string> out = split_csv_line(line, where);
  for (std::string& cell : out) {
    const size_t a = cell.find_first_not_of(" \t"), b = cell.find_last_not_of(" \t");
    cell = a == std::string::npos ? "" : cell.substr(a, b - a + 1);
  }
  return out;
}

}  // namespace

Layer parse_layer_spec(const std::string& spec, const std::string& where) {
  std::istringstream in(spec);
  std::string word;
  if (!(in >> word))
    throw InputError(where + ": empty layer spec; expected e.g. 'conv K=64 C=64 R=3 X=56 Y=56'");
  Shape s;
  s.kind = parse_kind(word, where);
  while (in >> word) {
    const size_t eq = word.find('=');
    const std::string key = word.substr(0, eq);
    if (eq == std::string::npos || !shape_keys().count(key))
      throw InputError(where + ": '" + word + "': expected KEY=VALUE with KEY one of K C R S X Y stride pad");
    if (s.v.count(key)) throw InputError(where + ": " + key + " given twice");
    s.v[key] = parse_int(word.substr(eq + 1), where, key);
  }
  return make_layer(s, spec, 0, where);
}

namespace {

struct CsvColumns {
  std::map<std::string, size_t> at;
  size_t count = 0;
};

CsvColumns read_header(const std::vector<std::string>& cells, const std::string& where, bool need_latency) {
  CsvColumns c;
  c.count = cells.size();
  for (size_t i = 0; i < cells.size(); ++i) {
    if (c.at.count(cells[i])) throw InputError(where + ": column '" + cells[i] + "' appears twice");
    c.at[cells[i]] = i;
  }
  std::vector<std::string> required = {"kind", "K", "C", "R", "S", "X", "Y", "stride", "pad"};
  if (need_latency) required.emplace_back("latency_ms");
  for (const std::string& r : required)
    if (!c.at.count(r))
      throw InputError(where + ": missing column '" + r +
                       "'; expected kind,K,C,R,S,X,Y,stride,pad[,name][,network]" +
                       (need_latency ? ",latency_ms" : "[,latency_ms]"));
  return c;
}

double parse_latency(const std::string& text, const std::string& where) {
  const std::optional<double> v = parse_number(text);
  if (!v || *v <= 0)
    throw InputError(where + ": latency_ms = '" + text + "': expected a positive number of milliseconds");
  return *v;
}

ShapedLayer read_row(const CsvColumns& c, const std::vector<std::string>& cells, const std::string& where,
                     int index, bool need_latency) {
  if (cells.size() != c.count)
    throw InputError(where + ": " + std::to_string(cells.size()) + " cells, the header has " +
                     std::to_string(c.count));
  auto cell = [&](const std::string& k) { return c.at.count(k) ? cells[c.at.at(k)] : std::string(); };
  Shape s;
  s.kind = parse_kind(cell("kind"), where);
  for (const std::string& k : shape_keys())
    if (!cell(k).empty()) s.v[k] = parse_int(cell(k), where, k);
  ShapedLayer row;
  const std::string name = cell("name").empty() ? "layer" + std::to_string(index) : cell("name");
  row.layer = make_layer(s, name, index, where);
  row.network = cell("network");
  if (need_latency || !cell("latency_ms").empty()) row.latency_ms = parse_latency(cell("latency_ms"), where);
  return row;
}

}  // namespace

std::vector<ShapedLayer> read_layers_csv(const std::string& path, bool need_latency) {
  std::istringstream in(read_file(path));
  std::string line;
  int number = 0;
  CsvColumns columns;
  bool header = false;
  std::vector<ShapedLayer> rows;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = path + ":" + std::to_string(number);
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[line.find_first_not_of(" \t")] == '#')
      continue;
    const std::vector<std::string> cells = trimmed_cells(line, where);
    if (!header) {
      columns = read_header(cells, where, need_latency);
      header = true;
      continue;
    }
    rows.push_back(read_row(columns, cells, where, int(rows.size()), need_latency));
    rows.back().line = number;
  }
  if (!header) throw InputError(path + ": no header line; expected kind,K,C,R,S,X,Y,stride,pad,...");
  if (rows.empty()) throw InputError(path + ": no layer rows after the header");
  return rows;
}

}  // namespace sushi::sim
