// runtime — runs workflows as actors inside a user-owned caf::actor_system.
//
//   caf::actor_system_config cfg;
//   cano::apply_scheduler_defaults(cfg); // one CAF worker per hardware thread, unless cfg says
//   caf::actor_system sys{cfg};
//   cano::runtime rt{sys};
//   cano::expected<Order> done = rt.run(wf, Order::Validate, {"order-42", {{"sku", "A1"}}});
//
// From inside an actor use `start`, which returns at once and later sends `reply_to` a
// cano::run_result. `run` blocks the calling thread: never call it from an actor (calls from the
// engine's own actors are detected and rejected). `shutdown` stops admitting runs, waits up to
// a deadline, then drops what is left. `cancel` stops a run cooperatively (cano 0.15 §4.3), also
// one driven by another process (a durable request in its store).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cano/cancellation.hpp"
#include "cano/error.hpp"
#include "cano/log_sink.hpp"
#include "cano/metrics_sink.hpp"
#include "cano/state.hpp"

namespace caf {
class actor_system;
class actor_system_config;
class actor;
class local_actor;
} // namespace caf

namespace cano {

/// Sizes CAF's scheduler to the machine: sets `scheduler.max-threads` to the number of hardware
/// threads when `cfg` holds no value for it yet. CAF 0.17's own default is at least 4 workers;
/// on a machine with fewer cores the extra workers only poll and steal, which costs a run
/// 10-15 % of its throughput (README, performance). A value set in code, on the command line or
/// in an INI file wins: call this after `cfg.parse(...)` (or before it: parsing overwrites),
/// and before constructing the actor system. Nothing changes when the hardware thread count is
/// unknown. Workflow::orchestrate's own actor system applies it.
void apply_scheduler_defaults(caf::actor_system_config& cfg);

template <class S>
class Workflow;

namespace detail {
struct definition;
class engine;
struct run_result_access; // the engine's ways into the private parts below
struct runtime_access;
} // namespace detail

/// Per-run settings. The per-run workflow id wins over Workflow::with_workflow_id.
struct run_options {
  std::string workflow_id;
  nlohmann::json input;
  /// cano's scheduler path (cano::Scheduler sets it): the caller validated the workflow and holds
  /// its resources' lease, so the run skips validation, resource setup/teardown and the
  /// workflow timeout (`with_timeout`). Never set it without holding the resources yourself.
  bool scheduled = false;
  /// Cancels the run when its handle fires (cano 0.15 §4.3, cano/cancellation.hpp); disabled by
  /// default.
  cancellation_token cancellation{};
  /// A resume only: true (the default) takes the run over from whoever drives it (claim_run:
  /// fence + 1, ARCHITECTURE D8); false drives it only if this runtime's store already owns it
  /// (adopt_run: a run placed on this node), and refuses one that moved on (category fenced).
  bool take_over = true;
  /// A resume only: a run whose log is still empty (placed but not started) starts from the
  /// state given to resume, instead of being closed as a run that ended without its header.
  bool start_if_empty = false;
};

/// What the checkpoint actors of blocking stores did since the last reset.
struct checkpoint_stats {
  std::uint64_t batches = 0; // store calls (append_batch)
  std::uint64_t writes = 0;  // rows, headers and clears
  std::uint64_t rows = 0;
  /// From a run sending a write to its acknowledgement, read from a histogram of logarithmic
  /// buckets (about 9% wide): the upper bound of the bucket holding the quantile.
  double p50_append_ms = 0;
  double p99_append_ms = 0;
};

struct runtime_config {
  /// Cap on threads running blocking bodies (ARCHITECTURE D1); past it attempts fail.
  std::size_t max_blocking_threads = 1024;
  /// Threads started at once when blocking work waits; beyond them the pool adds one thread per
  /// `thread_injection_delay` while work keeps waiting.
  std::size_t core_blocking_threads = 8;
  std::chrono::microseconds thread_injection_delay{1000};
  /// How long an idle pool thread waits for work before it exits.
  std::chrono::milliseconds idle_thread_timeout{5000};
  /// Writes waiting for a blocking store's checkpoint actor; past it, writes fail at once.
  std::size_t checkpoint_queue_bound = 65536;
  /// How often the runtime asks each store it drives runs of for durable cancel requests
  /// (CheckpointStore::cancel_requests: one query per store, not per run). A request is picked
  /// up within about this long, plus the query's own time.
  std::chrono::milliseconds cancel_poll_interval{500};
  /// Where the runtime's measurements go (cano_actor::metrics records them in Prometheus). Null:
  /// the process default (set_default_metrics_sink) as it is when the runtime is constructed,
  /// and with none set, nothing is measured and the hot path does no work for it.
  std::shared_ptr<metrics_sink> metrics;
  /// Where the runtime's log lines go; null: stderr ("cano: ..."), as without a sink.
  std::shared_ptr<log_sink> log;
  /// The least severe level written. Lifecycle lines (run started, completed, failed, ...) are
  /// info, state entries debug, the engine's diagnostics warn and error.
  cano::log_level log_level = cano::log_level::warn;
  /// This process's name in log lines (`node=`); empty: the host name.
  std::string node;
};

/// What `runtime::start` sends to its `reply_to` actor when the run ends.
struct run_result {
  std::uint64_t run_id = 0;
  std::string workflow_id;
  std::optional<error> failure;

