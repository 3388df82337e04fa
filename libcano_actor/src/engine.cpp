#include "engine.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/checkpoint_actor.hpp"
#include "actors/messages.hpp"
#include "deadline.hpp"
#include "format.hpp"

namespace cano::detail {

namespace {
thread_local bool in_engine_actor = false;
}

bool inside_engine_actor() noexcept { return in_engine_actor; }
engine_actor_scope::engine_actor_scope() : previous(in_engine_actor) { in_engine_actor = true; }
engine_actor_scope::~engine_actor_scope() { in_engine_actor = previous; }

namespace {

/// The gauges of one engine, read when its metrics are collected (it may be gone by then).
class engine_gauges final : public gauge_source {
public:
  explicit engine_gauges(std::weak_ptr<const engine> eng) : eng_(std::move(eng)) {}
  runtime_gauges read() const override {
    auto eng = eng_.lock();
    return eng ? eng->gauges() : runtime_gauges{};
  }

private:
  std::weak_ptr<const engine> eng_;
};

} // namespace

engine::engine(caf::actor_system& sys, runtime_config config)
  : sys_(sys),
    log_(std::make_shared<const logger>(std::move(config.log), config.log_level, std::move(config.node))),
    metrics_(config.metrics ? std::move(config.metrics) : default_metrics_sink()),
    pool_(blocking_pool::make([&] {
      pool_config pc;
      pc.max_threads = config.max_blocking_threads;
      pc.core_threads = config.core_blocking_threads;
      pc.idle_timeout = config.idle_thread_timeout;
      pc.injection_delay = config.thread_injection_delay;
      pc.log = log_; // the pool's own diagnostics go through the runtime's logger
      return pc;
    }())),
    checkpoint_queue_bound_(config.checkpoint_queue_bound),
    poller_(
      config.cancel_poll_interval, [this] { return durable_stores(); },
      [this](const CheckpointStore& store, const std::string& id) { cancel_requested(store, id); }, log_) {
  // CAF's real-time scheduler runs on this clock; its test coordinator keeps virtual time.
  timers_ =
    std::make_shared<timer_queue>(dynamic_cast<caf::detail::thread_safe_actor_clock*>(&sys_.clock()) != nullptr);
  services_ = std::make_shared<const run_services>(run_services{metrics_, log_, timers_});
}

void signal_cancel(const run_context& ctx, const caf::actor& supervisor) {
  ctx.cancelled.store(true, std::memory_order_release);
  if (supervisor) {
    caf::anon_send(supervisor, cancel_atom::value, ctx.run_id);
  }
}

void engine::watch_gauges() {
  if (metrics_ && !gauge_source_) {
    gauge_source_ = std::make_shared<engine_gauges>(weak_from_this());
    metrics_->watch(gauge_source_);
  }
}

runtime_gauges engine::gauges() const {
  runtime_gauges g;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    std::unordered_map<std::string, std::size_t> by_definition;
    for (const auto& kv : live_) {
      ++by_definition[kv.second.ctx->def->name];
    }
    g.runs_in_flight.assign(by_definition.begin(), by_definition.end());
  }
  {
    std::lock_guard<std::mutex> guard(channels_mutex_);
    for (const auto& kv : channels_) {
      g.checkpoint_backlog += kv.second->pending.load();
    }
  }
  auto pool = pool_->counts();
  g.pool_busy = pool.busy;
  g.pool_idle = pool.idle;
  g.pool_abandoned = pool.abandoned;
  return g;
}

std::shared_ptr<checkpoint_channel> engine::checkpoint_channel_for(const std::shared_ptr<CheckpointStore>& store) {
  std::lock_guard<std::mutex> guard(channels_mutex_);
  auto& slot = channels_[store.get()];
  if (!slot) {
    slot = std::make_shared<checkpoint_channel>(sys_, store, checkpoint_queue_bound_, metrics_);
  }
  return slot;
}

void engine::report(completion& done, run_result r) {
  if (done.reply_to) {
    caf::anon_send(done.reply_to, std::move(r));
  } else if (done.callback) {
    done.callback(std::move(r));
  }
}

