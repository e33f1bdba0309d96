#include "models/space/accuracy.h"

#include <fstream>

namespace sushi {

AccuracyTable AccuracyTable::load_jsonl(const std::string& path, const SupernetSpace& space) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open accuracy table");
  AccuracyTable t;
  t.source_ = path;
  t.space_ = &space;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string origin = path + ":" + std::to_string(lineno);
    YamlView row = YamlView::parse(line, origin);
    if (!row.is_map()) throw InputError(origin + ": expected one JSON object per line");
    const double top1 = row.get<double>("top1");
    if (top1 < 0 || top1 > 100) row.at("top1").fail("expected a percentage in [0, 100]");
    const Subnet s = space.from_json(row);
    auto [it, inserted] = t.table_.emplace(s, top1);
    if (!inserted && it->second != top1)
      throw InputError(origin + ": subnet listed twice with different top1 (" + std::to_string(it->second) +
                       " and " + std::to_string(top1) + ")");
  }
  if (t.table_.empty()) throw InputError(path + ": accuracy table has no rows");
  return t;
}

double AccuracyTable::top1(const Subnet& s) const {
  auto it = table_.find(s);
  if (it == table_.end())
    throw InputError((source_.empty() ? std::string("accuracy table") : source_) +
                     ": no measured accuracy for subnet " +
                     (space_ ? space_->to_json(s) : std::string("(unknown space)")));
  return it->second;
}

}  // namespace sushi
