// A real cano-node (started with config/cano-node.ini) serves its status page and its Prometheus
// metrics on 127.0.0.1; runs submitted through `cano-node submit` show in headless Chromium —
// the node among the members, each run with its status, a rolled-back run's history and failure,
// a hostile workflow id as text — and in the scraped metrics. The node is built with the
// components of cano/status_page.hpp and cano/prometheus_metrics.hpp (this suite is left out
// without them).
#include <csignal>
#include <map>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "cano/postgres_checkpoint_store.hpp"
#include "child_process.hpp"
#include "support/headless_chromium.hpp"
#include "support/http.hpp"
#include "support/page_dom.hpp"
#include "support/postgres.hpp"
#include "support/temp_dir.hpp"

using namespace test;
using cano_apps::child_process;
using namespace std::chrono_literals;

namespace {

/// Runs `cano-node submit … --wait`: the run's result as JSON (null when it printed none).
nlohmann::json submit(const std::string& id, const std::string& input) {
  child_process p({CANO_NODE, "submit", "orders", "--input", input, "--id", id, "--wait", "--timeout", "120"});
  p.read_until([](const std::string&) { return false; }, 180s);
  p.wait_exit();
  return p.lines().empty() ? nlohmann::json() : nlohmann::json::parse(p.lines().back(), nullptr, false);
}

/// What follows `prefix` on the first line starting with it, or empty.
std::string after(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const auto& l : lines) {
    if (l.rfind(prefix, 0) == 0) {
      return l.substr(prefix.size());
    }
  }
  return {};
}

std::uint16_t port_of(const std::string& url) { // http://127.0.0.1:PORT/...
  auto colon = url.rfind(':');
  return static_cast<std::uint16_t>(std::stoi(url.substr(colon + 1)));
}

std::string full_order(const std::string& order) {
  return R"({"order":")" + order + R"(","amount":20,"address":"1 Main St","sku":"KB-42","qty":1})";
}

} // namespace

