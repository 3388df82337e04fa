// The cano-node command line: serve takes CAF options after the subcommand (and they take
// effect), bad configuration exits 2 with a message, submit --wait prints the run's result as
// JSON, status lists the nodes, SIGTERM drains and exits 0. Flows in the configuration: a bad
// entry stops the node before it joins, naming the entry; trigger and reset give cano's texts.
#include <csignal>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "child_process.hpp"
#include "support/command.hpp"
#include "support/postgres.hpp"
#include "support/temp_dir.hpp"

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

/// A configuration file holding `flows` as the [cano] section's list.
std::string flows_ini(const temp_dir& dir, const std::string& flows) {
  auto path = dir.file("node.ini");
  std::ofstream(path) << "[cano]\nflows = [\n" << flows << "\n]\n";
  return path;
}

/// The JSON object `status --json` prints for flow `id`, or null.
nlohmann::json flow_status(const std::string& id) {
  auto shown = run_command({CANO_NODE, "status", "--json"});
  std::istringstream lines(shown.out);
  for (std::string l; std::getline(lines, l);) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_object() && j.value("flow_id", std::string()) == id) {
      return j;
    }
  }
  return nullptr;
}

/// Polls `status --json` until flow `id` satisfies `done` (bounded).
template <class Pred>
nlohmann::json wait_flow(const std::string& id, Pred done) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  nlohmann::json j;
  while (std::chrono::steady_clock::now() < deadline) {
    j = flow_status(id);
    if (j.is_object() && done(j)) {
      return j;
    }
    std::this_thread::sleep_for(100ms);
  }
  return j;
}

/// Runs cano-node with `args` (and without the variables in `unset`): exit code, stdout, stderr.
command_result node_command(const std::vector<std::string>& args, const std::vector<std::string>& unset = {}) {
  std::vector<std::string> argv{CANO_NODE};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, {}, unset);
  BOOST_REQUIRE_MESSAGE(!r.timed_out, "cano-node did not finish: " << r.err);
  return r;
}

/// All of `lines` as one text.
std::string joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const auto& l : lines) {
    all += l + "\n";
  }
  return all;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Starts `serve` with `args` and waits for its NODE line (nothing on failure).
