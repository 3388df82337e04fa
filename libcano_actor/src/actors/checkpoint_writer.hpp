// checkpoint_writer — how one run supervisor writes its checkpoint log and header (ARCHITECTURE
// D6, D9): straight into a non-blocking store from the supervisor's own thread, or as a request
// to the store's checkpoint actor (group commit) whose answer continues the run. The run waits
// for each answer before it goes on (write-ahead).
//
// It also keeps the run's claim on its id: a fresh run's first write carries `create` (and the
// run's header), so a start whose id belongs to an unfinished run is refused and writes
// nothing; once refused, the writer never writes for that id again.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <caf/fwd.hpp>

#include "cano/checkpoint.hpp"
#include "cano/metrics_sink.hpp"

namespace cano::detail {

class engine;
class checkpoint_channel;
class engine_actor;

class checkpoint_writer {
public:
  using done_fn = std::function<void(const expected<void>&)>;

  /// A run with a checkpoint store (non-null) and a workflow id (non-empty): the supervisor makes
  /// a writer only for such runs.
  checkpoint_writer(engine_actor* host, engine& eng, std::shared_ptr<CheckpointStore> store, const std::string& id);

  /// True while the writer may write: not refused (a conflicting start), not fenced.
  bool may_write() const noexcept { return !closed_; }
  /// The blocking store needs this process to be its driver (SQLite's lock, D8).
  expected<void> acquire_driver();

  /// A fresh run: its first write will claim the id with `create` and carry `header`.
  void start_fresh(RunHeader header);
  /// A resumed run: its next write carries `header` (its new attempt count, status running).
  void carry_header(RunHeader header);

  /// Writes `w`. Returns the outcome now (a direct store, a full queue, a closed writer), or
  /// nothing: then `k` runs with the outcome when the checkpoint actor answers (unless
  /// forget_pending() came first). A failed claim or a fenced write closes the writer.
  std::optional<expected<void>> write(CheckpointWrite w, done_fn k);

  /// Answers that arrive from now on are dropped (the run has ended or changed course).
  void forget_pending() noexcept { ++epoch_; }
  /// Writes sent to the checkpoint actor and not answered yet (forgotten ones included).
  std::size_t in_flight() const noexcept { return in_flight_; }

private:
  void settle(bool create, const expected<void>& r);
  /// cano's append and clear counters for a write with `row` / `clear` and its outcome.
  void count(bool row, bool clear, const expected<void>& r) const;

  engine_actor* host_;
  metrics_sink* metrics_; // the engine's (it outlives the run's supervisor); null: none
  std::shared_ptr<CheckpointStore> store_;
  const std::string& id_;
  std::shared_ptr<checkpoint_channel> channel_; // blocking stores
  // Behind a pointer: a header is pending only until a run's first write, and a parked run
  // should not carry its room (D1: small parked runs).
  std::unique_ptr<RunHeader> pending_header_; // rides on the next write
  bool pending_create_ = false;               // ... which then claims the id (a fresh run)
  bool closed_ = false;
  std::uint64_t epoch_ = 0;
  std::size_t in_flight_ = 0;
};

} // namespace cano::detail
