#include "engine/io/process_guard.h"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <omp.h>

#if defined(__unix__) || defined(__APPLE__)
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#define QAT_HAVE_FORK 1
#endif

namespace qat {

#ifdef QAT_HAVE_FORK

namespace {

constexpr size_t kMaxMessage = 1 << 16;

void writeAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

Status runIsolated(const std::function<Status()>& probe, const std::string& what, int timeoutSeconds) {
  int fds[2];
  if (::pipe(fds) != 0) return probe();  // no pipe: probing in-process is the best we can do
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return probe();
  }
  if (pid == 0) {  // child: run, report the message, leave without running any destructors
    ::close(fds[0]);
    // A crash must end the child quietly, not run the parent's crash handler (Qt Test's
    // prints a stack trace via gdb; an application may have a crash reporter).
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) ::signal(sig, SIG_DFL);
    // The parent's OpenMP thread pool does not exist in the child: a parallel region
    // there could wait for it forever. One thread runs any region inline.
    omp_set_dynamic(0);
    omp_set_num_threads(1);
    Status s = probe();
    if (!s.ok()) writeAll(fds[1], s.error().message.substr(0, kMaxMessage));
    ::close(fds[1]);
    ::_exit(s.ok() ? 0 : 1);
  }
  ::close(fds[1]);
  std::string message;
  bool timedOut = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timedOut = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;  // deadline re-checked above
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child has finished (or died)
    if (message.size() < kMaxMessage) message.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timedOut) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timedOut)
    return makeError(what + ": reading the file took longer than " + std::to_string(timeoutSeconds) +
                     " s and was stopped (damaged file?)");
  if (WIFSIGNALED(status))
    return makeError(what + ": the file is damaged: the HDF5 library failed while reading it (signal " +
                     std::to_string(WTERMSIG(status)) + ")");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (!message.empty()) return makeError(message);
  return makeError(what + ": reading the file failed in an unexpected way (exit status " +
                   std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
}

#else

Status runIsolated(const std::function<Status()>& probe, const std::string&, int) { return probe(); }

#endif

}  // namespace qat
