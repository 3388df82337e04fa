// cano-semantics §5.8 #134: concurrent sagas on a shared ledger stay consistent — every run
// either completes (its account holds 300) or rolls back to 0, and no balance goes negative.
#include <map>
#include <mutex>

#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/test_system.hpp"

namespace {

/// Balances by account, and the lowest balance ever seen.
struct ledger {
  std::mutex m;
  std::map<std::string, long> balance;
  long min_seen = 0;
  void add(const std::string& account, long amount) {
    std::lock_guard<std::mutex> g(m);
    auto& b = balance[account];
    b += amount;
    min_seen = std::min(min_seen, b);
  }
  long of(const std::string& account) {
    std::lock_guard<std::mutex> g(m);
    return balance[account];
  }
};

/// Charges 100 to the run's account, fails instead when the run's fail_at is this step.
class charge : public cano::CompensatableTask<std::uint32_t, long> {
public:
  charge(std::shared_ptr<ledger> l, std::uint32_t step) : ledger_(std::move(l)), step_(step) {}
  std::string name() const override { return "charge" + std::to_string(step_); }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<std::pair<cano::TaskResult<std::uint32_t>, long>> run(cano::task_context& ctx) override {
    if (ctx.input().at("fail_at").get<std::uint32_t>() == step_) {
      return cano::error::task_execution("step " + std::to_string(step_) + " declined");
    }
    ledger_->add(ctx.workflow_id(), 100);
    return std::make_pair(cano::TaskResult<std::uint32_t>(step_ + 1), 100L);
  }
  cano::expected<void> compensate(cano::task_context& ctx, long amount) override {
    ledger_->add(ctx.workflow_id(), -amount);
    return {};
  }

private:
  std::shared_ptr<ledger> ledger_;
  std::uint32_t step_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(saga_hardening_test)

BOOST_AUTO_TEST_CASE(concurrent_sagas_on_a_shared_ledger_complete_or_roll_back_cleanly) {
  auto book = std::make_shared<ledger>();
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto wf = cano::Workflow<std::uint32_t>{}
              .register_with_compensation(0u, std::make_shared<charge>(book, 0))
              .register_with_compensation(1u, std::make_shared<charge>(book, 1))
              .register_with_compensation(2u, std::make_shared<charge>(book, 2))
              .add_exit_state(3u)
              .with_checkpoint_store(store);
  test::test_system ts;
  caf::scoped_actor self{*ts.sys};
  for (std::uint32_t i = 0; i < 40; ++i) {
    ts.rt->start(wf, 0u, {"acct-" + std::to_string(i), {{"fail_at", i % 4}}}, caf::actor_cast<caf::actor>(self));
  }
  std::size_t completed = 0;
  std::size_t rolled_back = 0;
  for (int i = 0; i < 40; ++i) {
    bool got = false;
    self->receive(
      [&](cano::run_result& r) {
        got = true;
        if (r.ok()) {
          ++completed;
          BOOST_TEST(book->of(r.workflow_id) == 300);
        } else {
          ++rolled_back;
          BOOST_TEST(r.failure->category() == std::string("task_execution"));
          BOOST_TEST(book->of(r.workflow_id) == 0);
        }
        // Success and a clean rollback clear the log; a failure with nothing to undo keeps it.
        bool nothing_to_undo = !r.ok() && r.failure->message() == "step 0 declined";
        BOOST_TEST(store->rows(r.workflow_id).empty() == !nothing_to_undo);
      },
      caf::after(std::chrono::seconds(120)) >> [] {});
    BOOST_REQUIRE(got);
  }
  BOOST_TEST(completed == 10u);
  BOOST_TEST(rolled_back == 30u);
  BOOST_TEST(book->min_seen >= 0);
}

BOOST_AUTO_TEST_SUITE_END()
