// The child process of the crash-resume tests (and of the demo's idea of a worker): runs one
// checkpointed workflow — a plain step, a saga step, a stepped task — printing flushed marker
// lines, so a test can SIGKILL it at a known point and resume the run in a new process.
//
//   crash_worker <sqlite|postgres> <sqlite file|-> <workflow id> <fresh|resume> <side-effect file>
//   crash_worker <sqlite|postgres> <sqlite file|dsn> open      (opens the store — migrating it — and exits)
//
// Lines: "CHECKPOINT <state> <seq>" per appended row, "RESUME <id> <seq>", "RESUMED cursor=<n>"
// (the first step of a resumed stepped task), "DONE <state>" or "FAILED <error>".
// Every side effect is one line in the side-effect file, written after its row was durable.
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"

namespace {

enum class Stage { Start, Reserve, Crunch, Done };
std::string to_string(Stage s) {
  switch (s) {
    case Stage::Start: return "Start";
    case Stage::Reserve: return "Reserve";
    case Stage::Crunch: return "Crunch";
    case Stage::Done: return "Done";
  }
  return "?";
}

std::mutex out_mutex;
void line(const std::string& text) {
  std::lock_guard<std::mutex> guard(out_mutex);
  std::cout << text << std::endl; // endl flushes: the parent reads lines as they come
}

class side_effects {
public:
  explicit side_effects(std::string path) : path_(std::move(path)) {}
  void record(const std::string& what) {
    std::lock_guard<std::mutex> guard(mutex_);
    std::ofstream out(path_, std::ios::app);
    out << what << '\n';
  }

private:
  std::string path_;
  std::mutex mutex_;
};

class tracer : public cano::WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override {
    std::lock_guard<std::mutex> guard(mutex_);
    state_ = s;
  }
  void on_checkpoint(const std::string&, std::uint64_t seq) override {
    std::string state;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      state = state_;
    }
    line("CHECKPOINT " + state + " " + std::to_string(seq));
  }
  void on_resume(const std::string& id, std::uint64_t seq) override {
    line("RESUME " + id + " " + std::to_string(seq));
  }

private:
  std::mutex mutex_;
  std::string state_;
};

class reserve : public cano::CompensatableTask<Stage, std::string> {
public:
  explicit reserve(std::shared_ptr<side_effects> fx) : fx_(std::move(fx)) {}
  std::string name() const override { return "reserve"; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<std::pair<cano::TaskResult<Stage>, std::string>> run(cano::task_context&) override {
    fx_->record("Reserve");
    return std::make_pair(cano::TaskResult<Stage>(Stage::Crunch), std::string("rsv-1"));
  }
  cano::expected<void> compensate(cano::task_context&, std::string) override {
    fx_->record("Release");
    return {};
  }

private:
  std::shared_ptr<side_effects> fx_;
};

/// Ten steps; each records its input cursor as a side effect, then takes 50 ms.
class crunch : public cano::SteppedTask<Stage, int> {
public:
  crunch(std::shared_ptr<side_effects> fx, bool resuming) : fx_(std::move(fx)), resuming_(resuming) {}
  std::string name() const override { return "crunch"; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<cano::StepOutcome<Stage, int>> step(cano::task_context&, std::optional<int> cursor) override {
    int n = cursor.value_or(0);
    if (resuming_ && cursor && !announced_.exchange(true)) {
      line("RESUMED cursor=" + std::to_string(n));
    } else {
      line("STEP cursor=" + std::to_string(n));
    }
    fx_->record(cursor ? "step " + std::to_string(n) : std::string("step none"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (n + 1 >= 10) {
      return cano::StepOutcome<Stage, int>::done(Stage::Done);
    }
    return cano::StepOutcome<Stage, int>::more(n + 1);
  }

private:
  std::shared_ptr<side_effects> fx_;
  bool resuming_;
  std::atomic<bool> announced_{false};
};

} // namespace

/// Opens (and so migrates) a store; 0 on success. For the concurrent-migration tests.
int open_only(const std::string& kind, const std::string& where) {
  auto ok = kind == "sqlite" ? cano::SqliteCheckpointStore::open(where).has_value()
                             : cano::PostgresCheckpointStore::open({where}).has_value();
  line(ok ? "OPENED" : "FAILED");
  return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[3]) == "open") {
    return open_only(argv[1], argv[2]);
  }
  if (argc != 6) {
    std::cerr << "usage: crash_worker <sqlite|postgres> <sqlite file|-> <workflow id> <fresh|resume> "
                 "<side-effect file>\n";
    return 2;
  }
  std::string kind = argv[1], file = argv[2], id = argv[3], mode = argv[4];
  auto fx = std::make_shared<side_effects>(argv[5]);
  std::shared_ptr<cano::CheckpointStore> store;
  if (kind == "sqlite") {
    auto s = cano::SqliteCheckpointStore::open(file);
    if (!s) {
      std::cerr << s.error() << "\n";
      return 3;
    }
    store = *s;
  } else {
    auto s = cano::PostgresCheckpointStore::open();
    if (!s) {
      std::cerr << s.error() << "\n";
      return 3;
    }
    store = *s;
  }
  auto wf = cano::Workflow<Stage>{}
              .with_name("crash-e2e")
              .register_task(
                Stage::Start, "start",
                [fx] {
                  fx->record("Start");
                  return Stage::Reserve;
                },
                cano::TaskConfig::minimal())
              .register_with_compensation(Stage::Reserve, std::make_shared<reserve>(fx))
              .register_stepped(Stage::Crunch, std::make_shared<crunch>(fx, mode == "resume"))
              .add_exit_state(Stage::Done)
              .with_checkpoint_store(store)
              .with_observer(std::make_shared<tracer>());
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto end = mode == "resume" ? rt.resume(wf, id) : rt.run(wf, Stage::Start, {id, {{"order", id}}});
  if (!end) {
    line("FAILED " + end.error().to_string());
    return 1;
  }
  line("DONE " + to_string(*end));
  return 0;
}
