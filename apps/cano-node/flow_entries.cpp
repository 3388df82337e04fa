#include "flow_entries.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include <caf/config_value.hpp>
#include <caf/expected.hpp>

namespace cano_node {

namespace {

const std::vector<std::string> known_keys = {
  "id",          "workflow",           "version",        "every",     "cron", "manual", "input", "backoff-initial",
  "backoff-max", "backoff-multiplier", "backoff-jitter", "trip-after"};

std::string keys_text() {
  std::string out;
  for (const auto& k : known_keys) {
    out += (out.empty() ? "" : ", ") + k;
  }
  return out;
}

/// One entry being read: its errors carry its position and id.
class entry_reader {
public:
  entry_reader(std::size_t position, const caf::settings& fields) : position_(position), fields_(fields) {
    if (auto v = find("id")) {
      if (auto id = caf::get_if<std::string>(v)) {
        id_ = *id;
      }
    }
  }

  cano::error fail(const std::string& what) const {
    std::string where = "cano.flows entry " + std::to_string(position_);
    if (!id_.empty()) {
      where += " (\"" + id_ + "\")";
    }
    return cano::error::configuration(where + ": " + what);
  }

  const caf::config_value* find(const std::string& key) const {
    auto it = fields_.find(key);
    return it == fields_.end() ? nullptr : &it->second;
  }

  cano::expected<std::string> text(const std::string& key, bool required) const {
    auto v = find(key);
    if (v == nullptr) {
      if (required) {
        return fail("needs " + key + " = \"...\"");
      }
      return std::string();
    }
    if (auto s = caf::get_if<std::string>(v)) {
      return *s;
    }
    return fail(key + " must be a string in quotes, not " + caf::to_string(*v));
  }

  /// A duration as CAF writes them (30s, 500ms, 2min, 1h), or the same in quotes.
  cano::expected<std::optional<caf::timespan>> duration(const std::string& key) const {
    auto v = find(key);
    if (v == nullptr) {
      return std::optional<caf::timespan>();
    }
    if (auto t = caf::get_if<caf::timespan>(v)) {
      return std::optional<caf::timespan>(*t);
    }
    if (auto s = caf::get_if<std::string>(v)) {
      if (auto parsed = caf::config_value::parse(*s)) {
        if (auto t = caf::get_if<caf::timespan>(&*parsed)) {
          return std::optional<caf::timespan>(*t);
        }
      }
    }
    return fail(key + " must be a duration such as 30s, 500ms, 2min or 1h, not " + caf::to_string(*v));
  }

  cano::expected<std::optional<std::int64_t>> count(const std::string& key) const {
    auto v = find(key);
    if (v == nullptr) {
      return std::optional<std::int64_t>();
    }
    if (auto n = caf::get_if<caf::config_value::integer>(v)) {
      return std::optional<std::int64_t>(*n);
    }
    return fail(key + " must be a whole number, not " + caf::to_string(*v));
  }

  cano::expected<std::optional<double>> number(const std::string& key) const {
    auto v = find(key);
    if (v == nullptr) {
      return std::optional<double>();
    }
    if (auto d = caf::get_if<caf::config_value::real>(v)) {
      return std::optional<double>(*d);
    }
    if (auto n = caf::get_if<caf::config_value::integer>(v)) {
      return std::optional<double>(static_cast<double>(*n));
    }
    return fail(key + " must be a number, not " + caf::to_string(*v));
  }