BOOST_AUTO_TEST_SUITE(cano_node_status_page_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(a_node_serves_its_status_page_and_metrics_showing_real_runs_in_a_browser) {
  BOOST_REQUIRE_MESSAGE(!chromium_path().empty(), "no chromium found at configure time (Debian package chromium)");
  const auto prefix = unique_id("page");
  child_process node({CANO_NODE, "serve", "--config-file=" CANO_SOURCE_DIR "/config/cano-node.ini",
                      "--cano.node-id=" + prefix, "--cano.history-retention=1h"});
  auto said = node.read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, 60s);
  BOOST_REQUIRE_MESSAGE(said.has_value(), "cano-node did not start");
  const auto owner = said->substr(5, said->find(' ', 5) - 5);
  const auto status_url = after(node.lines(), "STATUS ");
  const auto metrics_url = after(node.lines(), "METRICS ");
  BOOST_TEST_MESSAGE("node " << owner << ", page " << status_url << ", metrics " << metrics_url);
  // Both on loopback (the INI file's and the binary's default), on ports picked at start.
  BOOST_REQUIRE(status_url.rfind("http://127.0.0.1:", 0) == 0);
  BOOST_REQUIRE(metrics_url.rfind("http://127.0.0.1:", 0) == 0);
  BOOST_TEST(metrics_url.substr(metrics_url.size() - 8) == "/metrics");

  // Real runs: completed, rolled back (no address: shipping fails, charge and stock undone),
  // failed (validation), and one whose id is a script.
  const std::string hostile = "<script>alert('" + prefix + "')</script>";
  std::map<std::string, nlohmann::json> results;
  results[prefix + "-ok"] = submit(prefix + "-ok", full_order("o-1"));
  results[prefix + "-rb"] = submit(prefix + "-rb", R"({"order":"o-2","amount":20,"sku":"KB-42","qty":1})");
  results[prefix + "-bad"] = submit(prefix + "-bad", R"({"order":"o-3","amount":0})");
  results[hostile] = submit(hostile, full_order("o-4"));
  for (const auto& [id, r] : results) {
    BOOST_REQUIRE_MESSAGE(r.is_object(), "no result for " + id);
  }
  BOOST_TEST(results[prefix + "-ok"]["status"] == "completed");
  BOOST_TEST(results[prefix + "-rb"]["status"] == "rolled_back");
  BOOST_TEST(results[prefix + "-bad"]["status"] == "failed");
  BOOST_TEST(results[hostile]["status"] == "completed");

  // The overview in a browser: this node among the live members, each run with the status its
  // result had, the hostile id as text.
  auto overview = browser_dom(status_url + "?definition=orders&limit=500");
  BOOST_REQUIRE_MESSAGE(overview.exit_code == 0 && !overview.timed_out, overview.err.substr(0, 2000));
  const auto& dom = overview.out;
  BOOST_TEST(dom.find("<title>Runs — cano-node " + owner + "</title>") != std::string::npos);
  BOOST_TEST(dom.find("<li class=\"member\" data-state=\"active\"><span class=\"mono\">" + owner + "</span> active") !=
             std::string::npos);
  BOOST_TEST(dom.find("<h2>In flight</h2>") != std::string::npos);
  auto recent = table_of(dom, "runs");
  for (const auto& id : {prefix + "-ok", prefix + "-rb", prefix + "-bad"}) {
    BOOST_TEST(row_status(recent, id) == results[id]["status"].get<std::string>(), id);
  }
  const std::string hostile_text = "&lt;script&gt;alert('" + prefix + "')&lt;/script&gt;";
  BOOST_TEST(row_status(recent, hostile_text) == "completed");
  BOOST_TEST(dom.find("<script") == std::string::npos);

  temp_dir dir;
  auto shot = dir.file("status.png");
  auto taken = browser_screenshot(status_url + "?definition=orders", shot, 1280, 1000);
  BOOST_TEST_MESSAGE("screenshot: exit " << taken.exit_code);
  BOOST_TEST(is_png(shot, 10000));

  // The rolled-back run's page: its failure, and one history row per row the store holds for it.
  auto store = cano::PostgresCheckpointStore::open({pg_dsn()});
  BOOST_REQUIRE(store.has_value());
  auto rb_log = (*store)->run_log(prefix + "-rb");
  BOOST_REQUIRE(rb_log.has_value());
  BOOST_TEST(rb_log->size() >= 5u); // Validate … Ship, with the saga steps' outputs
  auto rb = browser_dom(status_url + "run?id=" + prefix + "-rb").out;
  BOOST_TEST(rb.find("<span class=\"badge rolled_back\">rolled_back</span>") != std::string::npos);
  BOOST_TEST(rb.find("no shipping address") != std::string::npos);
  BOOST_TEST(rb.find("<span class=\"mono\">" + results[prefix + "-rb"]["owner"].get<std::string>() + "</span>") !=
             std::string::npos);
  auto history = table_of(rb, "history");
  BOOST_TEST(occurrences(history, "<tr class=\"row\">") == rb_log->size());
  for (const auto& e : *rb_log) {
    BOOST_TEST(history.find("<td>" + std::to_string(e.row.sequence) + "</td><td>") != std::string::npos);
    BOOST_TEST(history.find("<td>" + e.row.state + "</td>") != std::string::npos, e.row.state);
  }
  BOOST_TEST(table_of(rb, "rollback").find("<td class=\"mono\">reserve</td>") != std::string::npos);
  BOOST_TEST(rb.find("src=\"/graph.svg?definition=orders&amp;version=0\"") != std::string::npos);

  auto hostile_page = browser_dom(status_url + "run?id=%3Cscript%3Ealert('" + prefix + "')%3C%2Fscript%3E").out;
  BOOST_TEST(hostile_page.find("<code id=\"workflow-id\">" + hostile_text + "</code>") != std::string::npos);
  BOOST_TEST(hostile_page.find("<script") == std::string::npos);

  auto nodes = browser_dom(status_url + "nodes").out;
  auto me = nodes.find("<td class=\"mono\">" + prefix + "</td>");
  BOOST_TEST(me != std::string::npos);
  BOOST_TEST(nodes.find("<td>orders@0</td>", me) != std::string::npos);

  // The page only reads.
  auto post = http_request(port_of(status_url), "POST", "/");
  BOOST_TEST(post.status == 405);

  // The metrics of the runs this node drove (placement may give another test's node some of them).
  std::map<std::string, int> mine;
  for (const auto& [id, r] : results) {
    if (r["owner"] == owner) {
      ++mine[r["status"].get<std::string>()];
    }
  }
  BOOST_TEST_MESSAGE("runs driven by this node: " << mine.size() << " statuses");
  auto s = scrape_metrics(port_of(metrics_url));
  for (const auto& [status, n] : mine) {
    BOOST_TEST(s.count("cano_runs_finished_total", {{"status", status}}) >= n, status);
  }
  if (mine.count("completed") != 0) {
    BOOST_TEST(s.count("cano_workflow_runs_total", {{"outcome", "completed"}}) >= mine["completed"]);
    BOOST_TEST(s.count("cano_state_enters_total", {{"state", "Done"}}) >= mine["completed"]);
  }
  if (!mine.empty()) { // its checkpoint actor committed their rows
    BOOST_TEST(s.count("cano_checkpoint_commit_seconds_count") >= 1);
  }
  BOOST_TEST(s.has("cano_blocking_pool_threads", {{"state", "busy"}}));

  ::kill(node.pid(), SIGTERM);
  BOOST_TEST(node.read_until([](const std::string& l) { return l.rfind("DRAINED", 0) == 0; }, 60s).has_value());
  int status = node.wait_exit();
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  // Gone with the node: nothing listens any more.
  BOOST_TEST(http_get(port_of(status_url), "/").status == 0);
}

