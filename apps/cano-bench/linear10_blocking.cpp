// linear10_blocking: linear10 with default-config (blocking) tasks: the cost of the safe path.
#include "linear_workflow.hpp"
#include "workload.hpp"

namespace {
bench::register_workload linear10_blocking{
  "linear10_blocking", [](double seconds) { return bench::measure_linear("linear10_blocking", true, 1, seconds); }};
}
