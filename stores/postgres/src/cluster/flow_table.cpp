#include "flow_table.hpp"

#include <set>

#include "../postgres_array.hpp"
#include "placement.hpp"

namespace cano::detail {

namespace {

// Times travel as whole milliseconds since the epoch; "never" (time_point::max, e.g. a backoff
// window of a huge delay) is stored as a far-future instant PostgreSQL can hold.
constexpr long long never_ms = 8000000000000000LL; // about the year 255,000

std::string ms(const std::string& column) { return "floor(extract(epoch from " + column + ") * 1000)::bigint"; }

/// The SQL for a time given as parameter $n (whole milliseconds as text; '' for NULL).
std::string ts(int n) {
  return "(timestamptz 'epoch' + NULLIF($" + std::to_string(n) + ", '')::bigint * interval '1 millisecond')";
}

std::string ts_param(const std::optional<flow_time>& t) {
  if (!t) {
    return "";
  }
  if (*t == flow_time::max()) {
    return std::to_string(never_ms);
  }
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count());
}

std::optional<flow_time> ts_field(const pqxx::field& f) {
  if (f.is_null()) {
    return std::nullopt;
  }
  auto v = f.as<long long>();
  if (v >= never_ms) {
    return flow_time::max();
  }
  return flow_time(std::chrono::milliseconds(v));
}

const char* status_text(FlowStatus::kind k) {
  switch (k) {
    case FlowStatus::kind::idle: return "idle";
    case FlowStatus::kind::running: return "running";
    case FlowStatus::kind::completed: return "completed";
    case FlowStatus::kind::backoff: return "backoff";
    case FlowStatus::kind::tripped: return "tripped";
  }
  return "idle";
}

FlowStatus::kind status_of(const std::string& text) {
  if (text == "running") {
    return FlowStatus::kind::running;
  }
  if (text == "completed") {
    return FlowStatus::kind::completed;
  }
  if (text == "backoff") {
    return FlowStatus::kind::backoff;
  }
  if (text == "tripped") {
    return FlowStatus::kind::tripped;
  }
  return FlowStatus::kind::idle;
}

const std::string row_columns = "flow_id, leader, fence, status, failure_streak, last_error, " + ms("next_eligible") +
                                ", run_count, " + ms("last_run") + ", " + ms("last_tick") +
                                ", current_run, fired_by, " + ms("next_tick") + ", kind, schedule";

flow_row row_of(const pqxx::row& r) {
  flow_row f;
  f.flow_id = r[0].as<std::string>();
  f.leader = r[1].as<std::string>();
  f.fence = r[2].as<std::uint64_t>();
  f.status = status_of(r[3].as<std::string>());
  f.streak = static_cast<std::uint32_t>(std::min<long long>(r[4].as<long long>(), UINT32_MAX));
  f.last_error = r[5].as<std::string>();
  f.next_eligible = ts_field(r[6]);
  f.run_count = r[7].as<std::uint64_t>();
  f.last_run = ts_field(r[8]);
  f.last_tick = ts_field(r[9]);
  f.current_run = r[10].as<std::string>();
  f.fired_by = r[11].as<std::string>();
  f.next_tick = ts_field(r[12]);
  f.kind = r[13].as<std::string>();
  f.schedule = r[14].as<std::string>();
  return f;
}

std::optional<flow_row> locked_row(pqxx::work& tx, const std::string& flow_id) {
  tx.exec("SET LOCAL lock_timeout = '5s'"); // a row held by a stopped session waits for its burial
  auto r = tx.exec_params("SELECT " + row_columns + " FROM cano_flows WHERE flow_id = $1 FOR UPDATE", flow_id);
  if (r.empty()) {
    return std::nullopt;
  }
  return row_of(r[0]);
}

/// Writes the row's changing columns (status, streak, window, counters, ticks).
void write_row(pqxx::work& tx, const flow_row& f) {
  tx.exec_params("UPDATE cano_flows SET status = $2, failure_streak = $3, last_error = $4, next_eligible = " + ts(5) +
                   ", run_count = $6, last_run = " + ts(7) + ", last_tick = " + ts(8) +
                   ", current_run = $9, fired_by = $10, next_tick = " + ts(11) +
                   ", updated_at = now() WHERE flow_id = $1",
                 f.flow_id, status_text(f.status), static_cast<long long>(f.streak), f.last_error,
                 ts_param(f.next_eligible), static_cast<long long>(f.run_count), ts_param(f.last_run),
                 ts_param(f.last_tick), f.current_run, f.fired_by, ts_param(f.next_tick));
}

flow_time server_now(pqxx::transaction_base& tx) { return *ts_field(tx.exec("SELECT " + ms("now()"))[0][0]); }

bool is_active(pqxx::transaction_base& tx, const std::string& me) {
  return !tx.exec_params("SELECT 1 FROM cano_nodes WHERE node_id || '#' || incarnation = $1 AND state = 'active'", me)
            .empty();
}

std::string ids_array(const std::vector<flow_plan>& plans) {
  array_literal ids;
  for (const auto& p : plans) {
    ids.add(p.flow.id);
  }
  return ids.text();
}

} // namespace

