// A two-state workflow built against the installed cano_actor package.
#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cano/workflow.hpp>

enum class Step { Hello, Done };
std::string to_string(Step s) { return s == Step::Hello ? "Hello" : "Done"; }

int main() {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto wf =
    cano::Workflow<Step>{}.register_task(Step::Hello, "hello", [] { return Step::Done; }).add_exit_state(Step::Done);
  auto end = rt.run(wf, Step::Hello);
  if (!end) {
    std::cerr << "consumer failed: " << end.error() << "\n";
    return 1;
  }
  std::cout << "consumer finished in " << to_string(*end) << "\n";
  return 0;
}
