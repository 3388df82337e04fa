#include "graphviz.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cano_cli {

namespace {

/// A temporary file holding `text`, removed with this object.
class temp_file {
public:
  explicit temp_file(const std::string& text) {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/cano-graph-XXXXXX";
    path_.assign(pattern.begin(), pattern.end());
    path_.push_back('\0');
    int fd = mkstemp(path_.data());
    if (fd < 0) {
      path_.clear();
      return;
    }
    std::size_t done = 0;
    while (done < text.size()) {
      auto n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) {
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    ok_ = done == text.size();
  }
  ~temp_file() {
    if (!path_.empty()) {
      ::unlink(path_.data());
    }
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  bool ok() const { return ok_; }
  const char* path() const { return path_.data(); }

private:
  std::vector<char> path_;
  bool ok_ = false;
};

} // namespace

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path == nullptr ? "" : path;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    auto dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return {};
}

cano::expected<std::string> render_svg(const std::string& dot_text) {
  auto dot = find_on_path("dot");
  if (dot.empty()) {
    return cano::error::configuration("cannot make SVG: Graphviz is not installed (no `dot` on "
                                      "PATH). Install it (Debian: apt-get install "
                                      "graphviz), or print --format dot and render it elsewhere");
  }
  temp_file input(dot_text);
  if (!input.ok()) {
    return cano::error::generic(std::string("cannot write the graph to a temporary file: ") + std::strerror(errno));
  }
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return cano::error::generic(std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return cano::error::generic(std::string("pipe: ") + std::strerror(errno));
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    execl(dot.c_str(), "dot", "-Tsvg", input.path(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    return cano::error::generic(std::string("fork: ") + std::strerror(errno));
  }
  std::string svg, messages;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool timed_out = false;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buf[8192];
      auto n = ::read(fds[k].fd, buf, sizeof buf);
      if (n > 0) {
        (k == 0 ? svg : messages).append(buf, static_cast<std::size_t>(n));
      } else {
        ::close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) {
      ::close(f.fd);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) {
    return cano::error::generic("Graphviz's dot did not finish within 60 s");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!messages.empty() && (messages.back() == '\n' || messages.back() == ' ')) {
      messages.pop_back();
    }
    return cano::error::generic("Graphviz's dot (" + dot + ") failed" +
                                (messages.empty() ? std::string() : ": " + messages));
  }
  return svg;
}

} // namespace cano_cli
