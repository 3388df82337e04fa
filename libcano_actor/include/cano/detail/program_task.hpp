// The common base of tasks the engine drives as a sequence of calls (PollTask, BatchTask).
#pragma once

#include <memory>
#include <string>
#include <typeinfo>

#include "cano/detail/definition.hpp"
#include "cano/task.hpp"

namespace cano::detail {

template <class S>
step_result to_step_result(const TaskResult<S>& r) {
  step_result out;
  if (r.is_split()) {
    out.was_split = true;
  } else {
    out.next = encode_state(r.state());
  }
  return out;
}

template <class S>
class program_task {
public:
  virtual ~program_task() = default;
  virtual TaskConfig config() const = 0;
  virtual std::string name() const { return type_name_of(typeid(*this)); }
  /// A fresh attempt of this task; `self` is this task, shared with the calls it issues.
  virtual std::unique_ptr<attempt_program> make_program(const std::shared_ptr<program_task<S>>& self) = 0;
};

} // namespace cano::detail
