// cano_actor::status_page opened in headless Chromium on a store filled by real runs: the
// overview shows the run in flight and the recent runs with their status, a run's page its
// header, history and graph, a hostile workflow id shows as text; the page only reads, and bad
// requests get a page saying what was wrong.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/status_page.hpp"
#include "cano/workflow.hpp"
#include "support/headless_chromium.hpp"
#include "support/http.hpp"
#include "support/page_dom.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/temp_dir.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

const std::string hostile_id = "<script>alert(1)</script>";

/// A SQLite store keeping history, and a "shop" workflow: Start → Process → Done. Process fails
/// for an input {"fail": true}; the run "held-run" waits in Process until `release` opens.
struct shop {
  temp_dir dir;
  std::shared_ptr<cano::SqliteCheckpointStore> store;
  std::shared_ptr<gate> release = std::make_shared<gate>();
  std::shared_ptr<counter> holding = std::make_shared<counter>();
  cano::Workflow<State> wf;
  test_system ts;

  shop() {
    auto opened = cano::SqliteCheckpointStore::open(dir.file("runs.db"));
    BOOST_REQUIRE_MESSAGE(opened.has_value(), (opened ? std::string() : opened.error().to_string()));
    store = *opened;
    store->with_history_retention(1h);
    wf = cano::Workflow<State>{}
           .with_name("shop")
           .with_checkpoint_store(store)
           .register_task(
             State::Start, "take", [] { return State::Process; }, cano::TaskConfig::minimal())
           .register_task(
             State::Process, "pack",
             [release = release, holding = holding](cano::task_context& ctx) -> cano::expected<State> {
               if (ctx.workflow_id() == "held-run") {
                 holding->arrive();
                 release->wait_for(120s);
               }
               if (ctx.input().is_object() && ctx.input().value("fail", false)) {
                 return cano::error::task_execution("parcel too heavy").permanent();
               }
               return State::Done;
             },
             cano::TaskConfig::minimal())
           .add_exit_state(State::Done)
           .with_transitions(State::Start, {State::Process})
           .with_transitions(State::Process, {State::Done});
  }

