// split100_all: one split of 100 trivial non-blocking branches joined with All, one run in flight.
#include "split_workflow.hpp"
#include "workload.hpp"

namespace {
bench::register_workload split100_all{
  "split100_all", [](double seconds) { return bench::measure_split("split100_all", 100, seconds, 0.5); }};
}
