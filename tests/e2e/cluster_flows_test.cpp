// Cluster flows (cano/cluster_flow.hpp) end to end: cano-node processes on 127.0.0.1 with the same
// flows in their configuration (an `every` and a `cron` flow of the demo's "orders"). Each tick
// fires once cluster-wide, not once per node; when the leader is SIGKILLed a survivor takes the
// flows over, fires the tick that fell due meanwhile (late, once) and doubles none. The judges
// are the database (one run per tick, run ids "<flow>@<tick>") and the nodes' FIRE lines (who
// fired what). Every process is reaped by PID.
#include <csignal>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "e2e/cluster_support.hpp"
#include "support/command.hpp"
#include "support/postgres.hpp"
#include "support/temp_dir.hpp"

using namespace test;
using cano_apps::child_process;
using namespace std::chrono_literals;
using ms_t = long long; // milliseconds since the epoch

namespace {

const char* order_input = R"({\"order\":\"flow\",\"amount\":20,\"address\":\"1 Main St\",\"sku\":\"KB-42\",\"qty\":1})";

/// One cano-node serving flows; its owner from its "NODE <owner> ..." line.
struct flow_node {
  std::unique_ptr<child_process> proc;
  std::string owner;

  /// Lines read so far starting with `prefix` and containing `part`.
  int count(const std::string& prefix, const std::string& part = {}) const {
    int n = 0;
    for (const auto& l : proc->lines()) {
      n += l.rfind(prefix, 0) == 0 && l.find(part) != std::string::npos ? 1 : 0;
    }
    return n;
  }
  /// Reads until `n` lines start with `prefix` and contain `part` (bounded); true when they did.
  bool wait_count(const std::string& prefix, const std::string& part, int n, std::chrono::seconds bound = 120s) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (count(prefix, part) < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !proc->read_line(left)) {
        return false;
      }
    }
    return true;
  }
  /// Reads what is left of its output once it has exited.
  void drain() {
    proc->read_until([](const std::string&) { return false; }, 10s);
  }
};

struct flows_fixture {
  temp_dir dir;
  std::string prefix = unique_id("flw");
  std::string every_id = prefix + "-every";
  std::string cron_id = prefix + "-cron";
  std::string ini = dir.file("node.ini");
  std::deque<flow_node> nodes;

  flows_fixture() {
    std::ofstream out(ini);
    out << "[cano]\nflows = [\n"
        << "  { id = \"" << every_id << "\", workflow = \"orders\", every = 1s, input = \"" << order_input << "\" },\n"
        << "  { id = \"" << cron_id << "\", workflow = \"orders\", cron = \"*/2 * * * * *\", input = \"" << order_input
        << "\" },\n]\n";
  }
  ~flows_fixture() {
    for (auto& n : nodes) {
      n.proc->sigkill();
      n.proc->wait_exit();
    }
  }

  flow_node& start(const std::string& id) {
    flow_node n;
    n.proc = std::make_unique<child_process>(
      std::vector<std::string>{CANO_NODE, "serve", "--cano.node-id=" + prefix + "-" + id, "--config-file=" + ini,
                               "--cano.lease=2s", "--cano.renew-every=200ms"});
    auto hello = n.proc->read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, 60s);
    BOOST_REQUIRE_MESSAGE(hello.has_value(), "node " << id << " did not start");
    n.owner = hello->substr(5, hello->find(' ', 5) - 5);
    nodes.push_back(std::move(n));
    return nodes.back();
  }
};

ms_t tick_of(const std::string& run_id) {
  auto iso = run_id.substr(run_id.rfind('@') + 1); // 2025-01-06T09:00:00.250Z
  std::tm tm{};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  return static_cast<ms_t>(timegm(&tm)) * 1000 + std::stoll(iso.substr(20, 3));
}

struct flow_run {
  std::string id;
  ms_t tick = 0;
  std::string status;
  long long fence = 0;
  ms_t updated = 0; // when its header was last written (its end, once finished)
};

/// The runs of flow `flow_id`, by tick.
std::vector<flow_run> runs_of(const std::string& flow_id) {
  pqxx::connection c(pg_dsn());
  pqxx::read_transaction tx(c);
  std::vector<flow_run> out;
  for (const auto& r : tx.exec_params("SELECT workflow_id, status, fence, floor(extract(epoch from updated_at) * "
                                      "1000)::bigint FROM cano_runs WHERE workflow_id LIKE $1 ORDER BY workflow_id",
                                      flow_id + "@%")) {
    auto id = r[0].as<std::string>();
    out.push_back({id, tick_of(id), r[1].as<std::string>(), r[2].as<long long>(), r[3].as<ms_t>()});
  }
  return out;
}