  std::size_t log_rows(const std::string& id) {
    auto log = store->run_log(id);
    BOOST_REQUIRE(log.has_value());
    return log->size();
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(status_page_test)

BOOST_AUTO_TEST_CASE(a_browser_shows_the_run_in_flight_recent_runs_histories_and_a_hostile_id_as_text) {
  BOOST_REQUIRE_MESSAGE(!chromium_path().empty(), "no chromium found at configure time (Debian package chromium)");
  shop s;
  BOOST_REQUIRE(s.ts.rt->run(s.wf, State::Start, {"shop-ok", {{"sku", "KB-42"}}}).has_value());
  BOOST_REQUIRE(s.ts.rt->run(s.wf, State::Start, {hostile_id, nullptr}).has_value());
  BOOST_REQUIRE(!s.ts.rt->run(s.wf, State::Start, {"shop-bad", {{"fail", true}}}).has_value());
  std::thread held([&] { BOOST_CHECK(s.ts.rt->run(s.wf, State::Start, {"held-run", nullptr}).has_value()); });
  struct release_on_exit { // a failed REQUIRE must not leave the run (and the thread) waiting
    shop& s;
    std::thread& t;
    ~release_on_exit() {
      s.release->open();
      if (t.joinable()) {
        t.join();
      }
    }
  } releaser{s, held};
  BOOST_REQUIRE(s.holding->wait_for_at_least(1, 60s));

  auto page = cano::status_page::start(s.store);
  BOOST_REQUIRE_MESSAGE(page.has_value(), (page ? std::string() : page.error().to_string()));
  (*page)->add_workflow(s.wf);
  auto home = (*page)->url();
  BOOST_TEST(home.rfind("http://127.0.0.1:", 0) == 0, home);

  // The overview: the held run in flight, every run among the recent ones with its status.
  auto overview = browser_dom(home);
  BOOST_REQUIRE_MESSAGE(overview.exit_code == 0 && !overview.timed_out, overview.err);
  const auto& dom = overview.out;
  BOOST_TEST(dom.find("<title>Runs — cano-actor</title>") != std::string::npos);
  auto in_flight = table_of(dom, "in-flight");
  BOOST_TEST(row_status(in_flight, "held-run") == "running");
  BOOST_TEST(row_status(in_flight, "shop-ok") == "<absent>");
  auto recent = table_of(dom, "runs");
  BOOST_TEST(row_status(recent, "shop-ok") == "completed");
  BOOST_TEST(row_status(recent, "shop-bad") == "failed");
  BOOST_TEST(row_status(recent, "held-run") == "running");
  BOOST_TEST(recent.find("parcel too heavy") != std::string::npos);
  // The hostile id is text: escaped in the DOM, and no script element exists at all.
  BOOST_TEST(row_status(recent, "&lt;script&gt;alert(1)&lt;/script&gt;") == "completed");
  BOOST_TEST(dom.find("<script") == std::string::npos);
  BOOST_TEST(dom.find("id=\"members\"") == std::string::npos); // no cluster given

  auto shot = s.dir.file("overview.png");
  auto taken = browser_screenshot(home, shot);
  BOOST_TEST_MESSAGE("screenshot: exit " << taken.exit_code << " " << taken.err.substr(0, 400));
  BOOST_TEST(is_png(shot, 10000));

  // One run's page: header, each row of its history, the graph of its definition.
  auto ok = browser_dom(home + "run?id=shop-ok").out;
  BOOST_TEST(ok.find("<code id=\"workflow-id\">shop-ok</code>") != std::string::npos);
  BOOST_TEST(ok.find("<span class=\"badge completed\">completed</span>") != std::string::npos);
  BOOST_TEST(ok.find("\"sku\": \"KB-42\"") != std::string::npos); // its input
  auto history = table_of(ok, "history");
  BOOST_TEST(s.log_rows("shop-ok") == 3u); // Start, Process, Done: kept as history
  BOOST_TEST(occurrences(history, "<tr class=\"row\">") == s.log_rows("shop-ok"));
  BOOST_TEST(history.find("<td>Process</td><td class=\"mono\">pack</td>") != std::string::npos);
  BOOST_TEST(ok.find("src=\"/graph.svg?definition=shop&amp;version=0\"") != std::string::npos);
  auto graph = browser_dom(home + "graph.svg?definition=shop&version=0").out;
  BOOST_TEST(graph.find("<svg") != std::string::npos);
  BOOST_TEST(graph.find(">Process</text>") != std::string::npos);

  auto bad = browser_dom(home + "run?id=shop-bad").out;
  BOOST_TEST(table_of(bad, "failure").find("task_execution: Task execution error: parcel too heavy") !=
             std::string::npos);
  BOOST_TEST(occurrences(table_of(bad, "history"), "<tr class=\"row\">") == s.log_rows("shop-bad"));

  auto held_page = browser_dom(home + "run?id=held-run").out;
  BOOST_TEST(held_page.find("<span class=\"badge running\">running</span>") != std::string::npos);
  BOOST_TEST(occurrences(table_of(held_page, "history"), "<tr class=\"row\">") == s.log_rows("held-run"));

  auto hostile = browser_dom(home + "run?id=%3Cscript%3Ealert(1)%3C%2Fscript%3E").out;
  BOOST_TEST(hostile.find("<code id=\"workflow-id\">&lt;script&gt;alert(1)&lt;/script&gt;</code>") !=
             std::string::npos);
  BOOST_TEST(hostile.find("<script") == std::string::npos);

  // Once the held run ends, the page says so: nothing in flight, the run completed.
  s.release->open();
  held.join();
  auto after = browser_dom(home).out;
  BOOST_TEST(after.find("id=\"none-in-flight\"") != std::string::npos);
  BOOST_TEST(row_status(table_of(after, "runs"), "held-run") == "completed");
}

BOOST_AUTO_TEST_CASE(the_page_only_reads_and_says_what_was_wrong_with_a_request) {
  shop s;
  BOOST_REQUIRE(s.ts.rt->run(s.wf, State::Start, {"shop-ok", nullptr}).has_value());
  auto page = cano::status_page::start(s.store);
  BOOST_REQUIRE(page.has_value());
  (*page)->add_workflow(s.wf);
  auto port = (*page)->port();

  for (const char* method : {"POST", "PUT", "DELETE"}) {
    auto r = http_request(port, method, "/run?id=shop-ok");
    BOOST_TEST(r.status == 405, method);
    BOOST_TEST(r.headers.find("Allow: GET, HEAD") != std::string::npos);
    BOOST_TEST(r.body.find(std::string(method) + " is not allowed") != std::string::npos);
  }
  auto home = http_get(port, "/");
  BOOST_TEST(home.status == 200);
  BOOST_TEST(home.headers.find("Content-Security-Policy: default-src 'none'") != std::string::npos);
  auto bad_status = http_get(port, "/?status=bogus");
  BOOST_TEST(bad_status.status == 400);
  BOOST_TEST(bad_status.body.find("unknown status &quot;bogus&quot;") != std::string::npos);
  for (const char* limit : {"0", "501", "x", "99999"}) {
    auto r = http_get(port, std::string("/?limit=") + limit);
    BOOST_TEST(r.status == 400, limit);
    BOOST_TEST(r.body.find("limit must be a number from 1 to 500") != std::string::npos);
  }
  BOOST_TEST(http_get(port, "/run").status == 400);
  auto missing = http_get(port, "/run?id=no-such-run");
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(missing.body.find("no run with workflow id &quot;no-such-run&quot;") != std::string::npos);
  BOOST_TEST(http_get(port, "/elsewhere").status == 404);
  BOOST_TEST(http_get(port, "/graph.svg?definition=shop&version=x").status == 400);
  BOOST_TEST(http_get(port, "/graph.svg?definition=nope&version=0").status == 404);
  auto svg = http_get(port, "/graph.svg?definition=shop&version=0");
  BOOST_TEST(svg.status == 200);
  BOOST_TEST(svg.headers.find("Content-Type: image/svg+xml") != std::string::npos);
  auto nodes = http_get(port, "/nodes");
  BOOST_TEST(nodes.status == 200);
  BOOST_TEST(nodes.body.find("id=\"no-cluster\"") != std::string::npos);
  // A filter narrows the runs and drops the overview.
  auto done = http_get(port, "/?status=completed&definition=shop");
  BOOST_TEST(done.body.find(">shop-ok</a>") != std::string::npos);
  BOOST_TEST(done.body.find("<h2>In flight</h2>") == std::string::npos);
  auto other = http_get(port, "/?definition=other");
  BOOST_TEST(other.body.find("id=\"no-runs\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_node_list_shows_live_nodes_on_the_overview_and_every_incarnation_on_the_nodes_page) {
  shop s;
  auto page = cano::status_page::start(s.store);
  BOOST_REQUIRE(page.has_value());
  auto port = (*page)->port();
  std::atomic<bool> failing{false};
  (*page)->set_nodes([&failing]() -> cano::expected<std::vector<cano::cluster_node>> {
    if (failing) {
      return cano::error::checkpoint_store("cluster members: connection refused");
    }
    cano::cluster_node live;
    live.node_id = "<b>n1</b>";
    live.incarnation = 2;
    live.state = "active";
    live.address = "127.0.0.1:7001";
    live.lease_left = 2500ms;
    live.definitions = {"shop@0"};
    live.owned_unfinished = 3;
    cano::cluster_node dead = live;
    dead.incarnation = 1;
    dead.state = "dead";
    dead.lease_left = -60000ms;
    return std::vector<cano::cluster_node>{live, dead};
  });
  auto home = http_get(port, "/").body;
  BOOST_TEST(home.find("<li class=\"member\" data-state=\"active\"><span class=\"mono\">&lt;b&gt;n1&lt;/b&gt;#2</span> "
                       "active, 3 unfinished runs owned") != std::string::npos,
             home);
  BOOST_TEST(home.find("1 dead incarnations") != std::string::npos);
  auto nodes = http_get(port, "/nodes").body;
  BOOST_TEST(occurrences(nodes, "<tr class=\"node\"") == 2u);
  BOOST_TEST(nodes.find("expired 60000 ms ago") != std::string::npos);
  BOOST_TEST(nodes.find("<td>shop@0</td><td>3</td>") != std::string::npos);
  failing = true;
  auto broken = http_get(port, "/nodes");
  BOOST_TEST(broken.status == 500);
  BOOST_TEST(broken.body.find("cluster members: connection refused") != std::string::npos);
  auto overview = http_get(port, "/");
  BOOST_TEST(overview.status == 200); // the runs are still shown
  BOOST_TEST(overview.body.find("cannot list the nodes") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(start_refuses_no_store_a_page_size_of_zero_and_an_address_in_use) {
  shop s;
  auto none = cano::status_page::start(nullptr);
  BOOST_REQUIRE(!none.has_value());
  BOOST_TEST(none.error().code() == cano::errc::configuration);
  cano::status_page_options zero;
  zero.page_size = 0;
  auto z = cano::status_page::start(s.store, zero);
  BOOST_REQUIRE(!z.has_value());
  BOOST_TEST(z.error().message().find("page_size") != std::string::npos);
  auto first = cano::status_page::start(s.store);
  BOOST_REQUIRE(first.has_value());
  cano::status_page_options same;
  same.port = (*first)->port();
  auto taken = cano::status_page::start(s.store, same);
  BOOST_REQUIRE(!taken.has_value());
  BOOST_TEST(taken.error().message().find("cannot listen on 127.0.0.1:" + std::to_string(same.port)) !=
             std::string::npos);
  (*first)->stop();
  (*first)->stop(); // idempotent
}

BOOST_AUTO_TEST_SUITE_END()