flow_table::flow_table(std::string dsn) : dsn_(std::move(dsn)) {}

pqxx::connection& flow_table::connection() {
  if (!conn_ || !conn_->is_open()) {
    conn_.reset();
    conn_ = std::make_unique<pqxx::connection>(dsn_);
    if (!name_.empty()) {
      pqxx::nontransaction tx(*conn_);
      tx.exec("SET application_name = " + tx.quote(name_));
    }
  }
  return *conn_;
}

void flow_table::identify(const std::string& owner) {
  auto name = "cano-flows:" + owner;
  if (name == name_ && conn_ && conn_->is_open()) {
    return;
  }
  name_ = name;
  pqxx::nontransaction tx(connection());
  tx.exec("SET application_name = " + tx.quote(name_));
}

flow_table::view flow_table::look(const std::vector<flow_plan>& plans, const std::string& me) {
  pqxx::work tx(connection());
  view v;
  v.now = server_now(tx);
  auto ids = ids_array(plans);
  std::set<std::string> present;
  for (const auto& r : tx.exec_params("SELECT flow_id FROM cano_flows WHERE flow_id = ANY($1::text[])", ids)) {
    present.insert(r[0].as<std::string>());
  }
  for (const auto& p : plans) {
    if (present.count(p.flow.id) != 0) {
      continue;
    }
    tx.exec_params("INSERT INTO cano_flows (flow_id, kind, schedule, definition, workflow_version, input, next_tick) "
                   "VALUES ($1, $2, $3, $4, $5, $6::jsonb, " +
                     ts(7) + ") ON CONFLICT (flow_id) DO NOTHING",
                   p.flow.id, to_string(p.flow.trigger), p.schedule_text(), p.flow.definition,
                   static_cast<long long>(p.flow.version), p.flow.input.dump(), ts_param(first_tick(p, v.now)));
  }
  // Take over the flows whose leader is not an active node (SKIP LOCKED: a row held by a fire in
  // flight, or by another node taking it now, is left for the next look).
  tx.exec_params("WITH c AS (SELECT f.flow_id FROM cano_flows f WHERE f.flow_id = ANY($1::text[]) AND f.leader <> $2 "
                 "AND NOT EXISTS (SELECT 1 FROM cano_nodes n WHERE n.node_id || '#' || n.incarnation = f.leader "
                 "AND n.state = 'active') FOR UPDATE OF f SKIP LOCKED) "
                 "UPDATE cano_flows f SET leader = $2, fence = f.fence + 1, updated_at = now() FROM c "
                 "WHERE f.flow_id = c.flow_id AND EXISTS (SELECT 1 FROM cano_nodes n "
                 "WHERE n.node_id || '#' || n.incarnation = $2 AND n.state = 'active')",
                 ids, me);
  for (const auto& r :
       tx.exec_params("SELECT " + row_columns + " FROM cano_flows WHERE flow_id = ANY($1::text[])", ids)) {
    v.rows.push_back(row_of(r));
  }
  // A flow this node leads carries this node's declaration; a changed schedule starts over.
  std::vector<std::pair<std::string, std::uint64_t>> synced;
  for (auto& row : v.rows) {
    if (row.leader != me) {
      continue;
    }
    const flow_plan* plan = nullptr;
    for (const auto& p : plans) {
      plan = p.flow.id == row.flow_id ? &p : plan;
    }
    auto done = synced_.find(row.flow_id);
    if (plan == nullptr || (done != synced_.end() && done->second == row.fence)) {
      continue; // once per leadership: its declaration is the row's from then on
    }
    synced.emplace_back(row.flow_id, row.fence);
    bool new_schedule = row.kind != to_string(plan->flow.trigger) || row.schedule != plan->schedule_text();
    auto changed = tx.exec_params(
      "UPDATE cano_flows SET kind = $2, schedule = $3, definition = $4, workflow_version = $5, input = $6::jsonb, "
      "updated_at = now() WHERE flow_id = $1 AND (kind, schedule, definition, workflow_version, input) "
      "IS DISTINCT FROM ($2, $3, $4, $5, $6::jsonb) RETURNING 1",
      row.flow_id, to_string(plan->flow.trigger), plan->schedule_text(), plan->flow.definition,
      static_cast<long long>(plan->flow.version), plan->flow.input.dump());
    if (!changed.empty() && new_schedule) {
      row.kind = to_string(plan->flow.trigger);
      row.schedule = plan->schedule_text();
      if (row.status != FlowStatus::kind::running || row.fired_by == fired_by_trigger) {
        row.next_tick = first_tick(*plan, v.now);
        write_row(tx, row);
      }
    }
  }
  tx.commit();
  for (auto& [id, fence] : synced) {
    synced_[id] = fence;
  }
  return v;
}

