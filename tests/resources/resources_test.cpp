// Resources: typed keyed lookup, lifecycle ordering, health, and the shared (reference counted)
// lifecycle of overlapping runs (spec §1.14, acceptance scenarios §5.9 #136–142, ARCHITECTURE D5).
#include <boost/test/unit_test.hpp>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cano/resources.hpp"

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A thread-safe list of lifecycle events ("setup:A", "teardown:A", ...).
class event_log {
public:
  void add(std::string e) {
    std::lock_guard<std::mutex> g(m_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> g(m_);
    return events_;
  }

private:
  mutable std::mutex m_;
  std::vector<std::string> events_;
};

struct TypeA : cano::Resource {
  int value = 1;
};
struct TypeB : cano::Resource {
  int value = 2;
};

/// Records its setup and teardown; optionally fails either.
class recording_resource : public cano::Resource {
public:
  recording_resource(std::string name, std::shared_ptr<event_log> log, bool fail_setup = false,
                     bool fail_teardown = false)
    : name_(std::move(name)),
      log_(std::move(log)),
      fail_setup_(fail_setup),
      fail_teardown_(fail_teardown) {}

  cano::expected<void> setup() override {
    log_->add("setup:" + name_);
    if (fail_setup_) {
      return cano::error::task_execution(name_ + " setup failed");
    }
    return {};
  }
  cano::expected<void> teardown() override {
    log_->add("teardown:" + name_);
    if (fail_teardown_) {
      return cano::error::task_execution(name_ + " teardown failed");
    }
    return {};
  }

private:
  std::string name_;
  std::shared_ptr<event_log> log_;
  bool fail_setup_;
  bool fail_teardown_;
};

/// Reports a fixed health status.
class health_resource : public cano::Resource {
public:
  explicit health_resource(cano::HealthStatus status) : status_(std::move(status)) {}
  cano::HealthStatus health() override { return status_; }

private:
  cano::HealthStatus status_;
};

/// Fails its setup the first `failures` times, then succeeds.
class flaky_setup_resource : public cano::Resource {
public:
  flaky_setup_resource(std::shared_ptr<event_log> log, int failures) : log_(std::move(log)), failures_left_(failures) {}
  cano::expected<void> setup() override {
    log_->add("setup:flaky");
    if (failures_left_ > 0) {
      --failures_left_;
      return cano::error::task_execution("flaky setup failed");
    }
    return {};
  }
  cano::expected<void> teardown() override {
    log_->add("teardown:flaky");
    return {};
  }

private:
  std::shared_ptr<event_log> log_;
  int failures_left_;
};

using events = std::vector<std::string>;

} // namespace

BOOST_AUTO_TEST_SUITE(resources_test)

// §5.9 #136
BOOST_AUTO_TEST_CASE(every_way_of_creating_resources_starts_empty) {
  cano::Resources made;
  BOOST_TEST(made.size() == 0u);
  BOOST_TEST(made.empty_set());
  BOOST_TEST(cano::Resources::empty().size() == 0u);
  BOOST_TEST(cano::Resources::empty().empty_set());
  BOOST_TEST(cano::Resources::with_capacity(64).size() == 0u);
  BOOST_TEST(cano::Resources::with_capacity(64).empty_set());
  BOOST_TEST(cano::Resources{}.size() == 0u);
}

// §5.9 #137
BOOST_AUTO_TEST_CASE(get_returns_the_resource_inserted_under_the_key_as_its_type) {
  auto a = std::make_shared<TypeA>();
  cano::Resources res;
  res.insert("a", a);
  BOOST_TEST(res.size() == 1u);
  auto got = res.get<TypeA>("a");
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST(got.value().get() == a.get());
  BOOST_TEST(got.value()->value == 1);
}

