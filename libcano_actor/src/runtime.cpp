#include "cano/runtime.hpp"

#include <future>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "actors/messages.hpp"
#include "engine.hpp"

namespace cano {

runtime::runtime(caf::actor_system& sys, runtime_config config)
  : engine_(std::make_shared<detail::engine>(sys, config)) {}

runtime::~runtime() { engine_->shutdown(std::chrono::seconds(10)); }

run_result runtime::run_erased(std::shared_ptr<const detail::definition> def,
                               detail::state_code initial, run_options options) {
  if (detail::inside_engine_actor()) {
    run_result r;
    r.failure = error::workflow(
      "runtime::run blocks and was called from inside an engine actor; use runtime::start");
    return r;
  }
  std::promise<run_result> promise;
  auto future = promise.get_future();
  engine_->start(std::move(def), initial, std::move(options),
                 detail::completion{{}, [&promise](run_result&& r) { promise.set_value(std::move(r)); }});
  return future.get();
}

std::uint64_t runtime::start_erased(std::shared_ptr<const detail::definition> def,
                                    detail::state_code initial, run_options options,
                                    const caf::actor& reply_to) {
  return engine_->start(std::move(def), initial, std::move(options), detail::completion{reply_to, {}});
}

std::uint64_t runtime::start_erased(std::shared_ptr<const detail::definition> def,
                                    detail::state_code initial, run_options options,
                                    caf::local_actor* self) {
  return engine_->start(std::move(def), initial, std::move(options),
                        detail::completion{caf::actor_cast<caf::actor>(self), {}, true}, self);
}

bool runtime::shutdown(std::chrono::milliseconds deadline) { return engine_->shutdown(deadline); }

std::size_t runtime::runs_in_flight() const { return engine_->in_flight(); }

namespace detail {

namespace {
// The actor system behind Workflow::orchestrate. Runs are short-lived actors, so the system
// can be torn down at exit; detached pool threads that still block are simply abandoned.
struct default_system {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  runtime rt;
  default_system() : sys(cfg), rt(sys) {}
};
} // namespace

runtime& default_runtime() {
  static default_system instance;
  return instance.rt;
}

} // namespace detail

} // namespace cano

namespace cano {
caf::error to_caf_error(const error& e) {
  return caf::error(static_cast<std::uint8_t>(static_cast<std::uint8_t>(e.code()) + 1),
                    caf::atom("cano"), caf::make_message(e.to_string()));
}
} // namespace cano
