// States and their labels.
//
// A workflow's states are an enum or an integral type. Each state has a label: a stable string
// used in observer events, checkpoint rows and error messages (cano's `format!("{:?}", state)`).
// Integers label as their decimal; enums label through an ADL `to_string(State)` function:
//
//   enum class Order { Validate, Charge, Done };
//   std::string to_string(Order s);   // found by ADL, returns "Validate", ...
//
// or by specialising `cano::state_traits<S>::label`. Labels must be unique per workflow
// (checked by `Workflow::validate`).
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

namespace cano {

/// Customisation point for a state type's labels.
template <class S, class = void>
struct state_traits {
  static_assert(std::is_enum_v<S> || std::is_integral_v<S>, "workflow states must be an enum or an integral type");

  static std::string label(S state) {
    if constexpr (std::is_integral_v<S>) {
      return std::to_string(state);
    } else {
      return to_string(state); // ADL: declare `std::string to_string(YourState)`
    }
  }
};

namespace detail {

/// States travel through the engine as 64-bit codes (the enum's underlying value).
using state_code = std::int64_t;

template <class S>
state_code encode_state(S s) {
  if constexpr (std::is_enum_v<S>) {
    return static_cast<state_code>(static_cast<std::underlying_type_t<S>>(s));
  } else {
    return static_cast<state_code>(s);
  }
}

template <class S>
S decode_state(state_code code) {
  if constexpr (std::is_enum_v<S>) {
    return static_cast<S>(static_cast<std::underlying_type_t<S>>(code));
  } else {
    return static_cast<S>(code);
  }
}

} // namespace detail

/// The label of a state, as observers and checkpoint rows see it.
template <class S>
std::string label_of(S state) {
  return state_traits<S>::label(state);
}

} // namespace cano
