#include "flow_leader.hpp"

#include <map>
#include <set>
#include <sstream>

#include "flow_table.hpp"

namespace cano::detail {

namespace {

std::string status_line(const flow_row& row) {
  std::ostringstream os;
  os << FlowStatus::kind(row.status);
  if (row.status == FlowStatus::kind::backoff || row.status == FlowStatus::kind::tripped) {
    os << " (streak " << row.streak << "): " << row.last_error;
  }
  return os.str();
}

class leader {
public:
  explicit leader(flow_leader_setup setup) : s_(std::move(setup)), table_(s_.dsn) {}

  /// One look and what follows from it; returns how long to wait before the next.
  std::chrono::steady_clock::duration step() {
    const auto me = s_.owner();
    table_.identify(me);
    auto v = table_.look(s_.plans, me);
    const auto looked = std::chrono::steady_clock::now();
    auto wait = std::chrono::steady_clock::duration(s_.renew_every);
    auto until = [&](flow_time at) {
      if (at != flow_time::max()) {
        wait = std::min<std::chrono::steady_clock::duration>(wait, at - v.now);
      }
    };
    follow_leadership(v.rows, me);
    std::vector<std::string> in_flight;
    for (const auto& row : v.rows) {
      if (row.leader == me && row.status == FlowStatus::kind::running) {
        in_flight.push_back(row.current_run);
      }
    }
    auto states = table_.runs(in_flight);
    std::set<std::string> still;
    for (const auto& id : in_flight) {
      if (started_.count(id) != 0) {
        still.insert(id);
      }
    }
    started_ = std::move(still); // only the runs still in flight are remembered
    for (const auto& row : v.rows) {
      if (row.leader != me) {
        continue;
      }
      const auto& plan = plan_of(row.flow_id);
      if (row.status == FlowStatus::kind::running) {
        watch(plan, row, states[row.current_run], me, v.now);
        wait = std::min<std::chrono::steady_clock::duration>(wait, s_.poll);
        continue;
      }
      auto d = decide_tick(plan, row, v.now, s_.misfire_grace);
      switch (d.what) {
        case tick_decision::action::wait: until(d.at); break;
        case tick_decision::action::fire:
          fire(plan, row, me, d.at);
          wait = std::min<std::chrono::steady_clock::duration>(wait, s_.poll);
          break;
        case tick_decision::action::reschedule: {
          auto seen = row.next_tick;
          bool moved = false;
          table_.update(row.flow_id, me, row.fence, [&](flow_row& r, flow_time) {
            if (r.status == FlowStatus::kind::running || r.next_tick != seen) {
              return false; // it moved on meanwhile: the next look decides again
            }
            r.next_tick = d.at;
            moved = true;
            return true;
          });
          if (moved && seen) {
            event({flow_event::kind::skip, row.flow_id, flow_run_id(row.flow_id, *seen), row.fence, d.why});
          }
          wait = std::chrono::steady_clock::duration::zero(); // decide again on the new tick
          break;
        }
      }
    }
    auto elapsed = std::chrono::steady_clock::now() - looked;
    return wait > elapsed ? wait - elapsed : std::chrono::steady_clock::duration::zero();
  }

  void stop_leading() {
    for (const auto& [id, fence] : led_) {
      event({flow_event::kind::lost, id, {}, fence, ""});
    }
    led_.clear();
  }

private:
  const flow_plan& plan_of(const std::string& id) const {
    for (const auto& p : s_.plans) {
      if (p.flow.id == id) {
        return p;
      }
    }
    return s_.plans.front(); // unreachable: look() returns the declared flows only
  }

  void event(flow_event e) {
    if (s_.on_event) {
      s_.on_event(e);
    }
  }

  void follow_leadership(const std::vector<flow_row>& rows, const std::string& me) {
    std::map<std::string, std::uint64_t> now_led;
    for (const auto& row : rows) {
      if (row.leader == me) {
        now_led[row.flow_id] = row.fence;
        auto was = led_.find(row.flow_id);
        if (was == led_.end() || was->second != row.fence) {
          event({flow_event::kind::lead, row.flow_id, {}, row.fence, {}});
        }
      } else if (led_.count(row.flow_id) != 0) {
        event({flow_event::kind::lost, row.flow_id, {}, row.fence, row.leader});
      }
    }
    led_ = std::move(now_led);
  }

