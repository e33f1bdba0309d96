// The queue disciplines of the serving simulator, each registered by name (`serving: {queue: NAME}`).
#include <algorithm>
#include <deque>
#include <vector>

#include "sched/serving_loop.h"

namespace sushi {
namespace {

// Arrival order: a ring of trace indices.
class FifoQueue {
 public:
  size_t size() const { return q_.size(); }
  size_t head() const { return q_.front(); }
  void push(size_t i, const Query& /*q*/) { q_.push_back(i); }
  void pop() { q_.pop_front(); }
  // Up to k trace indices after the head, in queue order.
  size_t peek_behind(size_t k, size_t* out) const {
    const size_t n = std::min(k, q_.size() - 1);
    for (size_t i = 0; i < n; ++i) out[i] = q_[i + 1];
    return n;
  }

 private:
  std::deque<size_t> q_;
};

// Earliest deadline first: a binary heap of (deadline, trace index), ties by arrival (the index).
class EdfQueue {
 public:
  size_t size() const { return heap_.size(); }
  size_t head() const { return heap_.front().second; }
  void push(size_t i, const Query& q) {
    heap_.emplace_back(q.deadline_ms(), i);
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  void pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
  // Up to k trace indices after the head, in deadline order: the k next-smallest entries of a binary heap
  // lie within its first 2^(k+1) - 1 nodes, which are sorted.
  size_t peek_behind(size_t k, size_t* out) const {
    const size_t span = std::min(heap_.size(), (size_t(2) << std::min<size_t>(k, 20)) - 1);
    if (span <= 1) return 0;
    Entry tmp[2 * kMaxLookahead + 1];
    const auto earlier = [](const Entry& a, const Entry& b) { return Later{}(b, a); };
    if (span - 1 <= 2 * kMaxLookahead) {
      std::copy(heap_.begin() + 1, heap_.begin() + long(span), tmp);
      const size_t n = std::min(k, span - 1);
      std::partial_sort(tmp, tmp + n, tmp + (span - 1), earlier);
      for (size_t i = 0; i < n; ++i) out[i] = tmp[i].second;
      return n;
    }
    std::vector<Entry> v(heap_.begin() + 1, heap_.begin() + long(span));
    const size_t n = std::min(k, v.size());
    std::partial_sort(v.begin(), v.begin() + long(n), v.end(), earlier);
    for (size_t i = 0; i < n; ++i) out[i] = v[i].second;
    return n;
  }

 private:
  using Entry = std::pair<double, size_t>;
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.first != b.first ? a.first > b.first : a.second > b.second;
    }
  };
  std::vector<Entry> heap_;
};

class Fifo : public QueueDiscipline {
 public:
  void run(ServingLoopBase& loop) const override {
    FifoQueue q;
    loop.run(q);
  }
};

class Edf : public QueueDiscipline {
 public:
  void run(ServingLoopBase& loop) const override {
    EdfQueue q;
    loop.run(q);
  }
};

SUSHI_REGISTER(QueueDiscipline, "fifo", "first in, first out: queries reach the head in arrival order",
               [] { return std::make_unique<Fifo>(); });
SUSHI_REGISTER(QueueDiscipline, "edf", "earliest deadline first (ties by arrival; no SLO = last)",
               [] { return std::make_unique<Edf>(); });

}  // namespace
}  // namespace sushi
