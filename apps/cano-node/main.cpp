// cano-node: one node of a cano-actor cluster serving the demo's definitions, and the commands to
// use a cluster from a shell. Every node and command reaches the same PostgreSQL ($CANO_PG_DSN or
// --cano.dsn=...).
//
//   cano-node serve [CAF options…]        join, serve "orders", take over orphans, lead the
//                                         flows of cano.flows (flow_entries.hpp); SIGTERM drains;
//                                         serves its metrics and the status page on 127.0.0.1
//   cano-node submit orders --input '{"order":"o-1","amount":20}' [--id o-1] [--wait]
//   cano-node status [--json]             nodes, incarnations, leases, unfinished runs owned;
//                                         flows, their leaders and status
//   cano-node trigger FLOW | reset FLOW   cano's trigger and reset_flow, for the cluster's flows
//
// CLI11 reads the subcommand and its own flags; everything else goes to CAF's configuration
// parser (CAF 0.17's stops at the first positional argument, so it gets only what follows): the
// cano.* options below, middleman.*, openssl.*, and --config-file=config/cano-node.ini.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/settings.hpp>

#include "cano/cluster.hpp"
#if CANO_NODE_WITH_METRICS
#include "cano/prometheus_metrics.hpp"
#endif
#if CANO_NODE_WITH_STATUS_PAGE
#include "cano/status_page.hpp"
#endif
#include "cli.hpp"
#include "flow_entries.hpp"
#include "order_workflow.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_run_failed = 1; // submit --wait: the run failed or was rolled back
constexpr int exit_bad_arguments = 2;
constexpr int exit_unavailable = 3; // the database, the port, a node to run it on
constexpr int exit_refused = 4;     // trigger: the flow is running or tripped
constexpr int exit_timeout = 5;     // submit --wait: no result within --timeout (the run goes on)

volatile std::sig_atomic_t terminate_requested = 0;

/// cano-node's own options, next to CAF's: on the command line after the subcommand
/// (--cano.node-id=a) or in the INI file's [cano] section.
struct node_config : caf::actor_system_config {
  std::string node_id;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  caf::timespan lease = std::chrono::seconds(3);
  caf::timespan renew_every = std::chrono::milliseconds(500);
  caf::timespan resume_stalled_every = std::chrono::seconds(30);
  caf::timespan drain_deadline = std::chrono::seconds(10);
  std::string dsn;
  // "on" or "off": CAF 0.17 takes a bool on the command line only as a flag that turns it on.
  std::string metrics = "on";
  std::string metrics_host = "127.0.0.1";
  std::uint16_t metrics_port = 0;
  std::string status_page = "on";
  std::string status_host = "127.0.0.1";
  std::uint16_t status_port = 0;
  caf::timespan history_retention{0};
  std::string log_level = "warn";
  node_config() {
    opt_group{custom_options_, "cano"}
      .add(node_id, "node-id", "this node's stable name (serve; required)")
      .add(host, "host", "where its node actor listens (default 127.0.0.1)")
      .add(port, "port", "its port (0: any, printed)")
      .add(lease, "lease", "how long a silent node lives before it is declared dead")
      .add(renew_every, "renew-every", "how often a lease is renewed")
      .add(resume_stalled_every, "resume-stalled-every",
           "how often the node resumes its own runs that nothing drives (0: never)")
      .add(drain_deadline, "drain-deadline", "on SIGTERM, how long runs may take to finish")
      .add(dsn, "dsn", "the cluster's PostgreSQL (default: $CANO_PG_DSN)")
      .add(metrics, "metrics",
           "on (default): serve Prometheus metrics at http://metrics-host:metrics-port/metrics; off")
      .add(metrics_host, "metrics-host", "the metrics endpoint's address (default 127.0.0.1)")
      .add(metrics_port, "metrics-port", "its port (0: any, printed)")
      .add(status_page, "status-page", "on (default): serve the read-only status page; off")
      .add(status_host, "status-host", "the status page's address (default 127.0.0.1)")
      .add(status_port, "status-port", "its port (0: any, printed)")
      .add(history_retention, "history-retention", "keep finished runs' rows this long (0: not kept)")
      .add(log_level, "log-level", "trace, debug, info (a line per run event), warn, error or off");
  }
  /// The options declared above and CAF's own (to say which one a bad argument was for).
  const caf::config_option_set& options() const { return custom_options_; }
};

