// The demo's order workflow: validate → route → reserve (a split over three warehouses, two must
// succeed) → charge (flaky, retried) → ship → done.
// Orders above the review limit are routed to Rejected instead.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "cano/workflow.hpp"

namespace demo {

enum class Order { Validate, Route, Reserve, Charge, Ship, Done, Rejected };
std::string to_string(Order s);

/// Fails the first `flaky_failures` charges of each order, then succeeds.
cano::Workflow<Order> order_workflow(int flaky_failures);

} // namespace demo