std::optional<std::string> started(child_process& p) {
  return p.read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, 60s);
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
    if (j.is_object() && j.contains("node_id") && j["node_id"].get<std::string>().rfind(prefix, 0) == 0) {
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

BOOST_AUTO_TEST_CASE(a_bad_flow_entry_stops_the_node_before_it_joins_and_names_the_entry) {
  temp_dir dir;
  auto node_id = unique_id("badflow");
  const std::string ok = R"({ id = "fine", workflow = "orders", every = 1s },)";
  struct bad_case {
    std::string entry;   // the second entry of cano.flows
    std::string message; // what stderr must say, after the entry's name
  };
  const std::vector<bad_case> cases = {
    {R"({ id = "w", workflow = "ordrs", every = 1s })",
     R"(entry 2 ("w"): unknown workflow "ordrs" (this node serves "orders" version 0))"},
    {R"({ id = "c", workflow = "orders", cron = "0 0 25 * * *" })", R"(entry 2 ("c"): Invalid cron expression: )"},
    {R"({ id = "c6", workflow = "orders", cron = "every day" })", R"(entry 2 ("c6"): Invalid cron expression: )"},
    {R"({ id = "i", workflow = "orders", every = 0s })", R"(entry 2 ("i"): Flow 'i' needs a positive interval)"},
    {R"({ id = "n", workflow = "orders", every = -5s })",
     R"(entry 2 ("n"): Flow 'n' has a negative interval (-5000000000ns))"},
    {R"({ id = "s", workflow = "orders", every = "soon" })", R"(entry 2 ("s"): every must be a duration such as 30s)"},
    {R"({ id = "fine", workflow = "orders", cron = "0 * * * * *" })",
     R"(entry 2 ("fine"): Flow 'fine' already exists (entry 1))"},
    {R"({ id = "j", workflow = "orders", manual = true, input = "{not json" })",
     R"(entry 2 ("j"): input is not JSON: {not json)"},
    {R"({ id = "k", workflow = "orders", every = 1s, corn = "x" })", R"(entry 2 ("k"): unknown key "corn")"},
    {R"({ id = "two", workflow = "orders", every = 1s, manual = true })",
     R"(entry 2 ("two"): takes only one of every)"},
    {R"({ id = "none", workflow = "orders" })", R"(entry 2 ("none"): needs every = <duration>, cron)"},
    {R"({ workflow = "orders", every = 1s })", R"(entry 2: needs id = "...")"},
    {R"({ id = "t", workflow = "orders", every = 1s, trip-after = -1 })",
     R"(entry 2 ("t"): trip-after must be a count)"},
    {R"("just text")", R"(entry 2: a flow is a map)"},
  };
  for (const auto& c : cases) {
    auto ini = flows_ini(dir, ok + "\n" + c.entry);
    auto r = run_command({CANO_NODE, "serve", "--cano.node-id=" + node_id, "--config-file=" + ini});
    BOOST_TEST(r.exit_code == 2, c.entry << " → exit " << r.exit_code);
    BOOST_TEST(r.err.find("cano-node: cano.flows " + c.message) != std::string::npos,
               c.entry << "\n  said: " << r.err << "  expected: " << c.message);
    BOOST_TEST(r.out.find("NODE ") == std::string::npos, c.entry); // it never served
  }
  // A [cano.flows] section instead of a list is explained too.
  auto section = dir.file("section.ini");
  std::ofstream(section) << "[cano.flows]\nx = { workflow = \"orders\", every = 1s }\n";
  auto r = run_command({CANO_NODE, "serve", "--cano.node-id=" + node_id, "--config-file=" + section});
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.err.find("cano.flows must be a list of flows") != std::string::npos, r.err);
  // None of those starts registered the node.
  pqxx::connection conn(pg_dsn());
  pqxx::read_transaction tx(conn);
  BOOST_TEST(tx.exec_params("SELECT 1 FROM cano_nodes WHERE node_id = $1", node_id).empty());
}

BOOST_AUTO_TEST_CASE(trigger_runs_a_manual_flow_and_a_tripped_flow_needs_reset) {
  temp_dir dir;
  auto prefix = unique_id("manual");
  auto good = prefix + "-good", bad = prefix + "-bad";
  const std::string input =
    R"("{\"order\":\"m\",\"amount\":20,\"address\":\"1 Main St\",\"sku\":\"KB-42\",\"qty\":1}")";
  auto ini = flows_ini(dir, "{ id = \"" + good + "\", workflow = \"orders\", manual = true, input = " + input +
                              " },\n{ id = \"" + bad + "\", workflow = \"orders\", manual = true, trip-after = 1 },");
  child_process a({CANO_NODE, "serve", "--cano.node-id=" + prefix + "-a", "--config-file=" + ini});
  auto hello = a.read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, 60s);
  BOOST_REQUIRE(hello.has_value());
  auto owner = hello->substr(5, hello->find(' ', 5) - 5);
  BOOST_REQUIRE(a.read_until([&](const std::string& l) { return l == "LEAD " + bad + " fence=1"; }, 60s));
  auto idle = flow_status(good);
  BOOST_TEST(idle["status"] == "Idle");
  BOOST_TEST(idle["run_count"] == 0);
  BOOST_TEST(idle["leader"] == owner);
  BOOST_TEST(idle["schedule"] == "manual");

  auto t = run_command({CANO_NODE, "trigger", good});
  BOOST_TEST(t.exit_code == 0, t.err);
  BOOST_TEST(t.out.rfind(good + "@", 0) == 0, t.out); // its run id: the flow and the trigger's time
  auto done = wait_flow(good, [](const nlohmann::json& j) { return j["status"] == "Completed"; });
  BOOST_TEST(done["status"] == "Completed", done.dump());
  BOOST_TEST(done["run_count"] == 1);
  BOOST_TEST(done["last_run_id"].get<std::string>() + "\n" == t.out);

  // A failing flow trips after one failure (trip-after = 1): trigger is refused until reset.
  BOOST_TEST(run_command({CANO_NODE, "trigger", bad}).exit_code == 0);
  auto tripped = wait_flow(bad, [](const nlohmann::json& j) { return j["status"] == "Tripped"; });
  BOOST_TEST(tripped["status"] == "Tripped", tripped.dump());
  BOOST_TEST(tripped["failure_streak"] == 1);
  BOOST_TEST(tripped["last_error"].get<std::string>().find("order has no positive amount") != std::string::npos);
  auto refused = run_command({CANO_NODE, "trigger", bad});
  BOOST_TEST(refused.exit_code == 4);
  BOOST_TEST(refused.err.find("Flow '" + bad + "' is tripped — call reset_flow before triggering") != std::string::npos,
             refused.err);
  auto reset = run_command({CANO_NODE, "reset", bad});
  BOOST_TEST(reset.exit_code == 0, reset.err);
  auto after = flow_status(bad);
  BOOST_TEST(after["status"] == "Idle");
  BOOST_TEST(after["failure_streak"] == 0);
  BOOST_TEST(run_command({CANO_NODE, "trigger", bad}).exit_code == 0);
  auto again = wait_flow(bad, [](const nlohmann::json& j) { return j["run_count"] == 2 && j["status"] == "Tripped"; });
  BOOST_TEST(again["run_count"] == 2, again.dump());

  auto unknown = run_command({CANO_NODE, "trigger", prefix + "-nosuch"});
  BOOST_TEST(unknown.exit_code == 2);
  BOOST_TEST(unknown.err.find("No workflow registered with id '" + prefix + "-nosuch'") != std::string::npos,
             unknown.err);
  BOOST_TEST(run_command({CANO_NODE, "reset", prefix + "-nosuch"}).exit_code == 2);
  // The text status lists both flows with their leader.
  auto text = run_command({CANO_NODE, "status"});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out.find("FLOW ") != std::string::npos, text.out);
  for (const auto& id : {good, bad}) {
    auto at = text.out.find(id + " ");
    BOOST_REQUIRE(at != std::string::npos);
    auto line = text.out.substr(at, text.out.find('\n', at) - at);
    BOOST_TEST(line.find(owner) != std::string::npos, line);
  }
  a.sigkill();
  a.wait_exit();
}

