// The engine behind a cano::runtime: the actor system, the blocking pool and the registry of
// runs in flight (for shutdown). Supervisors hold it by shared ownership.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>

#include "actors/run_context.hpp"
#include "blocking_pool.hpp"
#include "cancel_poller.hpp"
#include "cano/detail/definition.hpp"
#include "cano/runtime.hpp"
#include "logger.hpp"
#include "timer_queue.hpp"

namespace caf {
class actor_system;
class local_actor;
} // namespace caf

namespace cano::detail {

class checkpoint_channel;

/// A run's result callback, held behind one pointer: most runs reply to an actor instead, and a
/// supervisor keeps its completion for its run's whole life (parked runs included).
class result_callback {
public:
  result_callback() = default;
  template <class F, class = std::enable_if_t<!std::is_same<std::decay_t<F>, result_callback>::value>>
  result_callback(F&& f) // NOLINT: converts from any callable, as std::function does
    : fn_(std::make_unique<std::function<void(run_result&&)>>(std::forward<F>(f))) {}
  result_callback(const result_callback& other)
    : fn_(other.fn_ ? std::make_unique<std::function<void(run_result&&)>>(*other.fn_) : nullptr) {}
  result_callback(result_callback&&) noexcept = default;
  result_callback& operator=(const result_callback& other) { return *this = result_callback(other); }
  result_callback& operator=(result_callback&&) noexcept = default;
  explicit operator bool() const noexcept { return fn_ != nullptr && *fn_; }
  void operator()(run_result&& r) const { (*fn_)(std::move(r)); }

private:
  std::unique_ptr<std::function<void(run_result&&)>> fn_;
};

/// Where a run's result goes: an actor (sent from the supervisor, so it stays on the worker
/// thread) or a callback (for blocking callers).
struct completion {
  caf::actor reply_to;
  result_callback callback;
  /// Reply from the supervisor's own context (same worker: cheapest for one run in flight);
  /// otherwise the reply is enqueued like any outside message, which spreads load over workers.
  bool reply_in_context = false;
};

/// Everything a run supervisor needs to execute one run.
struct run_spec {
  std::uint64_t run_id = 0;
  bool resume = false; // continue the context's workflow id from its checkpoint log
  /// The definition, the run's workflow id (the definition's when none was given) and input, and
  /// its cancel flag, which the engine shares (cancel) before the supervisor exists.
  std::shared_ptr<run_context> ctx;
  state_code initial = 0;
  completion done;
  bool scheduled = false;            // run_options::scheduled
  bool take_over = true;             // run_options::take_over
  bool start_if_empty = false;       // run_options::start_if_empty (from `initial`)
  cancellation_token cancellation{}; // run_options::cancellation
};

/// Marks the run cancelled (its context's flag, for loops running inline) and tells its
/// supervisor (which may be unset while it is being spawned: it reads the flag at its first state).
void signal_cancel(const run_context& ctx, const caf::actor& supervisor);

/// True while an engine actor's handler runs on this thread (runtime::run refuses to block it).
bool inside_engine_actor() noexcept;
struct engine_actor_scope {
  engine_actor_scope();
  ~engine_actor_scope();
  bool previous;
};

class engine : public std::enable_shared_from_this<engine> {
public:
  engine(caf::actor_system& sys, runtime_config config);

  caf::actor_system& system() noexcept { return sys_; }
  const std::shared_ptr<blocking_pool>& pool() const noexcept { return pool_; }
  /// Where runs' measurements go; null when nothing is measured.
  const std::shared_ptr<metrics_sink>& metrics() const noexcept { return metrics_; }
  /// The runtime's log sink, level and node name.
  const std::shared_ptr<const logger>& log() const noexcept { return log_; }
  /// What the runtime's gauges read now (runs in flight by definition, backlog, pool threads).
  runtime_gauges gauges() const;
  /// Registers the gauges with the metrics sink (once; after construction: needs shared ownership).
  void watch_gauges();

