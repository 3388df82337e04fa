// timer_queue — the delays of the engine's attempt runners (a poll's next poll, a retry's
// backoff, an attempt timeout), kept in one min-heap per runtime and served by one thread.
//
// Why not CAF's delayed_send: in CAF 0.17 each pending delayed message costs three heap objects
// (the mailbox element, the clock's event and its multimap node, ~270 bytes with malloc's
// headers), and a parked run — a poll waiting for its next call — always has one pending. An
// entry here is 40 bytes in a vector, and the message is made only when it fires.
//
// Under CAF's test coordinator (virtual time) the queue hands its timers to CAF's clock instead,
// which that time drives; the runners never tell the two apart.
//
// An entry holds its actor weakly: a timer never keeps an actor alive (the engine's table of
// runs does, while a run lives), and an actor gone by then gets nothing. The thread starts with
// the first entry and sleeps on a condition variable until the next deadline (no polling).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/weak_intrusive_ptr.hpp>

namespace cano::detail {

/// Which runner message a timer sends (messages.hpp): (call_due_atom, tag, seq, call id),
/// (att_timeout_atom, tag, seq) or (retry_atom, tag, seq).
enum class runner_timer : std::uint8_t { call_due, attempt_timeout, retry_due };

class timer_queue {
public:
  using clock = std::chrono::steady_clock;

  /// `real_time`: the actor system runs on CAF's real-time scheduler (else its clock keeps
  /// virtual time, and serves the timers itself).
  explicit timer_queue(bool real_time) : real_time_(real_time) {}
  /// Stops the thread; pending timers never fire.
  ~timer_queue();
  timer_queue(const timer_queue&) = delete;
  timer_queue& operator=(const timer_queue&) = delete;

  /// Sends `kind`'s message with `tag`, `seq` (and `call_id` for call_due) to `target` after
  /// `delay` (at once if it is not positive; never if it is `never`), unless `target` has ended by
  /// then or stop() came first.
  void add(std::chrono::milliseconds delay, caf::weak_actor_ptr target, runner_timer kind, std::uint32_t tag,
           std::uint64_t seq, std::uint64_t call_id = 0);
  /// Stops the thread and drops every pending timer; later add() calls are ignored.
  void stop();
  /// Timers not yet fired (for tests and gauges).
  std::size_t pending() const;

private:
  struct entry {
    clock::time_point due;
    caf::weak_actor_ptr target;
    std::uint64_t seq;
    std::uint64_t call_id;
    std::uint32_t tag;
    runner_timer kind;
  };
  /// What the thread works on, shared with it: the thread may outlive this object by the moment
  /// it takes to notice stop() (when the queue's last owner let go on the thread itself).
  struct state {
    std::mutex mutex;
    std::condition_variable wake;
    // A min-heap by due, in a deque: growing it never copies the entries nor holds old and new
    // storage at once (a vector's doubling left ~2x the entries' room at 100k parked runs).
    std::deque<entry> heap;
    bool stopped = false;
  };
  /// Orders the heap so that its front is the earliest deadline.
  static bool later(const entry& a, const entry& b) noexcept { return a.due > b.due; }
  static void run(const std::shared_ptr<state>& s);
  static void fire(entry& e);
  /// Calls `send` with `kind`'s message (messages.hpp) — one mapping for both clocks.
  template <class Send>
  static void with_message(runner_timer kind, std::uint32_t tag, std::uint64_t seq, std::uint64_t call_id, Send send);

  bool real_time_;

  std::shared_ptr<state> state_ = std::make_shared<state>();
  std::thread thread_; // started by the first add()
};

} // namespace cano::detail
