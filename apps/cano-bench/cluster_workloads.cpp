// The cluster workloads (cano::node, one PostgreSQL), each node a process of its own — this binary
// started with --node-role:
//   failover_kill   SIGKILL of a run's owner → the first row the new owner appends for it, p50/p99
//                   over 20 kills (an instant death: CAF reports it and its session's lock is free)
//   failover_stop   the same after SIGSTOP: the lease must run out (its length is reported)
//   cluster_throughput  checkpointed linear10 runs/s with 1, 2 and 3 nodes, and rows/s against the
//                   raw ceiling of the same database (group commit with fencing on)
#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/cluster.hpp"
#include "child_process.hpp"
#include "durable.hpp"
#include "linear_workflow.hpp"
#include "workload.hpp"

namespace bench {

namespace {

using steady = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}

std::mutex out_mutex;
void line(const std::string& text) {
  std::lock_guard<std::mutex> guard(out_mutex);
  std::cout << text << std::endl;
}

/// Prints "TOOK <id> <steady ns>" at the first row a resumed run appends (steady_clock is
/// CLOCK_MONOTONIC: comparable across the processes of one machine).
class takeover_clock : public cano::WorkflowObserver {
public:
  void on_resume(const std::string& id, std::uint64_t) override {
    std::lock_guard<std::mutex> guard(mutex_);
    resumed_.push_back(id);
  }
  void on_checkpoint(const std::string& id, std::uint64_t) override {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = std::find(resumed_.begin(), resumed_.end(), id);
    if (it != resumed_.end()) {
      resumed_.erase(it);
      line("TOOK " + id + " " + std::to_string(now_ns()));
    }
  }

private:
  std::mutex mutex_;
  std::vector<std::string> resumed_;
};

/// Ten states of 20 ms each: long enough to be caught in the middle.
cano::Workflow<int> slow_linear(const std::string& name) {
  auto wf = cano::Workflow<int>{}.with_name(name);
  for (int s = 0; s < linear_states; ++s) {
    wf = wf.register_task(s, "step" + std::to_string(s), [s] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return s + 1;
    });
  }
  return wf.add_exit_state(linear_states);
}

volatile std::sig_atomic_t stop_requested = 0;

} // namespace

/// A node process of the cluster workloads. Roles: "survivor" (serves, reports takeovers),
/// "driver" (serves and keeps `load` slow runs going), "load" (linear10 checkpointed runs as fast
/// as it can, `load` in flight, for `seconds`; prints "DONE <runs> <rows>").
int run_node_role(const std::string& role, const std::string& node_id, const std::string& definition, int lease_ms,
                  int load, double seconds) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cano::node::configure(cfg);
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  cano::node_config nc;
  nc.node_id = node_id;
  nc.lease = std::chrono::milliseconds(lease_ms);
  nc.renew_every = std::chrono::milliseconds(std::max(20, lease_ms / 10));
  auto n = cano::node::open(sys, rt, nc);
  if (!n) {
    std::cerr << n.error() << "\n";
    return 3;
  }
  auto clock = std::make_shared<takeover_clock>();
  auto wf = role == "load" ? (*n)->serve(linear_workflow(false).with_name(definition))
                           : (*n)->serve(slow_linear(definition).with_observer(clock));
  if (!(*n)->start()) {
    return 3;
  }
  line("UP " + (*n)->owner());
  std::signal(SIGTERM, [](int) { stop_requested = 1; });
  if (role == "survivor") {
    while (!stop_requested) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }
  std::atomic<long long> runs{0}, counter{0};
  auto deadline = steady::now() + std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  std::vector<std::thread> workers;
  for (int t = 0; t < load; ++t) {
    workers.emplace_back([&] {
      while (!stop_requested && (role == "driver" || steady::now() < deadline)) {
        auto id = node_id + "-" + std::to_string(counter++);
        if (rt.run(wf, 0, {id, nullptr})) {
          ++runs;
        }
      }
    });
  }
  if (role == "driver") {
    line("DRIVING");
  }
  for (auto& w : workers) {
    w.join();
  }
  line("DONE " + std::to_string(runs.load()) + " " + std::to_string(runs.load() * (linear_states + 1)));
  return 0;
}