std::mutex out_mutex;
void say(const std::string& text) {
  std::lock_guard<std::mutex> guard(out_mutex);
  std::cout << text << std::endl;
}

std::string duration_text(caf::timespan d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

/// What a valid value of `opt` looks like, in words.
std::string valid_value_text(const caf::config_option& opt) {
  std::string type = std::string(opt.type_name().data(), opt.type_name().size());
  return type == "timespan"                      ? "a duration such as 500ms, 3s or 1min"
         : type.find("int") != std::string::npos ? "a whole number"
         : type == "boolean"                     ? "true or false"
                                                 : "a value of type " + type;
}

/// Which of `args` CAF could not read, and what a valid value looks like; `fallback` (CAF's own
/// text) when no single argument is at fault (an unknown option, a config file).
std::string bad_option_text(const std::vector<std::string>& args, const std::string& fallback) {
  for (const auto& arg : args) {
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      continue;
    }
    node_config alone;
    cano::node::configure(alone);
    if (!alone.parse(std::vector<std::string>{arg})) {
      continue;
    }
    auto name = arg.substr(2, eq - 2);
    auto* opt = alone.options().qualified_name_lookup(name);
    if (opt == nullptr) {
      return fallback;
    }
    return "--" + name + "=" + arg.substr(eq + 1) + ": not a valid value (" + valid_value_text(*opt) + ")";
  }
  return fallback;
}

/// CAF 0.17 keeps an INI file's unknown keys and drops its values of the wrong type without a
/// word: cano-node refuses both, naming the file, the key and the value. Nothing when the file
/// (if any) is fine.
std::optional<std::string> config_file_error(const node_config& cfg) {
  auto path = caf::get_if<std::string>(&cfg.content, "config-file");
  if (!path) {
    return std::nullopt;
  }
  auto raw = caf::actor_system_config::parse_config_file(path->c_str()); // every value as written
  if (!raw) {
    return "--config-file=" + *path + ": " + cfg.render(raw.error());
  }
  for (const auto& [category, entries] : *raw) {
    const auto* keys = caf::get_if<caf::config_value::dictionary>(&entries);
    if (keys == nullptr) {
      return *path + ": " + category + " is outside any [section]";
    }
    for (const auto& [key, value] : *keys) {
      if (category == "cano" && key == "flows") {
        continue; // read and checked by flow_entries.cpp
      }
      auto* opt = cfg.options().qualified_name_lookup(category, key);
      if (opt == nullptr) {
        return *path + ": [" + category + "] " + key + ": no such option (cano-node serve --help lists them)";
      }
      if (opt->check(value)) {
        return *path + ": [" + category + "] " + key + " = " + caf::to_string(value) + ": not a valid value (" +
               valid_value_text(*opt) + ")";
      }
    }
  }
  return std::nullopt;
}

/// Settings that parse but cannot work together; nothing when they are fine.
std::optional<std::string> setting_error(const node_config& cfg) {
  if (cfg.drain_deadline < caf::timespan{0}) {
    return "--cano.drain-deadline=" + duration_text(cfg.drain_deadline) + ": must not be negative";
  }
  return std::nullopt; // heartbeats without a connection timeout: cano::node::open says so
}

/// Parses CAF's part of the arguments into `cfg` (node::configure first, TLS after); a message
/// and false on a bad option.
bool configure(node_config& cfg, const std::vector<std::string>& caf_args) {
  cano::node::configure(cfg);
  if (auto err = cfg.parse(caf_args)) {
    std::cerr << "cano-node: " << bad_option_text(caf_args, cfg.render(err)) << "\n";
    return false;
  }
  if (auto bad = config_file_error(cfg)) {
    std::cerr << "cano-node: " << *bad << "\n";
    return false;
  }
  cano::apply_scheduler_defaults(cfg); // after parsing: the INI file or the command line wins
  if (auto bad = setting_error(cfg)) {
    std::cerr << "cano-node: " << *bad << "\n";
    return false;
  }
  if (auto tls = cano::node::configure_tls(cfg); !tls) {
    std::cerr << "cano-node: " << tls.error().message() << "\n";
    return false;
  }
  return true;
}