std::uint64_t engine::start(std::shared_ptr<const definition> def, state_code initial, run_options options,
                            completion done, caf::local_actor* spawner, bool resume) {
  auto id = next_run_id_.fetch_add(1, std::memory_order_relaxed);
  auto ctx = std::make_shared<run_context>();
  ctx->workflow_id = options.workflow_id.empty() ? def->workflow_id : std::move(options.workflow_id);
  ctx->input = std::move(options.input);
  ctx->def = std::move(def);
  ctx->run_id = id; // observers and log lines name the run
  ctx->services = services_;
  run_spec spec{id, resume, ctx, initial, std::move(done)};
  spec.scheduled = options.scheduled;
  spec.take_over = options.take_over;
  spec.start_if_empty = options.start_if_empty;
  spec.cancellation = std::move(options.cancellation);
  const std::string& durable_id = ctx->workflow_id;
  const bool durable = ctx->def->store != nullptr && !durable_id.empty();
  std::optional<error> refused;
  if (durable && !resume) {
    // An input the store cannot keep fails the start before anything is written.
    if (auto ok = ctx->def->store->check_input(ctx->input); !ok) {
      refused = ok.error();
    }
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (refused) {
    // reported below
  } else if (!admitting_) {
    refused = error::workflow("runtime is shutting down: no new runs are admitted");
  } else if (durable && live_ids_.count(durable_id) != 0) {
    // D8/D9: one driver per run. A start is refused like the store would refuse it; a resume
    // of a run this runtime drives is reported as already running.
    refused = resume ? error::workflow("run " + debug_quote(durable_id) + " is already running in this runtime")
                     : error::checkpoint_store(
                         "append checkpoint: " +
                         error::checkpoint_store(run_conflict_message(durable_id, RunStatus::running)).to_string());
  }
  if (refused) {
    lock.unlock();
    run_result r;
    r.run_id = id;
    r.workflow_id = durable_id;
    r.failure = std::move(*refused);
    report(spec.done, std::move(r));
    return id;
  }
  if (durable) {
    live_ids_.emplace(durable_id, live_id{id, {}});
  }
  // A supervisor whose last run ended takes this one (D1): no actor is spawned or ended. A new
  // one is registered before it can end, so run_ended never races ahead of the registration.
  caf::actor idle;
  if (!idle_supervisors_.empty()) {
    idle = std::move(idle_supervisors_.back());
    idle_supervisors_.pop_back();
  }
  add_live(id, idle, ctx);
  lock.unlock();
  if (durable) {
    poller_.ensure_started(); // durable cancel requests from other processes
  }
  if (idle) {
    // A cancel from now on reaches this supervisor with this run's id; one before its start
    // message is read sets the flag that its first state checks.
    reuse_run_supervisor(idle, shared_from_this(), std::move(spec), spawner);
    return id;
  }
  auto handle = spawn_run_supervisor(shared_from_this(), std::move(spec), spawner);
  lock.lock();
  if (auto it = live_.find(id); it != live_.end()) {
    it->second.handle = std::move(handle);
    if (it->second.ctx->cancelled.load(std::memory_order_acquire)) {
      // Cancelled while being spawned; the flag alone would stop it at its first state, the
      // message also reaches a task already in flight.
      caf::anon_send(it->second.handle, cancel_atom::value, id);
    }
  }
  return id;
}

void engine::add_live(std::uint64_t id, caf::actor handle, std::shared_ptr<run_context> ctx) {
  if (spare_nodes_.empty()) {
    live_.emplace(id, live_run{std::move(handle), std::move(ctx)});
    return;
  }
  auto node = std::move(spare_nodes_.back());
  spare_nodes_.pop_back();
  node.key() = id;
  node.mapped().handle = std::move(handle);
  node.mapped().ctx = std::move(ctx);
  live_.insert(std::move(node));
}

bool engine::cancel(std::uint64_t run_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = live_.find(run_id);
  if (it == live_.end()) {
    return false;
  }
  signal_cancel(*it->second.ctx, it->second.handle);
  return true;
}

caf::actor engine::supervisor_of(std::uint64_t run_id) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = live_.find(run_id);
  return it == live_.end() ? caf::actor{} : it->second.handle;
}

std::size_t engine::cancel_workflow(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto d = live_ids_.find(workflow_id); d != live_ids_.end()) {
    if (auto it = live_.find(d->second.run_id); it != live_.end()) {
      signal_cancel(*it->second.ctx, it->second.handle);
      return 1; // one driver per durable id (D8)
    }
  }
  std::size_t n = 0; // runs without a store may share an id: every one of them
  for (auto& kv : live_) {
    if (kv.second.ctx->workflow_id == workflow_id) {
      signal_cancel(*kv.second.ctx, kv.second.handle);
      ++n;
    }
  }
  return n;
}

void engine::cancel_requested(const CheckpointStore& store, const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto d = live_ids_.find(workflow_id);
  if (d == live_ids_.end()) {
    return; // not driven here (another process, or nobody: a resume will honour it)
  }
  auto it = live_.find(d->second.run_id);
  if (it != live_.end() && it->second.ctx->def->store.get() == &store &&
      !it->second.ctx->cancelled.load(std::memory_order_acquire)) {
    signal_cancel(*it->second.ctx, it->second.handle);
  }
}

