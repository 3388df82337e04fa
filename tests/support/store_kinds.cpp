#include "support/store_kinds.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "cano/memory_checkpoint_store.hpp"
#include "support/postgres.hpp"
#if CANO_TESTS_WITH_SQLITE
#include "cano/sqlite_checkpoint_store.hpp"
#endif
#if CANO_TESTS_WITH_POSTGRES
#include <pqxx/pqxx>

#include "cano/postgres_checkpoint_store.hpp"
#endif

namespace test {

audited_store::audited_store(std::shared_ptr<cano::CheckpointStore> inner, std::string kind,
                             std::function<void()> cleanup)
  : inner_(std::move(inner)),
    kind_(std::move(kind)),
    cleanup_(std::move(cleanup)) {}

audited_store::~audited_store() {
  inner_.reset();
  if (cleanup_) {
    cleanup_();
  }
}

bool audited_store::fail_this_row() { return ok_appends_.fetch_sub(1) == 0; }

cano::expected<void> audited_store::append(const std::string& workflow_id, const cano::CheckpointRow& row) {
  cano::CheckpointWrite w;
  w.workflow_id = workflow_id;
  w.row = row;
  return std::move(append_batch({w}).front());
}

std::vector<cano::expected<void>> audited_store::append_batch(const std::vector<cano::CheckpointWrite>& writes) {
  std::vector<cano::expected<void>> out(writes.size());
  std::vector<cano::CheckpointWrite> passed;
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    if (writes[i].row && fail_this_row()) {
      out[i] = cano::error::checkpoint_store("simulated disk failure");
      continue;
    }
    passed.push_back(writes[i]);
    where.push_back(i);
  }
  auto landed = passed.empty() ? std::vector<cano::expected<void>>{} : inner_->append_batch(passed);
  std::lock_guard<std::mutex> guard(mutex_);
  for (std::size_t k = 0; k < passed.size(); ++k) {
    out[where[k]] = k < landed.size() ? landed[k] : cano::error::checkpoint_store("no outcome");
    writes_.push_back(passed[k]);
    if (out[where[k]] && passed[k].row) {
      audit_.emplace_back(passed[k].workflow_id, *passed[k].row);
    }
  }
  return out;
}

cano::expected<std::vector<cano::CheckpointRow>> audited_store::load_run(const std::string& id) {
  return inner_->load_run(id);
}
cano::expected<void> audited_store::clear(const std::string& id) { return inner_->clear(id); }
cano::expected<void> audited_store::put_run_header(const cano::RunHeader& h) { return inner_->put_run_header(h); }
cano::expected<std::optional<cano::RunHeader>> audited_store::run_header(const std::string& id) {
  return inner_->run_header(id);
}
cano::expected<std::vector<cano::RunHeader>> audited_store::unfinished_runs() { return inner_->unfinished_runs(); }
cano::expected<cano::RunListing> audited_store::list_unfinished() { return inner_->list_unfinished(); }
cano::expected<std::vector<std::string>> audited_store::cancel_requests() {
  ++cancel_queries_;
  return inner_->cancel_requests();
}

std::vector<cano::CheckpointRow> audited_store::rows(const std::string& id) {
  auto r = inner_->load_run(id);
  return r ? *r : std::vector<cano::CheckpointRow>{};
}

std::optional<cano::RunHeader> audited_store::header(const std::string& id) {
  auto h = inner_->run_header(id);
  return h ? *h : std::nullopt;
}

std::vector<cano::CheckpointRow> audited_store::audit_rows(const std::string& id) const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<cano::CheckpointRow> out;
  for (const auto& [wid, row] : audit_) {
    if (wid == id) {
      out.push_back(row);
    }
  }
  return out;
}

std::vector<std::pair<std::uint64_t, std::string>> audited_store::audit_states(const std::string& id) const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const auto& r : audit_rows(id)) {
    out.emplace_back(r.sequence, r.state);
  }
  return out;
}

std::vector<cano::CheckpointWrite> audited_store::writes() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return writes_;
}

namespace {
/// How long the suites' stores keep history: longer than any test.
constexpr std::chrono::hours suite_history_retention{1};
} // namespace

std::shared_ptr<audited_store> memory_store::make() {
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  store->with_history_retention(suite_history_retention);
  return std::make_shared<audited_store>(store, "memory");
}

#if CANO_TESTS_WITH_SQLITE
std::shared_ptr<audited_store> sqlite_store::make() {
  auto dir = std::filesystem::temp_directory_path() / ("cano-conf-" + unique_id("sqlite"));
  std::filesystem::create_directories(dir);
  auto store = cano::SqliteCheckpointStore::open((dir / "ckpt.db").string());
  if (!store) {
    throw std::runtime_error("open a SQLite store: " + store.error().to_string());
  }
  (*store)->with_history_retention(suite_history_retention);
  auto out = std::make_shared<audited_store>(*store, "sqlite", [dir] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  out->location = (dir / "ckpt.db").string();
  return out;
}

#endif

#if CANO_TESTS_WITH_POSTGRES
std::shared_ptr<audited_store> postgres_store::make() {
  // A schema of its own: the store migrates it, and tests may reuse fixed workflow ids.
  auto schema = unique_id("cano_t");
  for (auto& c : schema) {
    if (c == '-') {
      c = '_';
    }
  }
  {
    pqxx::connection admin(pg_dsn());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE SCHEMA " + tx.quote_name(schema));
  }
  cano::PostgresOptions options;
  options.dsn = pg_dsn() + " options='-c search_path=" + schema + "'";
  options.retry_deadline = std::chrono::seconds(30);
  auto store = cano::PostgresCheckpointStore::open(options);
  if (!store) {
    throw std::runtime_error("open a PostgreSQL store: " + store.error().to_string());
  }
  (*store)->with_history_retention(suite_history_retention);
  auto out = std::make_shared<audited_store>(*store, "postgres", [schema] {
    try {
      pqxx::connection admin(pg_dsn());
      pqxx::nontransaction tx(admin);
      tx.exec("DROP SCHEMA " + tx.quote_name(schema) + " CASCADE");
    } catch (const std::exception&) {
      // a throwaway cluster: a schema left behind is harmless
    }
  });
  out->location = schema;
  return out;
}

#endif

boost::test_tools::assertion_result store_kind_available::operator()(boost::unit_test::test_unit_id id) const {
  const auto& name = boost::unit_test::framework::get(id, boost::unit_test::TUT_ANY).p_name.get();
  if (name.find("postgres_store") == std::string::npos) {
    return true;
  }
  return postgres_configured()(id);
}

} // namespace test
