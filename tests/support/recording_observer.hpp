// Tests use the library's own recording observer.
#pragma once

#include "cano/recording_observer.hpp"

namespace test {
using recording_observer = cano::RecordingObserver;
} // namespace test
