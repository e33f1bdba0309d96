// The `sushi` executable. libsystemc insists on an sc_main; we also own main() so the SystemC banner is
// silenced before the kernel starts and every subcommand keeps a clean stdout/stderr.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <systemc>

#include "tools/cli.h"

namespace {
// SystemC displays its reports (e.g. "Info: (I702) default timescale unit used for tracing") on stdout, which
// carries only a command's table or JSON: display them on stderr instead, and keep every other action
// (stop, abort, throw) as SystemC's default handler takes it.
void report_to_stderr(const sc_core::sc_report& report, const sc_core::sc_actions& actions) {
  if (actions & sc_core::SC_DISPLAY) std::cerr << sc_core::sc_report_compose_message(report) << std::endl;
  sc_core::sc_report_handler::default_handler(report, actions & ~sc_core::SC_DISPLAY);
}
}  // namespace

int sc_main(int argc, char* argv[]) {
  return sushi::cli::run(argc, argv);
}

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  // Past `ulimit -f` a write fails with EFBIG ("FILE: cannot write: File too large", exit 2) instead of the
  // process being killed without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  sc_core::sc_report_handler::set_handler(report_to_stderr);
  // Info reports ("tracing timescale unit set: 1 ns") are noise around a command's output: silence them.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  return sc_core::sc_elab_and_sim(argc, argv);
}