flow_table::fire_result flow_table::fire(const flow_plan& plan, const std::string& me, std::uint64_t fence,
                                         flow_time tick) {
  pqxx::work tx(connection());
  auto row = locked_row(tx, plan.flow.id);
  if (!row || row->leader != me || row->fence != fence || row->status == FlowStatus::kind::running ||
      row->status == FlowStatus::kind::tripped || (row->last_tick && *row->last_tick >= tick) || !is_active(tx, me)) {
    return fire_result::lost;
  }
  auto id = flow_run_id(plan.flow.id, tick);
  bool placed = place_header(tx, id, plan.flow.definition, plan.flow.version, plan.flow.input, me);
  auto now = server_now(tx);
  // cano's reserve_flow: Running, last_run = now, run_count + 1.
  row->status = FlowStatus::kind::running;
  row->run_count += 1;
  row->last_run = now;
  row->last_tick = tick;
  row->current_run = id;
  row->fired_by = fired_by_schedule;
  row->next_tick.reset(); // the schedule waits for this run's end
  write_row(tx, *row);
  tx.commit();
  return placed ? fire_result::placed : fire_result::existed;
}

flow_table::fire_result flow_table::place_triggered(const flow_plan& plan, const std::string& me, std::uint64_t fence,
                                                    const std::string& run_id) {
  pqxx::work tx(connection());
  auto row = locked_row(tx, plan.flow.id);
  if (!row || row->leader != me || row->fence != fence || row->status != FlowStatus::kind::running ||
      row->current_run != run_id || !is_active(tx, me)) {
    return fire_result::lost;
  }
  bool placed = place_header(tx, run_id, plan.flow.definition, plan.flow.version, plan.flow.input, me);
  tx.commit();
  return placed ? fire_result::placed : fire_result::existed;
}

bool flow_table::update(const std::string& flow_id, const std::string& me, std::uint64_t fence,
                        const std::function<bool(flow_row&, flow_time)>& change) {
  pqxx::work tx(connection());
  auto row = locked_row(tx, flow_id);
  if (!row || row->leader != me || row->fence != fence) {
    return false;
  }
  if (change(*row, server_now(tx))) {
    write_row(tx, *row);
    tx.commit();
  }
  return true;
}

