// engine_actor — the base of the run supervisor: CAF's event-based actor without group
// subscriptions. caf::event_based_actor carries a set of subscribed groups (56 bytes) in every
// actor; the engine never joins a group, and a supervisor lives as long as its run, parked runs
// included (D1: small parked runs). Everything else is CAF's: the same mixins (send, request,
// become), an untyped handle, make_behavior() for the initial behaviour.
#pragma once

#include <caf/actor_traits.hpp>
#include <caf/behavior.hpp>
#include <caf/extend.hpp>
#include <caf/mixin/behavior_changer.hpp>
#include <caf/mixin/requester.hpp>
#include <caf/mixin/sender.hpp>
#include <caf/none.hpp>
#include <caf/scheduled_actor.hpp>

namespace cano::detail {
class engine_actor;
} // namespace cano::detail

namespace caf {
/// The behaviour type CAF's become() mixin takes for engine actors (as for event_based_actor).
template <>
class behavior_type_of<cano::detail::engine_actor> {
public:
  using type = behavior;
};
} // namespace caf

namespace cano::detail {

class engine_actor
  : public caf::extend<caf::scheduled_actor, engine_actor>::with<caf::mixin::sender, caf::mixin::requester,
                                                                 caf::mixin::behavior_changer>,
    public caf::dynamically_typed_actor_base {
public:
  /// Required by CAF's spawn: an untyped actor (caf::actor handles).
  using signatures = caf::none_t;
  using behavior_type = caf::behavior;

  explicit engine_actor(caf::actor_config& cfg) : extended_base(cfg) {}

  /// What caf::event_based_actor::initialize does: the initial behaviour from make_behavior().
  void initialize() override {
    extended_base::initialize();
    setf(is_initialized_flag);
    if (auto bhvr = make_behavior()) {
      become(std::move(bhvr));
    }
  }

protected:
  virtual caf::behavior make_behavior() = 0;
};

} // namespace cano::detail
