// Receiving the run_results that runtime::start sends to a scoped actor, with a bounded wait.
#pragma once

#include <chrono>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"

namespace test {

/// Receives up to `n` run_results, each within `per_result`; fewer when one does not come.
inline std::vector<cano::run_result> receive_results(caf::scoped_actor& self, std::size_t n,
                                                     std::chrono::seconds per_result = std::chrono::seconds(120)) {
  std::vector<cano::run_result> out;
  for (std::size_t i = 0; i < n; ++i) {
    bool got = false;
    self->receive(
      [&](cano::run_result& r) {
        out.push_back(std::move(r));
        got = true;
      },
      caf::after(per_result) >> [] {});
    if (!got) {
      break;
    }
  }
  return out;
}

} // namespace test
