// linear10: one run of 10 non-blocking states in flight at a time, through the actor API.
#include "linear_workflow.hpp"
#include "workload.hpp"

namespace {
bench::register_workload linear10{"linear10",
                                  [](double seconds) { return bench::measure_linear("linear10", false, 1, seconds); }};
}