  void start(const flow_plan& plan, const std::string& run_id) {
    started_.insert(run_id);
    if (!s_.start(run_id, plan.flow.definition, plan.flow.version)) {
      s_.say("flow '" + plan.flow.id + "': run " + run_id +
             " is placed on this node, which takes no runs now; it goes to another node when this one leaves");
    }
  }

  void fire(const flow_plan& plan, const flow_row& row, const std::string& me, flow_time tick) {
    auto id = flow_run_id(plan.flow.id, tick);
    switch (table_.fire(plan, me, row.fence, tick)) {
      case flow_table::fire_result::placed:
        event({flow_event::kind::fire, plan.flow.id, id, row.fence, {}});
        start(plan, id);
        break;
      case flow_table::fire_result::existed:
        event({flow_event::kind::fire, plan.flow.id, id, row.fence, "the run existed already (start-or-get)"});
        break;
      case flow_table::fire_result::lost: break; // the next look tells why
    }
  }

  /// A running flow: start a triggered run, apply a finished run's outcome, or let a triggered
  /// run's flow skip its due tick.
  void watch(const flow_plan& plan, const flow_row& row, const flow_run_state& run, const std::string& me,
             flow_time now) {
    if (!run.exists) {
      if (row.fired_by == fired_by_trigger &&
          table_.place_triggered(plan, me, row.fence, row.current_run) == flow_table::fire_result::placed) {
        event({flow_event::kind::fire, plan.flow.id, row.current_run, row.fence, "triggered"});
        start(plan, row.current_run);
      } else if (row.fired_by != fired_by_trigger) {
        finish(plan, row, me, error::workflow("run " + row.current_run + " has no header (purged?)"));
      }
      return;
    }
    if (run.finished) {
      finish(plan, row, me, run.failure);
      return;
    }
    if (run.owner == me && run.fence == 1 && started_.count(row.current_run) == 0) {
      // Placed on this node by a fire whose commit was in doubt (it threw after committing):
      // nobody started it. A run claimed since has fence > 1 and its claimer drives it.
      start(plan, row.current_run);
    }
    if (auto next = tick_while_running(plan, row, now)) {
      auto skipped = *row.next_tick;
      bool moved = false;
      table_.update(row.flow_id, me, row.fence, [&](flow_row& r, flow_time) {
        if (r.current_run != row.current_run || r.next_tick != row.next_tick) {
          return false;
        }
        r.next_tick = *next;
        moved = true;
        return true;
      });
      if (moved) {
        event({flow_event::kind::skip, plan.flow.id, flow_run_id(plan.flow.id, skipped), row.fence,
               "its triggered run " + row.current_run + " was in flight"});
      }
    }
  }

  void finish(const flow_plan& plan, const flow_row& row, const std::string& me, const std::optional<error>& failure) {
    flow_row after;
    bool applied = false;
    table_.update(row.flow_id, me, row.fence, [&](flow_row& r, flow_time now) {
      if (r.status != FlowStatus::kind::running || r.current_run != row.current_run) {
        return false;
      }
      apply_outcome(plan, r, failure, now);
      after = r;
      applied = true;
      return true;
    });
    if (applied) {
      event({flow_event::kind::outcome, plan.flow.id, row.current_run, row.fence, status_line(after)});
    }
  }

  flow_leader_setup s_;
  flow_table table_;
  std::map<std::string, std::uint64_t> led_; // flow → the fence this node leads it with
  std::set<std::string> started_;            // runs this actor started (its incarnation's)
};

} // namespace

void flow_leader_loop(caf::blocking_actor* self, flow_leader_setup setup) {
  auto say = setup.say;
  auto renew_every = setup.renew_every;
  leader l(std::move(setup));
  bool running = true;
  while (running) {
    std::chrono::steady_clock::duration wait = renew_every;
    try {
      wait = l.step();
    } catch (const std::exception& e) {
      say(std::string("flows: ") + e.what()); // the caller's say scrubs the password
    }
    self->receive([&](flow_stop_atom) { running = false; },
                  caf::after(std::chrono::duration_cast<std::chrono::milliseconds>(wait)) >> [] {});
  }
  l.stop_leading();
}

} // namespace cano::detail
