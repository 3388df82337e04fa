#include "attempt_runner.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "actors/messages.hpp"
#include "deadline.hpp"
#include "measure.hpp"
#include "timer_queue.hpp"
#include "user_code.hpp"

namespace cano::detail {

attempt_runner::attempt_runner(caf::local_actor* host, std::uint32_t tag, const std::shared_ptr<const run_context>& ctx,
                               const work_item& work, const std::string& label, const std::string& panic_prefix,
                               const std::shared_ptr<blocking_pool>& pool, nlohmann::json cursor, bool pause_on_more)
  : host_(host),
    ctx_(ctx),
    work_(work),
    label_(label),
    panic_prefix_(&panic_prefix),
    pool_(pool),
    tag_(tag),
    branch_(attempt_loop::no_branch),
    cursor_(std::move(cursor)),
    inline_(runs_inline(work.config)),
    pause_on_more_(pause_on_more) {}

attempt_runner::attempt_runner(caf::local_actor* host, std::uint32_t tag, const std::shared_ptr<const run_context>& ctx,
                               const work_item& work, const std::string& label, std::size_t branch,
                               const std::shared_ptr<blocking_pool>& pool)
  : host_(host),
    ctx_(ctx),
    work_(work),
    label_(label),
    panic_prefix_(nullptr),
    pool_(pool),
    tag_(tag),
    branch_(static_cast<attempt_loop::branch_index>(branch)),
    inline_(runs_inline(work.config)),
    pause_on_more_(false) {}

attempt_runner::~attempt_runner() { abandon(); }

void attempt_runner::abandon() noexcept {
  if (stop_) {
    stop_->store(true);
  }
}

std::string attempt_runner::panic_prefix() const {
  return panic_prefix_ != nullptr ? *panic_prefix_ : "panic in split task " + std::to_string(branch_) + ": ";
}

error attempt_runner::panic_error(const char* what) const { return error::task_execution(panic_prefix() + what); }

bool attempt_runner::start() {
  loop_.emplace(work_, *ctx_, branch_);
  begin_pending_ = true;
  pump();
  return done();
}

attempt_outcome attempt_runner::first_plain_attempt(const run_context& ctx, const work_item& work,
                                                    const std::string& label, const std::string& panic_prefix,
                                                    task_context::step_id step, const nlohmann::json& cursor) {
  auto tc = make_task_context(ctx, label, 1, nullptr, step); // inline: no stop flag, as in a runner
  bool panicked = false;
  auto value = call_guarded([&]() -> expected<step_result> { return work.body(tc, cursor); },
                            [&](const std::string& text) -> expected<step_result> {
                              panicked = true;
                              return error::task_execution(panic_prefix + text);
                            });
  return {std::move(value), panicked};
}

bool attempt_runner::first_settles(const run_context& ctx, const work_item& work, const attempt_outcome& first) {
  // What attempt_loop::finish decides for a first attempt that ends the loop, and what
  // loop_finished() does with it; anything else (a retry, a next step) is the runner's.
  const bool ok = first.value.has_value();
  if ((ok && first.value->more) || !attempt_loop::ends_loop(work.config, first, 1)) {
    return false; // a next step, or a retry: the runner's
  }
  if (!first.panicked) {
    measure(ctx.metrics(), [ok](metrics_sink& m) { m.task_attempt(ok); });
  }
  return true;
}

bool attempt_runner::resume_after_first(attempt_outcome first) {
  loop_.emplace(work_, *ctx_, branch_);
  loop_->begin(); // attempt 1 (no breaker: first_attempt_plain work)
  ++seq_;
  active_ = true;
  attempt_finished(std::move(first.value), first.panicked);
  pump();
  return done();
}

void attempt_runner::pump() {
  if (pumping_) {
    return; // an outer pump() picks the work up: no recursion through inline calls
  }
  pumping_ = true;
  for (;;) {
    if (ready_head_ < ready_calls_.size()) {
      auto call = std::move(ready_calls_[ready_head_++]);
      if (ready_head_ == ready_calls_.size()) {
        ready_calls_.clear();
        ready_head_ = 0;
      }
      run_call(std::move(call));
    } else if (begin_pending_) {
      begin_pending_ = false;
      begin_attempt();
    } else {
      break;
    }
  }
  pumping_ = false;
}

void attempt_runner::begin_attempt() {
  if (loop_->begin()) {
    loop_finished(); // circuit open: the loop's result is the rejection
    return;
  }
  ++seq_;
  active_ = true;
  if (stop_) {
    stop_->store(true); // a previous attempt that is still running is abandoned
  }
  if (!inline_) {
    stop_ = std::make_shared<std::atomic<bool>>(false);
  }
  if (work_.config.attempt_timeout && !inline_) {
    schedule(runner_timer::attempt_timeout, *work_.config.attempt_timeout);
  }
  if (work_.make_program) {
    program_ = work_.make_program();
    program_->set_metrics(ctx_->metrics().get()); // metrics: poll iterations, batch runs and items
    apply(program_->begin());
  } else {
    issue_body_call();
  }
}

void attempt_runner::issue_body_call() {
  if (inline_) {
    auto tc = make_task_context(*ctx_, label_, loop_->attempt(), stop_.get(), step_);
    bool panicked = false;
    auto value = call_guarded([&]() -> expected<step_result> { return work_.body(tc, cursor_); },
                              [&](const std::string& text) -> expected<step_result> {
                                panicked = true;
                                return panic_error(text.c_str());
                              });
    attempt_finished(std::move(value), panicked);
    return;
  }
  post(0, [body = work_.body, cursor = cursor_](task_context& tc) -> expected<std::any> {
    auto r = body(tc, cursor);
    if (!r) {
      return r.error();
    }
    return std::any(std::move(*r));
  });
}

namespace {

/// How long a host waits in place for a call a lingering pool thread took at once. Short calls
/// come back well within it, without a futex wake on either side; a longer call costs the host
/// this much once, then its result comes as a message.
constexpr auto handoff_wait = std::chrono::microseconds(50);

/// Waits up to handoff_wait for `r`; true when it came in place (else it will be sent).
bool await_in_place(call_result& r) {
  const auto until = std::chrono::steady_clock::now() + handoff_wait;
  for (unsigned spins = 0; r.handoff.load(std::memory_order_acquire) == call_result::pending; ++spins) {
    if (spins < 64) {
      cpu_relax();
      continue;
    }
    // Past a few pauses, yield: on a busy machine the pool thread may need this very core.
    if (std::chrono::steady_clock::now() >= until) {
      break;
    }
    std::this_thread::yield();
  }
  auto expected = static_cast<std::uint8_t>(call_result::pending);
  return !r.handoff.compare_exchange_strong(expected, call_result::by_message, std::memory_order_acq_rel);
}

} // namespace

void attempt_runner::post(std::uint64_t call_id, std::function<expected<std::any>(task_context&)> fn) {
  auto result = std::make_shared<call_result>();
  auto job = [ctx = ctx_, label = label_, attempt = loop_->attempt(), stop = stop_, step = step_,
              prefix = panic_prefix(), fn = std::move(fn), tag = tag_, seq = seq_, call_id,
              self = caf::actor_cast<caf::actor>(host_), result] {
    auto tc = make_task_context(*ctx, label, attempt, stop.get(), step);
    result->value = call_guarded([&] { return fn(tc); },
                                 [&](const std::string& text) -> expected<std::any> {
                                   result->panicked = true;
                                   return error::task_execution(prefix + text);
                                 });
    auto expected = static_cast<std::uint8_t>(call_result::pending);
    if (result->handoff.compare_exchange_strong(expected, call_result::in_place, std::memory_order_acq_rel)) {
      return; // the host is waiting for it
    }
    caf::anon_send(self, call_done_atom::value, tag, seq, call_id, std::move(result));
  };
  bool taken_now = false;
  // metrics: the pool counts abandoned threads by stop_
  if (!pool_->try_post(std::move(job), stop_, &taken_now)) {
    attempt_finished(error::task_execution("blocking pool exhausted: all " + std::to_string(pool_->max_threads()) +
                                           " threads are busy (runtime_config::max_blocking_threads)"),
                     false);
    return;
  }
  // Wait in place only when a thread took the call at once; a queued call may take long.
  if (!taken_now) {
    auto expected = static_cast<std::uint8_t>(call_result::pending);
    result->handoff.compare_exchange_strong(expected, call_result::by_message, std::memory_order_acq_rel);
    if (expected == call_result::pending) {
      return;
    }
  } else if (!await_in_place(*result)) {
    return;
  }
  call_done(call_id, *result); // came in place: the result goes straight on, no message
}

void attempt_runner::schedule(runner_timer kind, duration delay, std::uint64_t call_id) {
  ctx_->timers().add(delay, caf::weak_actor_ptr{host_->ctrl()}, kind, tag_, seq_, call_id);
}

void attempt_runner::apply(program_action action) {
  if (action.finished) {
    attempt_finished(std::move(*action.finished), false);
    return;
  }
  for (auto& call : action.calls) {
    if (call.delay.count() > 0) {
      auto id = call.id;
      schedule(runner_timer::call_due, call.delay, id); // never: parked
      delayed_calls_.push_back(std::move(call));
      if (ready_calls_.empty()) {
        ready_calls_.shrink_to_fit(); // parked until the call is due: keep no empty queue storage
      }
    } else {
      ready_calls_.push_back(std::move(call));
    }
  }
}

void attempt_runner::run_call(call_request call) {
  if (!active_ || !program_) {
    return;
  }
  if (ctx_->cancelled.load(std::memory_order_relaxed)) {
    // Cancelled between two calls of a poll loop or a batch (cano 0.15 §4.3): no more calls. A
    // permanent error: the loop ends without a retry.
    attempt_finished(error::cancelled().permanent(), false);
    return;
  }
  if (!inline_) {
    post(call.id, std::move(call.fn));
    return;
  }
  auto tc = make_task_context(*ctx_, label_, loop_->attempt(), stop_.get(), step_);
  std::optional<std::string> panic;
  auto value = call_guarded([&] { return call.fn(tc); },
                            [&](const std::string& text) -> expected<std::any> {
                              panic = text;
                              return error::generic(text);
                            });
  if (panic) {
    attempt_finished(panic_error(panic->c_str()), true);
    return;
  }
  apply(program_->on_call_done(call.id, std::move(value)));
}

bool attempt_runner::on_call_done(std::uint64_t seq, std::uint64_t call_id, call_result& r) {
  if (seq != seq_ || !active_) {
    return done(); // the late result of an abandoned attempt
  }
  call_done(call_id, r);
  pump();
  return done();
}

void attempt_runner::call_done(std::uint64_t call_id, call_result& r) {
  if (r.panicked) {
    attempt_finished(r.value.error(), true);
  } else if (program_) {
    apply(program_->on_call_done(call_id, std::move(r.value)));
  } else if (!r.value) {
    attempt_finished(r.value.error(), false);
  } else {
    attempt_finished(std::any_cast<step_result>(std::move(*r.value)), false);
  }
}

bool attempt_runner::on_call_due(std::uint64_t seq, std::uint64_t call_id) {
  if (seq == seq_ && active_) {
    auto it = std::find_if(delayed_calls_.begin(), delayed_calls_.end(),
                           [call_id](const call_request& c) { return c.id == call_id; });
    if (it != delayed_calls_.end()) {
      ready_calls_.push_back(std::move(*it));
      delayed_calls_.erase(it);
      pump();
    }
  }
  return done();
}

bool attempt_runner::on_attempt_timeout(std::uint64_t seq) {
  if (seq == seq_ && active_) {
    stop_->store(true); // the body may still run: tell it to give up, ignore what it returns
    attempt_finished(error::timeout("task attempt exceeded attempt_timeout"), false);
    pump();
  }
  return done();
}

bool attempt_runner::on_retry_due(std::uint64_t seq) {
  if (seq == seq_ && !active_ && !done()) {
    begin_pending_ = true;
    pump();
  }
  return done();
}

void attempt_runner::attempt_finished(expected<step_result> value, bool panicked) {
  if (!active_) {
    return;
  }
  active_ = false;
  program_.reset();
  ready_calls_.clear();
  ready_head_ = 0;
  delayed_calls_.clear();
  auto decision = loop_->finish({std::move(value), panicked});
  if (decision.done) {
    loop_finished();
  } else if (decision.delay && decision.delay->count() > 0) {
    schedule(runner_timer::retry_due, *decision.delay); // never: no retry
  } else {
    begin_pending_ = true;
  }
}

void attempt_runner::loop_finished() {
  auto& r = loop_->result();
  if (r && r->more) {
    measure(ctx_->metrics(), [](metrics_sink& m) { m.step_iteration(true); }); // metrics
    cursor_ = r->cursor ? *r->cursor : nlohmann::json();
    if (pause_on_more_) {
      cursor_pending_ = true; // write-ahead: the cursor row before the next step
      return;
    }
    next_step();
    return;
  }
  done_ = true; // the loop's result is the outcome
}

void attempt_runner::next_step() {
  if (ctx_->cancelled.load(std::memory_order_relaxed)) {
    loop_->settle(error::cancelled()); // cancelled between two steps: no next step
    done_ = true;
    return;
  }
  // Each step of a stepped task is its own retry loop, starting from the latest cursor.
  loop_.emplace(work_, *ctx_, branch_);
  begin_pending_ = true;
}

bool attempt_runner::cursor_written(std::optional<error> failure) {
  if (!cursor_pending_) {
    return done();
  }
  cursor_pending_ = false;
  if (failure) {
    loop_->settle(std::move(*failure));
    done_ = true;
  } else {
    next_step();
    pump();
  }
  return done();
}

} // namespace cano::detail
