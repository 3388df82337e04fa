// The exit codes of `cano`, listed by its --help.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cano_cli {

enum exit_code : int {
  exit_ok = 0,            // done (resume: the run completed)
  exit_failed = 1,        // the store could not be reached, refused, or answered with an error; Graphviz failed
  exit_bad_arguments = 2, // an argument CLI11 or cano rejected (unknown option, bad status, time or duration)
  exit_not_found = 3,     // no run with that workflow id, no definition with that name
  exit_cannot_resume = 4, // the run has finished, or its definition is not compiled into this binary
  exit_run_failed = 5,    // the resumed run ended failed or rolled back
  exit_already_ended = 6, // runs cancel: the run has already ended
  exit_still_running = 7, // runs cancel --wait: the run had not ended when the wait was over
};

/// What --help prints under "Exit codes:".
inline std::vector<std::pair<int, std::string>> exit_code_descriptions() {
  return {{exit_ok, "done (runs resume: the run completed)"},
          {exit_failed, "the store could not be reached or failed; Graphviz failed"},
          {exit_bad_arguments, "bad arguments"},
          {exit_not_found, "no run with that workflow id, or no definition of that name"},
          {exit_cannot_resume, "the run cannot be resumed here (finished, or its definition is not in this binary)"},
          {exit_run_failed, "the resumed run ended failed or rolled back"},
          {exit_already_ended, "runs cancel: the run has already ended; nothing to cancel"},
          {exit_still_running, "runs cancel --wait: the run had not ended when the wait was over"}};
}

} // namespace cano_cli
