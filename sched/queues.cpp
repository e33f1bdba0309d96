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
