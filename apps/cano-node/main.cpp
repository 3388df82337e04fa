// cano-node: one node of a cano-actor cluster serving the demo's definitions, and the commands to
// use a cluster from a shell. Every node and command reaches the same PostgreSQL ($CANO_PG_DSN or
// --cano.dsn=...).
//
//   cano-node serve [CAF options…]        join, serve "orders", take over orphans; SIGTERM drains
//   cano-node submit orders --input '{"order":"o-1","amount":20}' [--id o-1] [--wait]
//   cano-node status [--json]             nodes, incarnations, leases, unfinished runs owned
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
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/settings.hpp>

#include "cano/cluster.hpp"
#include "cli.hpp"
#include "order_workflow.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_run_failed = 1;  // submit --wait: the run failed or was rolled back
constexpr int exit_bad_arguments = 2;
constexpr int exit_unavailable = 3; // the database, the port, a node to run it on
constexpr int exit_timeout = 4;     // submit --wait: no result within --timeout (the run goes on)

volatile std::sig_atomic_t terminate_requested = 0;

/// cano-node's own options, next to CAF's: on the command line after the subcommand
/// (--cano.node-id=a) or in the INI file's [cano] section.
struct node_config : caf::actor_system_config {
  std::string node_id;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  caf::timespan lease = std::chrono::seconds(3);
  caf::timespan renew_every = std::chrono::milliseconds(500);
  caf::timespan drain_deadline = std::chrono::seconds(10);
  std::string dsn;
  node_config() {
    opt_group{custom_options_, "cano"}
      .add(node_id, "node-id", "this node's stable name (serve; required)")
      .add(host, "host", "where its node actor listens (default 127.0.0.1)")
      .add(port, "port", "its port (0: any, printed)")
      .add(lease, "lease", "how long a silent node lives before it is declared dead")
      .add(renew_every, "renew-every", "how often a lease is renewed")
      .add(drain_deadline, "drain-deadline", "on SIGTERM, how long runs may take to finish")
      .add(dsn, "dsn", "the cluster's PostgreSQL (default: $CANO_PG_DSN)");
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
    std::string type = std::string(opt->type_name().data(), opt->type_name().size());
    std::string expected = type == "timespan" ? "a duration such as 500ms, 3s or 1min"
                           : type.find("int") != std::string::npos ? "a whole number"
                           : type == "boolean" ? "true or false"
                                              : "a value of type " + type;
    return "--" + name + "=" + arg.substr(eq + 1) + ": not a valid value (" + expected + ")";
  }
  return fallback;
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
  if (auto bad = setting_error(cfg)) {
    std::cerr << "cano-node: " << *bad << "\n";
    return false;
  }
  if (auto tls = cano::node::configure_tls(cfg); !tls) {
    std::cerr << "cano-node: " << tls.error_value().message() << "\n";
    return false;
  }
  return true;
}

cano::PostgresOptions store_options(const node_config& cfg) {
  cano::PostgresOptions o;
  o.dsn = cfg.dsn;
  return o;
}

