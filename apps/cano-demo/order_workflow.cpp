#include "order_workflow.hpp"

#include <map>
#include <mutex>

using namespace std::chrono_literals;

namespace demo {

std::string to_string(Order s) {
  switch (s) {
    case Order::Validate: return "Validate";
    case Order::Route: return "Route";
    case Order::Allocate: return "Allocate";
    case Order::Reserve: return "Reserve";
    case Order::Charge: return "Charge";
    case Order::Ship: return "Ship";
    case Order::Done: return "Done";
    case Order::Rejected: return "Rejected";
  }
  return "?";
}

namespace {

/// Asks one warehouse whether it has the order's item; `in_stock` false makes it fail.
std::shared_ptr<cano::Task<Order>> ask_warehouse(const std::string& warehouse, bool in_stock) {
  return cano::make_task<Order>(
    "allocate@" + warehouse,
    [in_stock, warehouse]() -> cano::expected<Order> {
      if (!in_stock) {
        return cano::error::task_execution(warehouse + " warehouse is out of stock");
      }
      return Order::Reserve;
    },
    cano::TaskConfig::minimal());
}

/// Reserves stock (output: the reservation id); compensation releases it.
class Reserve : public cano::CompensatableTask<Order, std::string> {
public:
  explicit Reserve(journal log) : log_(std::move(log)) {}
  std::string name() const override { return "reserve"; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<std::pair<cano::TaskResult<Order>, std::string>> run(cano::task_context& ctx) override {
    auto reservation = "rsv-" + ctx.workflow_id();
    log_("reserved " + ctx.input().value("sku", std::string("?")) + " as " + reservation);
    return std::make_pair(cano::TaskResult<Order>(Order::Charge), reservation);
  }
  cano::expected<void> compensate(cano::task_context&, std::string reservation) override {
    log_("released " + reservation);
    return {};
  }

private:
  journal log_;
};

/// Charges the card (output: the amount), failing `failures` times per order like a flaky
/// gateway; compensation refunds.
class Charge : public cano::CompensatableTask<Order, double> {
public:
  Charge(int failures, journal log) : failures_(failures), log_(std::move(log)) {}
  std::string name() const override { return "charge"; }
  cano::TaskConfig config() const override {
    return cano::TaskConfig{}.with_retry(cano::RetryMode::exponential_custom(3, 20ms, 2.0, 200ms, 0.1));
  }
  cano::expected<std::pair<cano::TaskResult<Order>, double>> run(cano::task_context& ctx) override {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (attempts_[ctx.workflow_id()]++ < failures_) {
        return cano::error::task_execution("payment gateway timed out (attempt " + std::to_string(ctx.attempt()) + ")");
      }
    }
    double amount = ctx.input().value("amount", 0.0);
    log_("charged " + std::to_string(amount));
    return std::make_pair(cano::TaskResult<Order>(Order::Ship), amount);
  }
  cano::expected<void> compensate(cano::task_context&, double amount) override {
    log_("refunded " + std::to_string(amount));
    return {};
  }

private:
  int failures_;
  journal log_;
  std::mutex mutex_;
  std::map<std::string, int> attempts_;
};

} // namespace

cano::Workflow<Order> order_workflow(int flaky_failures, journal log,
                                     std::function<void(const std::string&)> ship_hook) {
  auto fast = cano::TaskConfig::minimal().with_blocking(false);
  return cano::Workflow<Order>{}
    .with_name("orders")
    .register_task(
      Order::Validate, "validate",
      [](cano::task_context& ctx) -> cano::expected<Order> {
        const auto& in = ctx.input();
        if (!in.contains("amount") || !in["amount"].is_number() || in["amount"].get<double>() <= 0) {
          return cano::error::task_execution("order has no positive amount").permanent();
        }
        return Order::Route;
      },
      fast)
    .register_router(
      Order::Route, "route",
      [](cano::task_context& ctx) {
        return ctx.input()["amount"].get<double>() > 1000 ? Order::Rejected : Order::Allocate;
      },
      fast)
    .register_split(Order::Allocate,
                    {ask_warehouse("east", true), ask_warehouse("west", true), ask_warehouse("north", false)},
                    cano::JoinConfig<Order>{cano::JoinStrategy::quorum(2), Order::Reserve}.with_timeout(2s))
    .register_with_compensation(Order::Reserve, std::make_shared<Reserve>(log))
    .register_with_compensation(Order::Charge, std::make_shared<Charge>(flaky_failures, log))
    .register_task(
      Order::Ship, "ship",
      [log, ship_hook](cano::task_context& ctx) -> cano::expected<Order> {
        if (ship_hook) {
          ship_hook(ctx.workflow_id());
        }
        if (ctx.stop_requested()) { // this attempt was abandoned: do nothing
          return cano::error::task_execution("abandoned");
        }
        if (ctx.input().value("address", std::string()).empty()) {
          return cano::error::task_execution("no shipping address").permanent();
        }
        log("shipped to " + ctx.input()["address"].get<std::string>());
        return Order::Done;
      },
      cano::TaskConfig::minimal())
    .add_exit_states({Order::Done, Order::Rejected})
    // Where each task may go, for `cano graph orders` (the engine does not check it).
    .with_transitions(Order::Validate, {Order::Route})
    .with_transitions(Order::Route, {Order::Allocate, Order::Rejected})
    .with_transitions(Order::Reserve, {Order::Charge})
    .with_transitions(Order::Charge, {Order::Ship})
    .with_transitions(Order::Ship, {Order::Done});
}

} // namespace demo
