// Sweeps across MPI ranks: rank 0 hands out chunks of points and merges the results (explore/mpi.h).
#include "explore/mpi.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "base/errors.h"

#ifdef SUSHI_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only (the deprecated C++ bindings do not build with -Werror)
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace sushi::explore {

bool mpi_launched() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

#ifndef SUSHI_HAVE_MPI

bool mpi_built() {
  return false;
}

struct MpiSweep::State {};

// One rank (e.g. `srun -n 1`) runs locally; several are refused rather than each running the whole sweep.
MpiSweep::MpiSweep() {
  int ranks = 1;
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"})
    if (const char* n = std::getenv(v)) ranks = std::max(ranks, std::atoi(n));
  if (ranks > 1)
    throw InputError("sushi sweep: started by an MPI launcher with " + std::to_string(ranks) +
                     " ranks, but this sushi was built without MPI (install libopenmpi-dev openmpi-bin, "
                     "tools/install-deps.sh, and rebuild)");
}
MpiSweep::~MpiSweep() = default;
void MpiSweep::work(SweepSpec&, int) {}
void MpiSweep::serve(BatchAccess&) {}
void MpiSweep::finish() {}
std::vector<size_t> MpiSweep::evaluated_by_rank() const {
  return {};
}
void MpiSweep::abort() {
  std::abort();
}

#else

namespace {

enum Tag { kResults = 1, kChunk = 2, kStop = 3 };

void pause() {
  std::this_thread::sleep_for(std::chrono::microseconds(200));
}

// Waits (without spinning a core: Open MPI's blocking calls poll) for a message from `source` with any tag.
MPI_Status wait_message(int source) {
  MPI_Status status;
  for (;;) {
    int flag = 0;
    MPI_Iprobe(source, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status);
    if (flag) return status;
    pause();
  }
}

std::string receive_text(const MPI_Status& status) {
  int n = 0;
  MPI_Get_count(&status, MPI_CHAR, &n);
  std::string text(static_cast<size_t>(n), '\0');
  MPI_Recv(text.data(), n, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return text;
}

// Evaluates `indices` on `threads` threads: one "LAYERS\tPAYLOAD\n" line per point, in order.
std::string evaluate_chunk(const PointBuilder& builder, const std::vector<uint64_t>& indices, int threads) {
  std::vector<std::string> lines(indices.size());
  const auto part = [&](size_t t, size_t parts) {
    PointScratch scratch;
    for (size_t i = indices.size() * t / parts; i < indices.size() * (t + 1) / parts; ++i) {
      int64_t layers = 0;
      const std::string payload = evaluate_payload(builder, scratch, size_t(indices[i]), &layers);
      lines[i] = std::to_string(layers) + "\t" + payload + "\n";
    }
  };
  const size_t parts = std::max<size_t>(1, std::min<size_t>(size_t(threads), indices.size()));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < parts; ++t) pool.emplace_back(part, t, parts);
  part(0, parts);
  for (std::thread& t : pool) t.join();
  std::string out;
  for (const std::string& l : lines) out += l;
  return out;
}

}  // namespace

bool mpi_built() {
  return true;
}

struct MpiSweep::State {
  std::vector<std::vector<size_t> > outstanding;  // per rank: the positions it is evaluating
  std::vector<int> parked;                        // ranks waiting for a chunk
  std::vector<size_t> evaluated;                  // per rank
  std::vector<int> threads;                       // per rank (chunk sizes scale with them)
};

MpiSweep::MpiSweep() : state_(std::make_unique<State>()) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks_);
  state_->outstanding.resize(size_t(ranks_));
  state_->evaluated.assign(size_t(ranks_), 0);
  state_->threads.assign(size_t(ranks_), 1);
}

MpiSweep::~MpiSweep() {
  MPI_Finalize();
}

