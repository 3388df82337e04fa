#include "run_instruments.hpp"

#include <cstdio>

#include "../measure.hpp"

namespace cano::detail {

namespace {

using steady = std::chrono::steady_clock;

task_kind kind_of(state_entry::kind k) {
  switch (k) {
    case state_entry::kind::single: return task_kind::single;
    case state_entry::kind::router: return task_kind::router;
    case state_entry::kind::split: return task_kind::split;
    case state_entry::kind::stepped: return task_kind::stepped;
    case state_entry::kind::compensatable: return task_kind::compensatable;
  }
  return task_kind::single;
}

/// cano 0.13.2's `timeout` outcome: the run's with_timeout fired.
bool is_workflow_timeout(const error& e) {
  return e.code() == errc::workflow && e.message() == "Workflow timeout exceeded";
}

std::string milliseconds(steady::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

/// "category: message", cut to what a log line may carry.
std::string error_text(const error& e) {
  return cut_text(std::string(to_string(e.code())) + ": " + e.to_string(), max_logged_error);
}

const char* end_event(RunStatus status) {
  switch (status) {
    case RunStatus::completed: return "run_completed";
    case RunStatus::failed: return "run_failed";
    case RunStatus::rolled_back: return "run_rolled_back";
    case RunStatus::interrupted: return "run_interrupted";
    case RunStatus::compensating: return "run_rollback_interrupted";
    case RunStatus::running: return "run_ended";
  }
  return "run_ended";
}

const char* end_message(RunStatus status) {
  switch (status) {
    case RunStatus::completed: return "run completed";
    case RunStatus::failed: return "run failed";
    case RunStatus::rolled_back: return "run rolled back";
    case RunStatus::interrupted: return "run interrupted (resumable)";
    case RunStatus::compensating: return "run stopped during its rollback (a resume finishes it)";
    case RunStatus::running: return "run ended";
  }
  return "run ended";
}

} // namespace

log_record run_instruments::record(log_level level, const char* event, const char* message) const {
  log_record r;
  r.level = level;
  r.event = event;
  r.message = message;
  r.fields.reserve(9);
  r.fields.push_back({"event", event, false});
  r.fields.push_back({"workflow_id", ctx_.workflow_id});
  r.fields.push_back({"run_id", std::to_string(ctx_.run_id), false});
  r.fields.push_back({"definition", ctx_.def->name});
  r.fields.push_back({"state", has_state_ ? ctx_.def->label(state_) : std::string()});
  r.fields.push_back({"attempt", std::to_string(attempt_), false});
  r.fields.push_back({"node", ctx_.log()->node()});
  return r;
}

void run_instruments::started(state_code state, std::uint32_t attempt) {
  state_ = state;
  has_state_ = true;
  attempt_ = attempt;
  if (ctx_.log()->enabled(log_level::info)) {
    ctx_.log()->write(record(log_level::info, "run_started", "run started"));
  }
}

void run_instruments::resumed(std::optional<state_code> state, std::uint32_t attempt) {
  state_ = state.value_or(0);
  has_state_ = state.has_value();
  attempt_ = attempt;
  if (ctx_.log()->enabled(log_level::info)) {
    ctx_.log()->write(record(log_level::info, "run_resumed",
                             state ? "run resumed from its checkpoint log" : "run resumed: its rollback continues"));
  }
}

void run_instruments::walking() {
  if (metrics() == nullptr || walking_) {
    return;
  }
  walking_ = true;
  walk_started_ = steady::now();
  measure(metrics(), [](metrics_sink& m) { m.workflow_started(); });
}

void run_instruments::entered(state_code state, const std::string& label) {
  state_ = state;
  has_state_ = true;
  if (ctx_.log()->enabled(log_level::debug)) {
    log_record r;
    r.level = log_level::debug;
    r.event = "state_entered";
    r.message = "state entered";
    r.fields = {{"event", "state_entered", false},
                {"workflow_id", ctx_.workflow_id},
                {"run_id", std::to_string(ctx_.run_id), false},
                {"state", label}};
    ctx_.log()->write(std::move(r));
  }
}

void run_instruments::dispatching() {
  if (metrics() != nullptr) {
    dispatch_started_ = steady::now();
  }
}

void run_instruments::dispatched(const std::string& state, state_entry::kind kind, bool ok) {
  if (metrics() == nullptr) {
    return;
  }
  auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - dispatch_started_);
  measure(metrics(), [&](metrics_sink& m) {
    m.task_dispatched(state, kind_of(kind), took);
    if (kind == state_entry::kind::stepped && ok) {
      m.step_iteration(false); // the last step, which returned a state
    }
  });
}

void run_instruments::compensating(const error& cause, std::size_t steps) const {
  if (ctx_.log()->enabled(log_level::info)) {
    auto r = record(log_level::info, "run_compensating", "run failed: undoing its saga steps");
    r.fields.push_back({"steps", std::to_string(steps), false});
    r.fields.push_back({"error", error_text(cause)});
    ctx_.log()->write(std::move(r));
  }
}

void run_instruments::ended(const expected<state_code>& result, RunStatus status) {
  if (metrics() != nullptr) {
    auto outcome = result.has_value()                    ? run_outcome::completed
                   : is_workflow_timeout(result.error()) ? run_outcome::timeout
                                                         : run_outcome::failed;
    auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - walk_started_);
    const bool walked = walking_;
    walking_ = false;
    measure(metrics(), [&](metrics_sink& m) {
      if (walked) { // cano counts runs that walked their states (setup and validation excluded)
        m.workflow_finished(outcome, took);
      }
      m.run_finished(status);
    });
  }
  if (ctx_.log()->enabled(log_level::info)) {
    auto r = record(log_level::info, end_event(status), end_message(status));
    r.fields.push_back({"status", to_string(status), false});
    r.fields.push_back({"duration_ms", milliseconds(steady::now() - ctx_.started), false});
    if (!result.has_value()) {
      r.fields.push_back({"error", error_text(result.error())});
    }
    ctx_.log()->write(std::move(r));
  }
}

} // namespace cano::detail