  bool ok() const noexcept { return !failure.has_value(); }
  /// The final state, or the run's error.
  template <class S>
  expected<S> get() const {
    if (failure) {
      return *failure;
    }
    return detail::decode_state<S>(final_state_);
  }

private:
  friend struct detail::run_result_access;
  detail::state_code final_state_ = 0; // read through get<S>()
};

class runtime {
public:
  explicit runtime(caf::actor_system& sys, runtime_config config = {});
  ~runtime(); // shutdown with a 10 s deadline
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Runs to completion and returns the final state or the run's error. Blocking.
  template <class S>
  expected<S> run(const Workflow<S>& wf, S initial, run_options options = {}) {
    return run_erased(wf.definition_ptr(), detail::encode_state(initial), std::move(options)).template get<S>();
  }

  /// Starts a run and returns its id at once; `reply_to` later receives a run_result.
  template <class S>
  std::uint64_t start(const Workflow<S>& wf, S initial, run_options options, const caf::actor& reply_to) {
    return start_erased(wf.definition_ptr(), detail::encode_state(initial), std::move(options), reply_to);
  }

  /// Starts a run from inside actor `self` (on its worker thread, the fastest way) and returns
  /// its id; `self` later receives a run_result.
  template <class S>
  std::uint64_t start(const Workflow<S>& wf, S initial, run_options options, caf::local_actor* self) {
    return start_erased(wf.definition_ptr(), detail::encode_state(initial), std::move(options), self);
  }

  /// Continues the run `workflow_id` from its checkpoint log (cano's resume_from): the state of
  /// the last row runs again, earlier states never do. `token` cancels it; a cancel request made
  /// in the store before the resume (CheckpointStore::request_cancel) is honoured at its first
  /// state. Blocking.
  template <class S>
  expected<S> resume(const Workflow<S>& wf, const std::string& workflow_id, cancellation_token token = {}) {
    return resume_erased(wf.definition_ptr(), workflow_id, std::move(token)).template get<S>();
  }
  /// resume from an actor: returns at once; `reply_to` later receives the run_result.
  template <class S>
  void resume(const Workflow<S>& wf, const std::string& workflow_id, const caf::actor& reply_to) {
    resume_erased(wf.definition_ptr(), workflow_id, reply_to);
  }
  /// resume with a callback, called once with the run_result on a thread of the engine (keep it
  /// short; never block in it). `options.workflow_id` names the run; `initial` is where a run
  /// with an empty log starts when `options.start_if_empty` is set.
  template <class S>
  void resume(const Workflow<S>& wf, run_options options, S initial, std::function<void(run_result&&)> done) {
    resume_erased(wf.definition_ptr(), std::move(options), detail::encode_state(initial), std::move(done));
  }
  template <class S>
  void resume(const Workflow<S>& wf, const std::string& workflow_id, std::function<void(run_result&&)> done) {
    resume_erased(wf.definition_ptr(), run_options{workflow_id, nullptr}, 0, std::move(done));
  }

  /// Cancels the run `workflow_id` this runtime drives (every run of that id in flight here;
  /// cano 0.15 §4.3, see cano/cancellation.hpp for what a cancelled run does). Returns at once;
  /// the run reports its end as usual (category `cancelled`), unless it finished first. Error
  /// (workflow): no run of that id in flight in this runtime.
  expected<void> cancel(const std::string& workflow_id);
  /// Like cancel(workflow_id), and when no run of that id is in flight here, asks its driver
  /// through `wf`'s store: a durable request (CheckpointStore::request_cancel) that the process
  /// driving the run picks up within about a second, or that a resume honours. Blocking (it may
  /// write to the store). Errors: those of request_cancel (no such run, the run already ended),
  /// configuration when `wf` has no checkpoint store.
  template <class S>
  expected<void> cancel(const Workflow<S>& wf, const std::string& workflow_id) {
    return cancel_erased(wf.definition_ptr(), workflow_id);
  }
  /// Cancels the run with this run id (from start) if it is still in flight here; false if not.
  bool cancel_run(std::uint64_t run_id);

