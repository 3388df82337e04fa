// The demo's scheduler part: a second workflow (pull a supplier's stock feed, then apply it to
// the inventory) run by cano::Scheduler for a few ticks. One flow fails while its supplier is
// offline: it backs off, trips, and runs again after reset_flow.
#pragma once

namespace demo {

/// Runs the scheduled flows on an actor system of their own, printing each flow's status as it
/// changes; returns the number of outcomes that were not the expected ones (0 when all were).
int scheduled_flows();

} // namespace demo