BOOST_AUTO_TEST_CASE(every_refusal_names_the_option_and_exits_2) {
  // No database configured: one code and one message, whichever command.
  for (const char* command : {"status", "serve"}) {
    auto r = node_command({command, "--cano.node-id=n"}, {"CANO_PG_DSN"});
    BOOST_TEST(r.exit_code == 2, command << ": " << r.err);
    BOOST_TEST(has(r.err, "--cano.dsn"), r.err);
    BOOST_TEST(has(r.err, "CANO_PG_DSN"), r.err);
    BOOST_TEST(!has(r.err, "PostgresOptions"), r.err);
  }
  auto lease = node_command({"status", "--cano.lease=abc"});
  BOOST_TEST(lease.exit_code == 2);
  BOOST_TEST(has(lease.err, "--cano.lease=abc: not a valid value (a duration such as 500ms, 3s or 1min)"), lease.err);
  auto timeout = node_command({"submit", "orders", "--wait", "--timeout", "0"});
  BOOST_TEST(timeout.exit_code == 2);
  BOOST_TEST(has(timeout.err, "above 0 and at most 31536000"), timeout.err);
  BOOST_TEST(timeout.err.size() < 400, timeout.err);
  auto nul = node_command({"submit", "orders", "--input", R"({"order":"o\u0000x"})"});
  BOOST_TEST(nul.exit_code == 2);
  BOOST_TEST(has(nul.err, "/order holds the character U+0000"), nul.err);
  BOOST_TEST(!has(nul.err, "unsupported Unicode escape"), nul.err);
  auto empty_id = node_command({"submit", "orders", "--id", ""});
  BOOST_TEST(empty_id.exit_code == 2);
  BOOST_TEST(has(empty_id.err, "--id: the workflow id must not be empty"), empty_id.err);
  auto hash = node_command({"serve", "--cano.node-id=x#1"});
  BOOST_TEST(hash.exit_code == 2);
  BOOST_TEST(has(hash.err, "node_id \"x#1\" holds \"#\""), hash.err);
  auto drain = node_command({"serve", "--cano.node-id=x", "--cano.drain-deadline=-5s"});
  BOOST_TEST(drain.exit_code == 2);
  BOOST_TEST(has(drain.err, "--cano.drain-deadline"), drain.err);
  auto beat = node_command({"serve", "--cano.node-id=x", "--middleman.heartbeat-interval=0s"});
  BOOST_TEST(beat.exit_code == 2);
  BOOST_TEST(has(beat.err, "middleman.connection-timeout is set"), beat.err);
  auto extra = node_command({"status", "extra-arg"});
  BOOST_TEST(extra.exit_code == 2);
  BOOST_TEST(has(extra.err, "unexpected argument \"extra-arg\""), extra.err);
  // Leases: the values rejected are named; one past the maximum is refused before joining.
  auto order = node_command({"serve", "--cano.node-id=x", "--cano.lease=1s", "--cano.renew-every=5s"});
  BOOST_TEST(order.exit_code == 2);
  BOOST_TEST(has(order.err, "the lease (1000 ms) must be longer than renew_every (5000 ms)"), order.err);
  auto huge = node_command({"serve", "--cano.node-id=x", "--cano.lease=1000000h"});
  BOOST_TEST(huge.exit_code == 2, huge.err);
  BOOST_TEST(has(huge.err, "longer than the maximum, 24 h"), huge.err);
}

