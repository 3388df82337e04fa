// Workflow::to_dot and to_mermaid (issue 15): the demo's order workflow against its expected
// drawings (regenerate them with `cano graph orders --format dot|mermaid` when the workflow
// changes on purpose), determinism, and what each kind of state and edge looks like.
#include <fstream>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "cano/workflow.hpp"
#include "order_workflow.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  BOOST_REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

cano::Workflow<demo::Order> orders() {
  return demo::order_workflow(
    0, [](const std::string&) {}, nullptr);
}

class undoable : public cano::CompensatableTask<State, int> {
public:
  std::string name() const override { return "book"; }
  cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(State::Done), 1);
  }
  cano::expected<void> compensate(cano::task_context&, int) override { return {}; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(workflow_graph_test)

BOOST_AUTO_TEST_CASE(the_demo_workflow_draws_as_its_expected_dot_and_mermaid_files) {
  auto wf = orders();
  BOOST_TEST(wf.to_dot() == read_file(CANO_TEST_EXPECTED_DIR "/orders.dot"));
  BOOST_TEST(wf.to_mermaid() == read_file(CANO_TEST_EXPECTED_DIR "/orders.mmd"));
}

BOOST_AUTO_TEST_CASE(the_committed_svg_of_the_demo_shows_what_its_dot_says) {
  // The README shows apps/cano-demo/orders.svg (made by `cano graph orders --format svg`): every
  // label line of the current drawing is in it, so a changed workflow needs a new SVG.
  auto svg = read_file(CANO_TEST_SVG);
  auto dot = orders().to_dot();
  std::size_t labels = 0;
  for (auto pos = dot.find("label=\""); pos != std::string::npos; pos = dot.find("label=\"", pos + 1)) {
    auto start = pos + 7;
    auto text = dot.substr(start, dot.find('"', start) - start);
    for (std::size_t from = 0;;) {
      auto nl = text.find("\\n", from);
      auto line = text.substr(from, nl == std::string::npos ? std::string::npos : nl - from);
      ++labels;
      BOOST_TEST(contains(svg, ">" + line + "<"), "the SVG lacks \"" << line << "\": regenerate it");
      if (nl == std::string::npos) {
        break;
      }
      from = nl + 2;
    }
  }
  BOOST_TEST(labels >= 15u);
}

BOOST_AUTO_TEST_CASE(the_drawing_does_not_depend_on_registration_order_or_copies) {
  auto a = cano::Workflow<State>{}
             .with_name("same")
             .register_task(State::Start, goto_task(State::Process, {}, "start"))
             .register_task(State::Process, goto_task(State::Done, {}, "process"))
             .register_task(State::Mid, goto_task(State::Done, {}, "mid"))
             .with_transitions(State::Start, {State::Process, State::Mid})
             .add_exit_state(State::Done);
  auto b = cano::Workflow<State>{}
             .add_exit_state(State::Done)
             .with_transitions(State::Start, {State::Process, State::Mid})
             .register_task(State::Mid, goto_task(State::Done, {}, "mid"))
             .register_task(State::Process, goto_task(State::Done, {}, "process"))
             .register_task(State::Start, goto_task(State::Process, {}, "start"))
             .with_name("same");
  BOOST_TEST(a.to_dot() == b.to_dot());
  BOOST_TEST(a.to_mermaid() == b.to_mermaid());
  auto copy = a;
  BOOST_TEST(copy.with_timeout(1s).to_dot() == a.to_dot());
}

BOOST_AUTO_TEST_CASE(undeclared_transitions_are_drawn_as_decided_at_run_time) {
  auto wf = cano::Workflow<State>{}
              .with_name("open")
              .register_task(State::Start, goto_task(State::Process, {}, "start"))
              .register_task(State::Process, goto_task(State::Done, {}, "process"))
              .with_transitions(State::Process, {State::Done})
              .add_exit_state(State::Done);
  auto dot = wf.to_dot();
  // Start declares nothing: one dashed edge to its own "?"; Process declares Done.
  BOOST_TEST(contains(dot, "n0 [label=\"Start\\ntask start\"];"));
  BOOST_TEST(contains(dot, "n0 -> r0 [label=\"decided at run time\", style=dashed"));
  BOOST_TEST(contains(dot, "n1 -> n2;"));
  BOOST_TEST(!contains(dot, "n1 -> r1"));
  BOOST_TEST(contains(dot, "n2 [label=\"Done\", shape=doublecircle"));
  auto mermaid = wf.to_mermaid();
  BOOST_TEST(contains(mermaid, "n0 -.->|\"decided at run time\"| r0((\"?\")):::runtime"));
  BOOST_TEST(contains(mermaid, "n1 --> n2"));
}

BOOST_AUTO_TEST_CASE(splits_routers_saga_steps_and_unregistered_targets_are_marked) {
  auto wf =
    cano::Workflow<State>{}
      .with_name("kinds")
      .register_router(State::Start, "choose", [] { return State::Split; })
      .with_transitions(State::Start, {State::Split, State::PathB})
      .register_split(
        State::Split, {goto_task(State::Join, {}, "left"), goto_task(State::Join, {}, "right")},
        cano::JoinConfig<State>{cano::JoinStrategy::percentage(0.5), State::Join}.with_timeout(1500ms).with_bulkhead(1))
      .register_with_compensation(State::Join, std::make_shared<undoable>())
      .with_transitions(State::Join, {State::Done})
      .add_exit_state(State::Done);
  auto dot = wf.to_dot();
  BOOST_TEST(contains(dot, "[label=\"Start\\nrouter choose\", shape=diamond"));
  BOOST_TEST(contains(dot, "[label=\"Split\\nsplit into 2:\\nleft\\nright\", shape=box3d"));
  BOOST_TEST(contains(dot, "[label=\"join Percentage(0.5) of 2, timeout 1.5s, bulkhead 1\", style=bold]"));
  BOOST_TEST(contains(dot, "[label=\"Join\\ntask book\\ncompensatable\", style=\"rounded,filled\""));
  // PathB has no task and is no exit state: drawn dashed, going nowhere.
  BOOST_TEST(contains(dot, "[label=\"PathB\\nno task registered\", style=\"rounded,dashed\"]"));
  auto mermaid = wf.to_mermaid();
  BOOST_TEST(contains(mermaid, "{\"Start<br/>router choose\"}"));
  BOOST_TEST(contains(mermaid, "[[\"Split<br/>split into 2:<br/>left<br/>right\"]]"));
  BOOST_TEST(contains(mermaid, "==>|\"join Percentage(0.5) of 2, timeout 1.5s, bulkhead 1\"|"));
  BOOST_TEST(contains(mermaid, ":::compensatable"));
  BOOST_TEST(contains(mermaid, ":::unregistered"));
}

BOOST_AUTO_TEST_CASE(quotes_and_markup_in_names_are_escaped) {
  auto wf = cano::Workflow<State>{}
              .with_name("say \"hi\" <now>")
              .register_task(State::Start, goto_task(State::Done, {}, "a\"b\\c<d>#e"))
              .add_exit_state(State::Done);
  auto dot = wf.to_dot();
  BOOST_TEST(contains(dot, "digraph \"say \\\"hi\\\" <now>\" {"));
  BOOST_TEST(contains(dot, "task a\\\"b\\\\c<d>#e\""));
  auto mermaid = wf.to_mermaid();
  BOOST_TEST(contains(mermaid, "title: \"say #quot;hi#quot; #lt;now#gt;\""));
  BOOST_TEST(contains(mermaid, "task a#quot;b\\c#lt;d#gt;#35;e\""));
}

BOOST_AUTO_TEST_SUITE_END()