cano::PostgresOptions store_options(const node_config& cfg) {
  cano::PostgresOptions o;
  o.dsn = cfg.dsn;
  return o;
}

std::optional<cano::log_level> log_level_of(const std::string& text) {
  for (auto l : {cano::log_level::trace, cano::log_level::debug, cano::log_level::info, cano::log_level::warn,
                 cano::log_level::error, cano::log_level::off}) {
    if (text == cano::to_string(l)) {
      return l;
    }
  }
  return std::nullopt;
}

/// "on" → true, "off" → false; nothing for anything else.
std::optional<bool> switch_of(const std::string& text) {
  if (text == "on") {
    return true;
  }
  if (text == "off") {
    return false;
  }
  return std::nullopt;
}

/// A flow leader's doings, one line each (tests wait for them).
void print_flow_event(const cano::flow_event& e) {
  using kind = cano::flow_event::kind;
  switch (e.what) {
    case kind::lead: say("LEAD " + e.flow_id + " fence=" + std::to_string(e.fence)); break;
    case kind::lost: say("LOST " + e.flow_id + " to " + (e.detail.empty() ? std::string("nobody") : e.detail)); break;
    case kind::fire: say("FIRE " + e.run_id + (e.detail.empty() ? "" : " (" + e.detail + ")")); break;
    case kind::outcome: say("OUTCOME " + e.run_id + " " + e.detail); break;
    case kind::skip: say("SKIP " + e.run_id + ": " + e.detail); break;
  }
}

int serve(node_config& cfg) {
  if (cfg.node_id.empty()) {
    std::cerr << "cano-node: serve needs --cano.node-id=NAME (or node-id in the [cano] section)\n";
    return exit_bad_arguments;
  }
  auto serve_metrics = switch_of(cfg.metrics);
  auto serve_page = switch_of(cfg.status_page);
  if (!serve_metrics || !serve_page) {
    std::cerr << "cano-node: cano." << (serve_metrics ? "status-page" : "metrics") << " must be on or off, not \""
              << (serve_metrics ? cfg.status_page : cfg.metrics) << "\"\n";
    return exit_bad_arguments;
  }
  auto level = log_level_of(cfg.log_level);
  if (!level) {
    std::cerr << "cano-node: cano.log-level must be trace, debug, info, warn, error or off, not \"" << cfg.log_level
              << "\"\n";
    return exit_bad_arguments;
  }
  if (cfg.history_retention.count() < 0) {
    std::cerr << "cano-node: cano.history-retention must not be negative\n";
    return exit_bad_arguments;
  }
  cano::runtime_config rc;
  rc.node = cfg.node_id;
  rc.log_level = *level;
#if CANO_NODE_WITH_METRICS
  std::shared_ptr<cano::prometheus_metrics> metrics;
  if (*serve_metrics) {
    auto made = cano::prometheus_metrics::make({nullptr, true, cfg.metrics_host, cfg.metrics_port});
    if (!made) {
      std::cerr << "cano-node: " << made.error().message() << "\n"; // "metrics: cannot serve on …"
      return exit_unavailable;
    }
    metrics = *made;
    rc.metrics = metrics;
  }
#else
  if (*serve_metrics) {
    say("METRICS off: cano-node was built without cano_actor::metrics (CANO_ACTOR_WITH_METRICS)");
  }
#endif
  // What the node serves, and the flows of its configuration: a bad flow stops it before it
  // joins anything.
  auto journal = [](const std::string& line) { say("  " + line); };
  auto orders = demo::order_workflow(0, journal, nullptr);
#if CANO_NODE_WITH_METRICS
  if (metrics) { // cano's observer metrics (states entered, task runs, retries) next to the engine's
    orders = orders.with_observer(cano::MetricsObserver::make(metrics->registry()));
  }
#endif
  auto flows = cano_node::read_flows(cfg.content, {{orders.name(), orders.workflow_version()}});
  if (!flows) {
    std::cerr << "cano-node: " << flows.error().message() << "\n";
    return exit_bad_arguments;
  }
  caf::actor_system sys{cfg};
  cano::runtime rt{sys, rc};
  cano::node_config nc;
  nc.node_id = cfg.node_id;
  nc.host = cfg.host;
  nc.port = cfg.port;
  nc.lease = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.lease);
  nc.renew_every = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.renew_every);
  nc.resume_stalled_every = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.resume_stalled_every);
  nc.store = store_options(cfg);
  nc.on_flow_event = print_flow_event;
  auto n = cano::node::open(sys, rt, nc);
  if (!n) {
    std::cerr << "cano-node: " << n.error().to_string() << "\n";
    return n.error().code() == cano::errc::configuration ? exit_bad_arguments : exit_unavailable;
  }
  if (cfg.history_retention.count() > 0) { // the status page and `cano runs show` see finished runs' rows
    (*n)->store()->with_history_retention(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.history_retention));
  }
  auto served = (*n)->serve(orders, demo::Order::Validate);
