#include "cano/join.hpp"

#include <cmath>
#include <limits>

#include "cano/detail/definition.hpp"
#include "format.hpp"

namespace cano {

bool JoinStrategy::is_satisfied(std::size_t completed, std::size_t total) const {
  switch (kind_) {
    case kind::all: return completed >= total;
    case kind::any: return completed >= 1;
    case kind::quorum: return completed >= n_;
    case kind::percentage: {
      // ceil(total * p), saturating like Rust's `as usize` (NaN -> 0).
      double needed = std::ceil(static_cast<double>(total) * p_);
      std::size_t required = 0;
      if (std::isnan(needed) || needed <= 0) {
        required = 0;
      } else if (needed >= static_cast<double>(std::numeric_limits<std::size_t>::max())) {
        required = std::numeric_limits<std::size_t>::max();
      } else {
        required = static_cast<std::size_t>(needed);
      }
      return completed >= required;
    }
    case kind::partial_results: return completed >= n_;
    case kind::partial_timeout: return completed >= 1;
  }
  return false;
}

std::string JoinStrategy::to_string() const {
  switch (kind_) {
    case kind::all: return "All";
    case kind::any: return "Any";
    case kind::quorum: return "Quorum(" + std::to_string(n_) + ")";
    case kind::percentage: return "Percentage(" + detail::debug_float(p_) + ")";
    case kind::partial_results: return "PartialResults(" + std::to_string(n_) + ")";
    case kind::partial_timeout: return "PartialTimeout";
  }
  return "All";
}

namespace detail {

std::optional<error> check_join_config(const split_info& join) {
  if (join.strategy.type() == JoinStrategy::kind::partial_timeout && !join.timeout) {
    return error::configuration("PartialTimeout strategy requires a timeout to be configured");
  }
  if (join.strategy.type() == JoinStrategy::kind::percentage) {
    double p = join.strategy.fraction();
    if (!std::isfinite(p) || p <= 0.0 || p > 1.0) {
      return error::configuration("Percentage strategy requires a finite value in (0.0, 1.0], got " + display_float(p));
    }
  }
  if (join.bulkhead && *join.bulkhead == 0) {
    return error::configuration("bulkhead requires a positive permit count, got 0");
  }
  return std::nullopt;
}

} // namespace detail
} // namespace cano
