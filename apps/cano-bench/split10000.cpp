// split10000: one split of 10,000 trivial non-blocking branches; seconds per run.
#include "split_workflow.hpp"
#include "workload.hpp"

namespace {
bench::register_workload split10000{
  "split10000", [](double seconds) { return bench::measure_split("split10000", 10000, seconds, 0.2); }};
}