  /// Resumes every unfinished run (header running, interrupted or compensating) of the given
  /// definitions' stores whose definition name and version match one of them, concurrently, and
  /// waits for all. Returns each resumed run's id and outcome; a run this runtime already drives
  /// is reported as already running (not driven twice, D8), a header the store cannot read by its
  /// id and the reason (never deleted). Runs of unknown definitions are left alone. A compensating
  /// run continues its rollback (D7).
  template <class S>
  std::vector<std::pair<std::string, expected<S>>> resume_all(const std::vector<Workflow<S>>& definitions) {
    std::vector<std::shared_ptr<const detail::definition>> defs;
    for (const auto& wf : definitions) {
      defs.push_back(wf.definition_ptr());
    }
    std::vector<std::pair<std::string, expected<S>>> out;
    for (auto& r : resume_all_erased(defs)) {
      out.emplace_back(r.workflow_id, r.template get<S>());
    }
    return out;
  }

  /// Start-or-get (ARCHITECTURE D9), for callers that may ask twice for the same run (retried
  /// requests, schedulers, child runs). With the id `options.workflow_id` (or the workflow's):
  /// a run of this runtime still going → waits for it; a finished run in the store → its stored
  /// result, nothing runs again; an unfinished one → resumes it (claiming it, D8); no run → starts
  /// one. Blocking. Needs a checkpoint store and an id (else a configuration error).
  template <class S>
  expected<S> submit(const Workflow<S>& wf, S initial, run_options options) {
    return submit_erased(wf.definition_ptr(), detail::encode_state(initial), std::move(options)).template get<S>();
  }
  /// submit from an actor: `reply_to` receives the run_result.
  template <class S>
  void submit(const Workflow<S>& wf, S initial, run_options options, const caf::actor& reply_to) {
    submit_erased(wf.definition_ptr(), detail::encode_state(initial), std::move(options), reply_to);
  }

  /// The result of the run `workflow_id` in `wf`'s store (D9), from any process: a completed
  /// run's exit state, or a failed or rolled-back run's error, as its header recorded them; for a
  /// run of this runtime still going, its result when it ends. Blocking. Errors: no run with that
  /// id (workflow), a run unfinished and not driven here (workflow), the store's errors.
  template <class S>
  expected<S> result(const Workflow<S>& wf, const std::string& workflow_id) {
    return result_erased(wf.definition_ptr(), workflow_id).template get<S>();
  }
  /// result from an actor: `reply_to` receives the run_result.
  template <class S>
  void result(const Workflow<S>& wf, const std::string& workflow_id, const caf::actor& reply_to) {
    result_erased(wf.definition_ptr(), workflow_id, reply_to);
  }

  /// Stops admitting runs, waits up to `deadline` for runs in flight, then drops the rest
  /// (they end with a workflow error). Returns true when every run finished in time.
  bool shutdown(std::chrono::milliseconds deadline);
  std::size_t runs_in_flight() const;
  /// Checkpoint writes queued for blocking stores' checkpoint actors, not yet committed.
  std::size_t checkpoint_writes_pending() const;
  /// Batching and latency figures of the checkpoint actors; `reset` starts a new window.
  checkpoint_stats checkpoint_statistics(bool reset = false);
  /// Where this runtime's measurements go (its config's sink, or the default it found); null
  /// when nothing is measured. cano::node reports cluster events here.
  std::shared_ptr<metrics_sink> metrics() const;
  /// Writes a record through this runtime's log sink, if its level is enabled (for components
  /// such as cano::node that log about the runtime's work). Secrets are masked.
  void log(log_record record) const;

private:
  friend struct detail::runtime_access;
  run_result run_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial, run_options options);
  std::uint64_t start_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial,
                             run_options options, const caf::actor& reply_to);
  std::uint64_t start_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial,
                             run_options options, caf::local_actor* self);
  run_result resume_erased(std::shared_ptr<const detail::definition> def, const std::string& id,
                           cancellation_token token);
  void resume_erased(std::shared_ptr<const detail::definition> def, const std::string& id, const caf::actor& reply_to);
  void resume_erased(std::shared_ptr<const detail::definition> def, run_options options, detail::state_code initial,
                     std::function<void(run_result&&)> done);
  expected<void> cancel_erased(std::shared_ptr<const detail::definition> def, const std::string& id);
  run_result submit_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial,
                           run_options options);
  void submit_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial, run_options options,
                     const caf::actor& reply_to);
  run_result result_erased(std::shared_ptr<const detail::definition> def, const std::string& id);
  void result_erased(std::shared_ptr<const detail::definition> def, const std::string& id, const caf::actor& reply_to);
  std::vector<run_result> resume_all_erased(const std::vector<std::shared_ptr<const detail::definition>>& defs);
  std::shared_ptr<detail::engine> engine_;
};

namespace detail {
/// The process-wide runtime behind Workflow::orchestrate (its own actor system).
runtime& default_runtime();
} // namespace detail

} // namespace cano
