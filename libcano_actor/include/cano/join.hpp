// Split/join: a split state runs several tasks in parallel and moves on to its join state when
// the join strategy is satisfied.
//
//   auto wf = cano::Workflow<S>{}
//     .register_split(S::Reserve, {warehouse_a, warehouse_b, warehouse_c},
//                     cano::JoinConfig<S>{cano::JoinStrategy::quorum(2), S::Charge}
//                       .with_timeout(2s).with_bulkhead(2))
//
// Only Any and PartialResults stop early (the other branches are abandoned); a join timeout is
// an error for every strategy except PartialTimeout. Branch results are discarded.
//
// Blocking branches run in parallel on the engine's thread pool. Non-blocking branches that
// prove expensive run in parallel on the actor system's scheduler threads, each on a child actor
// of the split's join actor; cheap ones run one after another inside the join actor, where a
// child actor would cost more than it saves. Once the join timeout or the workflow timeout has
// passed, no branch that has not started yet is started; branches still running are abandoned
// and their results dropped.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>

#include "cano/retry.hpp"

namespace cano {

class JoinStrategy {
public:
  enum class kind { all, any, quorum, percentage, partial_results, partial_timeout };

  static JoinStrategy all() { return {kind::all, 0, 0.0}; }
  static JoinStrategy any() { return {kind::any, 0, 0.0}; }
  static JoinStrategy quorum(std::size_t n) { return {kind::quorum, n, 0.0}; }
  /// A fraction in (0, 1] of the branches must succeed.
  static JoinStrategy percentage(double p) { return {kind::percentage, 0, p}; }
  /// Proceed as soon as `min` branches succeeded; the rest are abandoned.
  static JoinStrategy partial_results(std::size_t min) { return {kind::partial_results, min, 0.0}; }
  /// Proceed with whatever finished when the (required) timeout fires.
  static JoinStrategy partial_timeout() { return {kind::partial_timeout, 0, 0.0}; }

  kind type() const noexcept { return kind_; }
  std::size_t count() const noexcept { return n_; }
  double fraction() const noexcept { return p_; }

  /// cano's is_satisfied(completed, total).
  bool is_satisfied(std::size_t completed, std::size_t total) const;
  /// cano's Debug form: All, Quorum(2), Percentage(0.75), ...
  std::string to_string() const;

  friend bool operator==(const JoinStrategy& a, const JoinStrategy& b) {
    return a.kind_ == b.kind_ && a.n_ == b.n_ && (a.p_ == b.p_ || (std::isnan(a.p_) && std::isnan(b.p_)));
  }

private:
  JoinStrategy(kind k, std::size_t n, double p) : kind_(k), n_(n), p_(p) {}
  kind kind_;
  std::size_t n_;
  double p_;
};

template <class S>
struct JoinConfig {
  JoinStrategy strategy;
  S join_state;
  std::optional<duration> timeout;
  std::optional<std::size_t> bulkhead;

  JoinConfig(JoinStrategy s, S join) : strategy(s), join_state(join) {}
  JoinConfig with_timeout(duration d) const {
    JoinConfig c = *this;
    c.timeout = d;
    return c;
  }
  JoinConfig with_join_state(S s) const {
    JoinConfig c = *this;
    c.join_state = s;
    return c;
  }
  /// At most `n` branches run at once.
  JoinConfig with_bulkhead(std::size_t n) const {
    JoinConfig c = *this;
    c.bulkhead = n;
    return c;
  }
};

} // namespace cano
