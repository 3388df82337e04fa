#include "graphviz_svg.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cano::detail {

namespace {

/// The first executable `name` on $PATH, or empty.
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t from = 0;
  for (;;) {
    auto colon = dirs.find(':', from);
    auto dir = dirs.substr(from, colon == std::string::npos ? std::string::npos : colon - from);
    auto candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string::npos) {
      return {};
    }
    from = colon + 1;
  }
}

/// A pipe whose ends close with it.
struct pipe_pair {
  int read = -1;
  int write = -1;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      return false;
    }
    read = fds[0];
    write = fds[1];
    return true;
  }
  static void close_fd(int& fd) {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~pipe_pair() {
    close_fd(read);
    close_fd(write);
  }
};

/// Blocks SIGPIPE in this thread while alive (a write to a pipe dot closed must fail with EPIPE,
/// not end the process), and discards one that became pending meanwhile.
class sigpipe_blocked {
public:
  sigpipe_blocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &previous_);
  }
  ~sigpipe_blocked() {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  sigpipe_blocked(const sigpipe_blocked&) = delete;
  sigpipe_blocked& operator=(const sigpipe_blocked&) = delete;

private:
  sigset_t pipe_{};
  sigset_t previous_{};
};

} // namespace

expected<std::string> render_svg(const std::string& dot_text, std::chrono::milliseconds limit) {
  auto dot = on_path("dot");
  if (dot.empty()) {
    return error::configuration("cannot draw the workflow: Graphviz's `dot` is not on PATH (Debian: apt-get install "
                                "graphviz)");
  }
  pipe_pair in, out, err;
  if (!in.open() || !out.open() || !err.open()) {
    return error::generic(std::string("cannot draw the workflow: pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
  std::string arg0 = "dot", arg1 = "-Tsvg";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  int spawned = ::posix_spawn(&pid, dot.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return error::generic("cannot draw the workflow: starting " + dot + ": " + std::strerror(spawned));
  }
  pipe_pair::close_fd(in.read);
  pipe_pair::close_fd(out.write);
  pipe_pair::close_fd(err.write);
  ::fcntl(in.write, F_SETFL, O_NONBLOCK);

  sigpipe_blocked no_sigpipe;
  std::string svg, messages;
  std::size_t written = 0;
  if (dot_text.empty()) {
    pipe_pair::close_fd(in.write);
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  bool timed_out = false;
  while (out.read >= 0 || err.read >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    // Feeding stdin while draining stdout and stderr: dot may write before it has read all.
    pollfd fds[3] = {{out.read, POLLIN, 0}, {err.read, POLLIN, 0}, {in.write, POLLOUT, 0}};
    if (::poll(fds, 3, static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) {
        continue;
      }
      ::kill(pid, SIGKILL);
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd >= 0 && (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        char buf[8192];
        auto n = ::read(fds[k].fd, buf, sizeof buf);
        if (n > 0) {
          (k == 0 ? svg : messages).append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          pipe_pair::close_fd(k == 0 ? out.read : err.read);
        }
      }
    }
    if (in.write >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      auto n = ::write(in.write, dot_text.data() + written, dot_text.size() - written);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
      }
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == dot_text.size()) {
        pipe_pair::close_fd(in.write); // all of it, or dot stopped reading
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return error::generic("cannot draw the workflow: Graphviz's dot took longer than " + std::to_string(limit.count()) +
                          " ms");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!messages.empty() && (messages.back() == '\n' || messages.back() == ' ')) {
      messages.pop_back();
    }
    return error::generic("cannot draw the workflow: Graphviz's dot failed" +
                          (messages.empty() ? std::string() : ": " + messages));
  }
  return svg;
}

} // namespace cano::detail