// §5.9 #137
BOOST_AUTO_TEST_CASE(get_of_a_missing_key_is_resource_not_found) {
  cano::Resources res;
  res.insert("a", std::make_shared<TypeA>());
  auto missing = res.get<TypeA>("missing");
  BOOST_TEST_REQUIRE(!missing.has_value());
  BOOST_TEST(std::string(missing.error().category()) == "resource_not_found");
  BOOST_TEST((missing.error().code() == cano::errc::resource_not_found));
  auto message = missing.error().message();
  BOOST_TEST(message.rfind("no resource found for the given key (requested type: ", 0) == 0u);
  BOOST_TEST(contains(message, "TypeA"));
}

// §5.9 #137
BOOST_AUTO_TEST_CASE(get_with_another_type_is_resource_type_mismatch) {
  cano::Resources res;
  res.insert("a", std::make_shared<TypeA>());
  auto wrong = res.get<TypeB>("a");
  BOOST_TEST_REQUIRE(!wrong.has_value());
  BOOST_TEST(std::string(wrong.error().category()) == "resource_type_mismatch");
  auto message = wrong.error().message();
  BOOST_TEST(message.rfind("resource found but the requested type ", 0) == 0u);
  BOOST_TEST(contains(message, "TypeB"));
  BOOST_TEST(contains(message, " does not match the stored type"));
}

// §5.9 #137
BOOST_AUTO_TEST_CASE(repeated_gets_return_the_same_shared_object) {
  cano::Resources res;
  res.insert("a", std::make_shared<TypeA>());
  auto first = res.get<TypeA>("a");
  auto second = res.get<TypeA>("a");
  BOOST_TEST_REQUIRE(first.has_value());
  BOOST_TEST_REQUIRE(second.has_value());
  BOOST_TEST(first.value().get() == second.value().get());
}

// §5.9 #138
BOOST_AUTO_TEST_CASE(setup_runs_in_insertion_order_and_teardown_in_reverse) {
  auto log = std::make_shared<event_log>();
  auto res = cano::Resources{}
               .insert("a", std::make_shared<recording_resource>("A", log))
               .insert("b", std::make_shared<recording_resource>("B", log))
               .insert("c", std::make_shared<recording_resource>("C", log));
  BOOST_TEST(res.setup_all().has_value());
  BOOST_TEST(log->events() == (events{"setup:A", "setup:B", "setup:C"}));
  res.teardown_all();
  BOOST_TEST(log->events() == (events{"setup:A", "setup:B", "setup:C", "teardown:C", "teardown:B", "teardown:A"}));
}

// §5.9 #139
BOOST_AUTO_TEST_CASE(failed_setup_tears_down_only_the_resources_already_set_up) {
  auto log = std::make_shared<event_log>();
  cano::Resources res;
  res.insert("r0", std::make_shared<recording_resource>("R0", log));
  res.insert("r1", std::make_shared<recording_resource>("R1", log));
  res.insert("r2", std::make_shared<recording_resource>("R2", log, /*fail_setup*/ true));
  res.insert("r3", std::make_shared<recording_resource>("R3", log));
  auto r = res.setup_all();
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == cano::error::task_execution("R2 setup failed"));
  BOOST_TEST(log->events() == (events{"setup:R0", "setup:R1", "setup:R2", "teardown:R1", "teardown:R0"}));
}

// §5.9 #140
BOOST_AUTO_TEST_CASE(teardown_errors_never_stop_the_teardown_sequence) {
  auto log = std::make_shared<event_log>();
  cano::Resources res;
  for (const char* name : {"R0", "R1", "R2"}) {
    res.insert(name, std::make_shared<recording_resource>(name, log, false, /*fail_teardown*/ true));
  }
  BOOST_CHECK_NO_THROW(res.teardown_all());
  BOOST_TEST(log->events() == (events{"teardown:R2", "teardown:R1", "teardown:R0"}));
}

// §5.9 #141
BOOST_AUTO_TEST_CASE(insert_of_a_duplicate_key_throws) {
  cano::Resources res;
  res.insert("a", std::make_shared<TypeA>());
  BOOST_CHECK_EXCEPTION(res.insert("a", std::make_shared<TypeB>()), std::invalid_argument,
                        [](const std::invalid_argument& e) {
                          return contains(e.what(), "duplicate resource key inserted into Resources") &&
                                 std::string(e.what()) == "duplicate resource key inserted into Resources; use "
                                                          "try_insert to handle duplicates as Result";
                        });
}

