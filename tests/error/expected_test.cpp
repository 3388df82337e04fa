// cano::expected — std::expected's shape with checked access: a value or an error, never
// undefined behaviour when the wrong side is read; MemoryStore results are the same type.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "cano/error.hpp"
#include "cano/memory_store.hpp"

namespace {

cano::expected<int> parse(const std::string& s) {
  if (s.empty()) {
    return cano::error::task_execution("empty input");
  }
  return std::stoi(s);
}

struct point {
  int x = 0;
};

} // namespace

BOOST_AUTO_TEST_SUITE(expected_test)

BOOST_AUTO_TEST_CASE(a_value_reads_through_value_star_arrow_and_value_or) {
  auto r = parse("42");
  BOOST_TEST(r.has_value());
  BOOST_TEST(static_cast<bool>(r));
  BOOST_TEST(r.value() == 42);
  BOOST_TEST(*r == 42);
  BOOST_TEST(r.value_or(7) == 42);
  cano::expected<point> p = point{3};
  BOOST_TEST(p->x == 3);
}

BOOST_AUTO_TEST_CASE(value_on_an_error_throws_bad_expected_access_carrying_the_error) {
  auto r = parse("");
  BOOST_TEST(!r.has_value());
  BOOST_TEST(!static_cast<bool>(r));
  try {
    (void)r.value();
    BOOST_FAIL("value() on an error returned");
  } catch (const cano::bad_expected_access& e) {
    BOOST_TEST((e.error() == cano::error::task_execution("empty input")));
    BOOST_TEST(std::string(e.what()) == "cano::expected holds an error: Task execution error: empty input");
  }
}

BOOST_AUTO_TEST_CASE(star_and_arrow_on_an_error_throw_too) {
  auto r = parse("");
  BOOST_CHECK_THROW((void)*r, cano::bad_expected_access);
  BOOST_CHECK_THROW((void)*parse(""), cano::bad_expected_access);
  cano::expected<point> p = cano::error::generic("no point");
  BOOST_CHECK_THROW((void)p->x, cano::bad_expected_access);
  const auto& cp = p;
  BOOST_CHECK_THROW((void)cp.value(), cano::bad_expected_access);
  BOOST_CHECK_THROW((void)std::move(p).value(), cano::bad_expected_access);
}

BOOST_AUTO_TEST_CASE(value_or_gives_the_fallback_on_an_error) {
  BOOST_TEST(parse("").value_or(7) == 7);
  cano::expected<std::string> s = cano::error::generic("none");
  BOOST_TEST(s.value_or("fallback") == "fallback");
  BOOST_TEST(std::move(s).value_or("moved") == "moved");
}

BOOST_AUTO_TEST_CASE(error_and_its_deprecated_alias_error_value_read_the_error) {
  auto r = parse("");
  BOOST_TEST(r.error().to_string() == "Task execution error: empty input");
  static_assert(std::is_same_v<decltype(r.error()), const cano::error&>);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" // the alias still works, with a warning
  BOOST_TEST(&r.error_value() == &r.error());
  auto r2 = parse("1");
  BOOST_CHECK_THROW((void)r2.error_value(), std::logic_error);
#pragma GCC diagnostic pop
}

BOOST_AUTO_TEST_CASE(error_on_a_value_throws_a_logic_error) {
  auto r = parse("1");
  BOOST_CHECK_THROW((void)r.error(), std::logic_error);
  cano::expected<void> ok;
  BOOST_CHECK_THROW((void)ok.error(), std::logic_error);
}

BOOST_AUTO_TEST_CASE(expected_void_is_success_or_an_error_with_a_checked_value) {
  cano::expected<void> ok;
  BOOST_TEST(ok.has_value());
  BOOST_CHECK_NO_THROW(ok.value());
  cano::expected<void> failed = cano::error::store("disk full");
  BOOST_TEST(!failed);
  BOOST_TEST(failed.error().to_string() == "Store error: disk full");
  BOOST_CHECK_THROW(failed.value(), cano::bad_expected_access);
}

BOOST_AUTO_TEST_CASE(a_memory_store_result_is_an_expected_with_a_store_error) {
  static_assert(std::is_same_v<cano::store_result<int>, cano::expected<int, cano::StoreError>>);
  cano::MemoryStore store;
  store.put("n", 5);
  BOOST_TEST(store.get<int>("n").value() == 5);
  BOOST_TEST(store.get<int>("missing").value_or(-1) == -1);
  auto missing = store.get<int>("missing");
  BOOST_TEST((missing.error().type() == cano::StoreError::kind::key_not_found));
  try {
    (void)missing.value();
    BOOST_FAIL("value() on a missing key returned");
  } catch (const cano::bad_expected_access& e) {
    // The StoreError arrives as the store-category error it converts to.
    BOOST_TEST(e.error().category() == std::string("store"));
    BOOST_TEST(e.error().message() == "Key not found: Key 'missing' not found in store");
  }
}

BOOST_AUTO_TEST_SUITE_END()
