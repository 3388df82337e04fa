#include "task_actor.hpp"

#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>

#include "../engine.hpp"
#include "runner_handlers.hpp"

namespace cano::detail {

namespace {

class task_actor : public caf::event_based_actor {
public:
  task_actor(caf::actor_config& cfg, std::shared_ptr<const run_context> ctx,
             std::shared_ptr<const state_entry> entry, std::string label,
             std::shared_ptr<blocking_pool> pool, caf::actor supervisor, nlohmann::json cursor,
             bool checkpoint_cursors, task_context::step_id step)
    : caf::event_based_actor(cfg),
      ctx_(std::move(ctx)),
      entry_(std::move(entry)),
      label_(std::move(label)),
      pool_(std::move(pool)),
      supervisor_(std::move(supervisor)),
      runner_(this, 0, ctx_, entry_->work, label_, entry_->work.task_name, "panic: ", pool_,
              std::move(cursor), checkpoint_cursors) {
    runner_.set_step(step);
  }

  caf::behavior make_behavior() override {
    engine_actor_scope scope;
    runner_.start();
    if (progress()) {
      return {};
    }
    return runner_handlers([this](std::uint32_t) { return &runner_; },
                           [this](std::uint32_t, attempt_runner&) { progress(); })
      .or_else([this](cursor_ack_atom, void_result_ptr& written) {
        engine_actor_scope scope;
        std::optional<error> failure;
        if (!*written) {
          failure = written->error_value();
        }
        runner_.cursor_written(std::move(failure));
        progress();
      });
  }

  void on_exit() override {
    runner_.abandon(); // killed by the supervisor (workflow timeout, rollback, shutdown)
  }

private:
  /// Forwards a pending cursor or the final outcome; true once the actor is done.
  bool progress() {
    if (runner_.cursor_pending()) {
      send(supervisor_, cursor_atom::value, std::make_shared<const nlohmann::json>(runner_.cursor()));
      return false;
    }
    if (!runner_.done()) {
      return false;
    }
    send(supervisor_, task_done_atom::value,
         std::make_shared<work_outcome>(work_outcome{std::move(runner_.result())}));
    quit();
    return true;
  }

  std::shared_ptr<const run_context> ctx_;
  std::shared_ptr<const state_entry> entry_;
  std::string label_;
  std::shared_ptr<blocking_pool> pool_;
  caf::actor supervisor_;
  attempt_runner runner_;
};

} // namespace

caf::actor spawn_task_actor(caf::local_actor* supervisor, std::shared_ptr<const run_context> ctx,
                            std::shared_ptr<const state_entry> entry, std::string label,
                            std::shared_ptr<blocking_pool> pool, nlohmann::json cursor,
                            bool checkpoint_cursors, task_context::step_id step) {
  return supervisor->spawn<task_actor>(std::move(ctx), std::move(entry), std::move(label),
                                       std::move(pool), caf::actor_cast<caf::actor>(supervisor),
                                       std::move(cursor), checkpoint_cursors, step);
}

} // namespace cano::detail
