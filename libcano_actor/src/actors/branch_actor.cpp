#include "branch_actor.hpp"

#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>

#include "../engine.hpp"
#include "runner_handlers.hpp"

namespace cano::detail {

namespace {

class branch_actor : public caf::event_based_actor {
public:
  branch_actor(caf::actor_config& cfg, std::shared_ptr<const run_context> ctx, std::shared_ptr<const state_entry> entry,
               std::uint32_t index, std::string label, std::shared_ptr<blocking_pool> pool,
               std::shared_ptr<const split_control> control, caf::actor join)
    : caf::event_based_actor(cfg),
      ctx_(std::move(ctx)),
      entry_(std::move(entry)),
      index_(index),
      label_(std::move(label)),
      pool_(std::move(pool)),
      control_(std::move(control)),
      join_(std::move(join)) {}

  caf::behavior make_behavior() override {
    return runner_handlers([this](std::uint32_t) { return runner_ ? &*runner_ : nullptr; },
                           [this](std::uint32_t, attempt_runner& r) {
                             if (r.done()) {
                               report();
                             }
                           })
      .or_else([this](launch_atom) {
        engine_actor_scope scope;
        if (runner_ || !control_->may_start() || ctx_->cancelled.load(std::memory_order_relaxed)) {
          quit(); // decided, past the deadline, or the run is cancelled: this branch never starts
          return;
        }
        started_ = std::chrono::steady_clock::now();
        runner_.emplace(this, index_, ctx_, entry_->branches[index_], label_, index_, pool_);
        if (runner_->start()) {
          report();
        }
      });
  }

  void on_exit() override {
    if (runner_) {
      runner_->abandon(); // the join decided without this branch: its attempt is abandoned
    }
    join_ = caf::actor{};
  }

private:
  void report() {
    auto cost = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started_);
    send(join_, branch_done_atom::value, index_,
         std::make_shared<work_outcome>(work_outcome{std::move(runner_->result())}),
         static_cast<std::uint64_t>(cost.count()));
    runner_.reset();
    quit();
  }

  std::shared_ptr<const run_context> ctx_;
  std::shared_ptr<const state_entry> entry_;
  std::uint32_t index_;
  std::string label_;
  std::shared_ptr<blocking_pool> pool_;
  std::shared_ptr<const split_control> control_;
  caf::actor join_;
  std::chrono::steady_clock::time_point started_{};
  std::optional<attempt_runner> runner_;
};

} // namespace

caf::actor spawn_branch_actor(caf::event_based_actor* join, std::shared_ptr<const run_context> ctx,
                              std::shared_ptr<const state_entry> entry, std::uint32_t index, std::string label,
                              std::shared_ptr<blocking_pool> pool, std::shared_ptr<const split_control> control) {
  return join->spawn<branch_actor, caf::lazy_init>(std::move(ctx), std::move(entry), index, std::move(label),
                                                   std::move(pool), std::move(control),
                                                   caf::actor_cast<caf::actor>(join));
}

void start_branch_actor(const caf::actor& branch) { caf::anon_send(branch, launch_atom::value); }

} // namespace cano::detail
