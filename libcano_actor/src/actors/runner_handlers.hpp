// The message handlers every runner host installs: they route runner messages by tag.
#pragma once

#include <caf/message_handler.hpp>

#include "../engine.hpp"
#include "messages.hpp"

namespace cano::detail {

/// `find(tag)` returns the runner for a tag (or nullptr: stale); `after(tag, runner)` runs after
/// each delivery so the host can act on a finished runner.
template <class Find, class After>
caf::message_handler runner_handlers(Find find, After after) {
  return {
    [=](call_done_atom, std::uint32_t tag, std::uint64_t seq, std::uint64_t id, call_result_ptr& r) {
      engine_actor_scope scope;
      if (auto* runner = find(tag)) {
        runner->on_call_done(seq, id, *r);
        after(tag, *runner);
      }
    },
    [=](call_due_atom, std::uint32_t tag, std::uint64_t seq, std::uint64_t id) {
      engine_actor_scope scope;
      if (auto* runner = find(tag)) {
        runner->on_call_due(seq, id);
        after(tag, *runner);
      }
    },
    [=](att_timeout_atom, std::uint32_t tag, std::uint64_t seq) {
      engine_actor_scope scope;
      if (auto* runner = find(tag)) {
        runner->on_attempt_timeout(seq);
        after(tag, *runner);
      }
    },
    [=](retry_atom, std::uint32_t tag, std::uint64_t seq) {
      engine_actor_scope scope;
      if (auto* runner = find(tag)) {
        runner->on_retry_due(seq);
        after(tag, *runner);
      }
    },
  };
}

} // namespace cano::detail
