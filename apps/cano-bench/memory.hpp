// Resident set size from /proc/self/statm (never the ru_maxrss high-water mark).
#pragma once

#include <cstddef>

namespace bench {
std::size_t rss_bytes();
std::size_t thread_count();
} // namespace bench
