// Starting a scheduler (validation, resource setup in order, the actor) and the calls of its
// handle. Handle calls work on the flow board under its mutex and tell the actor what to do, so
// none of them waits for the actor except stop/wait.
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "../engine.hpp"
#include "../format.hpp"
#include "../internal_access.hpp"
#include "../log.hpp"
#include "cano/scheduler.hpp"
#include "flow_board.hpp"
#include "scheduler_actor.hpp"

namespace cano {

namespace detail {

/// What every RunningScheduler copy shares; the last copy stops an actor nobody stopped.
struct scheduler_handle {
  std::shared_ptr<flow_board> board;
  caf::actor actor;

  ~scheduler_handle() {
    std::lock_guard<std::mutex> guard(board->mutex);
    if (board->accepting) {
      board->accepting = false;
      caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    }
  }
};

expected<void> check_interval(const std::string& id, std::chrono::nanoseconds interval) {
  if (interval < std::chrono::nanoseconds::zero()) {
    return error::configuration("Flow '" + id + "' has a negative interval (" + std::to_string(interval.count()) +
                                "ns)");
  }
  return {};
}

std::chrono::nanoseconds saturating_seconds(std::uint64_t count, std::uint64_t seconds_per_unit) {
  constexpr auto max_seconds = static_cast<std::uint64_t>(std::chrono::nanoseconds::max().count() / 1000000000);
  if (count > max_seconds / seconds_per_unit) {
    return std::chrono::nanoseconds::max();
  }
  return std::chrono::seconds(static_cast<std::int64_t>(count * seconds_per_unit));
}

namespace {

/// Runs resource hooks, turning anything thrown into an error (they are user code).
expected<void> acquire_resources(Resources& resources) {
  try {
    return resources.acquire();
  } catch (const std::exception& e) {
    return error::generic(std::string("resource setup threw: ") + e.what());
  } catch (...) {
    return error::generic("resource setup threw a non-standard exception");
  }
}

void release_resources(Resources& resources) {
  try {
    resources.release();
  } catch (...) {
    log_error("scheduler: a resource teardown threw");
  }
}

} // namespace

expected<RunningScheduler> start_scheduler(runtime& rt, std::vector<scheduled_flow> flows,
                                           scheduler_settings settings) {
  // cano's start: validate every flow first (nothing set up on an error) ...
  for (const auto& f : flows) {
    if (auto ok = f.def->validate(); !ok) {
      return ok.error();
    }
    if (auto ok = f.def->validate_initial_state(f.initial); !ok) {
      return ok.error();
    }
  }
  // ... then set resources up in registration order, undoing in reverse on a failure.
  for (std::size_t i = 0; i < flows.size(); ++i) {
    if (auto ok = acquire_resources(*flows[i].def->resources); !ok) {
      for (std::size_t j = i; j > 0; --j) {
        release_resources(*flows[j - 1].def->resources);
      }
      return ok.error();
    }
  }
  auto& eng = runtime_access::engine_of(rt);
  auto& sys = eng.system();
  std::vector<flow_slot> slots;
  for (const auto& f : flows) {
    flow_slot slot;
    slot.info.id = f.id;
    slot.policy = f.policy;
    slots.push_back(std::move(slot));
  }
  auto origin = settings.utc_origin.value_or(std::chrono::system_clock::now());
  auto board = std::make_shared<flow_board>(std::move(slots), sys.clock(), origin);
  scheduler_plan plan;
  plan.flows = std::move(flows);
  plan.board = board;
  plan.eng = eng.shared_from_this();
  plan.stop_bound = settings.stop_bound;
  auto actor = spawn_scheduler_actor(sys, std::move(plan));
  auto handle = std::make_shared<scheduler_handle>();
  handle->board = std::move(board);
  handle->actor = std::move(actor);
  return RunningScheduler(std::move(handle));
}

} // namespace detail

expected<void> RunningScheduler::trigger(const std::string& id) const {
  auto& b = *core_->board;
  std::lock_guard<std::mutex> guard(b.mutex);
  if (!b.accepting) {
    return detail::not_running("trigger");
  }
  auto i = b.find(id);
  if (!i) {
    return detail::unknown_flow(id);
  }
  switch (b.reserve(*i, b.utc_now())) {
    case detail::reservation::already_running: return error::workflow("Flow '" + id + "' is already running");
    case detail::reservation::tripped:
      return error::workflow("Flow '" + id + "' is tripped — call reset_flow before triggering");
    case detail::reservation::reserved: break;
  }
  ++b.runs_in_flight;
  caf::anon_send(core_->actor, detail::sched_run_atom::value, std::uint64_t{*i});
  return {};
}

expected<void> RunningScheduler::reset_flow(const std::string& id) const {
  auto& b = *core_->board;
  std::lock_guard<std::mutex> guard(b.mutex);
  if (!b.accepting) {
    return detail::not_running("reset_flow");
  }
  auto i = b.find(id);
  if (!i) {
    return detail::unknown_flow(id);
  }
  b.reset(*i);
  return {};
}

expected<void> RunningScheduler::cancel_flow(const std::string& id) const {
  auto& b = *core_->board;
  std::lock_guard<std::mutex> guard(b.mutex);
  if (!b.accepting) {
    return detail::not_running("cancel_flow");
  }
  auto i = b.find(id);
  if (!i) {
    return detail::unknown_flow(id);
  }
  if (b.flows[*i].info.status.state() == FlowStatus::kind::running) {
    b.flows[*i].cancel_requested = true;
    caf::anon_send(core_->actor, detail::sched_cancel_atom::value, std::uint64_t{*i});
  }
  return {};
}

std::optional<FlowInfo> RunningScheduler::status(const std::string& id) const {
  auto& b = *core_->board;
  std::lock_guard<std::mutex> guard(b.mutex);
  auto i = b.find(id);
  if (!i) {
    return std::nullopt;
  }
  return b.flows[*i].info;
}

std::vector<FlowInfo> RunningScheduler::list() const {
  auto& b = *core_->board;
  std::lock_guard<std::mutex> guard(b.mutex);
  std::vector<FlowInfo> out;
  out.reserve(b.flows.size());
  for (const auto& slot : b.flows) {
    out.push_back(slot.info);
  }
  return out;
}

bool RunningScheduler::has_running_flows() const {
  auto& b = *core_->board;
  std::lock_guard<std::mutex> guard(b.mutex);
  for (const auto& slot : b.flows) {
    if (slot.info.status.state() == FlowStatus::kind::running) {
      return true;
    }
  }
  return false;
}

std::size_t RunningScheduler::runs_in_flight() const {
  auto& b = *core_->board;
  std::lock_guard<std::mutex> guard(b.mutex);
  return b.runs_in_flight;
}

void RunningScheduler::request_stop() const {
  auto& b = *core_->board;
  std::lock_guard<std::mutex> guard(b.mutex);
  if (b.accepting) {
    b.accepting = false;
    caf::anon_send(core_->actor, detail::sched_stop_atom::value);
  }
}

expected<void> RunningScheduler::wait() const {
  auto& b = *core_->board;
  std::unique_lock<std::mutex> lock(b.mutex);
  b.stopped.wait(lock, [&b] { return b.result.has_value(); });
  return *b.result;
}

std::optional<expected<void>> RunningScheduler::wait_for(std::chrono::milliseconds bound) const {
  auto& b = *core_->board;
  std::unique_lock<std::mutex> lock(b.mutex);
  if (!b.stopped.wait_for(lock, bound, [&b] { return b.result.has_value(); })) {
    return std::nullopt;
  }
  return *b.result;
}

expected<void> RunningScheduler::stop() const {
  request_stop();
  return wait();
}

} // namespace cano
