#include "cano/runtime.hpp"

#include "cano/checkpoint.hpp"
#include "cano/detail/definition.hpp"

#include <algorithm>
#include <future>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "actors/messages.hpp"
#include "engine.hpp"
#include "format.hpp"
#include "user_code.hpp"

namespace cano {

runtime::runtime(caf::actor_system& sys, runtime_config config)
  : engine_(std::make_shared<detail::engine>(sys, std::move(config))) {
  engine_->watch_gauges();
}

runtime::~runtime() { engine_->shutdown(std::chrono::seconds(10)); }

namespace {

/// Calls `begin(completion)` and blocks until the completion gets its result; refuses to block
/// an engine actor.
template <class Begin>
run_result wait_for(const char* verb, const char* instead, Begin begin) {
  if (detail::inside_engine_actor()) {
    run_result r;
    r.failure = error::workflow(std::string("runtime::") + verb +
                                " blocks and was called from inside an engine actor; use " + instead);
    return r;
  }
  auto promise = std::make_shared<std::promise<run_result>>();
  auto future = promise->get_future();
  begin(detail::completion{{}, [promise](run_result&& r) { promise->set_value(std::move(r)); }});
  return future.get();
}

/// Starts one run (or resume) and blocks until its result.
run_result wait_for_run(detail::engine& eng, const char* verb, std::shared_ptr<const detail::definition> def,
                        detail::state_code initial, run_options options, bool resume) {
  return wait_for(verb, "runtime::start", [&](detail::completion done) {
    eng.start(std::move(def), initial, std::move(options), std::move(done), nullptr, resume);
  });
}

} // namespace

run_result runtime::run_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial,
                               run_options options) {
  return wait_for_run(*engine_, "run", std::move(def), initial, std::move(options), false);
}

std::uint64_t runtime::start_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial,
                                    run_options options, const caf::actor& reply_to) {
  return engine_->start(std::move(def), initial, std::move(options), detail::completion{reply_to, {}});
}

std::uint64_t runtime::start_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial,
                                    run_options options, caf::local_actor* self) {
  return engine_->start(std::move(def), initial, std::move(options),
                        detail::completion{caf::actor_cast<caf::actor>(self), {}, true}, self);
}

run_result runtime::resume_erased(std::shared_ptr<const detail::definition> def, const std::string& id,
                                  cancellation_token token) {
  run_options options{id, nullptr};
  options.cancellation = std::move(token);
  return wait_for_run(*engine_, "resume", std::move(def), 0, std::move(options), true);
}

void runtime::resume_erased(std::shared_ptr<const detail::definition> def, const std::string& id,
                            const caf::actor& reply_to) {
  engine_->start(std::move(def), 0, run_options{id, nullptr}, detail::completion{reply_to, {}}, nullptr, true);
}

void runtime::resume_erased(std::shared_ptr<const detail::definition> def, run_options options,
                            detail::state_code initial, std::function<void(run_result&&)> done) {
  engine_->start(std::move(def), initial, std::move(options), detail::completion{{}, std::move(done)}, nullptr, true);
}

expected<void> runtime::cancel(const std::string& workflow_id) {
  if (engine_->cancel_workflow(workflow_id) == 0) {
    return error::workflow("no run with workflow id " + detail::debug_quote(workflow_id) +
                           " is in flight in this runtime");
  }
  return {};
}

expected<void> runtime::cancel_erased(std::shared_ptr<const detail::definition> def, const std::string& id) {
  if (engine_->cancel_workflow(id) > 0) {
    return {};
  }
  if (!def->store) {
    return error::configuration("a cancel request for a run not driven by this runtime needs the workflow's "
                                "checkpoint store (call with_checkpoint_store)");
  }
  return detail::call_guarded([&] { return def->store->request_cancel(id); },
                              [](const std::string& text) -> expected<void> {
                                return error::checkpoint_store("request_cancel: the store threw: " + text);
                              });
}

bool runtime::cancel_run(std::uint64_t run_id) { return engine_->cancel(run_id); }

