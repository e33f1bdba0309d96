#pragma once
// Sweeps across MPI ranks (`mpirun -n N sushi sweep SPEC.yaml`, or `srun` under Slurm). Built with Open MPI
// when CMake finds it (SUSHI_MPI=AUTO|ON|OFF); without it, a process started by mpirun with several ranks
// is refused with a one-line error.
//
// Rank 0 is the manager: it loads the spec, opens the store and hands out chunks of points (dynamic load
// balancing: a rank asks for its next chunk when it has sent the results of the last one; chunks shrink
// as the batch runs out), evaluates points on its own threads meanwhile (unless --manager), appends every
// result to the store as it arrives and writes the same results.csv / results.json a local run writes (the
// rows are in point order whatever rank computed them). Points already in the store and points skipped
// by a constraint never leave rank 0. Other ranks load the same spec (a shared file system, as on a
// cluster), evaluate the points they are sent (with -j threads each, default 1) and write nothing.
#include <memory>
#include <vector>

#include "explore/sweep.h"

namespace sushi::explore {

// Whether this process was started by an MPI launcher (mpirun, mpiexec, srun with PMI/PMIx).
bool mpi_launched();
// Whether this build has MPI.
bool mpi_built();

// One MPI session (MPI_Init ... MPI_Finalize) and, on rank 0, the Distributor of a sweep run.
class MpiSweep : public Distributor {
 public:
  MpiSweep();  // MPI_Init; InputError when the build has no MPI
  ~MpiSweep() override;
  int rank() const { return rank_; }
  int ranks() const { return ranks_; }
  // Ranks other than 0: evaluates what rank 0 sends until it says stop.
  void work(SweepSpec& spec, int threads);
  void serve(BatchAccess& batch) override;
  void finish() override;
  // Points each rank evaluated in this run (rank 0: its local threads), known on rank 0.
  std::vector<size_t> evaluated_by_rank() const;
  [[noreturn]] void abort();  // MPI_Abort: every rank ends (an error on rank 0 with ranks waiting)

 private:
  struct State;
  std::unique_ptr<State> state_;
  int rank_ = 0, ranks_ = 1;
};

}  // namespace sushi::explore
