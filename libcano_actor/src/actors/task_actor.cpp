#include "task_actor.hpp"

#include <atomic>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "../engine.hpp"
#include "messages.hpp"

namespace cano::detail {

namespace {

class task_actor : public caf::event_based_actor {
public:
  task_actor(caf::actor_config& cfg, std::shared_ptr<const run_context> ctx,
             std::shared_ptr<const state_entry> entry, std::string label,
             std::shared_ptr<blocking_pool> pool, caf::actor supervisor)
    : caf::event_based_actor(cfg),
      ctx_(std::move(ctx)),
      entry_(std::move(entry)),
      label_(std::move(label)),
      pool_(std::move(pool)),
      supervisor_(std::move(supervisor)),
      loop_(entry_->config, ctx_->def->observers, entry_->task_name) {}

  caf::behavior make_behavior() override {
    engine_actor_scope scope;
    start_attempt();
    return {
      [this](attempt_atom, std::uint32_t n, outcome_ptr& outcome) {
        engine_actor_scope scope;
        if (pending_ && n == loop_.attempt()) {
          pending_ = false;
          settle(std::move(*outcome));
        } // else: the late result of an abandoned attempt, ignored
      },
      [this](att_timeout_atom, std::uint32_t n) {
        engine_actor_scope scope;
        if (pending_ && n == loop_.attempt()) {
          pending_ = false;
          stop_->store(true); // the body may still be running: tell it to give up
          settle(attempt_timed_out());
        }
      },
      [this](retry_atom) {
        engine_actor_scope scope;
        start_attempt();
      },
    };
  }

  void on_exit() override {
    if (stop_) {
      stop_->store(true); // killed by the supervisor (workflow timeout, shutdown)
    }
  }

private:
  void start_attempt() {
    if (auto rejected = loop_.begin()) {
      reply();
      return;
    }
    auto n = loop_.attempt();
    stop_ = std::make_shared<std::atomic<bool>>(false);
    pending_ = true;
    if (entry_->config.attempt_timeout) {
      delayed_send(this, *entry_->config.attempt_timeout, att_timeout_atom::value, n);
    }
    auto job = [ctx = ctx_, entry = entry_, label = label_, stop = stop_, n,
                self = caf::actor_cast<caf::actor>(this)] {
      task_context tc(ctx->workflow_id, label, n, ctx->input, *ctx->def->resources, stop.get());
      auto outcome = std::make_shared<attempt_outcome>(invoke_guarded(*entry, tc));
      caf::anon_send(self, attempt_atom::value, n, std::move(outcome));
    };
    if (!pool_->try_post(std::move(job))) {
      pending_ = false;
      settle({error::task_execution("blocking pool exhausted: all " +
                                    std::to_string(pool_->max_threads()) +
                                    " threads are busy (runtime_config::max_blocking_threads)"),
              false});
    }
  }

  void settle(attempt_outcome outcome) {
    auto d = loop_.finish(std::move(outcome));
    if (d.done) {
      reply();
    } else if (d.delay && d.delay->count() > 0) {
      delayed_send(this, *d.delay, retry_atom::value);
    } else {
      send(this, retry_atom::value);
    }
  }

  void reply() {
    send(supervisor_, task_done_atom::value,
         std::make_shared<attempt_outcome>(attempt_outcome{std::move(loop_.result()), false}));
    quit();
  }

  std::shared_ptr<const run_context> ctx_;
  std::shared_ptr<const state_entry> entry_;
  std::string label_;
  std::shared_ptr<blocking_pool> pool_;
  caf::actor supervisor_;
  attempt_loop loop_;
  std::shared_ptr<std::atomic<bool>> stop_;
  bool pending_ = false;
};

} // namespace

caf::actor spawn_task_actor(caf::actor_system& sys, std::shared_ptr<const run_context> ctx,
                            std::shared_ptr<const state_entry> entry, std::string label,
                            std::shared_ptr<blocking_pool> pool, caf::actor supervisor) {
  return sys.spawn<task_actor>(std::move(ctx), std::move(entry), std::move(label),
                               std::move(pool), std::move(supervisor));
}

} // namespace cano::detail
