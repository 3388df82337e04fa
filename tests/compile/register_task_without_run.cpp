// Must not compile: a class task that overrides neither run nor run_bare, registered through
// register_task, stops the build with the static_assert in Workflow. Built with
// CANO_COMPILE_CHECK_CONTROL it overrides run and must compile: that proves the failure is the
// assertion and not something else in this file.
#include <string>

#include "cano/workflow.hpp"

namespace {

enum class Step { Start, Done };
std::string to_string(Step s) { return s == Step::Start ? "Start" : "Done"; }

struct Forgetful : cano::Task<Step> {
#ifdef CANO_COMPILE_CHECK_CONTROL
  cano::expected<cano::TaskResult<Step>> run(cano::task_context&) override { return Step::Done; }
#endif
};

} // namespace

int main() {
  auto wf = cano::Workflow<Step>{}.register_task(Step::Start, Forgetful{}).add_exit_state(Step::Done);
  return wf.state_count() == 1 ? 0 : 1;
}
