// The one boundary between the engine and user code (bodies, compensators, batch load/finish,
// resource hooks, observers, stores): whatever a call throws — a std::exception or anything
// else — stops here and becomes text, never an exception escaping into an actor or a pool
// thread (ARCHITECTURE D3).
#pragma once

#include <string>
#include <utility>

namespace cano::detail {

/// The text of the exception being handled (call it inside a catch block): what() for a
/// std::exception, the text of a thrown string, or "<non-string panic payload>" (cano's words
/// for a panic payload that is not a string).
std::string current_exception_text();

/// Calls `fn()`; if it throws anything, returns `on_throw(text)` instead, with the text from
/// current_exception_text(). Both must return the same type.
template <class F, class OnThrow>
auto call_guarded(F&& fn, OnThrow&& on_throw) -> decltype(fn()) {
  try {
    return std::forward<F>(fn)();
  } catch (...) {
    return std::forward<OnThrow>(on_throw)(current_exception_text());
  }
}

} // namespace cano::detail
