// cancel_poller — picks up durable cancel requests (CheckpointStore::request_cancel, written by
// any process) for the runs this runtime drives: every interval, one cancel_requests() query per
// store that has runs in flight here (never one per run), each id it returns handed to the
// engine. It runs on a thread of its own (store calls may block), started with the first durable
// run and stopped with the runtime's workers; while no durable run is in flight it asks nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cano/checkpoint.hpp"
#include "logger.hpp"

namespace cano::detail {

class cancel_poller {
public:
  /// The stores that have durable runs in flight now (each once).
  using stores_fn = std::function<std::vector<std::shared_ptr<CheckpointStore>>()>;
  /// A run of `store` with this id has a cancel request.
  using requested_fn = std::function<void(const CheckpointStore& store, const std::string& workflow_id)>;

  /// A failing query is reported through `log` (the runtime's logger), once per outage.
  cancel_poller(std::chrono::milliseconds interval, stores_fn stores, requested_fn requested,
                std::shared_ptr<const logger> log);
  ~cancel_poller();
  cancel_poller(const cancel_poller&) = delete;
  cancel_poller& operator=(const cancel_poller&) = delete;

  /// Starts the thread (once; a no-op afterwards and after stop()).
  void ensure_started();
  /// Stops and joins the thread; the poller never starts again.
  void stop();
  /// Store queries made so far (for tests and figures).
  std::uint64_t queries() const;

private:
  void loop();
  void poll_once();

  std::chrono::milliseconds interval_;
  stores_fn stores_;
  requested_fn requested_;
  std::shared_ptr<const logger> log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> started_{false}; // set once, under the mutex
  bool stopping_ = false;
  std::uint64_t queries_ = 0;
  std::vector<const CheckpointStore*> failing_; // stores whose last query failed (logged once)
  std::thread thread_;
};

} // namespace cano::detail
