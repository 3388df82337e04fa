#include "saga_drain.hpp"

#include "engine_actor.hpp"
#include <caf/send.hpp>

#include "../attempt_runner.hpp"
#include "../deadline.hpp"
#include "../format.hpp"
#include "../measure.hpp"
#include "../resume_plan.hpp"
#include "../user_code.hpp"
#include "messages.hpp"

namespace cano::detail {

namespace {

const std::string no_label;

/// The context a compensate sees: the run, no state, attempt 1, and the key of its step.
task_context undo_context(const run_context& ctx, const RollbackRecord::Entry& entry, const std::atomic<bool>* stop) {
  return make_task_context(ctx, no_label, 1, stop, task_context::step_id{entry.sequence, -1, true});
}

/// Runs one compensate; whatever it throws becomes cano's panic error for it.
expected<void> compensate_guarded(const compensator& comp, task_context& tc, const std::string& task_id,
                                  const nlohmann::json& output) {
  return call_guarded([&] { return comp.compensate(tc, output); },
                      [&](const std::string& text) -> expected<void> {
                        return error::task_execution("compensate for " + debug_quote(task_id) + " panicked: " + text);
                      });
}

} // namespace

saga_drain::saga_drain(engine_actor* host, std::shared_ptr<const run_context> ctx, std::shared_ptr<blocking_pool> pool,
                       RollbackRecord record, recorder rec, finished_fn done,
                       std::optional<std::chrono::steady_clock::time_point> deadline)
  : host_(host),
    ctx_(std::move(ctx)),
    pool_(std::move(pool)),
    record_(std::move(record)),
    recorder_(std::move(rec)),
    done_(std::move(done)),
    deadline_(deadline) {}

saga_drain::~saga_drain() {
  if (comp_stop_) {
    comp_stop_->store(true);
  }
}

void saga_drain::start(bool record_first) {
  record_pending_ = record_first && recorder_ != nullptr;
  pump();
}

void saga_drain::pump() {
  if (pumping_) {
    return; // the loop below picks the next step up (no recursion through inline answers)
  }
  pumping_ = true;
  while (!finished_ && waiting_ == waiting::nothing) {
    if (record_pending_) {
      record_pending_ = false;
      waiting_ = waiting::record;
      recorder_(record_, [this](std::optional<error> stop) {
        waiting_ = waiting::nothing;
        if (stop) {
          finished_ = true;
          done_(std::move(record_), std::move(stop));
          return;
        }
        pump();
      });
      continue;
    }
    if (record_.finished()) {
      const bool clean = record_.errors.size() <= 1; // metrics: only the original error
      measure(ctx_->metrics(), [clean](metrics_sink& m) { m.compensation_drain(clean); });
      finished_ = true;
      done_(std::move(record_), std::nullopt);
      break;
    }
    if (past_deadline()) {
      orphan_the_rest(); // recorded like an undo, then the loop finishes
      continue;
    }
    undo_top();
  }
  pumping_ = false;
}

void saga_drain::undo_top() {
  const auto& entry = record_.stack[record_.stack.size() - 1 - record_.undone];
  auto it = ctx_->def->compensators.find(entry.task_id);
  if (it == ctx_->def->compensators.end()) {
    return undone(
      error::workflow("no compensator registered for task " + debug_quote(entry.task_id) + " — cannot roll it back"),
      false);
  }
  nlohmann::json output;
  try {
    output = from_blob(entry.output);
  } catch (const std::exception& e) {
    return undone(error::generic("deserialize compensation output for `" + entry.task_id + "`: " + e.what() +
                                 blob_location(ctx_->workflow_id, entry.sequence)));
  }
  const auto& comp = it->second;
  // cano re-reads the task's config at rollback time (for its attempt_timeout).
  auto cfg = call_guarded([&] { return comp->config(); }, [](const std::string&) { return TaskConfig{}; });
  if (attempt_runner::runs_inline(cfg)) {
    auto tc = undo_context(*ctx_, entry, nullptr);
    auto r = compensate_guarded(*comp, tc, entry.task_id, output);
    return undone(r ? std::nullopt : std::optional<error>(r.error()));
  }
  if (!post_compensate(comp, entry, std::move(output), cfg)) {
    return undone(
      error::task_execution("blocking pool exhausted: cannot run compensate for " + debug_quote(entry.task_id)), false);
  }
  waiting_ = waiting::compensate;
}

bool saga_drain::past_deadline() const {
  return deadline_ && *deadline_ != std::chrono::steady_clock::time_point::max() && host_->clock().now() >= *deadline_;
}

void saga_drain::orphan_the_rest() {
  // cano's order: the entry that would come next first, down to the bottom, then the count.
  auto left = record_.stack.size() - record_.undone;
  for (auto i = left; i > 0; --i) {
    const auto& entry = record_.stack[i - 1];
    record_.errors.push_back(error::orphaned_compensation(entry.task_id, entry.output));
  }
  record_.errors.push_back(
    error::timeout("compensation deadline elapsed; " + std::to_string(left) + " entries left unprocessed"));
  record_.undone = record_.stack.size();
  record_pending_ = recorder_ != nullptr;
}

void saga_drain::undone(std::optional<error> failure, bool invoked) {
  if (invoked) { // metrics: cano counts every compensate invoked, never a missing one
    measure(ctx_->metrics(), [ok = !failure](metrics_sink& m) { m.compensation_run(ok); });
  }
  ++record_.undone;
  if (failure) {
    record_.errors.push_back(std::move(*failure));
  }
  record_pending_ = recorder_ != nullptr;
}

bool saga_drain::post_compensate(std::shared_ptr<const compensator> comp, const RollbackRecord::Entry& entry,
                                 nlohmann::json output, const TaskConfig& cfg) {
  auto seq = ++seq_;
  comp_task_id_ = entry.task_id;
  comp_timeout_ = cfg.attempt_timeout;
  auto stop = std::make_shared<std::atomic<bool>>(false);
  comp_stop_ = stop;
  auto self = caf::actor_cast<caf::actor>(host_);
  bool posted = pool_->try_post(
    [ctx = ctx_, comp, entry, output = std::move(output), stop, self, seq] {
      auto tc = undo_context(*ctx, entry, stop.get());
      auto r = compensate_guarded(*comp, tc, entry.task_id, output);
      caf::anon_send(self, comp_done_atom::value, seq, std::make_shared<expected<void>>(std::move(r)));
    },
    stop); // metrics: the pool counts a thread whose compensate timed out as abandoned
  if (!posted) {
    return false;
  }
  // One timer: the attempt_timeout, or the drain's deadline when that comes first.
  std::optional<duration> wait = cfg.attempt_timeout;
  comp_timer_is_deadline_ = false;
  if (deadline_ && *deadline_ != std::chrono::steady_clock::time_point::max()) {
    auto left = std::chrono::ceil<duration>(*deadline_ - host_->clock().now()); // fires at or after it
    if (!wait || left < *wait) {
      wait = left;
      comp_timer_is_deadline_ = true;
    }
  }
  if (wait) {
    delayed_self_send(host_, *wait, comp_timeout_atom::value, seq); // never: no timer
  }
  return true;
}

void saga_drain::on_compensate_done(std::uint64_t seq, const expected<void>& r) {
  if (waiting_ != waiting::compensate || seq != seq_) {
    return; // a compensate that already timed out
  }
  ++seq_; // settles this one
  waiting_ = waiting::nothing;
  undone(r ? std::nullopt : std::optional<error>(r.error()));
  pump();
}

void saga_drain::on_compensate_timeout(std::uint64_t seq) {
  if (waiting_ != waiting::compensate || seq != seq_) {
    return;
  }
  ++seq_;
  if (comp_stop_) {
    comp_stop_->store(true);
  }
  waiting_ = waiting::nothing;
  if (comp_timer_is_deadline_) {
    undone(error::timeout("compensate for " + debug_quote(comp_task_id_) + " exceeded compensation deadline"));
  } else {
    undone(error::timeout("compensate for " + debug_quote(comp_task_id_) + " exceeded attempt_timeout " +
                          debug_duration(comp_timeout_.value_or(duration{0}))));
  }
  pump();
}

} // namespace cano::detail
