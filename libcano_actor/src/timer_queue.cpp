#include "timer_queue.hpp"

#include <algorithm>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "actors/messages.hpp"

namespace cano::detail {

timer_queue::~timer_queue() { stop(); }

void timer_queue::add(clock::time_point due, caf::weak_actor_ptr target, runner_timer kind, std::uint32_t tag,
                      std::uint64_t seq, std::uint64_t call_id) {
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
  switch (e.kind) {
    case runner_timer::call_due: caf::anon_send(target, call_due_atom::value, e.tag, e.seq, e.call_id); break;
    case runner_timer::attempt_timeout: caf::anon_send(target, att_timeout_atom::value, e.tag, e.seq); break;
    case runner_timer::retry_due: caf::anon_send(target, retry_atom::value, e.tag, e.seq); break;
  }
}

} // namespace cano::detail
