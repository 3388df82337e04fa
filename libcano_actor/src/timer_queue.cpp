#include "timer_queue.hpp"

#include <algorithm>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "actors/messages.hpp"
#include "deadline.hpp"

namespace cano::detail {

timer_queue::~timer_queue() { stop(); }

template <class Send>
void timer_queue::with_message(runner_timer kind, std::uint32_t tag, std::uint64_t seq, std::uint64_t call_id,
                               Send send) {
  switch (kind) {
    case runner_timer::call_due: send(call_due_atom::value, tag, seq, call_id); break;
    case runner_timer::attempt_timeout: send(att_timeout_atom::value, tag, seq); break;
    case runner_timer::retry_due: send(retry_atom::value, tag, seq); break;
  }
}

void timer_queue::add(std::chrono::milliseconds delay, caf::weak_actor_ptr target, runner_timer kind, std::uint32_t tag,
                      std::uint64_t seq, std::uint64_t call_id) {
  if (is_never(delay)) {
    return; // the event never comes
  }
  if (!real_time_) {
    // Virtual time: CAF's clock, which holds its receiver strongly until then.
    if (auto self = caf::actor_cast<caf::actor>(caf::actor_cast<caf::strong_actor_ptr>(target))) {
      with_message(kind, tag, seq, call_id,
                   [&](auto&&... xs) { caf::delayed_anon_send(self, timer_delay(delay), std::move(xs)...); });
    }
    return;
  }
  const auto due = deadline_after<clock>(clock::now(), delay);
  auto& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (s.stopped) {
    return;
  }
  s.heap.push_back(entry{due, std::move(target), seq, call_id, tag, kind});
  std::push_heap(s.heap.begin(), s.heap.end(), later);
  if (!thread_.joinable()) {
    thread_ = std::thread([st = state_] { run(st); });
    return;
  }
  const bool earliest = s.heap.front().due == due;
  lock.unlock();
  if (earliest) {
    s.wake.notify_one(); // the thread sleeps until a later deadline
  }
}

void timer_queue::stop() {
  std::deque<entry> dropped; // released outside the lock
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    state_->stopped = true;
    dropped.swap(state_->heap);
  }
  state_->wake.notify_one();
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id()) {
      // The last owner let go on the timer thread itself (an actor whose last reference the
      // thread held ended there): the thread sees `stopped` and returns right after.
      thread_.detach();
    } else {
      thread_.join();
    }
  }
}

std::size_t timer_queue::pending() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->heap.size();
}

void timer_queue::run(const std::shared_ptr<state>& st) {
  auto& s = *st;
  std::vector<entry> due;
  std::unique_lock<std::mutex> lock(s.mutex);
  while (!s.stopped) {
    if (s.heap.empty()) {
      s.wake.wait(lock);
      continue;
    }
    const auto now = clock::now();
    if (now < s.heap.front().due) {
      s.wake.wait_until(lock, s.heap.front().due);
      continue;
    }
    while (!s.heap.empty() && s.heap.front().due <= now) {
      std::pop_heap(s.heap.begin(), s.heap.end(), later);
      due.push_back(std::move(s.heap.back()));
      s.heap.pop_back();
    }
    lock.unlock();
    for (auto& e : due) {
      fire(e); // outside the lock: sending may end an actor, and with it this queue's owner
    }
    due.clear();
    lock.lock();
  }
}

void timer_queue::fire(entry& e) {
  auto target = caf::actor_cast<caf::actor>(caf::actor_cast<caf::strong_actor_ptr>(e.target));
  e.target.reset();
  if (!target) {
    return; // the actor ended: nobody waits for this timer
  }
  with_message(e.kind, e.tag, e.seq, e.call_id, [&](auto&&... xs) { caf::anon_send(target, std::move(xs)...); });
}

} // namespace cano::detail
