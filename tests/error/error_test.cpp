// cano::error — categories, messages, Display texts, conversions and equality
// (spec §1.2 and acceptance scenarios §5.1 #1–10).
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "cano/error.hpp"
#include "cano/memory_store.hpp"

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string category_of(const cano::error& e) { return e.category(); }

} // namespace

BOOST_AUTO_TEST_SUITE(error_test)

// §5.1 #1
BOOST_AUTO_TEST_CASE(task_execution_error_has_its_message_category_and_display) {
  auto e = cano::error::task_execution("Test error");
  BOOST_TEST(e.message() == "Test error");
  BOOST_TEST(category_of(e) == "task_execution");
  BOOST_TEST(e.to_string() == "Task execution error: Test error");
  BOOST_TEST((e.code() == cano::errc::task_execution));
}

// §5.1 #2
BOOST_AUTO_TEST_CASE(plain_c_string_and_std_string_convert_to_a_generic_error) {
  cano::error from_literal = "x";
  cano::error from_string = std::string("x");
  BOOST_TEST(from_literal == cano::error::generic("x"));
  BOOST_TEST(from_string == cano::error::generic("x"));
  BOOST_TEST(category_of(from_literal) == "generic");
  BOOST_TEST(category_of(from_string) == "generic");
  BOOST_TEST(from_literal.message() == "x");
  BOOST_TEST(from_string.message() == "x");
  BOOST_TEST(from_literal.to_string() == "Error: x");
}

// §5.1 #3
BOOST_AUTO_TEST_CASE(store_error_key_not_found_converts_to_a_store_error_naming_the_key) {
  cano::error e = cano::StoreError::key_not_found("test_key");
  BOOST_TEST(category_of(e) == "store");
  BOOST_TEST((e.code() == cano::errc::store));
  BOOST_TEST(contains(e.message(), "test_key"));
  BOOST_TEST(contains(e.message(), "not found"));
  // §1.2: the CanoError message is the StoreError Display text.
  BOOST_TEST(e.message() == "Key not found: Key 'test_key' not found in store");
  BOOST_TEST(e.to_string() == "Store error: Key not found: Key 'test_key' not found in store");
}

// §5.1 #3
BOOST_AUTO_TEST_CASE(store_error_type_mismatch_and_lock_error_convert_to_store_category) {
  cano::error mismatch = cano::StoreError::type_mismatch("wrong type");
  BOOST_TEST(category_of(mismatch) == "store");
  BOOST_TEST(mismatch.message() == "Type mismatch: wrong type");

  cano::error lock = cano::StoreError::lock_error("lock failed");
  BOOST_TEST(category_of(lock) == "store");
  BOOST_TEST(contains(lock.message(), "lock failed"));
  BOOST_TEST(lock.message() == "Lock error: lock failed");
}

// §5.1 #4 (std::io::Error -> Generic("IO error: ...")) has no C++ analogue: the port has no
// io::Error conversion, so the scenario is skipped.

// §5.1 #5
BOOST_AUTO_TEST_CASE(errors_are_equal_only_with_same_category_and_same_message) {
  BOOST_TEST(cano::error::task_execution("msg") == cano::error::task_execution("msg"));
  BOOST_TEST(cano::error::task_execution("msg") != cano::error::task_execution("other"));
  BOOST_TEST(cano::error::task_execution("msg") != cano::error::workflow("msg"));
  BOOST_TEST(cano::error::timeout("k") != cano::error::workflow("k"));
  BOOST_TEST(cano::error::circuit_open("x") != cano::error::checkpoint_store("x"));
}

// §5.1 #6
BOOST_AUTO_TEST_CASE(resource_errors_have_their_categories_and_displays) {
  auto not_found = cano::error::resource_not_found("missing key");
  BOOST_TEST(category_of(not_found) == "resource_not_found");
  BOOST_TEST(not_found.to_string() == "Resource not found: missing key");

  auto mismatch = cano::error::resource_type_mismatch("wrong type");
  BOOST_TEST(category_of(mismatch) == "resource_type_mismatch");
  BOOST_TEST(mismatch.to_string() == "Resource type mismatch: wrong type");

  BOOST_TEST(cano::error::resource_not_found("same") != cano::error::resource_type_mismatch("same"));
}

// §5.1 #7
BOOST_AUTO_TEST_CASE(timeout_circuit_open_and_checkpoint_store_errors_have_their_displays) {
  BOOST_TEST(cano::error::timeout("attempt deadline reached").to_string() == "Timeout error: attempt deadline reached");
  BOOST_TEST(cano::error::circuit_open("breaker tripped").to_string() == "Circuit open: breaker tripped");
  BOOST_TEST(cano::error::checkpoint_store("disk full").to_string() == "Checkpoint store error: disk full");
}

