// MemoryStore: typed put/get, append, map operations, shared copies and concurrency
// (spec §1.15, acceptance scenarios §5.10 #143–150).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "cano/memory_store.hpp"

namespace {

struct custom_value {
  std::string name;
  int count = 0;
  std::vector<double> samples;
};

} // namespace

BOOST_AUTO_TEST_SUITE(memory_store_test)

// §5.10 #143
BOOST_AUTO_TEST_CASE(new_store_is_empty) {
  cano::MemoryStore store;
  BOOST_TEST(store.len() == 0u);
  BOOST_TEST(store.is_empty());
  BOOST_TEST(store.keys().empty());
  cano::MemoryStore braced{};
  BOOST_TEST(braced.len() == 0u);
  BOOST_TEST(braced.is_empty());
}

// §5.10 #144
BOOST_AUTO_TEST_CASE(put_then_get_round_trips_values_of_any_type) {
  cano::MemoryStore store;
  store.put("string", std::string("hello"));
  store.put("int", 42);
  store.put("vec", std::vector<int>{1, 2, 3});
  store.put("custom", custom_value{"widget", 7, {1.5, 2.5}});

  auto s = store.get<std::string>("string");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s.value() == "hello");

  auto i = store.get<int>("int");
  BOOST_TEST_REQUIRE(i.has_value());
  BOOST_TEST(i.value() == 42);

  auto v = store.get<std::vector<int>>("vec");
  BOOST_TEST_REQUIRE(v.has_value());
  BOOST_TEST(v.value() == (std::vector<int>{1, 2, 3}));

  auto c = store.get<custom_value>("custom");
  BOOST_TEST_REQUIRE(c.has_value());
  BOOST_TEST(c.value().name == "widget");
  BOOST_TEST(c.value().count == 7);
  BOOST_TEST(c.value().samples == (std::vector<double>{1.5, 2.5}));
  BOOST_TEST(store.len() == 4u);
}

// §5.10 #144
BOOST_AUTO_TEST_CASE(get_of_a_missing_key_is_key_not_found) {
  cano::MemoryStore store;
  auto r = store.get<std::string>("nonexistent");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().type() == cano::StoreError::kind::key_not_found));
  BOOST_TEST(r.error().message() == "Key 'nonexistent' not found in store");
  BOOST_TEST(r.error().to_string() == "Key not found: Key 'nonexistent' not found in store");
}

// §5.10 #144
BOOST_AUTO_TEST_CASE(get_as_another_type_is_type_mismatch) {
  cano::MemoryStore store;
  store.put("text", std::string("not a number"));
  auto r = store.get<int>("text");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().type() == cano::StoreError::kind::type_mismatch));
  BOOST_TEST(r.error().message() == "Cannot downcast value for key 'text' to requested type");
  BOOST_TEST(r.error().to_string() == "Type mismatch: Cannot downcast value for key 'text' to requested type");
  auto shared = store.get_shared<int>("text");
  BOOST_TEST_REQUIRE(!shared.has_value());
  BOOST_TEST((shared.error().type() == cano::StoreError::kind::type_mismatch));
}

// §5.10 #145
BOOST_AUTO_TEST_CASE(remove_deletes_a_key_and_ignores_a_missing_one) {
  cano::MemoryStore store;
  store.put("k", 1);
  store.remove("k");
  auto r = store.get<int>("k");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().type() == cano::StoreError::kind::key_not_found));
  BOOST_CHECK_NO_THROW(store.remove("never_there"));
  BOOST_TEST(store.is_empty());
}

// §5.10 #146
BOOST_AUTO_TEST_CASE(append_to_a_new_key_creates_a_one_item_vector) {
  cano::MemoryStore store;
  auto r = store.append<std::string>("log", "first");
  BOOST_TEST(r.has_value());
  auto v = store.get<std::vector<std::string>>("log");
  BOOST_TEST_REQUIRE(v.has_value());
  BOOST_TEST(v.value() == (std::vector<std::string>{"first"}));
}

