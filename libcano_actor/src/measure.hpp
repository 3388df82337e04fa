// measure — how the engine calls its metrics sink: only when there is one, and never letting a
// sink's exception into an actor or a pool thread (a sink must not throw; if it does, the
// measurement is lost, the run goes on).
#pragma once

#include <memory>

#include "cano/metrics_sink.hpp"

namespace cano::detail {

template <class F>
void measure(metrics_sink* sink, F&& record) noexcept {
  if (sink != nullptr) {
    try {
      record(*sink);
    } catch (...) {
    }
  }
}

template <class F>
void measure(const std::shared_ptr<metrics_sink>& sink, F&& record) noexcept {
  measure(sink.get(), std::forward<F>(record));
}

} // namespace cano::detail
