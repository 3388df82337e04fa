// The cano-node command line: serve takes CAF options after the subcommand (and they take
// effect), bad configuration exits 2 with a message, submit --wait prints the run's result as
// JSON, status lists the nodes, SIGTERM drains and exits 0.
#include <csignal>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "support/postgres.hpp"

using namespace test;
using cano_apps::child_process;
using namespace std::chrono_literals;

namespace {

/// Runs cano-node to its end: (exit status, its output lines).
std::pair<int, std::vector<std::string>> cano_node(std::vector<std::string> args) {
  args.insert(args.begin(), CANO_NODE);
  child_process p(args);
  p.read_until([](const std::string&) { return false; }, std::chrono::seconds(120));
  int status = p.wait_exit();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, p.lines()};
}

} // namespace

BOOST_AUTO_TEST_SUITE(cano_node_cli_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(serve_submit_status_and_drain_from_the_command_line) {
  auto prefix = unique_id("cli");
  child_process a({CANO_NODE, "serve", "--cano.node-id=" + prefix + "-a", "--middleman.heartbeat-interval=250ms"});
  child_process b({CANO_NODE, "serve", "--cano.node-id=" + prefix + "-b"});
  auto said_a = a.read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, 60s);
  auto said_b = b.read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, 60s);
  BOOST_REQUIRE(said_a.has_value() && said_b.has_value());
  // The CAF option given after the subcommand took effect; the other node has the default.
  BOOST_TEST(said_a->find("heartbeat-interval=250ms") != std::string::npos, *said_a);
  BOOST_TEST(said_b->find("heartbeat-interval=100ms") != std::string::npos, *said_b);

  auto [submitted, out] = cano_node({"submit", "orders", "--input",
                                     R"({"order":"o-1","amount":20,"address":"1 Main St","sku":"KB-42","qty":1})",
                                     "--id", prefix + "-o1", "--wait"});
  BOOST_REQUIRE(!out.empty());
  auto result = nlohmann::json::parse(out.back(), nullptr, false);
  BOOST_REQUIRE_MESSAGE(result.is_object(), out.back());
  BOOST_TEST(result["workflow_id"] == prefix + "-o1");
  BOOST_TEST((result["status"] == "completed" || result["status"] == "rolled_back"), out.back());
  BOOST_TEST(submitted == (result["status"] == "completed" ? 0 : 1)); // exit code follows the result
  // The same id again: start-or-get, the same run.
  auto [again, again_out] = cano_node({"submit", "orders", "--id", prefix + "-o1"});
  BOOST_TEST(again == 0);
  BOOST_TEST(again_out.back() == prefix + "-o1");

  auto [listed, lines] = cano_node({"status", "--json"});
  BOOST_TEST(listed == 0);
  int mine = 0;
  for (const auto& l : lines) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_object() && j["node_id"].get<std::string>().rfind(prefix, 0) == 0) {
      BOOST_TEST(j["state"] == "active");
      ++mine;
    }
  }
  BOOST_TEST(mine == 2);

  ::kill(a.pid(), SIGTERM);
  BOOST_TEST(a.read_until([](const std::string& l) { return l.rfind("DRAINED", 0) == 0; }, 60s).has_value());
  int status = a.wait_exit();
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  b.sigkill();
  b.wait_exit();
}

BOOST_AUTO_TEST_CASE(bad_arguments_and_configuration_exit_2_with_a_message) {
  BOOST_TEST(cano_node({"serve"}).first == 2); // no node id
  BOOST_TEST(cano_node({"serve", "--cano.node-id=x", "--openssl.cafile=/nowhere.pem"}).first == 2);
  BOOST_TEST(cano_node({"serve", "--cano.node-id=x", "--no-such.option=1"}).first == 2);
  BOOST_TEST(cano_node({"submit", "orders", "--input", "{not json"}).first == 2);
  BOOST_TEST(cano_node({"frobnicate"}).first == 2);
  auto [help, lines] = cano_node({"--help"});
  BOOST_TEST(help == 0);
  std::string all;
  for (const auto& l : lines) {
    all += l + "\n";
  }
  BOOST_TEST(all.find("Exit codes:") != std::string::npos);
  BOOST_TEST(all.find("submit") != std::string::npos);
  // Nobody serves this definition: a clear error, exit 3, nothing written.
  auto [none, none_out] = cano_node({"submit", "no-such-definition"});
  BOOST_TEST(none == 3);
}

BOOST_AUTO_TEST_SUITE_END()
