// concurrent1000: linear10 (non-blocking) with 1,000 runs in flight, closed loop.
#include "linear_workflow.hpp"
#include "workload.hpp"

namespace {
bench::register_workload concurrent1000{
  "concurrent1000", [](double seconds) { return bench::measure_linear("concurrent1000", false, 1000, seconds); }};
}
