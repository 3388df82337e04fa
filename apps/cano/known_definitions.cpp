#include "known_definitions.hpp"

#include <mutex>

#include "cano/workflow.hpp"
#include "order_workflow.hpp"

namespace cano_cli {

namespace {

known_definition orders() {
  known_definition d;
  auto drawing = demo::order_workflow(
    0, [](const std::string&) {}, nullptr);
  d.name = drawing.name();
  d.version = drawing.workflow_version();
  d.about = "the demo's order saga (apps/cano-demo)";
  d.dot = [drawing] { return drawing.to_dot(); };
  d.mermaid = [drawing] { return drawing.to_mermaid(); };
  d.resume = [](cano::runtime& rt, std::shared_ptr<cano::CheckpointStore> store, const std::string& id,
                std::ostream& journal) -> cano::expected<std::string> {
    // No flaky charges on a resume: the gateway the demo simulates has recovered. Tasks may run
    // on pool threads: one line at a time.
    auto guard = std::make_shared<std::mutex>();
    auto log = [&journal, guard](const std::string& line) {
      std::lock_guard<std::mutex> lock(*guard);
      journal << "  " << line << "\n" << std::flush;
    };
    auto wf = demo::order_workflow(0, log, nullptr).with_checkpoint_store(std::move(store));
    auto end = rt.resume(wf, id);
    if (!end) {
      return end.error();
    }
    return demo::to_string(*end);
  };
  return d;
}

} // namespace

const std::vector<known_definition>& known_definitions() {
  static const std::vector<known_definition> all{orders()};
  return all;
}

const known_definition* find_definition(const std::string& name) {
  for (const auto& d : known_definitions()) {
    if (d.name == name) {
      return &d;
    }
  }
  return nullptr;
}

std::string known_definition_names() {
  std::string out;
  for (const auto& d : known_definitions()) {
    out += (out.empty() ? "" : ", ") + d.name + " (version " + std::to_string(d.version) + ")";
  }
  return out;
}

} // namespace cano_cli