  const std::string& id() const { return id_; }
  const caf::settings& fields() const { return fields_; }

private:
  std::size_t position_;
  const caf::settings& fields_;
  std::string id_;
};

cano::expected<cano::cluster_flow> read_entry(const entry_reader& e, const std::vector<served_definition>& served) {
  for (const auto& kv : e.fields()) {
    bool known = false;
    for (const auto& k : known_keys) {
      known = known || kv.first == k;
    }
    if (!known) {
      return e.fail("unknown key \"" + kv.first + "\" (a flow takes " + keys_text() + ")");
    }
  }
  cano::cluster_flow f;
  auto id = e.text("id", true);
  if (!id) {
    return id.error();
  }
  f.id = *id;
  auto workflow = e.text("workflow", true);
  if (!workflow) {
    return workflow.error();
  }
  f.definition = *workflow;
  // The workflow: one this node serves, at the version given or the one it serves.
  std::string names;
  const served_definition* match = nullptr;
  auto version = e.count("version");
  if (!version) {
    return version.error();
  }
  for (const auto& d : served) {
    names += (names.empty() ? "\"" : ", \"") + d.name + "\" version " + std::to_string(d.version);
    if (d.name == f.definition && (!*version || **version == static_cast<std::int64_t>(d.version))) {
      match = &d;
    }
  }
  if (match == nullptr) {
    return e.fail("unknown workflow \"" + f.definition + "\"" +
                  (*version ? " version " + std::to_string(**version) : std::string()) + " (this node serves " +
                  (names.empty() ? std::string("none") : names) + ")");
  }
  f.version = match->version;
  // Exactly one of every, cron, manual.
  int kinds = (e.find("every") ? 1 : 0) + (e.find("cron") ? 1 : 0) + (e.find("manual") ? 1 : 0);
  if (kinds != 1) {
    return e.fail(std::string(kinds == 0 ? "needs" : "takes only one of") +
                  " every = <duration>, cron = \"<expression>\" or manual = true");
  }
  if (e.find("every")) {
    auto every = e.duration("every");
    if (!every) {
      return every.error();
    }
    f.trigger = cano::flow_trigger::every;
    f.interval = std::chrono::duration_cast<std::chrono::milliseconds>(**every);
    if (**every > caf::timespan::zero() && f.interval.count() == 0) {
      return e.fail("every = " + caf::to_string(caf::config_value{**every}) + " is below a millisecond");
    }
  } else if (e.find("cron")) {
    auto cron = e.text("cron", true);
    if (!cron) {
      return cron.error();
    }
    f.trigger = cano::flow_trigger::cron;
    f.cron = *cron;
  } else {
    auto manual = caf::get_if<bool>(e.find("manual"));
    if (manual == nullptr || !*manual) {
      return e.fail("manual must be true (leave it out otherwise), not " + caf::to_string(*e.find("manual")));
    }
    f.trigger = cano::flow_trigger::manual;
  }
  auto input = e.text("input", false);
  if (!input) {
    return input.error();
  }
  if (!input->empty()) {
    f.input = nlohmann::json::parse(*input, nullptr, false);
    if (f.input.is_discarded()) {
      return e.fail("input is not JSON: " + *input);
    }
  }
  // Backoff: cano's defaults unless given.
  auto initial = e.duration("backoff-initial");
  auto max = e.duration("backoff-max");
  if (!initial || !max) {
    return (!initial ? initial : max).error();
  }
  for (const auto& [key, d] : {std::make_pair("backoff-initial", *initial), std::make_pair("backoff-max", *max)}) {
    if (d && *d < caf::timespan::zero()) {
      return e.fail(std::string(key) + " must not be negative");
    }
  }
  if (*initial) {
    f.backoff.initial = **initial;
  }
  if (*max) {
    f.backoff.max_delay = **max;
  }
  auto multiplier = e.number("backoff-multiplier");
  if (!multiplier) {
    return multiplier.error();
  }
  if (*multiplier) {
    if (!std::isfinite(**multiplier) || **multiplier < 1.0) {
      return e.fail("backoff-multiplier must be a number of at least 1");
    }
    f.backoff.multiplier = **multiplier;
  }
  auto jitter = e.number("backoff-jitter");
  if (!jitter) {
    return jitter.error();
  }
  if (*jitter) {
    if (!(**jitter >= 0.0 && **jitter <= 1.0)) {
      return e.fail("backoff-jitter must be between 0 and 1");
    }
    f.backoff.jitter = **jitter;
  }
  auto trip = e.count("trip-after");
  if (!trip) {
    return trip.error();
  }
  if (*trip) {
    if (**trip < 0 || **trip > std::numeric_limits<std::uint32_t>::max()) {
      return e.fail("trip-after must be a count of failures (0 or more)");
    }
    f.backoff.streak_limit = static_cast<std::uint32_t>(**trip);
  }
  if (auto ok = cano::check_flow(f); !ok) {
    return e.fail(ok.error().message());
  }
  return f;
}

} // namespace

cano::expected<std::vector<cano::cluster_flow>> read_flows(const caf::settings& content,
                                                           const std::vector<served_definition>& served) {
  std::vector<cano::cluster_flow> flows;
  auto value = caf::get_if(&content, "cano.flows");
  if (value == nullptr) {
    return flows;
  }
  auto list = caf::get_if<caf::config_value::list>(value);
  if (list == nullptr) {
    return cano::error::configuration("cano.flows must be a list of flows, flows = [ { id = \"...\", workflow = "
                                      "\"...\", every = 30s }, ... ] in the [cano] section, not " +
                                      caf::to_string(*value));
  }
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto fields = caf::get_if<caf::settings>(&(*list)[i]);
    if (fields == nullptr) {
      return cano::error::configuration("cano.flows entry " + std::to_string(i + 1) +
                                        ": a flow is a map { id = \"...\", workflow = \"...\", ... }, not " +
                                        caf::to_string((*list)[i]));
    }
    entry_reader e(i + 1, *fields);
    auto f = read_entry(e, served);
    if (!f) {
      return f.error();
    }
    if (auto [at, fresh] = seen.emplace(f->id, i + 1); !fresh) {
      return e.fail("Flow '" + f->id + "' already exists (entry " + std::to_string(at->second) + ")");
    }
    flows.push_back(std::move(*f));
  }
  return flows;
}

} // namespace cano_node
