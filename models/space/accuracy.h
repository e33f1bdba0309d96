#pragma once
// Measured accuracy of subnets, keyed by canonical subnet. A lookup of an absent subnet is an error, never a
// silent default.
#include <map>
#include <string>
#include <vector>

#include "models/space/supernet.h"

namespace sushi {

class AccuracyTable {
 public:
  // One JSON object per line with the subnet form and a "top1" field
  // (../shared/data/ofa_mbv3_224_top1.jsonl).
  static AccuracyTable load_jsonl(const std::string& path, const SupernetSpace& space);

  double top1(const Subnet& s) const;  // throws InputError naming the subnet and the table
  bool contains(const Subnet& s) const { return table_.count(s) > 0; }
  size_t size() const { return table_.size(); }
  const std::map<Subnet, double>& entries() const { return table_; }
  const std::string& source() const { return source_; }
  void insert(const Subnet& s, double top1) { table_[s] = top1; }

 private:
  std::map<Subnet, double> table_;
  std::string source_;
  const SupernetSpace* space_ = nullptr;
};

}  // namespace sushi