#if CANO_NODE_WITH_STATUS_PAGE
  std::unique_ptr<cano::status_page> page;
  if (*serve_page) {
    // A store of its own (its own connection): reading pages never waits for the node's commits.
    auto reader = cano::PostgresCheckpointStore::open(store_options(cfg));
    if (!reader) {
      std::cerr << "cano-node: status page: " << reader.error().to_string() << "\n";
      return exit_unavailable;
    }
    cano::status_page_options po;
    po.host = cfg.status_host;
    po.port = cfg.status_port;
    po.title = "cano-node " + (*n)->owner();
    auto started = cano::status_page::start(*reader, po);
    if (!started) {
      std::cerr << "cano-node: " << started.error().message() << "\n"; // "status_page: cannot listen on …"
      return exit_unavailable;
    }
    page = std::move(*started);
    page->add_workflow(served);
    page->set_nodes([options = store_options(cfg)] { return cano::node::members(options); });
  }
#else
  if (*serve_page) {
    say("STATUS off: cano-node was built without cano_actor::status_page (CANO_ACTOR_WITH_STATUS_PAGE)");
  }
#endif
  std::string declared;
  for (auto& f : *flows) {
    std::string schedule;
    if (f.trigger == cano::flow_trigger::every) {
      schedule = " " + caf::to_string(caf::config_value{caf::timespan{f.interval}});
    } else if (f.trigger == cano::flow_trigger::cron) {
      schedule = " " + f.cron;
    }
    auto text = f.id + " (" + cano::to_string(f.trigger) + schedule + ")";
    if (auto added = (*n)->add_flow(std::move(f)); !added) {
      std::cerr << "cano-node: " << added.error().message() << "\n";
      return exit_bad_arguments;
    }
    declared += (declared.empty() ? "" : ", ") + text;
  }
  // Before the node starts (and says so): a SIGTERM right after its NODE line must drain it.
  std::signal(SIGTERM, [](int) { terminate_requested = 1; });
  std::signal(SIGINT, [](int) { terminate_requested = 1; });
  if (auto started = (*n)->start(); !started) {
    std::cerr << "cano-node: " << started.error().to_string() << "\n";
    return exit_unavailable;
  }
#if CANO_NODE_WITH_STATUS_PAGE
  if (page) {
    say("STATUS " + page->url());
  }
#endif
#if CANO_NODE_WITH_METRICS
  if (metrics) {
    say("METRICS " + metrics->url());
  }
#endif
  say("NODE " + (*n)->owner() + " listening on " + cfg.host + ":" + std::to_string((*n)->port()) +
      " heartbeat-interval=" + duration_text(caf::get_or(cfg, "middleman.heartbeat-interval", caf::timespan{0})) +
      " lease=" + duration_text(cfg.lease) + (cfg.openssl_certificate.empty() ? "" : " tls"));
  if (!declared.empty()) {
    say("FLOWS " + declared);
  }
  cano::node_stats last{};
  while (!terminate_requested) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto s = (*n)->stats();
    if (s.claimed != last.claimed || s.rejoins != last.rejoins || s.declared_dead != last.declared_dead) {
      say("STATS claimed=" + std::to_string(s.claimed) + " declared_dead=" + std::to_string(s.declared_dead) +
          " rejoins=" + std::to_string(s.rejoins) + " owner=" + (*n)->owner());
      last = s;
    }
  }
  say("DRAINING " + (*n)->owner());
  bool in_time = (*n)->drain(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.drain_deadline));
  say(std::string("DRAINED ") + (in_time ? "every run finished" : "the rest was handed over"));
  return exit_ok;
}

