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
  void push(size_t i) { q_.push_back(i); }
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

// Earliest deadline first: a binary heap keyed by deadline, ties by arrival.
class EdfQueue {
 public:
  explicit EdfQueue(const std::vector<Query>& trace) : later_{&trace} {}
  size_t size() const { return heap_.size(); }
  size_t head() const { return heap_.front(); }
  void push(size_t i) {
    heap_.push_back(i);
    std::push_heap(heap_.begin(), heap_.end(), later_);
  }
  void pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later_);
    heap_.pop_back();
  }
  // Up to k trace indices after the head, in deadline order: the k next-smallest entries of a binary heap
  // lie within its first 2^(k+1) - 1 nodes, which are sorted.
  size_t peek_behind(size_t k, size_t* out) const {
    const size_t span = std::min(heap_.size(), (size_t(2) << std::min<size_t>(k, 20)) - 1);
    if (span <= 1) return 0;
    size_t tmp[2 * kMaxLookahead + 1];
    if (span - 1 <= 2 * kMaxLookahead) {
      std::copy(heap_.begin() + 1, heap_.begin() + long(span), tmp);
      const size_t n = std::min(k, span - 1);
      std::partial_sort(tmp, tmp + n, tmp + (span - 1), [this](size_t a, size_t b) { return later_(b, a); });
      std::copy(tmp, tmp + n, out);
      return n;
    }
    std::vector<size_t> v(heap_.begin() + 1, heap_.begin() + long(span));
    const size_t n = std::min(k, v.size());
    std::partial_sort(v.begin(), v.begin() + long(n), v.end(),
                      [this](size_t a, size_t b) { return later_(b, a); });
    std::copy(v.begin(), v.begin() + long(n), out);
    return n;
  }

 private:
  struct Later {
    const std::vector<Query>* trace;
    bool operator()(size_t a, size_t b) const {
      const double da = (*trace)[a].deadline_ms(), db = (*trace)[b].deadline_ms();
      return da != db ? da > db : a > b;
    }
  };
  Later later_;
  std::vector<size_t> heap_;
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
    EdfQueue q(loop.trace());
    loop.run(q);
  }
};

SUSHI_REGISTER(QueueDiscipline, "fifo", "first in, first out: queries reach the head in arrival order",
               [] { return std::make_unique<Fifo>(); });
SUSHI_REGISTER(QueueDiscipline, "edf", "earliest deadline first (ties by arrival; no SLO = last)",
               [] { return std::make_unique<Edf>(); });

}  // namespace
}  // namespace sushi