int finished_runs(const std::string& flow_id) {
  int n = 0;
  for (const auto& r : runs_of(flow_id)) {
    n += r.status == "completed" ? 1 : 0;
  }
  return n;
}

/// Every run id the nodes said they fired, with how often.
std::map<std::string, int> fired(const std::deque<flow_node>& nodes, const std::string& flow_id) {
  std::map<std::string, int> out;
  for (const auto& n : nodes) {
    for (const auto& l : n.proc->lines()) {
      if (l.rfind("FIRE " + flow_id + "@", 0) == 0) {
        auto id = l.substr(5, l.find(' ', 5) == std::string::npos ? std::string::npos : l.find(' ', 5) - 5);
        ++out[id];
      }
    }
  }
  return out;
}

/// One run per tick, each fired by exactly one node, each completed.
void check_once_per_tick(const std::deque<flow_node>& nodes, const std::string& flow_id,
                         const std::vector<flow_run>& runs) {
  auto said = fired(nodes, flow_id);
  BOOST_TEST(said.size() == runs.size(),
             flow_id << ": " << said.size() << " fired, " << runs.size() << " in the database");
  for (const auto& r : runs) {
    BOOST_TEST(said[r.id] == 1, r.id << " fired " << said[r.id] << " times");
    BOOST_TEST(r.status == "completed", r.id << " is " << r.status);
  }
}

/// An every-flow's ticks: each at least the interval after the one before (a second timeline of
/// ticks — a second node firing — would put two within it).
void check_every_gaps(const std::vector<flow_run>& runs, ms_t interval) {
  for (std::size_t i = 1; i < runs.size(); ++i) {
    BOOST_TEST(runs[i].tick - runs[i - 1].tick >= interval, runs[i - 1].id << " then " << runs[i].id);
  }
}

