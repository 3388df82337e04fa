// BatchTask — load a list of items, process each (bounded concurrency, per-item retries),
// then finish with every item's outcome in input order.
//
//   struct Resize : cano::BatchTask<Job, std::string, std::size_t> {
//     std::size_t concurrency() const override { return 8; }
//     cano::expected<std::vector<std::string>> load(cano::task_context&) override { ... }
//     cano::expected<std::size_t> process_item(const std::string& path) override { ... }
//     cano::expected<cano::TaskResult<Job>> finish(cano::task_context&,
//         std::vector<cano::expected<std::size_t>> sizes) override { return Job::Done; }
//   };
//
// Item errors never fail the batch; only load and finish errors do, and then the task's own
// retry policy re-runs the whole load → items → finish cycle. Items have no timeout or breaker
// of their own; attempt_timeout bounds the whole cycle. Items run on the engine's machinery
// (the pool for blocking tasks, inline otherwise), never a thread per item.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "cano/detail/program_task.hpp"

namespace cano {

template <class S, class Item, class Output>
class BatchTask : public detail::program_task<S> {
public:
  using item_type = Item;
  using output_type = Output;

  /// Items processed at once (0 counts as 1).
  virtual std::size_t concurrency() const { return 1; }
  /// Retries of a single item; the last error is kept as is (no retry_exhausted wrapping).
  virtual RetryMode item_retry() const { return RetryMode::none(); }
  TaskConfig config() const override { return TaskConfig{}; }

  virtual expected<std::vector<Item>> load(task_context& ctx) = 0;
  virtual expected<Output> process_item(const Item& item) = 0;
  virtual expected<TaskResult<S>> finish(task_context& ctx, std::vector<expected<Output>> outputs) = 0;

  std::unique_ptr<detail::attempt_program> make_program(const std::shared_ptr<detail::program_task<S>>& self) override;
};

namespace detail {

/// One load → items → finish cycle.
template <class S, class Item, class Output>
class batch_program final : public attempt_program {
  using task_type = BatchTask<S, Item, Output>;
  static constexpr std::uint64_t load_call = 0;
  static constexpr std::uint64_t finish_call = 1;
  static constexpr std::uint64_t first_item_call = 2;

public:
  explicit batch_program(std::shared_ptr<task_type> task)
    : task_(std::move(task)),
      concurrency_(task_->concurrency() == 0 ? 1 : task_->concurrency()),
      item_retry_(task_->item_retry()) {}

  program_action begin() override {
    program_action a;
    a.calls.push_back({load_call, duration{0}, [task = task_](task_context& ctx) -> expected<std::any> {
                         auto items = task->load(ctx);
                         if (!items) {
                           return items.error();
                         }
                         return std::any(std::make_shared<const std::vector<Item>>(std::move(*items)));
                       }});
    return a;
  }

  program_action on_call_done(std::uint64_t id, expected<std::any> value) override {
    program_action a;
    if (id == load_call) {
      if (!value) {
        this->measure([](metrics_sink& m) { m.batch_run(false); });
        a.finished.emplace(value.error());
        return a;
      }
      items_ = std::any_cast<std::shared_ptr<const std::vector<Item>>>(*value);
      outputs_.resize(items_->size());
      attempts_.assign(items_->size(), 0);
      while (next_ < items_->size() && in_flight_ < concurrency_) {
        a.calls.push_back(item_call(next_++, duration{0}));
        ++in_flight_;
      }
      if (items_->empty()) {
        a.calls.push_back(finish_call_request());
      }
      return a;
    }
    if (id == finish_call) {
      const bool ok = value.has_value();
      this->measure([ok](metrics_sink& m) { m.batch_run(ok); });
      if (!value) {
        a.finished.emplace(value.error());
      } else {
        a.finished.emplace(to_step_result(std::any_cast<TaskResult<S>&>(*value)));
      }
      return a;
    }
    auto index = static_cast<std::size_t>(id - first_item_call);
    if (!value) {
      auto attempt = ++attempts_[index];
      if (attempt < item_retry_.max_attempts()) {
        auto delay = item_retry_.delay_for_attempt(attempt - 1).value_or(duration{0});
        a.calls.push_back(item_call(index, delay));
        return a;
      }
      outputs_[index].emplace(value.error());
    } else {
      outputs_[index].emplace(std::any_cast<Output&>(*value));
    }
    --in_flight_;
    ++settled_;
    if (next_ < items_->size()) {
      a.calls.push_back(item_call(next_++, duration{0}));
      ++in_flight_;
    } else if (settled_ == items_->size()) {
      a.calls.push_back(finish_call_request());
    }
    return a;
  }

private:
  call_request item_call(std::size_t index, duration delay) {
    return {first_item_call + index, delay, [task = task_, items = items_, index](task_context&) -> expected<std::any> {
              auto out = task->process_item((*items)[index]);
              if (!out) {
                return out.error();
              }
              return std::any(std::move(*out));
            }};
  }

