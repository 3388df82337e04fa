// White-box (engine internals): when a store's checkpoint actor dies, the writes it held or that
// waited in its mailbox end as "store unavailable" — their runs are interrupted (D6: no
// compensation, log kept, resumable) — and the next write is served by a new actor.
#include <atomic>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/checkpoint_actor.hpp"
#include "cano/actor_api.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "engine.hpp"
#include "internal_access.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/temp_dir.hpp"
#include "support/test_system.hpp"

using namespace test;

namespace {

/// A SQLite store whose append_batch waits at a gate while `hold` is set.
class gated_store : public cano::CheckpointStore {
public:
  explicit gated_store(std::shared_ptr<cano::CheckpointStore> inner) : inner_(std::move(inner)) {}
  std::atomic<bool> hold{false};
  gate release;
  counter waiting;
  bool is_blocking() const override { return true; }
  std::vector<cano::expected<void>> append_batch(const std::vector<cano::CheckpointWrite>& w) override {
    if (hold) {
      waiting.arrive();
      release.wait();
    }
    return inner_->append_batch(w);
  }
  cano::expected<void> append(const std::string& id, const cano::CheckpointRow& r) override {
    return inner_->append(id, r);
  }
  cano::expected<std::vector<cano::CheckpointRow>> load_run(const std::string& id) override {
    return inner_->load_run(id);
  }
  cano::expected<void> clear(const std::string& id) override { return inner_->clear(id); }
  cano::expected<void> put_run_header(const cano::RunHeader& h) override { return inner_->put_run_header(h); }
  cano::expected<std::optional<cano::RunHeader>> run_header(const std::string& id) override {
    return inner_->run_header(id);
  }
  cano::expected<std::vector<cano::RunHeader>> unfinished_runs() override { return inner_->unfinished_runs(); }

private:
  std::shared_ptr<cano::CheckpointStore> inner_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(checkpoint_actor_death_test)

BOOST_AUTO_TEST_CASE(runs_waiting_on_a_dead_checkpoint_actor_are_interrupted_and_a_new_actor_serves) {
  temp_dir dir;
  auto store = std::make_shared<gated_store>(*cano::SqliteCheckpointStore::open(dir.file("ckpt.db")));
  auto wf = cano::Workflow<State>{}
              .with_name("death")
              .register_task(
                State::Start, "start", [] { return State::Process; }, cano::TaskConfig::minimal())
              .register_task(
                State::Process, "process", [] { return State::Complete; }, cano::TaskConfig::minimal())
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(std::chrono::seconds(60));
  test_system ts;
  caf::scoped_actor self{*ts.sys};
  store->hold = true;
  ts.rt->start(wf, State::Start, {"held-1", nullptr}, caf::actor_cast<caf::actor>(self));
  BOOST_REQUIRE(store->waiting.wait_for_at_least(1)); // its first write is in the actor's hands
  auto& eng = cano::detail::runtime_access::engine_of(*ts.rt);
  auto channel = eng.checkpoint_channel_for(store);
  auto dying = channel->actor("held-1");              // SQLite: one lane, every run's writes go to this actor
  caf::anon_send_exit(dying, caf::exit_reason::kill); // it will see this after the batch in hand
  for (int i = 2; i <= 4; ++i) {                      // these wait in its mailbox behind the exit
    ts.rt->start(wf, State::Start, {"held-" + std::to_string(i), nullptr}, caf::actor_cast<caf::actor>(self));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (channel->pending.load() < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  BOOST_REQUIRE(channel->pending.load() == 4u);
  store->hold = false;
  store->release.open();
  auto results = receive_results(self, 4);
  BOOST_REQUIRE(results.size() == 4u);
  int interrupted = 0;
  for (const auto& r : results) {
    BOOST_TEST_MESSAGE(r.workflow_id << ": " << (r.ok() ? std::string("ok") : r.failure->to_string()));
    if (!r.ok()) {
      BOOST_TEST(r.failure->is_store_unavailable(), r.failure->to_string());
      BOOST_TEST(r.failure->message().find("checkpoint actor") != std::string::npos, r.failure->to_string());
      ++interrupted;
    }
  }
  BOOST_TEST(interrupted >= 3); // the writes that waited in the mailbox
  // A new actor serves the next write.
  auto next = ts.rt->run(wf, State::Start, {"after", nullptr});
  BOOST_REQUIRE_MESSAGE(next.has_value(), (next ? "" : next.error().to_string()));
  BOOST_TEST((channel->actor("after") != dying));
  BOOST_TEST(channel->restarts.load() == 1u);
  // The interrupted runs lost their very first write with the actor: nothing of them is in the
  // store (no half-written run to resume), and their ids start afresh.
  for (const auto& r : results) {
    if (!r.ok()) {
      BOOST_TEST(!store->run_header(r.workflow_id)->has_value(), r.workflow_id);
      BOOST_TEST(store->load_run(r.workflow_id)->empty(), r.workflow_id);
      BOOST_TEST(ts.rt->run(wf, State::Start, {r.workflow_id, nullptr}).has_value(), r.workflow_id);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
