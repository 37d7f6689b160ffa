#include <execinfo.h>
#include <signal.h>
#include <unistd.h>

#include <vector>

#include "adapters/cli/common.h"

namespace procedo::cli {
namespace {

// A crash of the server leaves its backtrace in its log (addresses in the binary, for addr2line)
// before the default action (the core dump) runs: the log is often all an operator can send. Not
// under AddressSanitizer, whose own report is better and which this would replace.
[[maybe_unused]] void OnFatalSignal(int sig) {
  static const char kHead[] = "procedo: fatal signal, backtrace follows (send it with this log)\n";
  [[maybe_unused]] ssize_t w = write(STDERR_FILENO, kHead, sizeof kHead - 1);
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

void ReportFatalSignals() {
#if !defined(__SANITIZE_ADDRESS__)
  void* warm[1];
  backtrace(warm, 1);  // loads what backtrace needs now, not inside the handler
  static std::vector<char> alt(1 << 16);
  stack_t ss{};
  ss.ss_sp = alt.data();
  ss.ss_size = alt.size();
  sigaltstack(&ss, nullptr);  // a stack overflow still gets its report
  struct sigaction sa {};
  sa.sa_handler = OnFatalSignal;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &sa, nullptr);
#endif
}

}  // namespace procedo::cli