BOOST_AUTO_TEST_CASE(a_config_file_with_an_unknown_key_or_a_bad_value_is_refused_naming_both) {
  // CAF 0.17 alone keeps unknown INI keys and drops badly typed values: the node would start on
  // defaults. Each line below is refused with exit 2, the file, the key and the value named.
  temp_dir dir;
  const std::vector<std::pair<std::string, std::string>> cases{
    {"[cano]\nlease=500\n", "[cano] lease = 500: not a valid value (a duration such as 500ms, 3s or 1min)"},
    {"[cano]\nport=\"abc\"\n", "[cano] port = \"abc\": not a valid value (a whole number)"},
    {"[cano]\nleese=3s\n", "[cano] leese: no such option"},
    {"[cnao]\nlease=1s\n", "[cnao] lease: no such option"},
    {"[middleman]\nheartbeat-intervall=100ms\n", "[middleman] heartbeat-intervall: no such option"},
  };
  int n = 0;
  for (const auto& [text, message] : cases) {
    auto path = dir.file("bad" + std::to_string(++n) + ".ini");
    std::ofstream(path) << text;
    auto r = node_command({"serve", "--cano.node-id=x", "--config-file=" + path});
    BOOST_TEST(r.exit_code == 2, text << r.err);
    BOOST_TEST(has(r.err, path + ": " + message), r.err);
  }
}

BOOST_AUTO_TEST_CASE(status_shows_an_incarnation_whose_lease_ran_out_unburied_as_expired) {
  // Every node was SIGKILLed: nobody is left to declare the last ones dead, and their rows still
  // say active. A live node of another suite may bury the row first: then it is tried again.
  auto id = unique_id("expired");
  bool seen = false;
  for (int attempt = 1; attempt <= 5 && !seen; ++attempt) {
    {
      pqxx::connection c(pg_dsn());
      pqxx::work tx(c);
      tx.exec_params("INSERT INTO cano_nodes (node_id, incarnation, address, definitions, state, lease_until) "
                     "VALUES ($1, $2, '127.0.0.1:1', '[]'::jsonb, 'active', now() - interval '5 seconds')",
                     id, attempt);
      tx.commit();
    }
    auto shown = node_command({"status"});
    BOOST_REQUIRE_EQUAL(shown.exit_code, 0);
    std::istringstream lines(shown.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind(id + "#" + std::to_string(attempt) + " ", 0) == 0) {
        seen = has(line, " expired ");
        BOOST_TEST((seen || has(line, " dead ")), line); // never "active"
      }
    }
  }
  BOOST_TEST(seen);
  pqxx::connection c(pg_dsn());
  pqxx::work tx(c);
  tx.exec_params("DELETE FROM cano_nodes WHERE node_id = $1", id);
  tx.commit();
}