// §5.10 #146
BOOST_AUTO_TEST_CASE(append_to_an_existing_vector_pushes_the_item) {
  cano::MemoryStore store;
  store.put("items", std::vector<std::string>{"first", "second"});
  auto r = store.append<std::string>("items", "third");
  BOOST_TEST(r.has_value());
  auto v = store.get<std::vector<std::string>>("items");
  BOOST_TEST_REQUIRE(v.has_value());
  BOOST_TEST(v.value().size() == 3u);
  BOOST_TEST(v.value() == (std::vector<std::string>{"first", "second", "third"}));
}

// §5.10 #147
BOOST_AUTO_TEST_CASE(append_to_a_non_vector_value_fails_and_keeps_the_value) {
  cano::MemoryStore store;
  store.put("test_append_error", std::string("not a vec"));
  auto r = store.append<std::string>("test_append_error", "item");
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST((r.error().type() == cano::StoreError::kind::append_type_mismatch));
  BOOST_TEST(r.error().message() == "Cannot append to key 'test_append_error': existing value is not a Vec<TState>");
  BOOST_TEST(r.error().to_string() ==
             "Append type mismatch: Cannot append to key 'test_append_error': existing value is "
             "not a Vec<TState>");
  auto original = store.get<std::string>("test_append_error");
  BOOST_TEST_REQUIRE(original.has_value());
  BOOST_TEST(original.value() == "not a vec");
}

// §1.15: an Arc held by a reader keeps the old vector; append clones only when shared.
BOOST_AUTO_TEST_CASE(append_does_not_change_a_vector_a_reader_already_holds) {
  cano::MemoryStore store;
  store.put("items", std::vector<int>{1, 2});
  auto before = store.get_shared<std::vector<int>>("items");
  BOOST_TEST_REQUIRE(before.has_value());
  BOOST_TEST(store.append<int>("items", 3).has_value());
  BOOST_TEST(*before.value() == (std::vector<int>{1, 2}));
  auto after = store.get<std::vector<int>>("items");
  BOOST_TEST_REQUIRE(after.has_value());
  BOOST_TEST(after.value() == (std::vector<int>{1, 2, 3}));
}

// §5.10 #148
BOOST_AUTO_TEST_CASE(keys_len_contains_key_and_clear_behave_as_a_map) {
  cano::MemoryStore store;
  store.put("a", 1);
  store.put("b", 2);
  store.put("c", 3);
  BOOST_TEST(store.len() == 3u);
  BOOST_TEST(!store.is_empty());
  BOOST_TEST(store.contains_key("a"));
  BOOST_TEST(store.contains_key("c"));
  BOOST_TEST(!store.contains_key("d"));
  auto keys = store.keys();
  std::sort(keys.begin(), keys.end());
  BOOST_TEST(keys == (std::vector<std::string>{"a", "b", "c"}));
  store.clear();
  BOOST_TEST(store.len() == 0u);
  BOOST_TEST(store.is_empty());
  BOOST_TEST(!store.contains_key("a"));
}

// §5.10 #148
BOOST_AUTO_TEST_CASE(put_overwrites_even_with_a_value_of_another_type) {
  cano::MemoryStore store;
  store.put("k", 1);
  store.put("k", 2);
  auto i = store.get<int>("k");
  BOOST_TEST_REQUIRE(i.has_value());
  BOOST_TEST(i.value() == 2);
  store.put("k", std::string("now a string"));
  BOOST_TEST(store.len() == 1u);
  auto s = store.get<std::string>("k");
  BOOST_TEST_REQUIRE(s.has_value());
  BOOST_TEST(s.value() == "now a string");
  BOOST_TEST(!store.get<int>("k").has_value());
}

// §5.10 #148
BOOST_AUTO_TEST_CASE(copies_of_a_store_share_data_both_ways) {
  cano::MemoryStore original;
  cano::MemoryStore copy = original;
  original.put("from_original", 1);
  copy.put("from_copy", 2);
  auto a = copy.get<int>("from_original");
  auto b = original.get<int>("from_copy");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST_REQUIRE(b.has_value());
  BOOST_TEST(a.value() == 1);
  BOOST_TEST(b.value() == 2);
  BOOST_TEST(original.len() == 2u);
  BOOST_TEST(copy.len() == 2u);
  copy.remove("from_original");
  BOOST_TEST(!original.contains_key("from_original"));
}

