// The engine's ways into public types' private parts: what users must not see (run_result's state
// code, the runtime's engine) stays private there, and only the library's own code includes this.
#pragma once

#include "cano/runtime.hpp"

namespace cano::detail {

/// Writes run_result's state code (users read it through get<S>()).
struct run_result_access {
  static void set_final_state(run_result& r, state_code s) noexcept { r.final_state_ = s; }
};

/// The engine behind a runtime.
struct runtime_access {
  static engine& engine_of(runtime& rt) noexcept { return *rt.engine_; }
};

} // namespace cano::detail
