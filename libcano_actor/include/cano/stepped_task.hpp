// SteppedTask — long work in resumable steps. Each step gets the cursor the previous one
// returned (none at first) and says More(next cursor) or Done(next state).
//
//   struct Import : cano::SteppedTask<Job, std::size_t> {   // the cursor: rows imported so far
//     cano::expected<cano::StepOutcome<Job, std::size_t>>
//     step(cano::task_context&, std::optional<std::size_t> done) override {
//       auto n = done.value_or(0) + import_page(done.value_or(0));
//       if (n < total) return cano::StepOutcome<Job, std::size_t>::more(n);
//       return cano::StepOutcome<Job, std::size_t>::done(Job::Verify);
//     }
//   };
//   wf.register_stepped(Job::Import, std::make_shared<Import>());
//
// Registered with register_stepped the engine drives the steps: each step is its own retry
// loop (a failed step is retried with the same cursor) and attempt_timeout bounds one step.
// Cursors are JSON (nlohmann::json to_json/from_json), so they can be checkpointed.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "cano/detail/definition.hpp"
#include "cano/task.hpp"

namespace cano {

template <class S, class Cursor = nlohmann::json>
class StepOutcome {
public:
  static StepOutcome more(Cursor next) { return StepOutcome(std::move(next)); }
  static StepOutcome done(TaskResult<S> result) { return StepOutcome(std::move(result)); }
  bool is_more() const noexcept { return cursor_.has_value(); }
  const Cursor& cursor() const { return *cursor_; }
  const TaskResult<S>& result() const { return *result_; }

private:
  explicit StepOutcome(Cursor c) : cursor_(std::move(c)) {}
  explicit StepOutcome(TaskResult<S> r) : result_(std::move(r)) {}
  std::optional<Cursor> cursor_;
  std::optional<TaskResult<S>> result_;
};

template <class S, class Cursor = nlohmann::json>
class SteppedTask {
public:
  using cursor_type = Cursor;
  virtual ~SteppedTask() = default;
  virtual TaskConfig config() const { return TaskConfig{}; }
  virtual std::string name() const { return detail::type_name_of(typeid(*this)); }
  virtual expected<StepOutcome<S, Cursor>> step(task_context& ctx, std::optional<Cursor> cursor) = 0;
};

namespace detail {

/// The erased step body: decodes the JSON cursor, steps, encodes the next cursor.
template <class S, class Cursor>
erased_body stepped_body(std::shared_ptr<SteppedTask<S, Cursor>> task, std::string name) {
  return [task, name](task_context& ctx, const nlohmann::json& cursor) -> expected<step_result> {
    std::optional<Cursor> current;
    if (!cursor.is_null()) {
      try {
        current = cursor.get<Cursor>();
      } catch (const std::exception& e) {
        return error::task_execution("deserialize cursor for `" + name + "`: " + e.what());
      }
    }
    auto r = task->step(ctx, std::move(current));
    if (!r) {
      return r.error();
    }
    step_result out;
    if (r->is_more()) {
      out.more = true;
      try {
        out.cursor = std::make_shared<const nlohmann::json>(r->cursor());
      } catch (const std::exception& e) {
        return error::task_execution("serialize cursor for `" + name + "`: " + e.what());
      }
      return out;
    }
    if (r->result().is_split()) {
      out.was_split = true;
    } else {
      out.next = encode_state(r->result().state());
    }
    return out;
  };
}

} // namespace detail

/// cano's run_stepped for direct calls outside the engine: steps from no cursor until Done.
template <class S, class Cursor>
expected<TaskResult<S>> run_stepped(SteppedTask<S, Cursor>& task, task_context& ctx) {
  std::optional<Cursor> cursor;
  for (;;) {
    auto r = task.step(ctx, cursor);
    if (!r) {
      return r.error();
    }
    if (!r->is_more()) {
      return r->result();
    }
    cursor = r->cursor();
  }
}

} // namespace cano
