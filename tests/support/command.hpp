// Runs a program to its end with a bounded wait: its exit code, stdout and stderr, apart. For
// end-to-end tests of the command-line tools. The child is reaped by PID; past the deadline it
// is SIGKILLed and the result says so.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace test {

struct command_result {
  int exit_code = -1; // -1: killed by a signal (or at the deadline)
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] a path) with `set_env` added to this process's environment and the
/// names in `unset_env` removed; stdin is /dev/null. `own_group`: the program gets a process
/// group of its own, SIGKILLed as a whole when it ends, so helpers it leaves behind (a browser's)
/// go with it.
inline command_result run_command(const std::vector<std::string>& argv,
                                  const std::vector<std::pair<std::string, std::string>>& set_env = {},
                                  const std::vector<std::string>& unset_env = {},
                                  std::chrono::seconds limit = std::chrono::seconds(120), bool own_group = false) {
  command_result r;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return r;
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return r;
  }
  pid_t pid = fork();
  if (pid == 0) {
    if (own_group) {
      setpgid(0, 0);
    }
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    for (const auto& name : unset_env) {
      unsetenv(name.c_str());
    }
    for (const auto& [k, v] : set_env) {
      setenv(k.c_str(), v.c_str(), 1);
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid > 0 && own_group) {
    setpgid(pid, pid); // also here: no race with the child's own call
  }
  close(out[1]);
  close(err[1]);
  if (pid < 0) {
    close(out[0]);
    close(err[0]);
    return r;
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(own_group ? -pid : pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) < 0) {
      continue;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buf[8192];
      auto n = read(fds[k].fd, buf, sizeof buf);
      if (n > 0) {
        (k == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      } else {
        close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) {
      close(f.fd);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (own_group) {
    // The group's id stays taken while a member lives, so this reaches only what it left behind.
    kill(-pid, SIGKILL);
  }
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  }
  return r;
}

} // namespace test