int serve(node_config& cfg) {
  if (cfg.node_id.empty()) {
    std::cerr << "cano-node: serve needs --cano.node-id=NAME (or node-id in the [cano] section)\n";
    return exit_bad_arguments;
  }
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  cano::node_config nc;
  nc.node_id = cfg.node_id;
  nc.host = cfg.host;
  nc.port = cfg.port;
  nc.lease = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.lease);
  nc.renew_every = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.renew_every);
  nc.store = store_options(cfg);
  auto n = cano::node::open(sys, rt, nc);
  if (!n) {
    std::cerr << "cano-node: " << n.error_value().to_string() << "\n";
    return n.error_value().code() == cano::errc::configuration ? exit_bad_arguments : exit_unavailable;
  }
  auto journal = [](const std::string& line) { say("  " + line); };
  (*n)->serve(demo::order_workflow(0, journal, nullptr), demo::Order::Validate);
  if (auto started = (*n)->start(); !started) {
    std::cerr << "cano-node: " << started.error_value().to_string() << "\n";
    return exit_unavailable;
  }
  say("NODE " + (*n)->owner() + " listening on " + cfg.host + ":" + std::to_string((*n)->port()) +
      " heartbeat-interval=" +
      duration_text(caf::get_or(cfg, "middleman.heartbeat-interval", caf::timespan{0})) +
      " lease=" + duration_text(cfg.lease) + (cfg.openssl_certificate.empty() ? "" : " tls"));
  std::signal(SIGTERM, [](int) { terminate_requested = 1; });
  std::signal(SIGINT, [](int) { terminate_requested = 1; });
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
    std::cerr << "cano-node: " << client.error_value().to_string() << "\n";
    return exit_unavailable;
  }
  auto placed = (*client)->submit(definition, version, input, id);
  if (!placed) {
    std::cerr << "cano-node: " << placed.error_value().to_string() << "\n";
    // A configuration error is the input's (one the store cannot keep): bad input, not a failure.
    return placed.error_value().code() == cano::errc::configuration ? exit_bad_arguments : exit_unavailable;
  }
  if (!wait) {
    say(*placed);
    return exit_ok;
  }
  auto header = (*client)->await_header(
    *placed, std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000)));
  if (!header) {
    std::cerr << "cano-node: " << header.error_value().to_string() << "\n";
    return header.error_value().code() == cano::errc::timeout ? exit_timeout : exit_unavailable;
  }
  say(json_of(*header));
  return header->status == cano::RunStatus::completed ? exit_ok : exit_run_failed;
}

int status(node_config& cfg, bool json, bool all) {
  caf::actor_system sys{cfg};
  auto client = cano::cluster_client::open(sys, store_options(cfg));
  if (!client) {
    std::cerr << "cano-node: " << client.error_value().to_string() << "\n";
    return exit_unavailable;
  }
  // Dead incarnations for an hour after their lease ended, unless --all.
  auto nodes = (*client)->status(all ? std::nullopt : std::optional<std::chrono::seconds>(std::chrono::hours(1)));
  if (!nodes) {
    std::cerr << "cano-node: " << nodes.error_value().to_string() << "\n";
    return exit_unavailable;
  }
  if (!json) {
    say("NODE                 STATE     ADDRESS                LEASE LEFT  UNFINISHED RUNS");
  }
  for (const auto& n : *nodes) {
    auto who = n.node_id + "#" + std::to_string(n.incarnation);
    if (json) {
      say(nlohmann::json{{"node_id", n.node_id},
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
    char line[160];
    std::snprintf(line, sizeof line, "%-20s %-9s %-22s %10s  %llu", who.c_str(), n.state.c_str(), n.address.c_str(),
                  n.state == "dead" ? "-" : lease, static_cast<unsigned long long>(n.owned_unfinished));
    say(line);
  }
  return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"cano-node: a node of a cano-actor cluster (serving the demo's \"orders\"), and commands to use one"};
  app.require_subcommand(1);
  app.allow_extras(false);
  cano_apps::add_version_and_exit_codes(app, "cano-node",
                                        {{exit_ok, "done (serve: drained after SIGTERM)"},
                                         {exit_run_failed, "submit --wait: the run failed or was rolled back"},
                                         {exit_bad_arguments, "bad arguments or configuration"},
                                         {exit_unavailable, "the database, the port, or a node to run it on"},
                                         {exit_timeout, "submit --wait: no result within --timeout (the run goes on)"}});
  auto* serve_cmd = app.add_subcommand("serve", "join the cluster and serve until SIGTERM (then drain)");
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
        return number && v > 0 && v <= 31536000 ? std::string()
                                                : "--timeout " + text + ": a number of seconds above 0 and at most 31536000 (a year)";
      },
      "SECONDS"));
  submit_cmd->allow_extras(true);
  auto* status_cmd = app.add_subcommand("status", "the nodes, their leases and the runs they own");
  bool json = false;
  status_cmd->add_flag("--json", json, "one JSON object per node");
  bool all = false;
  status_cmd->add_flag("--all", all, "also dead incarnations whose lease ended over an hour ago");
  status_cmd->allow_extras(true);
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
    return submit(cfg, definition, version, input, id, wait, timeout);
  }
  return status(cfg, json, all);
}