BOOST_AUTO_TEST_CASE(a_node_id_in_use_is_refused_and_a_wait_that_times_out_exits_5) {
  auto id = unique_id("dup");
  child_process a({CANO_NODE, "serve", "--cano.node-id=" + id});
  BOOST_REQUIRE(started(a).has_value());
  auto dup = node_command({"serve", "--cano.node-id=" + id});
  BOOST_TEST(dup.exit_code == 2);
  BOOST_TEST(has(dup.err, "node id \"" + id + "\" is in use: incarnation " + id + "#"), dup.err);
  auto [listed, lines] = cano_node({"status", "--json"});
  int active = 0;
  for (const auto& l : lines) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    active += j.is_object() && j["node_id"] == id && j["state"] != "dead" ? 1 : 0;
  }
  BOOST_TEST(active == 1); // the refused start left no second live incarnation

  // A run that cannot finish in time (its node is stopped): exit 5, not "unavailable".
  ::kill(a.pid(), SIGSTOP);
  auto waited = node_command({"submit", "orders", "--input", R"({"order":"o-t","amount":5,"address":"x","sku":"s"})",
                              "--id", id + "-slow", "--wait", "--timeout", "1"});
  ::kill(a.pid(), SIGCONT);
  BOOST_TEST(waited.exit_code == 5, waited.err);
  BOOST_TEST(has(waited.err, "did not finish in time"), waited.err);
  auto help = node_command({"--help"});
  BOOST_TEST(has(help.out, "no result within --timeout"), help.out);
  a.sigkill();
  a.wait_exit();
}

BOOST_AUTO_TEST_CASE(status_hides_long_dead_incarnations_and_shows_no_lease_for_the_dead) {
  auto id = unique_id("gone");
  {
    pqxx::connection c(pg_dsn());
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO cano_nodes (node_id, incarnation, address, state, lease_until) VALUES "
                   "($1, 1, '127.0.0.1:0', 'dead', now() - interval '2 hours'), "
                   "($1, 2, '127.0.0.1:7', 'dead', now() + interval '30 seconds')",
                   id);
    tx.commit();
  }
  auto listed = [&](std::vector<std::string> args) {
    std::map<std::uint64_t, nlohmann::json> mine;
    for (const auto& l : cano_node(std::move(args)).second) {
      auto j = nlohmann::json::parse(l, nullptr, false);
      if (j.is_object() && j["node_id"] == id) {
        mine[j["incarnation"].get<std::uint64_t>()] = j;
      }
    }
    return mine;
  };
  auto recent = listed({"status", "--json"});
  BOOST_TEST(recent.count(1) == 0); // its lease ended two hours ago
  BOOST_REQUIRE(recent.count(2) == 1);
  BOOST_TEST(recent[2]["lease_left_seconds"].is_null());
  BOOST_TEST(listed({"status", "--json", "--all"}).count(1) == 1);
  auto [rc, table] = cano_node({"status"});
  BOOST_TEST(rc == 0);
  for (const auto& l : table) {
    if (l.rfind(id + "#2 ", 0) == 0) {
      BOOST_TEST(has(l, " - "), l);
      BOOST_TEST(!has(l, "s  0"), l);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_node_that_loses_its_database_session_says_it_reconnects) {
  auto id = unique_id("cut");
  // Its stderr (where the node reports) joins stdout.
  child_process a({"/bin/sh", "-c", "exec \"$0\" serve --cano.node-id=\"$1\" 2>&1", CANO_NODE, id});
  auto said = started(a);
  BOOST_REQUIRE(said.has_value());
  {
    pqxx::connection c(pg_dsn());
    pqxx::nontransaction tx(c);
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE " +
            tx.quote("cano-membership:" + id + "#%"));
  }
  auto line = a.read_until([](const std::string& l) { return has(l, "reconnecting"); }, 60s);
  BOOST_TEST(line.has_value(), joined(a.lines()));
  BOOST_TEST(!has(joined(a.lines()), "client encoding"), joined(a.lines()));
  a.sigkill();
  a.wait_exit();
}

BOOST_AUTO_TEST_SUITE_END()
