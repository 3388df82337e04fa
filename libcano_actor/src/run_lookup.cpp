// Runs by id (ARCHITECTURE D9): start-or-get, and a run's result read back from its header by any
// process — or awaited, when a run of this runtime still drives it.
#include <memory>

#include "engine.hpp"
#include "format.hpp"
#include "internal_access.hpp"
#include "user_code.hpp"

namespace cano::detail {

namespace {

/// What the header of a finished run says its result is; nothing for an unfinished run.
std::optional<run_result> result_from_header(const definition& def, const RunHeader& h) {
  if (is_unfinished(h.status)) {
    return std::nullopt;
  }
  run_result r;
  r.workflow_id = h.workflow_id;
  if (h.status == RunStatus::completed) {
    if (auto state = def.state_of(h.final_state)) {
      run_result_access::set_final_state(r, *state);
    } else {
      r.failure = error::workflow("run " + debug_quote(h.workflow_id) + " completed in state " +
                                  debug_quote(h.final_state) + ", which this definition does not have");
    }
    return r;
  }
  r.failure = h.failure ? *h.failure
                        : error::workflow("run " + debug_quote(h.workflow_id) + " ended as " + to_string(h.status) +
                                          "; its header (written by an older version) keeps no error");
  return r;
}

run_result failed(const std::string& id, error e) {
  run_result r;
  r.workflow_id = id;
  r.failure = std::move(e);
  return r;
}

expected<std::optional<RunHeader>> read_header(CheckpointStore& store, const std::string& id) {
  return call_guarded([&] { return store.run_header(id); },
                      [](const std::string& text) -> expected<std::optional<RunHeader>> {
                        return error::checkpoint_store("run_header: the store threw: " + text);
                      });
}

/// Runs `job` on the pool (store reads may block); if the pool is full, reports that.
template <class Job>
void off_thread(engine& eng, completion& done, const std::string& id, Job job) {
  auto shared_done = std::make_shared<completion>(std::move(done));
  if (!eng.pool()->try_post([job, shared_done]() mutable { job(*shared_done); })) {
    engine::report(*shared_done,
                   failed(id, error::checkpoint_store("blocking pool exhausted: cannot read run " + debug_quote(id))));
  }
}

} // namespace

void engine::lookup(std::shared_ptr<const definition> def, std::string id, completion done) {
  auto waiter = [shared = std::make_shared<completion>(done)](const run_result& r) { report(*shared, r); };
  if (await_live(id, waiter)) {
    return;
  }
  if (!def->store) {
    return report(done, failed(id, error::configuration("reading a run's result by id requires a checkpoint store")));
  }
  auto self = shared_from_this();
  off_thread(*this, done, id, [self, def, id](completion& d) {
    auto header = read_header(*def->store, id);
    if (!header) {
      return report(d, failed(id, header.error()));
    }
    if (!*header) {
      return report(d, failed(id, error::workflow("no run with workflow id " + debug_quote(id))));
    }
    if (auto r = result_from_header(*def, **header)) {
      return report(d, std::move(*r));
    }
    // It may have ended between the first look and the read: look once more.
    auto shared = std::make_shared<completion>(d);
    if (self->await_live(id, [shared](const run_result& r) { report(*shared, r); })) {
      return;
    }
    report(d, failed(id, error::workflow("run " + debug_quote(id) + " is unfinished (status " +
                                         to_string((*header)->status) +
                                         ") and not driven by this runtime; resume it to get its result")));
  });
}

void engine::submit(std::shared_ptr<const definition> def, state_code initial, run_options options, completion done) {
  std::string id = options.workflow_id.empty() ? def->workflow_id : options.workflow_id;
  if (!def->store || id.empty()) {
    return report(done, failed(id, error::configuration("submit requires a checkpoint store and a workflow id")));
  }
  auto waiter = [shared = std::make_shared<completion>(done)](const run_result& r) { report(*shared, r); };
  if (await_live(id, waiter)) {
    return;
  }
  auto self = shared_from_this();
  off_thread(*this, done, id, [self, def, initial, options, id](completion& d) {
    auto header = read_header(*def->store, id);
    if (!header) {
      return report(d, failed(id, header.error()));
    }
    if (*header) {
      if (auto r = result_from_header(*def, **header)) {
        return report(d, std::move(*r)); // finished: its result, nothing runs again
      }
      // Unfinished and not ours: take it over and drive it to its end (D8: the claim fences
      // any previous driver).
      run_options resume{id, nullptr};
      resume.cancellation = options.cancellation;
      return void(self->start(def, 0, std::move(resume), std::move(d), nullptr, true));
    }
    // A new id. Should another start win the race for it, the refusal says so; the caller can
    // submit again to get that run.
    self->start(def, initial, options, std::move(d), nullptr, false);
  });
}

} // namespace cano::detail