// §5.1 #8
BOOST_AUTO_TEST_CASE(compensation_failed_reports_the_original_and_each_compensation_failure) {
  auto e = cano::error::compensation_failed(
    {cano::error::task_execution("charge declined"), cano::error::generic("refund timed out")});
  BOOST_TEST(category_of(e) == "compensation_failed");
  BOOST_TEST(e.message() == "charge declined");
  auto display = e.to_string();
  BOOST_TEST(contains(display, "Compensation failed (2 error(s))"));
  BOOST_TEST(contains(display, "original: Task execution error: charge declined"));
  BOOST_TEST(contains(display, "compensation #1: Error: refund timed out"));
  BOOST_TEST(display == "Compensation failed (2 error(s)); original: Task execution error: charge "
                        "declined; compensation #1: Error: refund timed out");
  BOOST_TEST(e.nested().size() == 2u);
}

// §5.1 #8
BOOST_AUTO_TEST_CASE(compensation_failed_without_errors_has_the_default_message) {
  auto e = cano::error::compensation_failed({});
  BOOST_TEST(category_of(e) == "compensation_failed");
  BOOST_TEST(e.message() == "compensation failed");
  BOOST_TEST(e.to_string() == "Compensation failed (0 error(s))");
}

// §5.1 #9
BOOST_AUTO_TEST_CASE(compensation_failed_equality_compares_the_error_lists) {
  auto one = cano::error::compensation_failed({cano::error::generic("x")});
  auto one_again = cano::error::compensation_failed({cano::error::generic("x")});
  auto two = cano::error::compensation_failed({cano::error::generic("x"), cano::error::generic("y")});
  BOOST_TEST(one == one_again);
  BOOST_TEST(one != two);
  BOOST_TEST(one != cano::error::generic("x"));
}

// §5.1 #10
BOOST_AUTO_TEST_CASE(workflow_version_mismatch_reports_stored_and_expected_versions) {
  auto e = cano::error::workflow_version_mismatch(1, 2);
  BOOST_TEST(category_of(e) == "workflow_version_mismatch");
  BOOST_TEST(contains(e.message(), "stored"));
  BOOST_TEST(e.message() == "workflow version mismatch (stored vs expected)");
  auto display = e.to_string();
  BOOST_TEST(contains(display, "stored=1"));
  BOOST_TEST(contains(display, "expected=2"));
  BOOST_TEST(display == "Workflow version mismatch: stored=1, expected=2");
  BOOST_TEST(e.stored_version() == 1u);
  BOOST_TEST(e.expected_version() == 2u);
}

// §5.1 #10
BOOST_AUTO_TEST_CASE(workflow_version_mismatch_equality_compares_both_versions) {
  BOOST_TEST(cano::error::workflow_version_mismatch(0, 1) == cano::error::workflow_version_mismatch(0, 1));
  BOOST_TEST(cano::error::workflow_version_mismatch(0, 1) != cano::error::workflow_version_mismatch(1, 2));
}

// §1.2 table: every string-carrying variant's category, message and Display prefix.
BOOST_AUTO_TEST_CASE(every_string_variant_has_the_category_and_display_of_the_table) {
  struct row {
    cano::error e;
    const char* category;
    const char* display;
  };
  const std::vector<row> rows = {
    {cano::error::task_execution("m"), "task_execution", "Task execution error: m"},
    {cano::error::store("m"), "store", "Store error: m"},
    {cano::error::workflow("m"), "workflow", "Workflow error: m"},
    {cano::error::configuration("m"), "configuration", "Configuration error: m"},
    {cano::error::retry_exhausted("m"), "retry_exhausted", "Retry exhausted: m"},
    {cano::error::timeout("m"), "timeout", "Timeout error: m"},
    {cano::error::circuit_open("m"), "circuit_open", "Circuit open: m"},
    {cano::error::checkpoint_store("m"), "checkpoint_store", "Checkpoint store error: m"},
    {cano::error::generic("m"), "generic", "Error: m"},
    {cano::error::resource_not_found("m"), "resource_not_found", "Resource not found: m"},
    {cano::error::resource_type_mismatch("m"), "resource_type_mismatch", "Resource type mismatch: m"},
    {cano::error::resource_duplicate_key("m"), "resource_duplicate_key", "Resource duplicate key: m"},
  };
  for (const auto& r : rows) {
    BOOST_TEST(category_of(r.e) == std::string(r.category));
    BOOST_TEST(r.e.message() == "m");
    BOOST_TEST(r.e.to_string() == std::string(r.display));
  }
}

BOOST_AUTO_TEST_SUITE_END()