// §5.10 #149
BOOST_AUTO_TEST_CASE(concurrent_puts_from_ten_threads_store_every_key) {
  cano::MemoryStore store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([store, t]() mutable {
      for (int i = 0; i < 10; ++i) {
        store.put("key_" + std::to_string(t) + "_" + std::to_string(i), t * 10 + i);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  BOOST_TEST(store.len() == 100u);
  for (int t = 0; t < 10; ++t) {
    for (int i = 0; i < 10; ++i) {
      auto v = store.get<int>("key_" + std::to_string(t) + "_" + std::to_string(i));
      BOOST_TEST_REQUIRE(v.has_value());
      BOOST_TEST(v.value() == t * 10 + i);
    }
  }
}

// §5.10 #149
BOOST_AUTO_TEST_CASE(concurrent_appends_from_five_threads_keep_every_item) {
  cano::MemoryStore store;
  std::vector<std::thread> threads;
  for (int t = 0; t < 5; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 10; ++i) {
        // The result is checked through the final vector below.
        (void)store.append<int>("shared_vec", t * 10 + i);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  auto v = store.get<std::vector<int>>("shared_vec");
  BOOST_TEST_REQUIRE(v.has_value());
  BOOST_TEST(v.value().size() == 50u);
  auto sorted = v.value();
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) {
    BOOST_TEST(sorted[static_cast<std::size_t>(i)] == i);
  }
}

// §5.10 #149
BOOST_AUTO_TEST_CASE(get_shared_returns_the_same_stored_object) {
  cano::MemoryStore store;
  store.put("big", std::vector<int>(1000, 7));
  auto first = store.get_shared<std::vector<int>>("big");
  auto second = store.get_shared<std::vector<int>>("big");
  BOOST_TEST_REQUIRE(first.has_value());
  BOOST_TEST_REQUIRE(second.has_value());
  BOOST_TEST(first.value().get() == second.value().get());
  BOOST_TEST(first.value()->size() == 1000u);
  auto missing = store.get_shared<int>("absent");
  BOOST_TEST_REQUIRE(!missing.has_value());
  BOOST_TEST((missing.error().type() == cano::StoreError::kind::key_not_found));
}

// §5.10 #150
BOOST_AUTO_TEST_CASE(memory_store_as_a_resource_sets_up_and_tears_down_ok) {
  auto store = std::make_shared<cano::MemoryStore>();
  cano::Resource& as_resource = *store;
  BOOST_TEST(as_resource.setup().has_value());
  BOOST_TEST(as_resource.teardown().has_value());
  BOOST_TEST(as_resource.health().is_healthy());

  cano::Resources res;
  res.insert("store", store);
  BOOST_TEST(res.setup_all().has_value());
  BOOST_CHECK_NO_THROW(res.teardown_all());
  auto got = res.get<cano::MemoryStore>("store");
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST(got.value().get() == store.get());
}

// §1.15: StoreError Display prefixes.
BOOST_AUTO_TEST_CASE(store_error_display_prefixes_each_kind) {
  BOOST_TEST(cano::StoreError::type_mismatch("m").to_string() == "Type mismatch: m");
  BOOST_TEST(cano::StoreError::lock_error("m").to_string() == "Lock error: m");
  BOOST_TEST(cano::StoreError::generic("m").to_string() == "Store error: m");
  BOOST_TEST(cano::StoreError::append_type_mismatch("k").to_string() ==
             "Append type mismatch: Cannot append to key 'k': existing value is not a Vec<TState>");
  BOOST_TEST(cano::StoreError::key_not_found("k").to_string() == "Key not found: Key 'k' not found in store");
}

BOOST_AUTO_TEST_SUITE_END()
