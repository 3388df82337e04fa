#include "cano/detail/random_token.hpp"

#include <random>

namespace cano::detail {

std::string random_token() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device entropy;
    std::seed_seq seed{entropy(), entropy(), entropy(), entropy(), entropy(), entropy(), entropy(), entropy()};
    return std::mt19937_64(seed);
  }();
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int half = 0; half < 2; ++half) {
    auto bits = rng();
    for (int shift = 60; shift >= 0; shift -= 4) {
      out.push_back(digits[(bits >> shift) & 0xF]);
    }
  }
  return out;
}

} // namespace cano::detail
