// The bench reads its memory and threads through the shared process_stats helpers.
#pragma once

#include "process_stats.hpp"

namespace bench {
using cano_apps::rss_bytes;
using cano_apps::thread_count;
} // namespace bench
