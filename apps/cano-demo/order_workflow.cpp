#include "order_workflow.hpp"

#include <map>
#include <mutex>

using namespace std::chrono_literals;

namespace demo {

std::string to_string(Order s) {
  switch (s) {
    case Order::Validate: return "Validate";
    case Order::Route: return "Route";
    case Order::Reserve: return "Reserve";
    case Order::Charge: return "Charge";
    case Order::Ship: return "Ship";
    case Order::Done: return "Done";
    case Order::Rejected: return "Rejected";
  }
  return "?";
}

namespace {

/// Charges fail `failures` times per order id (a flaky payment gateway), then succeed.
class Charge : public cano::Task<Order> {
public:
  explicit Charge(int failures) : failures_(failures) {}
  std::string name() const override { return "charge"; }
  cano::TaskConfig config() const override {
    return cano::TaskConfig{}.with_retry(cano::RetryMode::exponential_custom(3, 20ms, 2.0, 200ms, 0.1));
  }
  cano::expected<cano::TaskResult<Order>> run(cano::task_context& ctx) override {
    std::lock_guard<std::mutex> guard(mutex_);
    if (attempts_[ctx.workflow_id()]++ < failures_) {
      return cano::error::task_execution("payment gateway timed out (attempt " +
                                         std::to_string(ctx.attempt()) + ")");
    }
    return Order::Ship;
  }

private:
  int failures_;
  std::mutex mutex_;
  std::map<std::string, int> attempts_;
};

/// Reserves the order's stock in one warehouse; `in_stock` false makes it fail.
std::shared_ptr<cano::Task<Order>> reserve_in(const std::string& warehouse, bool in_stock) {
  return cano::make_task<Order>(
    "reserve@" + warehouse,
    [in_stock, warehouse]() -> cano::expected<Order> {
      if (!in_stock) {
        return cano::error::task_execution(warehouse + " warehouse is out of stock");
      }
      return Order::Charge;
    },
    cano::TaskConfig::minimal());
}

} // namespace

cano::Workflow<Order> order_workflow(int flaky_failures) {
  auto fast = cano::TaskConfig::minimal().with_blocking(false);
  return cano::Workflow<Order>{}
    .with_name("orders")
    .register_task(Order::Validate, "validate",
                   [](cano::task_context& ctx) -> cano::expected<Order> {
                     const auto& in = ctx.input();
                     if (!in.contains("amount") || !in["amount"].is_number() || in["amount"].get<double>() <= 0) {
                       return cano::error::task_execution("order has no positive amount").permanent();
                     }
                     return Order::Route;
                   },
                   fast)
    .register_router(Order::Route, "route",
                     [](cano::task_context& ctx) {
                       return ctx.input()["amount"].get<double>() > 1000 ? Order::Rejected : Order::Reserve;
                     },
                     fast)
    .register_split(Order::Reserve,
                    {reserve_in("east", true), reserve_in("west", true), reserve_in("north", false)},
                    cano::JoinConfig<Order>{cano::JoinStrategy::quorum(2), Order::Charge}.with_timeout(2s))
    .register_task(Order::Charge, std::make_shared<Charge>(flaky_failures))
    .register_task(Order::Ship, "ship", [] { return Order::Done; })
    .add_exit_states({Order::Done, Order::Rejected});
}

} // namespace demo
