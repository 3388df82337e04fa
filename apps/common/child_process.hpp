// A child process with its stdout on a pipe, read line by line with deadlines (or to its end);
// killed and reaped by PID. Used by cano-demo (its worker process), cano-bench (one child per
// workload) and the multi-process tests.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cano_apps {

class child_process {
public:
  explicit child_process(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe(fds) != 0) {
      return;
    }
    pid_ = fork();
    if (pid_ < 0) {
      close(fds[0]);
      close(fds[1]);
      return;
    }
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
      }
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~child_process() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      wait_exit();
    }
    if (out_ >= 0) {
      close(out_);
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  /// The next line, or nothing at end of output or past the deadline.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        auto l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        lines_.push_back(l);
        return l;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return std::nullopt;
      }
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        continue;
      }
      char buf[4096];
      auto n = read(out_, buf, sizeof(buf));
      if (n <= 0) {
        return std::nullopt;
      }
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
  }

  /// Reads until a line satisfies `pred` (returned), or nothing past the deadline / at the end.
  template <class Pred>
  std::optional<std::string> read_until(Pred pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto l = read_line(left);
      if (!l) {
        return std::nullopt;
      }
      if (pred(*l)) {
        return l;
      }
    }
  }

  /// Everything the child writes from here until it closes its stdout (no deadline).
  std::string read_to_end() {
    std::string out = std::move(buffer_);
    buffer_.clear();
    char buf[4096];
    ssize_t n;
    while (out_ >= 0 && (n = read(out_, buf, sizeof(buf))) != 0) {
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  /// Every line read so far.
  const std::vector<std::string>& lines() const { return lines_; }

  void sigkill() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
    }
  }

  /// Waits for the process (once); returns its wait status, -1 when it never started.
  int wait_exit() {
    if (pid_ <= 0) {
      return -1;
    }
    if (!reaped_) {
      while (waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
      }
      reaped_ = true;
    }
    return status_;
  }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string buffer_;
  std::vector<std::string> lines_;
};

} // namespace cano_apps
