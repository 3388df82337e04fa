#include "deadline.hpp"

namespace cano::detail {

std::chrono::milliseconds timer_delay(std::chrono::milliseconds d) noexcept {
  if (d <= d.zero()) {
    return d.zero();
  }
  return d < never_after ? d : never_after;
}

} // namespace cano::detail