/// A cron flow ("*/2 * * * * *"): ticks are its fire times, and none is missing unless the run
/// before was still going at it (cano skips fire times while its run is in flight).
void check_cron_ticks(const std::vector<flow_run>& runs) {
  for (std::size_t i = 0; i < runs.size(); ++i) {
    BOOST_TEST(runs[i].tick % 2000 == 0, runs[i].id << " is not a fire time");
    if (i == 0) {
      continue;
    }
    auto gap = runs[i].tick - runs[i - 1].tick;
    BOOST_TEST(gap >= 2000, runs[i - 1].id << " then " << runs[i].id);
    if (gap > 2000) {
      BOOST_TEST(runs[i - 1].updated >= runs[i - 1].tick + 2000,
                 "fire time(s) after " << runs[i - 1].id << " lost although its run ended at " << runs[i - 1].updated);
    }
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_flows_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(two_nodes_with_the_same_flows_fire_each_tick_once) {
  flows_fixture f;
  auto& a = f.start("a");
  BOOST_REQUIRE(a.wait_count("LEAD " + f.every_id, "", 1, 60s));
  BOOST_REQUIRE(a.wait_count("LEAD " + f.cron_id, "", 1, 60s));
  auto& b = f.start("b");
  BOOST_REQUIRE(eventually(pg_dsn(), [&](pqxx::transaction_base&) {
    return finished_runs(f.every_id) >= 6 && finished_runs(f.cron_id) >= 4;
  }));
  // status shows the flows and their leader, the node that started first.
  auto shown = run_command({CANO_NODE, "status", "--json"});
  BOOST_TEST(shown.exit_code == 0, shown.err);
  int listed = 0;
  std::istringstream lines(shown.out);
  for (std::string l; std::getline(lines, l);) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (!j.is_object() || !j.contains("flow_id") || j["flow_id"].get<std::string>().rfind(f.prefix, 0) != 0) {
      continue;
    }
    ++listed;
    BOOST_TEST(j["leader"] == a.owner, l);
    BOOST_TEST(j["leader_active"] == true, l);
    BOOST_TEST(j["fence"] == 1, l);
    BOOST_TEST(j["run_count"].get<int>() >= 4, l);
    BOOST_TEST(j["workflow"] == "orders", l);
  }
  BOOST_TEST(listed == 2);
  // Stop b, then a with SIGTERM (it drains: no fire after its last FIRE line).
  b.proc->sigkill();
  b.proc->wait_exit();
  ::kill(a.proc->pid(), SIGTERM);
  BOOST_TEST(a.proc->read_until([](const std::string& l) { return l.rfind("DRAINED", 0) == 0; }, 60s).has_value());
  a.proc->wait_exit();
  a.drain();
  b.drain();
  // One leader: b never led nor fired while a lived.
  BOOST_TEST(b.count("LEAD ") == 0);
  BOOST_TEST(b.count("FIRE ") == 0);
  BOOST_TEST(a.count("LEAD " + f.every_id) == 1);
  auto every = runs_of(f.every_id);
  auto cron = runs_of(f.cron_id);
  BOOST_TEST(every.size() >= 6u);
  check_once_per_tick(f.nodes, f.every_id, every);
  check_once_per_tick(f.nodes, f.cron_id, cron);
  check_every_gaps(every, 1000);
  check_cron_ticks(cron);
  for (const auto& r : every) {
    BOOST_TEST(r.fence == 1, r.id << " changed hands"); // placed on the leader, run there
  }
}

BOOST_AUTO_TEST_CASE(a_sigkilled_leader_is_replaced_and_no_tick_is_lost_or_doubled) {
  flows_fixture f;
  auto& a = f.start("a");
  BOOST_REQUIRE(a.wait_count("LEAD " + f.every_id, "", 1, 60s));
  BOOST_REQUIRE(a.wait_count("LEAD " + f.cron_id, "", 1, 60s));
  auto& b = f.start("b");
  BOOST_REQUIRE(a.wait_count("FIRE " + f.every_id, "", 3));
  BOOST_REQUIRE(a.wait_count("FIRE " + f.cron_id, "", 2));
  ::kill(a.proc->pid(), SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  a.proc->wait_exit();
  BOOST_REQUIRE_MESSAGE(b.wait_count("LEAD " + f.every_id, "", 1, 60s), "b never took the every-flow over");
  auto took_over = std::chrono::steady_clock::now() - killed;
  BOOST_REQUIRE(b.wait_count("LEAD " + f.cron_id, "", 1, 60s));
  BOOST_TEST_MESSAGE("flows taken over " << std::chrono::duration_cast<std::chrono::milliseconds>(took_over).count()
                                         << " ms after the leader's SIGKILL (lease 2 s, renew every 200 ms)");
  BOOST_TEST((took_over < 30s)); // bounded: CAF's down message and a free lock, else a lease
  BOOST_REQUIRE(b.wait_count("FIRE " + f.every_id, "", 3));
  BOOST_REQUIRE(b.wait_count("FIRE " + f.cron_id, "", 2));
  // The run a had in flight, if any, was claimed and finished by b: every run ends.
  BOOST_REQUIRE(eventually(pg_dsn(), [&](pqxx::transaction_base& tx) {
    return tx
      .exec_params("SELECT 1 FROM cano_runs WHERE (workflow_id LIKE $1 OR workflow_id LIKE $2) AND status <> "
                   "'completed'",
                   f.every_id + "@%", f.cron_id + "@%")
      .empty();
  }));
  ::kill(b.proc->pid(), SIGTERM);
  BOOST_TEST(b.proc->read_until([](const std::string& l) { return l.rfind("DRAINED", 0) == 0; }, 60s).has_value());
  b.proc->wait_exit();
  a.drain();
  b.drain();
  auto every = runs_of(f.every_id);
  auto cron = runs_of(f.cron_id);
  check_once_per_tick(f.nodes, f.every_id, every);
  check_once_per_tick(f.nodes, f.cron_id, cron);
  check_every_gaps(every, 1000);
  check_cron_ticks(cron); // the fire time due during the takeover fired late, not never
  // Each tick was fired by one node: a's before the kill, b's after, none by both.
  ms_t last_of_a = 0, first_of_b = -1;
  for (const auto& r : every) {
    if (a.count("FIRE " + r.id) == 1) {
      last_of_a = std::max(last_of_a, r.tick);
    } else if (first_of_b < 0) {
      first_of_b = r.tick;
    }
  }
  BOOST_TEST(first_of_b > last_of_a);
  pqxx::connection c(pg_dsn());
  pqxx::read_transaction tx(c);
  auto row = tx.exec_params("SELECT leader, fence FROM cano_flows WHERE flow_id = $1", f.every_id);
  BOOST_REQUIRE(row.size() == 1u);
  BOOST_TEST(row[0][0].as<std::string>() == b.owner);
  BOOST_TEST(row[0][1].as<long long>() == 2); // one change of leader
}

BOOST_AUTO_TEST_SUITE_END()
