// saga_drain — undoes a failed run's saga steps, newest first, never stopping early (cano §3),
// and records its progress in the run's header as it goes (ARCHITECTURE D7): the record that the
// run is compensating is durable before the first undo, and each undo is recorded before the
// next one starts, so a run resumed after a crash continues the drain where it stopped and no
// recorded undo runs twice.
//
// It lives inside the run supervisor (the host): compensates of non-blocking tasks run inline,
// others on the engine's pool with the task's attempt_timeout, answered by comp_done /
// comp_timeout messages that the host forwards here.
//
// A drain may have a deadline (cano 0.15 §4.2, a workflow with a total timeout): a pooled
// compensate still running when it passes fails with "exceeded compensation deadline"; once it
// has passed, the entries not yet undone are not undone at all — each becomes an
// orphaned_compensation error keeping its task id and output, then one timeout error counts them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <caf/fwd.hpp>

#include "../blocking_pool.hpp"
#include "cano/checkpoint.hpp"
#include "run_context.hpp"

namespace cano::detail {

class engine_actor;

class saga_drain {
public:
  /// Writes `record` (status compensating) and calls `k` with nothing to go on, or with an error
  /// that stops the drain (the run ends with it; the header keeps the last record). May call
  /// `k` before it returns. Null: the run has no store; the drain records nothing.
  using recorder = std::function<void(const RollbackRecord& record, std::function<void(std::optional<error>)> k)>;
  /// Called once: the record when every entry was undone, or `stopped` when recording failed.
  using finished_fn = std::function<void(RollbackRecord&& record, std::optional<error> stopped)>;

  saga_drain(engine_actor* host, std::shared_ptr<const run_context> ctx, std::shared_ptr<blocking_pool> pool,
             RollbackRecord record, recorder rec, finished_fn done,
             std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);
  ~saga_drain(); // a compensate still running on the pool is told to stop

  saga_drain(const saga_drain&) = delete;
  saga_drain& operator=(const saga_drain&) = delete;

  /// Begins (or, for a resumed run, continues) the drain. `record_first`: write the record
  /// before the first undo (a fresh rollback); a resumed drain's record is already durable.
  void start(bool record_first);
  /// A compensate posted to the pool returned.
  void on_compensate_done(std::uint64_t seq, const expected<void>& r);
  /// A pooled compensate exceeded its attempt_timeout.
  void on_compensate_timeout(std::uint64_t seq);

private:
  enum class waiting { nothing, compensate, record };
  void pump();
  void undo_top();
  /// `invoked`: a compensate ran (false: none is registered), for the metrics.
  void undone(std::optional<error> failure, bool invoked = true);
  bool past_deadline() const;
  void orphan_the_rest();
  bool post_compensate(std::shared_ptr<const compensator> comp, const RollbackRecord::Entry& entry,
                       nlohmann::json output, const TaskConfig& cfg);

  engine_actor* host_;
  std::shared_ptr<const run_context> ctx_;
  std::shared_ptr<blocking_pool> pool_;
  RollbackRecord record_;
  recorder recorder_;
  finished_fn done_;

  waiting waiting_ = waiting::nothing;
  bool record_pending_ = false; // the record changed and must be written before going on
  bool pumping_ = false;
  bool finished_ = false;
  std::uint64_t seq_ = 0; // the pooled compensate in progress (stale answers carry another)
  std::optional<std::chrono::steady_clock::time_point> deadline_; // on the host's clock
  std::string comp_task_id_;
  std::optional<duration> comp_timeout_;
  bool comp_timer_is_deadline_ = false; // the pooled compensate's timer is the drain's deadline
  std::shared_ptr<std::atomic<bool>> comp_stop_;
};

} // namespace cano::detail
