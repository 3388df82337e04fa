// The exact texts of a rollback's errors (cano §1.22 / §3): a compensate that times out, one
// that throws, and a saga step whose compensator is no longer registered.
#include <boost/test/unit_test.hpp>

#include "cano/memory_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// A saga step whose compensate blocks on `hold` (bounded) or throws, as configured.
class step : public cano::CompensatableTask<State, int> {
public:
  step(std::string name, State next, std::shared_ptr<gate> hold, bool throws, cano::TaskConfig cfg)
    : name_(std::move(name)),
      next_(next),
      hold_(std::move(hold)),
      throws_(throws),
      cfg_(std::move(cfg)) {}
  std::string name() const override { return name_; }
  cano::TaskConfig config() const override { return cfg_; }
  cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(next_), 1);
  }
  cano::expected<void> compensate(cano::task_context&, int) override {
    if (hold_) {
      hold_->wait_for(60s);
    }
    if (throws_) {
      throw std::runtime_error("refund service crashed");
    }
    return {};
  }

private:
  std::string name_;
  State next_;
  std::shared_ptr<gate> hold_;
  bool throws_;
  cano::TaskConfig cfg_;
};

cano::Workflow<State> failing_after(std::shared_ptr<step> a, std::shared_ptr<step> b) {
  return cano::Workflow<State>{}
    .register_with_compensation(State::Start, std::move(a))
    .register_with_compensation(State::Process, std::move(b))
    .register_task(
      State::Split, "C", []() -> cano::expected<State> { return cano::error::task_execution("C failed"); },
      cano::TaskConfig::minimal())
    .add_exit_state(State::Complete);
}

} // namespace

BOOST_AUTO_TEST_SUITE(rollback_messages_test)

BOOST_AUTO_TEST_CASE(a_compensate_past_its_attempt_timeout_and_a_throwing_one_are_named_exactly) {
  auto hold = std::make_shared<gate>();
  {
    test_system ts;
    auto wf = failing_after(
      std::make_shared<step>("A", State::Process, nullptr, true, cano::TaskConfig::minimal()),
      std::make_shared<step>("B", State::Split, hold, false, cano::TaskConfig::minimal().with_attempt_timeout(50ms)));
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(!r);
    BOOST_TEST((r.error().code() == cano::errc::compensation_failed));
    const auto& errors = r.error().nested();
    BOOST_REQUIRE(errors.size() == 3u);
    BOOST_TEST(errors[0].message() == "C failed");
    BOOST_TEST(errors[1].category() == std::string("timeout"));
    BOOST_TEST(errors[1].message() == "compensate for \"B\" exceeded attempt_timeout 50ms");
    BOOST_TEST(errors[2].category() == std::string("task_execution"));
    BOOST_TEST(errors[2].message() == "compensate for \"A\" panicked: refund service crashed");
    BOOST_TEST(r.error().to_string() ==
               "Compensation failed (3 error(s)); original: Task execution error: C failed; compensation #1: Timeout "
               "error: compensate for \"B\" exceeded attempt_timeout 50ms; compensation #2: Task execution error: "
               "compensate for \"A\" panicked: refund service crashed");
  }
  hold->open();
}

BOOST_AUTO_TEST_CASE(a_saga_step_without_a_compensator_is_reported_and_the_drain_goes_on) {
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  // A log written by a definition whose Start step was "Gone"; this one has no such compensator.
  BOOST_REQUIRE(store->append("orphan", cano::CheckpointRow(0, "Start", "Gone")).has_value());
  BOOST_REQUIRE(
    store->append("orphan", cano::CheckpointRow(1, "Start", "Gone").with_output(cano::to_blob(5))).has_value());
  BOOST_REQUIRE(store->append("orphan", cano::CheckpointRow(2, "Split", "C")).has_value());
  test_system ts;
  auto wf = failing_after(std::make_shared<step>("A", State::Process, nullptr, false, cano::TaskConfig::minimal()),
                          std::make_shared<step>("B", State::Split, nullptr, false, cano::TaskConfig::minimal()))
              .with_checkpoint_store(store);
  auto r = ts.rt->resume(wf, "orphan");
  BOOST_REQUIRE(!r);
  BOOST_REQUIRE(r.error().nested().size() == 2u);
  BOOST_TEST(r.error().nested()[1].category() == std::string("workflow"));
  BOOST_TEST(r.error().nested()[1].message() == "no compensator registered for task \"Gone\" — cannot roll it back");
}

BOOST_AUTO_TEST_SUITE_END()