// §5.9 #141
BOOST_AUTO_TEST_CASE(try_insert_of_a_duplicate_key_is_resource_duplicate_key) {
  auto original = std::make_shared<TypeA>();
  cano::Resources res;
  BOOST_TEST(res.try_insert("a", original).has_value());
  auto dup = res.try_insert("a", std::make_shared<TypeA>());
  BOOST_TEST_REQUIRE(!dup.has_value());
  BOOST_TEST(std::string(dup.error().category()) == "resource_duplicate_key");
  BOOST_TEST(contains(dup.error().message(), "duplicate"));
  BOOST_TEST(dup.error() == cano::error::resource_duplicate_key("duplicate resource key inserted into Resources"));
  BOOST_TEST(res.size() == 1u);
  auto kept = res.get<TypeA>("a");
  BOOST_TEST_REQUIRE(kept.has_value());
  BOOST_TEST(kept.value().get() == original.get());
}

// §5.9 #141
BOOST_AUTO_TEST_CASE(try_insert_of_fresh_keys_succeeds_repeatedly) {
  cano::Resources res;
  BOOST_TEST(res.try_insert("a", std::make_shared<TypeA>()).has_value());
  BOOST_TEST(res.try_insert("b", std::make_shared<TypeB>()).has_value());
  BOOST_TEST(res.size() == 2u);
  BOOST_TEST(res.get<TypeA>("a").has_value());
  BOOST_TEST(res.get<TypeB>("b").has_value());
}

// §5.9 #142
BOOST_AUTO_TEST_CASE(default_health_is_healthy) {
  cano::Resources res;
  res.insert("a", std::make_shared<TypeA>());
  auto all = res.check_all_health();
  BOOST_TEST(all.size() == 1u);
  BOOST_TEST(all.at("a") == cano::HealthStatus::healthy());
  BOOST_TEST(res.aggregate_health() == cano::HealthStatus::healthy());
}

// §5.9 #142
BOOST_AUTO_TEST_CASE(check_all_health_reports_each_resource_status_by_key) {
  cano::Resources res;
  res.insert("ok", std::make_shared<health_resource>(cano::HealthStatus::healthy()));
  res.insert("replica", std::make_shared<health_resource>(cano::HealthStatus::degraded("replica lag")));
  res.insert("db", std::make_shared<health_resource>(cano::HealthStatus::unhealthy("connection refused")));
  auto all = res.check_all_health();
  BOOST_TEST(all.size() == 3u);
  BOOST_TEST(all.at("ok") == cano::HealthStatus::healthy());
  BOOST_TEST(all.at("replica") == cano::HealthStatus::degraded("replica lag"));
  BOOST_TEST(all.at("db") == cano::HealthStatus::unhealthy("connection refused"));
}

// §5.9 #142
BOOST_AUTO_TEST_CASE(aggregate_health_is_the_worst_status) {
  cano::Resources degraded;
  degraded.insert("ok", std::make_shared<health_resource>(cano::HealthStatus::healthy()));
  degraded.insert("replica", std::make_shared<health_resource>(cano::HealthStatus::degraded("replica lag")));
  BOOST_TEST(degraded.aggregate_health() == cano::HealthStatus::degraded("replica lag"));

  cano::Resources unhealthy;
  unhealthy.insert("ok", std::make_shared<health_resource>(cano::HealthStatus::healthy()));
  unhealthy.insert("replica", std::make_shared<health_resource>(cano::HealthStatus::degraded("replica lag")));
  unhealthy.insert("db", std::make_shared<health_resource>(cano::HealthStatus::unhealthy("connection refused")));
  BOOST_TEST(unhealthy.aggregate_health() == cano::HealthStatus::unhealthy("connection refused"));
}