std::string json_of(const cano::RunHeader& h) {
  nlohmann::json j{{"workflow_id", h.workflow_id}, {"status", to_string(h.status)}, {"final_state", h.final_state}};
  if (h.failure) {
    j["failure"] = {{"category", h.failure->category()}, {"message", h.failure->to_string()}};
  }
  j["owner"] = h.owner;
  j["fence"] = h.fence;
  return j.dump();
}

int submit(node_config& cfg, const std::string& definition, std::uint32_t version, const std::string& input_text,
           const std::string& id, bool wait, double timeout_seconds) {
  nlohmann::json input = nlohmann::json::parse(input_text, nullptr, false);
  if (input.is_discarded()) {
    std::cerr << "cano-node: --input is not JSON: " << input_text << "\n";
    return exit_bad_arguments;
  }
  caf::actor_system sys{cfg};
  auto client = cano::cluster_client::open(sys, store_options(cfg));
  if (!client) {
    std::cerr << "cano-node: " << client.error().to_string() << "\n";
    return exit_unavailable;
  }
  auto placed = (*client)->submit(definition, version, input, id);
  if (!placed) {
    std::cerr << "cano-node: " << placed.error().to_string() << "\n";
    // A configuration error is the input's (one the store cannot keep): bad input, not a failure.
    return placed.error().code() == cano::errc::configuration ? exit_bad_arguments : exit_unavailable;
  }
  if (!wait) {
    say(*placed);
    return exit_ok;
  }
  auto header =
    (*client)->await_header(*placed, std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000)));
  if (!header) {
    std::cerr << "cano-node: " << header.error().to_string() << "\n";
    return header.error().code() == cano::errc::timeout ? exit_timeout : exit_unavailable;
  }
  say(json_of(*header));
  return header->status == cano::RunStatus::completed ? exit_ok : exit_run_failed;
}

std::string utc_text(const std::optional<std::chrono::system_clock::time_point>& t) {
  if (!t) {
    return "-";
  }
  if (*t == std::chrono::system_clock::time_point::max()) {
    return "never";
  }
  auto id = cano::flow_run_id("", *t); // "@<UTC>"
  return id.substr(1);
}

nlohmann::json json_time(const std::optional<std::chrono::system_clock::time_point>& t) {
  return t ? nlohmann::json(utc_text(t)) : nlohmann::json(nullptr);
}

std::string status_text(const cano::FlowInfo& info) {
  std::ostringstream os;
  os << info.status.state();
  if (info.status.state() == cano::FlowStatus::kind::backoff ||
      info.status.state() == cano::FlowStatus::kind::tripped) {
    os << "(" << info.status.streak() << ")";
  }
  return os.str();
}

/// The flows part of `status`: one line (or JSON object) per flow.
void print_flows(const std::vector<cano::cluster_flow_status>& flows, bool json) {
  if (!json && !flows.empty()) {
    say("");
    say("FLOW                 SCHEDULE                 LEADER               STATUS        RUNS  "
        "NEXT TICK                 LAST RUN");
  }
  for (const auto& f : flows) {
    if (json) {
      nlohmann::json j{{"flow_id", f.info.id},
                       {"trigger", f.trigger},
                       {"schedule", f.schedule},
                       {"workflow", f.definition},
                       {"version", f.version},
                       {"leader", f.leader},
                       {"leader_active", f.leader_active},
                       {"fence", f.fence},
                       {"status", (std::ostringstream() << f.info.status.state()).str()},
                       {"failure_streak", f.info.failure_streak},
                       {"last_error", f.info.status.last_error()},
                       {"run_count", f.info.run_count},
                       {"last_run", json_time(f.info.last_run)},
                       {"last_tick", json_time(f.last_tick)},
                       {"last_run_id", f.last_run_id},
                       {"next_tick", json_time(f.next_tick)},
                       {"next_eligible", json_time(f.info.next_eligible)}};
      say(j.dump());
      continue;
    }
    auto leader = f.leader.empty() ? std::string("-") : f.leader + (f.leader_active ? "" : " (gone)");
    char line[512];
    std::snprintf(line, sizeof line, "%-20s %-24s %-20s %-12s %5llu  %-25s %s", f.info.id.c_str(), f.schedule.c_str(),
                  leader.c_str(), status_text(f.info).c_str(), static_cast<unsigned long long>(f.info.run_count),
                  utc_text(f.next_tick).c_str(), f.last_run_id.empty() ? "-" : f.last_run_id.c_str());
    say(line);
  }
}