std::vector<run_result> runtime::resume_all_erased(const std::vector<std::shared_ptr<const detail::definition>>& defs) {
  // Every store once; every unfinished run whose definition name and version we know.
  std::vector<std::pair<std::shared_ptr<const detail::definition>, std::string>> to_resume;
  std::vector<run_result> unreadable;
  std::vector<const CheckpointStore*> seen;
  for (const auto& def : defs) {
    if (!def->store || std::find(seen.begin(), seen.end(), def->store.get()) != seen.end()) {
      continue;
    }
    seen.push_back(def->store.get());
    auto listing = detail::call_guarded([&] { return def->store->list_unfinished(); },
                                        [](const std::string& text) -> expected<RunListing> {
                                          return error::checkpoint_store("the store threw: " + text);
                                        });
    if (!listing) {
      run_result r;
      r.failure = error::checkpoint_store("list unfinished runs: " + listing.error().to_string());
      return {r};
    }
    for (const auto& bad : listing->unreadable) {
      // One bad header never blocks the others: it is reported, left as it is.
      run_result r;
      r.workflow_id = bad.workflow_id;
      r.failure = error::checkpoint_store("unreadable run header: " + bad.reason);
      unreadable.push_back(std::move(r));
    }
    for (const auto& h : listing->runs) {
      for (const auto& candidate : defs) {
        if (candidate->store == def->store && candidate->name == h.definition &&
            candidate->version == h.workflow_version) {
          to_resume.emplace_back(candidate, h.workflow_id);
          break;
        }
      }
    }
  }
  std::vector<std::promise<run_result>> promises(to_resume.size());
  for (std::size_t i = 0; i < to_resume.size(); ++i) {
    auto* p = &promises[i];
    engine_->start(to_resume[i].first, 0, run_options{to_resume[i].second, nullptr},
                   detail::completion{{}, [p](run_result&& r) { p->set_value(std::move(r)); }}, nullptr, true);
  }
  std::vector<run_result> out;
  for (auto& p : promises) {
    out.push_back(p.get_future().get());
  }
  for (auto& r : unreadable) {
    out.push_back(std::move(r));
  }
  return out;
}

run_result runtime::submit_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial,
                                  run_options options) {
  return wait_for("submit", "runtime::submit with a reply_to actor", [&](detail::completion done) {
    engine_->submit(std::move(def), initial, std::move(options), std::move(done));
  });
}

void runtime::submit_erased(std::shared_ptr<const detail::definition> def, detail::state_code initial,
                            run_options options, const caf::actor& reply_to) {
  engine_->submit(std::move(def), initial, std::move(options), detail::completion{reply_to, {}});
}

run_result runtime::result_erased(std::shared_ptr<const detail::definition> def, const std::string& id) {
  return wait_for("result", "runtime::result with a reply_to actor",
                  [&](detail::completion done) { engine_->lookup(std::move(def), id, std::move(done)); });
}

void runtime::result_erased(std::shared_ptr<const detail::definition> def, const std::string& id,
                            const caf::actor& reply_to) {
  engine_->lookup(std::move(def), id, detail::completion{reply_to, {}});
}

bool runtime::shutdown(std::chrono::milliseconds deadline) { return engine_->shutdown(deadline); }

std::size_t runtime::runs_in_flight() const { return engine_->in_flight(); }

std::size_t runtime::checkpoint_writes_pending() const { return engine_->checkpoint_writes_pending(); }

checkpoint_stats runtime::checkpoint_statistics(bool reset) { return engine_->checkpoint_statistics(reset); }

std::shared_ptr<metrics_sink> runtime::metrics() const { return engine_->metrics(); }

void runtime::log(log_record record) const { engine_->log()->write(std::move(record)); }

void apply_scheduler_defaults(caf::actor_system_config& cfg) {
  if (caf::get_if(&caf::content(cfg), "scheduler.max-threads") != nullptr) {
    return; // the user's choice, whatever it is
  }
  if (auto cores = std::thread::hardware_concurrency(); cores > 0) {
    cfg.set("scheduler.max-threads", static_cast<std::size_t>(cores));
  }
}

namespace detail {

namespace {
// The actor system behind Workflow::orchestrate. Runs are short-lived actors, so the system
// can be torn down at exit; detached pool threads that still block are simply abandoned.
struct default_system {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  runtime rt;
  default_system() : sys((apply_scheduler_defaults(cfg), cfg)), rt(sys) {}
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
  return caf::error(static_cast<std::uint8_t>(static_cast<std::uint8_t>(e.code()) + 1), caf::atom("cano"),
                    caf::make_message(e.to_string()));
}
} // namespace cano