  call_request finish_call_request() {
    auto outputs = std::make_shared<std::vector<expected<Output>>>();
    outputs->reserve(outputs_.size());
    std::size_t ok = 0;
    for (auto& o : outputs_) {
      ok += o->has_value() ? 1 : 0;
      outputs->push_back(std::move(*o));
    }
    const std::size_t failed = outputs->size() - ok;
    this->measure([ok, failed](metrics_sink& m) { m.batch_items(ok, failed); });
    return {finish_call, duration{0}, [task = task_, outputs](task_context& ctx) -> expected<std::any> {
              auto r = task->finish(ctx, std::move(*outputs));
              if (!r) {
                return r.error();
              }
              return std::any(std::move(*r));
            }};
  }

  std::shared_ptr<task_type> task_;
  std::size_t concurrency_;
  RetryMode item_retry_;
  std::shared_ptr<const std::vector<Item>> items_;
  std::vector<std::optional<expected<Output>>> outputs_;
  std::vector<std::size_t> attempts_;
  std::size_t next_ = 0;
  std::size_t in_flight_ = 0;
  std::size_t settled_ = 0;
};

} // namespace detail

template <class S, class Item, class Output>
std::unique_ptr<detail::attempt_program>
BatchTask<S, Item, Output>::make_program(const std::shared_ptr<detail::program_task<S>>& self) {
  return std::make_unique<detail::batch_program<S, Item, Output>>(
    std::static_pointer_cast<BatchTask<S, Item, Output>>(self));
}

/// cano's run_batch for direct calls outside the engine: items one after another on the
/// calling thread (sleeping through item retry delays), outputs in input order. Runs and items
/// are counted in the default metrics sink (set_default_metrics_sink), if any.
template <class S, class Item, class Output>
expected<TaskResult<S>> run_batch(BatchTask<S, Item, Output>& task, task_context& ctx) {
  auto metrics = default_metrics_sink();
  auto items = task.load(ctx);
  if (!items) {
    if (metrics) {
      metrics->batch_run(false);
    }
    return items.error();
  }
  auto retry = task.item_retry();
  std::vector<expected<Output>> outputs;
  outputs.reserve(items->size());
  for (const auto& item : *items) {
    std::size_t attempt = 0;
    for (;;) {
      auto out = task.process_item(item);
      if (out || ++attempt >= retry.max_attempts()) {
        outputs.push_back(std::move(out));
        break;
      }
      auto delay = retry.delay_for_attempt(attempt - 1).value_or(duration{0});
      if (delay.count() > 0) {
        std::this_thread::sleep_for(delay);
      }
    }
  }
  if (metrics) {
    std::size_t ok = 0;
    for (const auto& o : outputs) {
      ok += o.has_value() ? 1 : 0;
    }
    metrics->batch_items(ok, outputs.size() - ok);
  }
  auto result = task.finish(ctx, std::move(outputs));
  if (metrics) {
    metrics->batch_run(result.has_value());
  }
  return result;
}

} // namespace cano