int status(node_config& cfg, bool json, bool all) {
  caf::actor_system sys{cfg};
  auto client = cano::cluster_client::open(sys, store_options(cfg));
  if (!client) {
    std::cerr << "cano-node: " << client.error().to_string() << "\n";
    return exit_unavailable;
  }
  // Dead incarnations for an hour after their lease ended, unless --all.
  auto nodes = (*client)->status(all ? std::nullopt : std::optional<std::chrono::seconds>(std::chrono::hours(1)));
  if (!nodes) {
    std::cerr << "cano-node: " << nodes.error().to_string() << "\n";
    return exit_unavailable;
  }
  if (!json) {
    say("NODE                 STATE     ADDRESS                LEASE LEFT  UNFINISHED RUNS");
  }
  for (const auto& n : *nodes) {
    auto who = n.node_id + "#" + std::to_string(n.incarnation);
    if (json) {
      say(nlohmann::json{
        {"node_id", n.node_id},
        {"incarnation", n.incarnation},
        {"state", n.state},
        {"address", n.address},
        {"lease_left_seconds", n.state == "dead" ? nlohmann::json() : nlohmann::json(n.lease_left_seconds)},
        {"owned_unfinished", n.owned_unfinished}}
            .dump());
      continue;
    }
    char lease[32];
    std::snprintf(lease, sizeof lease, "%.1fs", n.lease_left_seconds);
    // A lease in the past with nobody left to declare it dead: say so rather than "active".
    const auto state = n.state != "dead" && n.lease_left_seconds < 0 ? std::string("expired") : n.state;
    char line[160];
    std::snprintf(line, sizeof line, "%-20s %-9s %-22s %10s  %llu", who.c_str(), state.c_str(), n.address.c_str(),
                  n.state == "dead" ? "-" : lease, static_cast<unsigned long long>(n.owned_unfinished));
    say(line);
  }
  auto flows = (*client)->flows();
  if (!flows) {
    std::cerr << "cano-node: " << flows.error().to_string() << "\n";
    return exit_unavailable;
  }
  print_flows(*flows, json);
  return exit_ok;
}

