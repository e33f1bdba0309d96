// The `sushi` executable. libsystemc insists on an sc_main; we also own main() so the SystemC banner is
// silenced before the kernel starts and every subcommand keeps a clean stdout/stderr.
#include <cstdlib>
#include <systemc>

#include "tools/cli.h"

int sc_main(int argc, char* argv[]) {
  return sushi::cli::run(argc, argv);
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
