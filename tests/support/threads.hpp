// The process's thread count, from /proc/self/status.
#pragma once

#include <cstddef>
#include <fstream>
#include <string>

namespace test {

inline std::size_t process_threads() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      return std::stoul(line.substr(8));
    }
  }
  return 0;
}

} // namespace test
