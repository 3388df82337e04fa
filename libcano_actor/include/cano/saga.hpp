// CompensatableTask — a saga step: it does something and knows how to undo it.
//
//   struct Charge : cano::CompensatableTask<Order, std::string> {    // output: the payment id
//     cano::expected<std::pair<cano::TaskResult<Order>, std::string>> run(cano::task_context&) override {
//       return std::make_pair(cano::TaskResult<Order>(Order::Ship), gateway.charge());
//     }
//     cano::expected<void> compensate(cano::task_context&, std::string payment) override {
//       return gateway.refund(payment);            // must be idempotent
//     }
//   };
//   wf.register_with_compensation(Order::Charge, std::make_shared<Charge>());
//
// When a run fails, the engine undoes its completed saga steps in reverse order (never stopping
// early), each compensate bounded by the task's attempt_timeout and never retried. The output
// is stored as JSON in the checkpoint log, so a run resumed in another process can still be
// rolled back. A clean rollback returns the original error; otherwise compensation_failed with
// the original error first.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "cano/detail/definition.hpp"
#include "cano/task.hpp"

namespace cano {

template <class S, class Output>
class CompensatableTask {
public:
  using output_type = Output;
  virtual ~CompensatableTask() = default;
  /// Read at registration for the forward run, and again at rollback for attempt_timeout.
  virtual TaskConfig config() const { return TaskConfig{}; }
  /// The compensation key: keep it stable across processes.
  virtual std::string name() const { return detail::type_name_of(typeid(*this)); }
  virtual expected<std::pair<TaskResult<S>, Output>> run(task_context& ctx) = 0;
  virtual expected<void> compensate(task_context& ctx, Output output) = 0;
};

namespace detail {

template <class S, class Output>
erased_body compensatable_body(std::shared_ptr<CompensatableTask<S, Output>> task, std::string name) {
  return [task, name](task_context& ctx, const nlohmann::json&) -> expected<step_result> {
    auto r = task->run(ctx);
    if (!r) {
      return r.error();
    }
    step_result out;
    if (r->first.is_split()) {
      out.was_split = true;
      return out;
    }
    out.next = encode_state(r->first.state());
    try {
      out.output = std::make_shared<const nlohmann::json>(r->second);
    } catch (const std::exception& e) {
      return error::task_execution("serialize compensation output for `" + name + "`: " + e.what());
    }
    out.has_output = true;
    return out;
  };
}

template <class S, class Output>
std::shared_ptr<const compensator> make_compensator(std::shared_ptr<CompensatableTask<S, Output>> task,
                                                    std::string name) {
  auto c = std::make_shared<compensator>();
  c->config = [task] { return task->config(); };
  c->compensate = [task, name](task_context& ctx, const nlohmann::json& output) -> expected<void> {
    Output value;
    try {
      value = output.get<Output>();
    } catch (const std::exception& e) {
      return error::generic("deserialize compensation output for `" + name + "`: " + e.what());
    }
    return task->compensate(ctx, std::move(value));
  };
  c->task = std::move(task);
  return c;
}

} // namespace detail
} // namespace cano