// §1.14: ties keep the first in insertion order.
BOOST_AUTO_TEST_CASE(aggregate_health_keeps_the_first_of_equally_bad_statuses) {
  cano::Resources res;
  res.insert("z", std::make_shared<health_resource>(cano::HealthStatus::degraded("first")));
  res.insert("a", std::make_shared<health_resource>(cano::HealthStatus::degraded("second")));
  BOOST_TEST(res.aggregate_health() == cano::HealthStatus::degraded("first"));
}

// §5.9 #142
BOOST_AUTO_TEST_CASE(empty_resources_have_no_health_entries_and_are_healthy) {
  cano::Resources res;
  BOOST_TEST(res.check_all_health().empty());
  BOOST_TEST(res.aggregate_health() == cano::HealthStatus::healthy());
}

// §5.9 #142
BOOST_AUTO_TEST_CASE(only_healthy_status_is_healthy) {
  BOOST_TEST(cano::HealthStatus::healthy().is_healthy());
  BOOST_TEST(!cano::HealthStatus::degraded("replica lag").is_healthy());
  BOOST_TEST(!cano::HealthStatus::unhealthy("connection refused").is_healthy());
  BOOST_TEST(cano::HealthStatus::healthy().severity() < cano::HealthStatus::degraded("x").severity());
  BOOST_TEST(cano::HealthStatus::degraded("x").severity() < cano::HealthStatus::unhealthy("x").severity());
}

// D5: the first acquirer sets up, the last releaser tears down.
BOOST_AUTO_TEST_CASE(overlapping_acquires_set_up_once_and_tear_down_after_the_last_release) {
  auto log = std::make_shared<event_log>();
  cano::Resources res;
  res.insert("a", std::make_shared<recording_resource>("A", log));
  res.insert("b", std::make_shared<recording_resource>("B", log));

  BOOST_TEST(res.acquire().has_value());
  BOOST_TEST(res.acquire().has_value());
  BOOST_TEST(log->events() == (events{"setup:A", "setup:B"}));

  res.release();
  BOOST_TEST(log->events() == (events{"setup:A", "setup:B"}));

  res.release();
  BOOST_TEST(log->events() == (events{"setup:A", "setup:B", "teardown:B", "teardown:A"}));
}

// D5 / §1.14: sequential runs each see setup and teardown.
BOOST_AUTO_TEST_CASE(sequential_acquire_release_cycles_each_set_up_and_tear_down) {
  auto log = std::make_shared<event_log>();
  cano::Resources res;
  res.insert("a", std::make_shared<recording_resource>("A", log));
  BOOST_TEST(res.acquire().has_value());
  res.release();
  BOOST_TEST(res.acquire().has_value());
  res.release();
  BOOST_TEST(log->events() == (events{"setup:A", "teardown:A", "setup:A", "teardown:A"}));
}

// D5: a failed setup leaves the resources un-acquired, so the next acquire sets up again.
BOOST_AUTO_TEST_CASE(failed_setup_in_acquire_leaves_resources_unacquired) {
  auto log = std::make_shared<event_log>();
  cano::Resources res;
  res.insert("a", std::make_shared<recording_resource>("A", log));
  res.insert("flaky", std::make_shared<flaky_setup_resource>(log, 1));

  auto first = res.acquire();
  BOOST_TEST_REQUIRE(!first.has_value());
  BOOST_TEST(first.error() == cano::error::task_execution("flaky setup failed"));
  BOOST_TEST(log->events() == (events{"setup:A", "setup:flaky", "teardown:A"}));

  auto second = res.acquire();
  BOOST_TEST(second.has_value());
  BOOST_TEST(log->events() == (events{"setup:A", "setup:flaky", "teardown:A", "setup:A", "setup:flaky"}));

  res.release();
  BOOST_TEST(log->events() == (events{"setup:A", "setup:flaky", "teardown:A", "setup:A", "setup:flaky",
                                      "teardown:flaky", "teardown:A"}));
}

BOOST_AUTO_TEST_SUITE_END()
