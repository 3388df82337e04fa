// The three stores the conformance suites run on (ARCHITECTURE D6): the in-memory store, which
// the engine appends to directly, and SQLite and PostgreSQL, which it writes through their
// checkpoint actor in batches. Each test gets a store of its own: a fresh SQLite file, or a
// PostgreSQL schema of its own (so fixed workflow ids never meet another test's). Every store
// keeps history (with_history_retention, one hour): finished runs' rows move to the history
// instead of being deleted, and the suites check that the live log is still cleared as cano says.
//
//   BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
//   BOOST_AUTO_TEST_CASE_TEMPLATE(some_behaviour, Kind, test::store_kinds) {
//     auto store = Kind::make();            // std::shared_ptr<test::audited_store>
//     ...
//   }
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include "cano/checkpoint.hpp"

namespace test {

/// A real store behind a recorder: every row that lands is kept in an audit trail (as
/// MemoryCheckpointStore's), and it can fail a chosen row append (a stand-in for a full disk).
/// It blocks exactly when the store it wraps does, with as many batch lanes, so the engine takes
/// the same path.
class audited_store : public cano::CheckpointStore {
public:
  audited_store(std::shared_ptr<cano::CheckpointStore> inner, std::string kind, std::function<void()> cleanup = {});
  ~audited_store() override;

  bool is_blocking() const override { return inner_->is_blocking(); }
  std::size_t batch_lanes() const override { return inner_->batch_lanes(); }
  cano::expected<void> append(const std::string& workflow_id, const cano::CheckpointRow& row) override;
  cano::expected<std::vector<cano::CheckpointRow>> load_run(const std::string& workflow_id) override;
  cano::expected<void> clear(const std::string& workflow_id) override;
  std::vector<cano::expected<void>> append_batch(const std::vector<cano::CheckpointWrite>& writes) override;
  cano::expected<void> check_input(const nlohmann::json& input) const override { return inner_->check_input(input); }
  cano::expected<void> put_run_header(const cano::RunHeader& header) override;
  cano::expected<std::optional<cano::RunHeader>> run_header(const std::string& workflow_id) override;
  cano::expected<std::vector<cano::RunHeader>> unfinished_runs() override;
  cano::expected<cano::RunListing> list_unfinished() override;
  cano::expected<void> acquire_driver() override { return inner_->acquire_driver(); }
  cano::expected<void> claim_run(const std::string& workflow_id) override { return inner_->claim_run(workflow_id); }
  cano::expected<cano::RunPage> list_runs(const cano::RunQuery& query) override { return inner_->list_runs(query); }
  cano::expected<std::vector<cano::RunLogEntry>> run_log(const std::string& workflow_id) override {
    return inner_->run_log(workflow_id);
  }
  cano::expected<cano::PurgeCounts> purge_runs(std::chrono::system_clock::time_point before) override {
    return inner_->purge_runs(before);
  }
  cano::expected<std::uint64_t> purge_history(std::chrono::system_clock::time_point before) override {
    return inner_->purge_history(before);
  }
  bool keeps_history() const override { return inner_->keeps_history(); }
  cano::CheckpointStore& with_history_retention(std::chrono::milliseconds retention) override {
    inner_->with_history_retention(retention);
    return *this;
  }
  std::optional<std::chrono::milliseconds> history_retention() const noexcept override {
    return inner_->history_retention();
  }
  cano::expected<void> request_cancel(const std::string& workflow_id) override {
    return inner_->request_cancel(workflow_id);
  }
  cano::expected<std::vector<std::string>> cancel_requests() override;
  /// How many times the engine asked for cancel requests (one query per interval, not per run).
  std::size_t cancel_queries() const noexcept { return cancel_queries_.load(); }

  /// Live rows of a run, ascending by sequence (the store's load_run; empty on an error).
  std::vector<cano::CheckpointRow> rows(const std::string& workflow_id);
  /// Every row that landed for a run, in append order (survives clear).
  std::vector<cano::CheckpointRow> audit_rows(const std::string& workflow_id) const;
  /// (sequence, state) of audit_rows.
  std::vector<std::pair<std::uint64_t, std::string>> audit_states(const std::string& workflow_id) const;
  /// The header, or nothing (also on an error).
  std::optional<cano::RunHeader> header(const std::string& workflow_id);
  /// The next `ok` row appends succeed; the one after fails with checkpoint_store("simulated disk
  /// failure"); later ones succeed again (the counter wraps, like cano's test double).
  void fail_row_append_after(std::size_t ok) { ok_appends_.store(ok); }
  /// Every write that reached the store, in order (to check what went together).
  std::vector<cano::CheckpointWrite> writes() const;

  const std::string& kind() const noexcept { return kind_; }
  /// Where its data lives: the SQLite file, or the PostgreSQL schema ("" for memory).
  std::string location;
  cano::CheckpointStore& inner() { return *inner_; }

private:
  bool fail_this_row();

  std::shared_ptr<cano::CheckpointStore> inner_;
  std::string kind_;
  std::function<void()> cleanup_;
  std::atomic<std::size_t> ok_appends_{static_cast<std::size_t>(-1)};
  std::atomic<std::size_t> cancel_queries_{0};
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, cano::CheckpointRow>> audit_;
  std::vector<cano::CheckpointWrite> writes_;
};

struct memory_store {
  static std::shared_ptr<audited_store> make();
};
struct sqlite_store {
  static std::shared_ptr<audited_store> make();
};
struct postgres_store {
  static std::shared_ptr<audited_store> make();
};
// A store built without (CANO_ACTOR_WITH_SQLITE/POSTGRES=OFF) has no instances at all.
using store_kinds = boost::mpl::list<memory_store
#if CANO_TESTS_WITH_SQLITE
                                     ,
                                     sqlite_store
#endif
#if CANO_TESTS_WITH_POSTGRES
                                     ,
                                     postgres_store
#endif
                                     >;

/// Boost.Test precondition for store_kinds templates: the PostgreSQL instance runs when a server
/// is configured or required (CANO_REQUIRE_PG=1, as scripts/test.sh sets); the others always.
struct store_kind_available {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id id) const;
};

} // namespace test