namespace {

std::vector<std::string> node_args(const std::string& role, const std::string& id, const std::string& definition,
                                   int lease_ms, int load, double seconds) {
  return {"/proc/self/exe",
          "--node-role",
          role,
          "--node-id",
          id,
          "--definition",
          definition,
          "--lease-ms",
          std::to_string(lease_ms),
          "--load",
          std::to_string(load),
          "--seconds",
          std::to_string(std::max(seconds, 1.0))};
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

/// Kills (or stops) a driver 20 times and times each takeover by the survivor.
nlohmann::json measure_failover(const std::string& name, int signal, int lease_ms) {
  auto tag = std::to_string(::getpid()) + "-" + std::to_string(now_ns() % 100000);
  auto definition = "bench-failover-" + tag;
  cano_apps::child_process survivor(node_args("survivor", "survivor-" + tag, definition, lease_ms, 0, 0));
  if (!survivor.read_until([](const std::string& l) { return l.rfind("UP ", 0) == 0; }, std::chrono::seconds(60))) {
    return {{"workload", name}, {"error", "the surviving node did not start"}};
  }
  std::vector<double> ms;
  for (int i = 0; i < 20; ++i) {
    cano_apps::child_process driver(node_args("driver", "driver-" + tag, definition, lease_ms, 4, 0));
    if (!driver.read_until([](const std::string& l) { return l == "DRIVING"; }, std::chrono::seconds(60))) {
      return {{"workload", name}, {"error", "a driving node did not start"}};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150)); // its runs are mid-way
    auto at = now_ns();
    ::kill(driver.pid(), signal);
    auto took = survivor.read_until([](const std::string& l) { return l.rfind("TOOK ", 0) == 0; },
                                    std::chrono::milliseconds(lease_ms * 4 + 10000));
    ::kill(driver.pid(), SIGKILL);
    driver.wait_exit();
    if (!took) {
      return {{"workload", name}, {"error", "no run was taken over"}};
    }
    ms.push_back(static_cast<double>(std::stoll(took->substr(took->rfind(' ') + 1)) - at) / 1e6);
    // What else it took over is done before the next round.
    while (survivor.read_line(std::chrono::milliseconds(300))) {
    }
  }
  ::kill(survivor.pid(), SIGTERM);
  survivor.wait_exit();
  return {{"workload", name},
          {"kills", ms.size()},
          {"lease_ms", lease_ms},
          {"p50_ms", quantile(ms, 0.5)},
          {"p99_ms", quantile(ms, 0.99)},
          {"max_ms", quantile(ms, 1.0)}};
}

nlohmann::json cluster_throughput(double seconds) {
  auto ceiling = pg_raw_ceiling(std::min(seconds, 3.0));
  nlohmann::json out{{"workload", "cluster_throughput"}, {"raw_ceiling_rows_per_sec", ceiling["rows_per_sec"]}};
  auto tag = std::to_string(::getpid());
  for (int nodes = 1; nodes <= 3; ++nodes) {
    std::vector<std::unique_ptr<cano_apps::child_process>> procs;
    auto definition = "bench-throughput-" + tag + "-" + std::to_string(nodes);
    for (int i = 0; i < nodes; ++i) {
      procs.push_back(std::make_unique<cano_apps::child_process>(
        node_args("load", definition + "-n" + std::to_string(i), definition, 3000, 1000 / nodes, seconds)));
    }
    long long runs = 0, rows = 0;
    for (auto& p : procs) {
      auto done = p->read_until([](const std::string& l) { return l.rfind("DONE ", 0) == 0; },
                                std::chrono::milliseconds(static_cast<long long>(seconds * 1000) + 60000));
      if (done) {
        auto rest = done->substr(5);
        runs += std::stoll(rest.substr(0, rest.find(' ')));
        rows += std::stoll(rest.substr(rest.find(' ') + 1));
      }
      ::kill(p->pid(), SIGTERM);
      p->wait_exit();
    }
    auto key = std::to_string(nodes) + "_nodes";
    out[key + "_runs_per_sec"] = static_cast<double>(runs) / seconds;
    out[key + "_rows_per_sec"] = static_cast<double>(rows) / seconds;
    if (ceiling["rows_per_sec"].is_number()) {
      out[key + "_share_of_ceiling"] = static_cast<double>(rows) / seconds / ceiling["rows_per_sec"].get<double>();
    }
  }
  return out;
}

register_workload failover_kill_workload("failover_kill",
                                         [](double) { return measure_failover("failover_kill", SIGKILL, 3000); });
register_workload failover_stop_workload("failover_stop",
                                         [](double) { return measure_failover("failover_stop", SIGSTOP, 1000); });
register_workload cluster_throughput_workload("cluster_throughput", cluster_throughput);

} // namespace

} // namespace bench
