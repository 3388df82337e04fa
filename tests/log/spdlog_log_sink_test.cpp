// cano_actor::spdlog: the runtime's log lines through an spdlog logger, levels mapped.
#include <boost/test/unit_test.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "cano/spdlog_log_sink.hpp"
#include "cano/workflow.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;

BOOST_AUTO_TEST_SUITE(spdlog_log_sink_test)

BOOST_AUTO_TEST_CASE(lifecycle_lines_reach_an_spdlog_logger_at_their_level) {
  std::ostringstream out;
  auto ostream_sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("cano-test", ostream_sink);
  logger->set_pattern("%l|%v");
  logger->set_level(spdlog::level::trace);
  cano::runtime_config cfg;
  cfg.log = std::make_shared<cano::spdlog_log_sink>(logger);
  cfg.log_level = cano::log_level::debug;
  cfg.node = "n1";
  {
    test_system ts(cfg);
    auto wf = cano::Workflow<State>{}
                .with_name("spd")
                .register_task(State::Start, goto_task(State::Done))
                .add_exit_state(State::Done);
    BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
  }
  logger->flush();
  auto text = out.str();
  BOOST_TEST(text.find("info|run started event=run_started workflow_id=\"\" run_id=") != std::string::npos, text);
  BOOST_TEST(text.find("definition=spd state=Start attempt=1 node=n1") != std::string::npos, text);
  BOOST_TEST(text.find("debug|state entered event=state_entered") != std::string::npos, text);
  BOOST_TEST(text.find("info|run completed event=run_completed") != std::string::npos, text);
  BOOST_TEST(text.find("status=completed duration_ms=") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(levels_map_one_to_one_and_a_null_logger_is_refused) {
  BOOST_TEST((cano::spdlog_log_sink::level_of(cano::log_level::trace) == spdlog::level::trace));
  BOOST_TEST((cano::spdlog_log_sink::level_of(cano::log_level::debug) == spdlog::level::debug));
  BOOST_TEST((cano::spdlog_log_sink::level_of(cano::log_level::info) == spdlog::level::info));
  BOOST_TEST((cano::spdlog_log_sink::level_of(cano::log_level::warn) == spdlog::level::warn));
  BOOST_TEST((cano::spdlog_log_sink::level_of(cano::log_level::error) == spdlog::level::err));
  BOOST_CHECK_THROW(cano::spdlog_log_sink(nullptr), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