BOOST_AUTO_TEST_CASE(bad_options_and_taken_ports_exit_with_a_message_naming_them) {
  auto cano_node = [](std::vector<std::string> args) {
    args.insert(args.begin(), CANO_NODE);
    return run_command(args, {}, {}, std::chrono::seconds(120));
  };
  auto level = cano_node({"serve", "--cano.node-id=x", "--cano.log-level=loud"});
  BOOST_TEST(level.exit_code == 2);
  BOOST_TEST(level.err.find("cano.log-level must be trace, debug, info, warn, error or off, not \"loud\"") !=
               std::string::npos,
             level.err);
  auto toggle = cano_node({"serve", "--cano.node-id=x", "--cano.metrics=maybe"});
  BOOST_TEST(toggle.exit_code == 2);
  BOOST_TEST(toggle.err.find("cano.metrics must be on or off, not \"maybe\"") != std::string::npos, toggle.err);

  // A port something else listens on: the node names it and exits 3 (unavailable).
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  BOOST_REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof addr;
  BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const auto taken = std::to_string(ntohs(addr.sin_port));
  auto page = cano_node({"serve", "--cano.node-id=" + unique_id("taken"), "--cano.status-port=" + taken});
  BOOST_TEST(page.exit_code == 3);
  BOOST_TEST(page.err.find("status_page: cannot listen on 127.0.0.1:" + taken) != std::string::npos, page.err);
  auto metrics = cano_node({"serve", "--cano.node-id=" + unique_id("taken"), "--cano.metrics-port=" + taken});
  BOOST_TEST(metrics.exit_code == 3);
  BOOST_TEST(metrics.err.find("metrics: cannot serve on 127.0.0.1:" + taken) != std::string::npos, metrics.err);
  ::close(fd);
  // Both turned off: the node serves neither and says nothing of them.
  child_process quiet(
    {CANO_NODE, "serve", "--cano.node-id=" + unique_id("quiet"), "--cano.metrics=off", "--cano.status-page=off"});
  BOOST_REQUIRE(quiet.read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, 60s).has_value());
  BOOST_TEST(after(quiet.lines(), "STATUS").empty());
  BOOST_TEST(after(quiet.lines(), "METRICS").empty());
  ::kill(quiet.pid(), SIGTERM);
  BOOST_TEST(quiet.read_until([](const std::string& l) { return l.rfind("DRAINED", 0) == 0; }, 60s).has_value());
  quiet.wait_exit();
}

BOOST_AUTO_TEST_SUITE_END()