std::vector<std::shared_ptr<CheckpointStore>> engine::durable_stores() const {
  std::vector<std::shared_ptr<CheckpointStore>> out;
  std::lock_guard<std::mutex> guard(mutex_);
  for (const auto& kv : live_ids_) {
    auto it = live_.find(kv.second.run_id);
    if (it == live_.end()) {
      continue;
    }
    const auto& store = it->second.ctx->def->store;
    if (std::find(out.begin(), out.end(), store) == out.end()) {
      out.push_back(store);
    }
  }
  return out;
}

bool engine::run_ended(std::uint64_t run_id, const run_result& result, caf::actor reusable) {
  std::vector<std::function<void(const run_result&)>> waiters;
  bool recycled = false;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (auto node = live_.extract(run_id)) {
      if (spare_nodes_.size() < max_spare_nodes) {
        node.mapped().handle = caf::actor{}; // a spare node keeps neither an actor nor a run alive
        node.mapped().ctx.reset();
        spare_nodes_.push_back(std::move(node));
      }
    }
    if (reusable && admitting_ && idle_supervisors_.size() < max_idle_supervisors) {
      idle_supervisors_.push_back(std::move(reusable));
      recycled = true;
    }
    if (!result.workflow_id.empty()) {
      auto it = live_ids_.find(result.workflow_id);
      if (it != live_ids_.end() && it->second.run_id == run_id) {
        waiters = std::move(it->second.waiters);
        live_ids_.erase(it);
      }
    }
    if (live_.empty()) {
      all_ended_.notify_all();
    }
  }
  for (auto& w : waiters) {
    w(result);
  }
  return recycled;
}

bool engine::await_live(const std::string& workflow_id, std::function<void(const run_result&)> k) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = live_ids_.find(workflow_id);
  if (it == live_ids_.end()) {
    return false;
  }
  it->second.waiters.push_back(std::move(k));
  return true;
}

bool engine::is_live(const std::string& workflow_id) const {
  std::lock_guard<std::mutex> guard(mutex_);
  return live_ids_.count(workflow_id) != 0;
}

std::size_t engine::in_flight() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return live_.size();
}

bool engine::shutdown(std::chrono::milliseconds deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  admitting_ = false;
  if (wait_up_to(all_ended_, lock, deadline, [this] { return live_.empty(); })) {
    lock.unlock();
    stop_workers();
    return true;
  }
  for (auto& kv : live_) {
    if (kv.second.handle) {
      caf::anon_send(kv.second.handle, drop_atom::value, kv.first);
    }
  }
  // Dropped runs still tear their resources down and report; give them a bounded moment.
  all_ended_.wait_for(lock, std::chrono::seconds(5), [this] { return live_.empty(); });
  lock.unlock();
  stop_workers();
  return false;
}

std::size_t engine::checkpoint_writes_pending() {
  std::lock_guard<std::mutex> guard(channels_mutex_);
  std::size_t n = 0;
  for (auto& kv : channels_) {
    n += kv.second->pending.load();
  }
  return n;
}

checkpoint_stats engine::checkpoint_statistics(bool reset) {
  checkpoint_stats out;
  latency_histogram::counts latencies{};
  std::lock_guard<std::mutex> guard(channels_mutex_);
  for (auto& kv : channels_) {
    auto& ch = *kv.second;
    out.batches += reset ? ch.batches.exchange(0) : ch.batches.load();
    out.writes += reset ? ch.writes.exchange(0) : ch.writes.load();
    out.rows += reset ? ch.rows.exchange(0) : ch.rows.load();
    ch.latencies.add_to(latencies, reset);
  }
  out.p50_append_ms = latency_histogram::quantile_ms(latencies, 0.50);
  out.p99_append_ms = latency_histogram::quantile_ms(latencies, 0.99);
  return out;
}

void engine::stop_workers() {
  poller_.stop();
  std::vector<caf::actor> idle;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    idle.swap(idle_supervisors_);
  }
  for (auto& supervisor : idle) {
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown); // nothing left to drive
  }
  pool_->stop();   // the runtime is done: its idle threads leave now
  timers_->stop(); // ... and so does the timer thread (runs still around wait for nothing more)
  std::lock_guard<std::mutex> guard(channels_mutex_);
  for (auto& kv : channels_) {
    kv.second->stop();
  }
  channels_.clear();
}

} // namespace cano::detail