/// trigger and reset: cano's texts; an unknown flow is a bad argument, a refusal exit 4.
int flow_command(node_config& cfg, const std::string& what, const std::string& flow_id) {
  caf::actor_system sys{cfg};
  auto client = cano::cluster_client::open(sys, store_options(cfg));
  if (!client) {
    std::cerr << "cano-node: " << client.error().to_string() << "\n";
    return exit_unavailable;
  }
  auto failed = [](const cano::error& e) {
    std::cerr << "cano-node: " << e.to_string() << "\n";
    if (e.code() != cano::errc::workflow) {
      return exit_unavailable;
    }
    return e.message().rfind("No workflow registered", 0) == 0 ? exit_bad_arguments : exit_refused;
  };
  if (what == "trigger") {
    auto run = (*client)->trigger_flow(flow_id);
    if (!run) {
      return failed(run.error());
    }
    say(*run);
    return exit_ok;
  }
  if (auto done = (*client)->reset_flow(flow_id); !done) {
    return failed(done.error());
  }
  return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"cano-node: a node of a cano-actor cluster (serving the demo's \"orders\" and the flows of its "
               "configuration), and commands to use one"};
  app.require_subcommand(1);
  app.allow_extras(false);
  cano_apps::add_version_and_exit_codes(
    app, "cano-node",
    {{exit_ok, "done (serve: drained after SIGTERM)"},
     {exit_run_failed, "submit --wait: the run failed or was rolled back"},
     {exit_bad_arguments, "bad arguments or configuration"},
     {exit_unavailable, "the database, the port, or a node to run it on"},
     {exit_refused, "trigger: the flow is already running or tripped"},
     {exit_timeout, "submit --wait: no result within --timeout (the run goes on)"}});
  auto* serve_cmd = app.add_subcommand("serve", "join the cluster, serve and lead the flows of its configuration until "
                                                "SIGTERM (then drain)");
  serve_cmd->allow_extras(true);
  serve_cmd->footer("Options after `serve` go to CAF, e.g. --cano.node-id=a --cano.port=7001 "
                    "--middleman.heartbeat-interval=100ms --config-file=config/cano-node.ini");
  auto* submit_cmd = app.add_subcommand("submit", "place a run on the least loaded node serving its definition");
  std::string definition, input = "null", id;
  std::uint32_t version = 0;
  bool wait = false;
  double timeout = 600;
  submit_cmd->add_option("definition", definition, "the definition's name (e.g. orders)")->required();
  submit_cmd->add_option("--input", input, "the run's input, JSON");
  submit_cmd->add_option("--id", id, "the workflow id (start-or-get: an existing run is returned)");
  submit_cmd->add_option("--version", version, "the definition's version");
  submit_cmd->add_flag("--wait", wait, "wait for the result and print it as JSON");
  submit_cmd->add_option("--timeout", timeout, "seconds --wait waits (above 0, at most 31536000)")
    ->check(CLI::Validator(
      [](std::string& text) {
        double v = 0;
        bool number = CLI::detail::lexical_cast(text, v);
        return number && v > 0 && v <= 31536000
                 ? std::string()
                 : "--timeout " + text + ": a number of seconds above 0 and at most 31536000 (a year)";
      },
      "SECONDS"));
  submit_cmd->allow_extras(true);
  auto* status_cmd = app.add_subcommand("status", "the nodes, their leases and the runs they own; the flows and "
                                                  "which node leads each");
  bool json = false;
  status_cmd->add_flag("--json", json, "one JSON object per node, then one per flow");
  bool all = false;
  status_cmd->add_flag("--all", all, "also dead incarnations whose lease ended over an hour ago");
  status_cmd->allow_extras(true);
  std::string flow_id;
  auto* trigger_cmd = app.add_subcommand("trigger", "run a flow of the cluster now (its leader starts the run); "
                                                    "prints the run id");
  trigger_cmd->add_option("flow", flow_id, "the flow's id")->required();
  trigger_cmd->allow_extras(true);
  auto* reset_cmd = app.add_subcommand("reset", "clear a flow's failure streak, backoff window and trip");
  reset_cmd->add_option("flow", flow_id, "the flow's id")->required();
  reset_cmd->allow_extras(true);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cano_apps::exit_after_parse(app, e);
  }
  auto* used = app.get_subcommands().front();
  for (const auto& arg : used->remaining()) {
    if (arg.rfind("-", 0) != 0) { // CAF's parser would stop there and ignore the rest
      std::cerr << "cano-node: " << used->get_name() << ": unexpected argument \"" << arg << "\"\n";
      return exit_bad_arguments;
    }
  }
  node_config cfg;
  if (!configure(cfg, used->remaining())) {
    return exit_bad_arguments;
  }
  if (cfg.dsn.empty() && std::getenv("CANO_PG_DSN") == nullptr) {
    std::cerr << "cano-node: no database: pass --cano.dsn=DSN after the command (or dsn in the [cano] section of "
                 "--config-file), or set CANO_PG_DSN\n";
    return exit_bad_arguments;
  }
  if (used == serve_cmd) {
    return serve(cfg);
  }
  if (used == submit_cmd) {
    if (submit_cmd->get_option("--id")->count() > 0 && id.empty()) {
      std::cerr << "cano-node: --id: the workflow id must not be empty (leave --id out for a generated one)\n";
      return exit_bad_arguments;
    }
    return submit(cfg, definition, version, input, id, wait, timeout);
  }
  if (used == trigger_cmd || used == reset_cmd) {
    return flow_command(cfg, used->get_name(), flow_id);
  }
  return status(cfg, json, all);
}
