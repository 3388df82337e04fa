// The demo's order workflow, a saga:
//   validate → route → allocate (three warehouses, two must answer) → reserve ⇄ release
//   → charge ⇄ refund (flaky, retried) → ship → done
// Orders above the review limit are routed to Rejected. When shipping fails, the charge is
// refunded and the stock released, newest first.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cano/workflow.hpp"

namespace demo {

enum class Order { Validate, Route, Allocate, Reserve, Charge, Ship, Done, Rejected };
std::string to_string(Order s);

/// What the order's side effects did, for the demo's output.
using journal = std::function<void(const std::string&)>;

/// `flaky_failures`: charges that fail per order before one succeeds. `ship_hook` runs inside
/// the ship task (the demo uses it to hold one order while it "crashes").
cano::Workflow<Order> order_workflow(int flaky_failures, journal log,
                                     std::function<void(const std::string& order)> ship_hook);

} // namespace demo
