// split8_cpu: one split of 8 non-blocking branches of about 1 ms of pure CPU work each, joined
// with All, one run in flight; runs/s on the default scheduler, on one scheduler thread, and
// the speed-up between the two.
#include "split_cpu.hpp"
#include "workload.hpp"

namespace {
bench::register_workload split8_cpu{
  "split8_cpu",
  [](double seconds) { return bench::measure_split_cpu("split8_cpu", 8, std::chrono::microseconds(1000), seconds); }};
} // namespace
