// This process's resident memory and thread count, read from /proc (never the ru_maxrss
// high-water mark). Used by cano-bench and by the tests that bound thread counts.
#pragma once

#include <cstddef>
#include <fstream>
#include <string>

#include <unistd.h>

namespace cano_apps {

inline std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0;
  std::size_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

inline std::size_t thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      return std::stoul(line.substr(8));
    }
  }
  return 0;
}

} // namespace cano_apps