void MpiSweep::abort() {
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

void MpiSweep::work(SweepSpec& spec, int threads) {
  const PointBuilder builder(spec);
  std::string results = std::to_string(threads);  // the first message: this rank's threads
  for (;;) {
    MPI_Send(results.data(), int(results.size()), MPI_CHAR, 0, kResults, MPI_COMM_WORLD);
    const MPI_Status status = wait_message(0);
    if (status.MPI_TAG == kStop) {
      MPI_Recv(nullptr, 0, MPI_CHAR, 0, kStop, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      return;
    }
    int n = 0;
    MPI_Get_count(&status, MPI_UINT64_T, &n);
    std::vector<uint64_t> indices(static_cast<size_t>(n));
    MPI_Recv(indices.data(), n, MPI_UINT64_T, 0, kChunk, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    results = evaluate_chunk(builder, indices, threads);
  }
}

namespace {

// The next chunk for a rank with `threads` threads: pending points only (rank 0 finishes the others),
// about 1/8 of what is left per rank, at most 64 points per thread.
std::vector<size_t> next_chunk(BatchAccess& batch, int ranks, int threads) {
  const size_t left = batch.size() - std::min(batch.size(), batch.done());
  const size_t want = std::clamp<size_t>(left / (8 * size_t(ranks)), 1, 64 * size_t(threads));
  std::vector<size_t> chunk;
  while (chunk.size() < want) {
    const auto [first, end] = batch.claim(1);
    if (first == end) break;
    if (batch.pending(first)) chunk.push_back(first);
  }
  return chunk;
}

}  // namespace

void MpiSweep::serve(BatchAccess& batch) {
  State& s = *state_;
  const auto send_work = [&](int r) {
    std::vector<size_t>& chunk = s.outstanding[size_t(r)];
    chunk = next_chunk(batch, ranks_, s.threads[size_t(r)]);
    if (chunk.empty()) return s.parked.push_back(r);
    std::vector<uint64_t> indices;
    for (size_t p : chunk) indices.push_back(batch.grid_index(p));
    MPI_Send(indices.data(), int(indices.size()), MPI_UINT64_T, r, kChunk, MPI_COMM_WORLD);
  };
  std::vector<int> parked;
  parked.swap(s.parked);
  for (int r : parked) send_work(r);
  auto last_progress = std::chrono::steady_clock::now();
  while (batch.done() < batch.size() && !batch.failed()) {
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, kResults, MPI_COMM_WORLD, &flag, &status);
    if (!flag) {
      if (std::chrono::steady_clock::now() - last_progress > std::chrono::milliseconds(200)) {
        batch.progress();
        last_progress = std::chrono::steady_clock::now();
      }
      pause();
      continue;
    }
    const int r = status.MPI_SOURCE;
    const std::string text = receive_text(status);
    std::vector<size_t>& chunk = s.outstanding[size_t(r)];
    if (chunk.empty() && !text.empty() && text.find('\t') == std::string::npos)
      s.threads[size_t(r)] = std::max(1, std::atoi(text.c_str()));  // a rank's first message
    size_t start = 0;
    for (size_t p : chunk) {
      const size_t tab = text.find('\t', start), nl = text.find('\n', start);
      if (tab == std::string::npos || nl == std::string::npos || tab > nl)
        throw std::runtime_error("sweep: rank " + std::to_string(r) + " sent malformed results");
      batch.complete(p, text.substr(tab + 1, nl - tab - 1), std::atoll(text.c_str() + start));
      start = nl + 1;
    }
    s.evaluated[size_t(r)] += chunk.size();
    chunk.clear();
    send_work(r);
  }
}

void MpiSweep::finish() {
  State& s = *state_;
  // Every rank ends parked (it asks for work after each chunk); those not yet heard from ask first.
  std::vector<bool> stopped(size_t(ranks_), false);
  for (int r : s.parked) {
    MPI_Send(nullptr, 0, MPI_CHAR, r, kStop, MPI_COMM_WORLD);
    stopped[size_t(r)] = true;
  }
  s.parked.clear();
  for (int r = 1; r < ranks_; ++r) {
    if (stopped[size_t(r)]) continue;
    const MPI_Status status = wait_message(r);
    receive_text(status);  // its first message: nothing outstanding
    MPI_Send(nullptr, 0, MPI_CHAR, r, kStop, MPI_COMM_WORLD);
  }
}

std::vector<size_t> MpiSweep::evaluated_by_rank() const {
  return state_->evaluated;
}

#endif

}  // namespace sushi::explore
