// The engine's writer of run_result's private fields (users read them through get<S>()).
#pragma once

#include "cano/runtime.hpp"

namespace cano::detail {

struct run_result_access {
  static void set_final_state(run_result& r, state_code s) noexcept { r.final_state_ = s; }
};

} // namespace cano::detail