  /// Spawns a run supervisor, from `spawner`'s worker thread when given (no cross-thread
  /// wake-up). When the runtime no longer admits runs, `done` gets the error at once.
  std::uint64_t start(std::shared_ptr<const definition> def, state_code initial, run_options options, completion done,
                      caf::local_actor* spawner = nullptr, bool resume = false);
  /// Cancels run `run_id` (cano 0.15 §4.3; the scheduler's cancel_flow); false when it is not
  /// in flight.
  bool cancel(std::uint64_t run_id);
  /// Cancels every run of this workflow id in flight here; returns how many.
  std::size_t cancel_workflow(const std::string& workflow_id);
  /// A durable cancel request was found in `store` for `workflow_id`: cancels the run of that id
  /// this runtime drives on that store, if any.
  void cancel_requested(const CheckpointStore& store, const std::string& workflow_id);
  /// The stores with durable runs in flight here, each once.
  std::vector<std::shared_ptr<CheckpointStore>> durable_stores() const;
  /// The supervisor driving run `run_id`; unset when the run is not in flight (or its actor is
  /// still being spawned). For white-box tests of recycled supervisors.
  caf::actor supervisor_of(std::uint64_t run_id) const;
  /// Runner delays waiting in the runtime's timer queue (0 under virtual time: CAF's clock keeps
  /// them). For white-box tests.
  std::size_t timers_pending() const { return timers_->pending(); }
  /// Queries the poller of durable cancel requests made so far.
  std::uint64_t cancel_queries() const { return poller_.queries(); }
  /// The channel to the checkpoint actor of a blocking store (spawned on first use).
  std::shared_ptr<checkpoint_channel> checkpoint_channel_for(const std::shared_ptr<CheckpointStore>& store);
  /// Called by a supervisor as its run ends, with what it reports. With `reusable` (the
  /// supervisor itself, when nothing of the run can still reach it) the engine may keep the
  /// actor for a later run: true when it did (the actor must stay alive and idle).
  bool run_ended(std::uint64_t run_id, const run_result& result, caf::actor reusable = {});
  /// Calls `k` with the result of the live run `workflow_id` of this runtime when it ends;
  /// false (and `k` is dropped) when no run of this runtime drives that id.
  bool await_live(const std::string& workflow_id, std::function<void(const run_result&)> k);
  /// True while a run of this runtime drives `workflow_id` (a run with a checkpoint store).
  bool is_live(const std::string& workflow_id) const;

  // -- runs by id (D9; src/run_lookup.cpp) ------------------------------------------------------

  /// Start-or-get: waits for the live run of that id, answers a finished one from its header,
  /// resumes an unfinished one, or starts a new run. `done` gets the result.
  void submit(std::shared_ptr<const definition> def, state_code initial, run_options options, completion done);
  /// The result of the run `workflow_id`: from its header when finished, when it ends if a run of
  /// this runtime drives it, else an error naming why there is none.
  void lookup(std::shared_ptr<const definition> def, std::string workflow_id, completion done);
  /// Sends or calls `done` with `r` (for runs that never get a supervisor).
  static void report(completion& done, run_result r);

  bool shutdown(std::chrono::milliseconds deadline);
  /// Stops the checkpoint actors and the blocking pool (after the runs ended).
  void stop_workers();
  std::size_t checkpoint_writes_pending();
  checkpoint_stats checkpoint_statistics(bool reset);
  std::size_t in_flight() const;

private:
  caf::actor_system& sys_;
  std::shared_ptr<const logger> log_;
  std::shared_ptr<metrics_sink> metrics_;
  std::shared_ptr<const gauge_source> gauge_source_; // registered with metrics_ (weakly)
  std::shared_ptr<blocking_pool> pool_;
  std::shared_ptr<timer_queue> timers_;          // runners' delays
  std::shared_ptr<const run_services> services_; // the three above, for every run's context
  std::atomic<std::uint64_t> next_run_id_{1};
  mutable std::mutex mutex_;
  std::condition_variable all_ended_;
  /// Runs in flight: their supervisor (unset while it is being spawned) and their context (its
  /// cancel flag; its definition's name for the gauges).
  struct live_run {
    caf::actor handle;
    std::shared_ptr<run_context> ctx;
  };
  std::unordered_map<std::uint64_t, live_run> live_;
  /// Nodes of live_ whose runs ended, kept for the next runs: a start and an end then allocate
  /// and free nothing while holding mutex_ (at most max_spare_nodes; handle and context reset).
  std::vector<std::unordered_map<std::uint64_t, live_run>::node_type> spare_nodes_;
  static constexpr std::size_t max_spare_nodes = 4096;
  /// Registers run `id` in live_ (under mutex_).
  void add_live(std::uint64_t id, caf::actor handle, std::shared_ptr<run_context> ctx);
  /// Durable runs (with a store and an id) of this runtime by workflow id (D8, D9), with
  /// whoever waits for their result.
  struct live_id {
    std::uint64_t run_id = 0;
    std::vector<std::function<void(const run_result&)>> waiters;
  };
  std::unordered_map<std::string, live_id> live_ids_;
  bool admitting_ = true;
  /// Supervisors between two runs (D1: recycled), at most max_idle_supervisors.
  std::vector<caf::actor> idle_supervisors_;
  static constexpr std::size_t max_idle_supervisors = 1024;
  std::size_t checkpoint_queue_bound_;
  mutable std::mutex channels_mutex_;
  std::unordered_map<const CheckpointStore*, std::shared_ptr<checkpoint_channel>> channels_;
  cancel_poller poller_; // durable cancel requests; started with the first durable run
};

/// Spawns the supervisor actor of one run (src/actors/run_supervisor.cpp).
caf::actor spawn_run_supervisor(const std::shared_ptr<engine>& eng, run_spec spec, caf::local_actor* spawner);
/// Hands run `spec` to an idle supervisor, from `sender`'s worker thread when given.
void reuse_run_supervisor(const caf::actor& supervisor, const std::shared_ptr<engine>& eng, run_spec spec,
                          caf::local_actor* sender);

} // namespace cano::detail
