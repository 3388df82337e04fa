#include "scheduled_flows.hpp"

#include <atomic>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/scheduler.hpp"

using namespace std::chrono_literals;

namespace demo {

namespace {

enum class Feed { Pull, Apply, Done };

std::string to_string(Feed s) {
  switch (s) {
    case Feed::Pull: return "Pull";
    case Feed::Apply: return "Apply";
    case Feed::Done: return "Done";
  }
  return "?";
}

/// Pull a supplier's stock levels (fails while the supplier is offline), then apply them.
cano::Workflow<Feed> feed_workflow(std::string supplier, std::shared_ptr<std::atomic<bool>> online) {
  auto pull = [supplier, online]() -> cano::expected<Feed> {
    if (!online->load()) {
      return cano::error::task_execution(supplier + " is offline (connection refused)");
    }
    return Feed::Apply;
  };
  return cano::Workflow<Feed>{}
    .with_name("stock-feed")
    .register_task(Feed::Pull, "pull@" + supplier, pull, cano::TaskConfig::minimal().with_blocking(false))
    .register_task(
      Feed::Apply, "apply@" + supplier, [] { return Feed::Done; }, cano::TaskConfig::minimal().with_blocking(false))
    .add_exit_state(Feed::Done);
}

std::string describe(const cano::FlowInfo& info) {
  std::ostringstream os;
  os << std::left << std::setw(14) << info.id << " runs=" << info.run_count << " ";
  switch (info.status.state()) {
    case cano::FlowStatus::kind::backoff:
      os << "Backoff (streak " << info.status.streak() << ", next try in "
         << std::chrono::duration_cast<std::chrono::milliseconds>(info.status.until() -
                                                                  std::chrono::system_clock::now())
              .count()
         << " ms): " << info.status.last_error();
      break;
    case cano::FlowStatus::kind::tripped:
      os << "Tripped (streak " << info.status.streak() << "): " << info.status.last_error();
      break;
    default: os << info.status.state();
  }
  return os.str();
}

} // namespace

int scheduled_flows() {
  std::cout << "== scheduled flows: two suppliers' stock feeds run by cano::Scheduler" << std::endl;
  std::cout << "   acme every 300 ms; globex every 200 ms, backoff {100 ms, x2, trip after 3}, offline" << std::endl;
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg);
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto acme_online = std::make_shared<std::atomic<bool>>(true);
  auto globex_online = std::make_shared<std::atomic<bool>>(false);
  cano::Scheduler<Feed> scheduler;
  (void)scheduler.every("acme", feed_workflow("acme", acme_online), Feed::Pull, 300ms);
  (void)scheduler.every("globex", feed_workflow("globex", globex_online), Feed::Pull, 200ms);
  (void)scheduler.set_backoff("globex", cano::BackoffPolicy{100ms, 2.0, 1s, 0.0, 3u});
  auto running = scheduler.start(rt);
  if (!running) {
    std::cout << "  scheduler did not start: " << running.error() << std::endl;
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, std::string> last;
  auto print_changes = [&] {
    for (const auto& info : running->list()) {
      if (info.status.state() == cano::FlowStatus::kind::running) {
        continue;
      }
      auto key = std::to_string(info.run_count) + "/" + std::to_string(static_cast<int>(info.status.state()));
      if (last[info.id] == key) {
        continue;
      }
      last[info.id] = key;
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      std::cout << "  [+" << std::setw(4) << ms << " ms] " << describe(info) << std::endl;
    }
  };
  /// Watches the flows until `done` holds (or 10 s pass); false on the bound.
  auto watch_until = [&](auto done) {
    auto bound = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < bound) {
      print_changes();
      if (done()) {
        return true;
      }
      std::this_thread::sleep_for(5ms);
    }
    return false;
  };
  int unexpected = 0;
  auto globex = [&] { return *running->status("globex"); };
  if (!watch_until([&] { return globex().status.state() == cano::FlowStatus::kind::tripped; })) {
    std::cout << "  globex never tripped" << std::endl;
    ++unexpected;
  }
  std::cout << "  globex is back online; reset_flow(\"globex\")" << std::endl;
  globex_online->store(true);
  if (auto r = running->reset_flow("globex"); !r) {
    std::cout << "  reset_flow failed: " << r.error() << std::endl;
    ++unexpected;
  }
  if (!watch_until([&] {
        auto g = globex();
        return g.status.state() == cano::FlowStatus::kind::completed && running->status("acme")->run_count >= 6;
      })) {
    std::cout << "  globex did not recover" << std::endl;
    ++unexpected;
  }
  auto stopped = running->stop();
  std::cout << "  stopped: " << (stopped ? std::string("ok") : stopped.error().to_string()) << std::endl;
  for (const auto& info : running->list()) {
    std::cout << "  final  " << describe(info) << ", failure streak " << info.failure_streak << std::endl;
    unexpected += info.status.state() == cano::FlowStatus::kind::completed ? 0 : 1;
  }
  std::cout << std::endl;
  return unexpected + (stopped ? 0 : 1);
}

} // namespace demo
