// What an actor needs to talk to cano: the run_result message and error conversion.
//
//   caf::behavior client(caf::event_based_actor* self, cano::runtime* rt) {
//     rt->start(wf, Order::Validate, {"order-1", {}}, caf::actor_cast<caf::actor>(self));
//     return {[](cano::run_result& r) { ... r.get<Order>() ... }};
//   }
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>

#include "cano/error.hpp"
#include "cano/runtime.hpp"

// run_result travels between actors of one process only: it is never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::run_result)

namespace cano {
/// A caf::error in category "cano" whose code is errc + 1 and whose context is the Display text.
caf::error to_caf_error(const error& e);
} // namespace cano
