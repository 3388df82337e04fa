// The state enum of the spec's scenarios.
#pragma once

#include <ostream>
#include <string>

namespace test {

enum class State { Start, Process, Split, Join, Complete, PathA, PathB, Done, Decide, Mid };

inline std::string to_string(State s) {
  switch (s) {
    case State::Start: return "Start";
    case State::Process: return "Process";
    case State::Split: return "Split";
    case State::Join: return "Join";
    case State::Complete: return "Complete";
    case State::PathA: return "PathA";
    case State::PathB: return "PathB";
    case State::Done: return "Done";
    case State::Decide: return "Decide";
    case State::Mid: return "Mid";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, State s) { return os << to_string(s); }

} // namespace test
