// attempt_runner — executes one work item (a state's task or a split branch) under its retry
// policy, inside a hosting actor: attempts, attempt timeouts, retry delays, poll/batch calls
// and stepped cursors. Calls run inline when the work is non-blocking without an attempt
// timeout (the fast path), otherwise on the engine's pool; every wait is a timer message to
// the host, never a sleeping thread.
//
// The host forwards the runner's messages (tagged with the runner's tag) and checks done()
// after every call; the runner never calls back into the host.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/run_context.hpp"
#include "attempt_loop.hpp"
#include "blocking_pool.hpp"
#include "timer_queue.hpp"

namespace cano::detail {

/// The result of one call run on the pool: a body's step_result or a program call's value.
struct call_result {
  expected<std::any> value = error::generic("");
  bool panicked = false;
  /// How the result reaches the host: while the host waits for it (a short call on a lingering
  /// pool thread), in place; once the host stopped waiting, as a call_done message.
  enum handoff_state : std::uint8_t { pending, in_place, by_message };
  std::atomic<std::uint8_t> handoff{pending};
};
using call_result_ptr = std::shared_ptr<call_result>;

class attempt_runner {
public:
  /// A state's task. Observer events name the work by its task name; `panic_prefix` starts the
  /// error of a throwing body ("panic: "). `ctx`, `work`, `label`, `panic_prefix` and `pool` are
  /// the host's own and must outlive the runner (`ctx` and `pool` are copied only into pool
  /// jobs, which may outlive both).
  attempt_runner(caf::local_actor* host, std::uint32_t tag, const std::shared_ptr<const run_context>& ctx,
                 const work_item& work, const std::string& label, const std::string& panic_prefix,
                 const std::shared_ptr<blocking_pool>& pool, nlohmann::json cursor = nullptr,
                 bool pause_on_more = false);
  /// Split branch `branch`: observers name it "name[branch]", and a throwing body ends as
  /// "panic in split task <branch>: ..." (both texts are built only when needed).
  attempt_runner(caf::local_actor* host, std::uint32_t tag, const std::shared_ptr<const run_context>& ctx,
                 const work_item& work, const std::string& label, std::size_t branch,
                 const std::shared_ptr<blocking_pool>& pool);
  ~attempt_runner(); // abandons an attempt in progress: its body sees stop_requested()
  /// Tells a body still running that its attempt is abandoned (stop_requested() turns true).
  void abandon() noexcept;
  /// Which step of the run this work is (task_context::idempotency_key); set before start().
  void set_step(task_context::step_id step) noexcept { step_ = step; }

  attempt_runner(const attempt_runner&) = delete;
  attempt_runner& operator=(const attempt_runner&) = delete;

  /// Runs where the configuration says: inline for non-blocking work without attempt timeout.
  static bool runs_inline(const TaskConfig& config) { return !config.blocking && !config.attempt_timeout; }

  /// Work whose first attempt needs no runner: a plain body (no poll or batch program) that
  /// runs inline and takes no circuit-breaker permit. A runner is built only if that attempt
  /// leaves work to do (a retry, a stepped task's next step).
  static bool first_attempt_plain(const work_item& work) {
    return runs_inline(work.config) && !work.make_program && !work.config.circuit_breaker;
  }
  /// Makes the first attempt of first_attempt_plain() work at once, under the same exception
  /// boundary as start() (attempt 1, no stop flag: the body runs inline).
  static attempt_outcome first_plain_attempt(const run_context& ctx, const work_item& work, const std::string& label,
                                             const std::string& panic_prefix, task_context::step_id step,
                                             const nlohmann::json& cursor);
  /// True when that first attempt settles the work (success without a next step, a panic, a
  /// permanent error, no retry configured): then its value is the outcome, counted in the
  /// metrics as the attempt loop counts it. Otherwise hand it to resume_after_first().
  static bool first_settles(const run_context& ctx, const work_item& work, const attempt_outcome& first);
  /// Goes on from a first attempt made by try_first_plain() as if start() had made it (retries,
  /// observers, metrics). Returns done().
  bool resume_after_first(attempt_outcome first);

  /// Starts the first attempt. Returns done().
  bool start();
  // Messages from the host's behavior (stale ones are ignored). Each returns done().
  bool on_call_done(std::uint64_t seq, std::uint64_t call_id, call_result& result);
  bool on_call_due(std::uint64_t seq, std::uint64_t call_id);
  bool on_attempt_timeout(std::uint64_t seq);
  bool on_retry_due(std::uint64_t seq);

  bool done() const noexcept { return done_; }
  /// A stepped task returned More and the runner waits until its cursor row is written
  /// (only with pause_on_more: the run has a checkpoint store).
  bool cursor_pending() const noexcept { return cursor_pending_; }
  /// The cursor row was written (no failure: the next step starts) or failed (the task ends
  /// with `failure`). Returns done().
  bool cursor_written(std::optional<error> failure);
  /// The final outcome, once done().
  expected<step_result>& result() { return loop_->result(); }
  /// The cursor of a stepped task (its last More), or null.
  const nlohmann::json& cursor() const noexcept { return cursor_; }

private:
  void pump();
  void begin_attempt();
  void issue_body_call();
  void apply(program_action action);
  /// `kind`'s message to the host after `delay` (none when `delay` is never), for this attempt.
  void schedule(runner_timer kind, duration delay, std::uint64_t call_id = 0);
  void run_call(call_request call);
  void post(std::uint64_t call_id, std::function<expected<std::any>(task_context&)> fn);
  void call_done(std::uint64_t call_id, call_result& r);
  void attempt_finished(expected<step_result> value, bool panicked);
  void loop_finished();
  void next_step();
  std::string panic_prefix() const;
  error panic_error(const char* what) const;

  // Members are ordered and sized with care: a parked run (a poll waiting for its next call)
  // keeps its runner, so every byte here is a byte per parked run.

  caf::local_actor* host_;
  const std::shared_ptr<const run_context>& ctx_;
  const work_item& work_;
  const std::string& label_;
  const std::string* panic_prefix_; // null for a split branch (its prefix names the branch)
  const std::shared_ptr<blocking_pool>& pool_;
  std::uint32_t tag_;
  attempt_loop::branch_index branch_; // a split branch's index, or attempt_loop::no_branch

  task_context::step_id step_;
  std::optional<attempt_loop> loop_;
  nlohmann::json cursor_;
  std::uint64_t seq_ = 0;                   // the attempt in progress (stale messages carry another)
  std::shared_ptr<std::atomic<bool>> stop_; // pool attempts only: inline bodies return first
  std::unique_ptr<attempt_program> program_;
  std::vector<call_request> ready_calls_; // FIFO from ready_head_ (no allocation until used)
  std::size_t ready_head_ = 0;
  // Calls waiting for their delay (a poll's next poll: rarely more than one), searched by id; a
  // vector spares a parked run the hash table's buckets.
  std::vector<call_request> delayed_calls_;
  const bool inline_;
  const bool pause_on_more_;
  bool active_ = false;
  bool cursor_pending_ = false;
  bool begin_pending_ = false;
  bool pumping_ = false;
  bool done_ = false; // the loop settled: loop_->result() is the outcome
};

} // namespace cano::detail