std::map<std::string, flow_run_state> flow_table::runs(const std::vector<std::string>& run_ids) {
  std::map<std::string, flow_run_state> out;
  if (run_ids.empty()) {
    return out;
  }
  array_literal ids;
  for (const auto& id : run_ids) {
    ids.add(id);
    out[id] = {};
  }
  pqxx::read_transaction tx(connection());
  for (const auto& r : tx.exec_params("SELECT workflow_id, status, coalesce(failure::text, ''), owner, fence "
                                      "FROM cano_runs WHERE workflow_id = ANY($1::text[])",
                                      ids.text())) {
    auto& s = out[r[0].as<std::string>()];
    s.exists = true;
    s.owner = r[3].as<std::string>();
    s.fence = r[4].as<std::uint64_t>();
    auto status = run_status_from_string(r[1].as<std::string>());
    s.finished = status && !is_unfinished(*status);
    if (s.finished && *status != RunStatus::completed) {
      auto text = r[2].as<std::string>();
      try {
        s.failure = nlohmann::json::parse(text).get<error>();
      } catch (const std::exception&) {
        s.failure = error::workflow("the run ended " + std::string(to_string(*status)) +
                                    (text.empty() ? std::string() : " with an unreadable error: " + text));
      }
    }
  }
  return out;
}

std::vector<cluster_flow_status> list_flows(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  auto r = tx.exec("SELECT " + row_columns +
                   ", definition, workflow_version, EXISTS (SELECT 1 FROM cano_nodes n WHERE n.node_id || '#' || "
                   "n.incarnation = f.leader AND n.state = 'active') FROM cano_flows f ORDER BY flow_id");
  std::vector<cluster_flow_status> out;
  for (const auto& row : r) {
    auto f = row_of(row);
    cluster_flow_status s;
    s.info.id = f.flow_id;
    switch (f.status) {
      case FlowStatus::kind::idle: s.info.status = FlowStatus::idle(); break;
      case FlowStatus::kind::running: s.info.status = FlowStatus::running(); break;
      case FlowStatus::kind::completed: s.info.status = FlowStatus::completed(); break;
      case FlowStatus::kind::backoff:
        s.info.status = FlowStatus::backoff(f.next_eligible.value_or(flow_time{}), f.streak, f.last_error);
        break;
      case FlowStatus::kind::tripped: s.info.status = FlowStatus::tripped(f.streak, f.last_error); break;
    }
    s.info.run_count = f.run_count;
    s.info.last_run = f.last_run;
    s.info.failure_streak = f.streak;
    s.info.next_eligible = f.next_eligible;
    s.leader = f.leader;
    s.fence = f.fence;
    s.trigger = f.kind;
    s.schedule = f.schedule;
    s.definition = row[15].as<std::string>();
    s.version = row[16].as<std::uint32_t>();
    s.leader_active = row[17].as<bool>();
    s.last_tick = f.last_tick;
    s.last_run_id = f.current_run;
    // A tripped flow fires no tick; one running its own tick sets the next when the run ends.
    if (f.status != FlowStatus::kind::tripped &&
        (f.status != FlowStatus::kind::running || f.fired_by == fired_by_trigger)) {
      s.next_tick = f.next_tick;
    }
    out.push_back(std::move(s));
  }
  return out;
}

expected<std::string> trigger_flow(pqxx::connection& c, const std::string& flow_id) {
  pqxx::work tx(c);
  auto row = locked_row(tx, flow_id);
  if (!row) {
    return error::workflow("No workflow registered with id '" + flow_id + "'");
  }
  if (row->status == FlowStatus::kind::running) {
    return error::workflow("Flow '" + flow_id + "' is already running");
  }
  if (row->status == FlowStatus::kind::tripped) {
    return error::workflow("Flow '" + flow_id + "' is tripped — call reset_flow before triggering");
  }
  // Reserved here, placed and started by its leader (it alone places the flow's runs). A manual
  // trigger bypasses a backoff window (cano).
  auto now = server_now(tx);
  auto id = flow_run_id(flow_id, now);
  row->status = FlowStatus::kind::running;
  row->run_count += 1;
  row->last_run = now;
  row->last_tick = now;
  row->current_run = id;
  row->fired_by = fired_by_trigger;
  write_row(tx, *row);
  tx.commit();
  return id;
}

expected<void> reset_flow(pqxx::connection& c, const std::string& flow_id) {
  pqxx::work tx(c);
  auto row = locked_row(tx, flow_id);
  if (!row) {
    return error::workflow("No workflow registered with id '" + flow_id + "'");
  }
  reset(*row);
  write_row(tx, *row);
  tx.commit();
  return {};
}

} // namespace cano::detail
