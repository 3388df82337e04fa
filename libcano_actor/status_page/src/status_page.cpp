#include "cano/status_page.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <httplib.h>

#include "cano/log_sink.hpp"
#include "graphviz_svg.hpp"
#include "html.hpp"

namespace cano {

namespace {

using detail::html::cut;
using detail::html::esc;
using detail::html::query;
using detail::html::utc;

constexpr std::size_t max_page_size = 500;

/// Pages may load their own images and inline styles, nothing else: no script runs, whatever a
/// run's text holds.
const char* content_policy =
  "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; "
  "frame-ancestors 'none'";

const char* style = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:10px 24px;display:flex;align-items:center;gap:24px}
header .brand{font-weight:600;font-size:18px}
header nav a{color:#c9d1e0;text-decoration:none;margin-right:16px}
header nav a.on{color:#fff;border-bottom:2px solid #6ea8fe;padding-bottom:2px}
main{padding:16px 24px}
h1{font-size:20px;margin:4px 0 12px}
h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e3e6eb;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
a{color:#1f5fbf}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff}
.completed{background:#2f8f4e}.failed{background:#c0392b}.rolled_back{background:#d9822b}
.interrupted{background:#7a8290}.running{background:#2f6fd6}.compensating{background:#8e44ad}
form.filters{background:#fff;padding:10px 12px;margin-bottom:12px;border:1px solid #e3e6eb;display:flex;gap:16px;
flex-wrap:wrap;align-items:center;font-size:13px}
form.filters label{white-space:nowrap}
.note{color:#5b6472;font-size:13px}
.error{color:#a22;white-space:pre-wrap}
dl.header{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;padding:12px;
border:1px solid #e3e6eb;font-size:13px;margin:0}
dl.header dt{color:#5b6472}dl.header dd{margin:0}
.graph{background:#fff;border:1px solid #e3e6eb;padding:8px;max-width:100%;overflow:auto}
.graph img{max-width:100%}
pre{background:#fff;border:1px solid #e3e6eb;padding:8px;overflow:auto;font-size:12px;margin:0}
)";

const RunStatus all_statuses[] = {RunStatus::running, RunStatus::compensating, RunStatus::interrupted,
                                  RunStatus::failed,  RunStatus::rolled_back,  RunStatus::completed};

std::string badge(RunStatus s) {
  return std::string("<span class=\"badge ") + to_string(s) + "\">" + to_string(s) + "</span>";
}

std::string kind_name(RowKind k) {
  switch (k) {
    case RowKind::state_entry: return "state entry";
    case RowKind::compensation_completion: return "saga step done";
    case RowKind::step_cursor: return "step cursor";
  }
  return "state entry";
}

/// One error as a short line: category and message, secrets masked.
std::string error_line(const error& e, std::size_t max = 600) {
  return esc(cut(mask_secrets(std::string(e.category()) + ": " + e.to_string()), max));
}

/// A failure in full: the error, and for compensation_failed each nested error.
std::string error_block(const error& e) {
  std::string out = "<div class=\"error\">" + error_line(e, 4000) + "</div>";
  if (!e.nested().empty()) {
    out += "<ol class=\"nested\">";
    for (const auto& n : e.nested()) {
      out += "<li class=\"error\">" + error_line(n, 2000) + "</li>";
    }
    out += "</ol>";
  }
  return out;
}

std::string run_link(const std::string& id) {
  return "<a class=\"wid mono\" href=\"/run" + esc(query({{"id", id}})) + "\">" + esc(id) + "</a>";
}

void secure(httplib::Response& res) {
  res.set_header("Content-Security-Policy", content_policy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-store");
}

} // namespace

struct status_page::impl {
  std::shared_ptr<CheckpointStore> store;
  status_page_options options;
  httplib::Server server;
  std::thread listener;
  std::uint16_t port = 0;
  std::once_flag stopped;

  struct graph {
    std::string dot;
    std::optional<expected<std::string>> svg; // rendered on first request
  };
  std::mutex mutex; // guards graphs and nodes
  std::map<std::pair<std::string, std::uint32_t>, graph> graphs;
  node_lister nodes;

  std::string layout(const std::string& title, const char* tab, const std::string& body) const {
    std::string out = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title) + " — " +
                      esc(options.title) + "</title><style>" + style +
                      "</style></head><body><header><span class=\"brand\">" + esc(options.title) + "</span><nav>";
    for (auto [href, name] : {std::pair<const char*, const char*>{"/", "Runs"}, {"/nodes", "Nodes"}}) {
      out += std::string("<a href=\"") + href + "\"" + (std::string(name) == tab ? " class=\"on\"" : "") + ">" + name +
             "</a>";
    }
    return out + "</nav></header><main>" + body + "</main></body></html>";
  }

  void send_page(httplib::Response& res, int status, const std::string& title, const char* tab,
                 const std::string& body) const {
    res.status = status;
    secure(res);
    res.set_content(layout(title, tab, body), "text/html; charset=utf-8");
  }

  void send_problem(httplib::Response& res, int status, const std::string& title, const std::string& text) const {
    send_page(res, status, title, "",
              "<h1>" + esc(title) + "</h1><p class=\"error\" id=\"problem\">" + esc(text) + "</p>");
  }

  // -- / : runs -------------------------------------------------------------------------------

  void runs_page(const httplib::Request& req, httplib::Response& res) {
    RunQuery q;
    q.limit = options.page_size;
    for (std::size_t i = 0; i < req.get_param_value_count("status"); ++i) {
      auto text = req.get_param_value("status", i);
      auto s = run_status_from_string(text);
      if (!s) {
        return send_problem(res, 400, "Bad filter",
                            "unknown status \"" + text +
                              "\" (known: running, compensating, interrupted, failed, rolled_back, completed)");
      }
      if (std::find(q.statuses.begin(), q.statuses.end(), *s) == q.statuses.end()) {
        q.statuses.push_back(*s);
      }
    }
    q.definition = req.get_param_value("definition");
    q.cursor = req.get_param_value("cursor");
    if (req.has_param("limit")) {
      auto text = req.get_param_value("limit");
      std::size_t n = 0;
      auto parsed = !text.empty() && text.size() <= 4 &&
                    std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (parsed) {
        n = static_cast<std::size_t>(std::stoul(text));
      }
      if (!parsed || n == 0 || n > max_page_size) {
        return send_problem(res, 400, "Bad filter",
                            "limit must be a number from 1 to " + std::to_string(max_page_size) + ", not \"" + text +
                              "\"");
      }
      q.limit = n;
    }
    auto page = guarded([&] { return store->list_runs(q); });
    if (!page) {
      return send_problem(res, 500, "Cannot list runs", page.error().to_string());
    }

    std::string body = "<h1>Runs</h1>";
    // The overview (no status filter, first page): the cluster's nodes and the runs in flight
    // above the newest runs.
    const bool overview = q.statuses.empty() && q.cursor.empty();
    if (overview) {
      body += nodes_summary() + in_flight_section(q);
    }
    body += std::string(overview ? "<h2>Recent runs</h2>" : "") + filter_form(q);
    if (page->runs.empty() && page->unreadable.empty()) {
      body += "<p class=\"note\" id=\"no-runs\">No runs match.</p>";
    } else {
      body += runs_table("runs", *page);
    }
    if (!page->next_cursor.empty()) {
      std::vector<std::pair<std::string, std::string>> next;
      for (auto s : q.statuses) {
        next.emplace_back("status", to_string(s));
      }
      if (!q.definition.empty()) {
        next.emplace_back("definition", q.definition);
      }
      next.emplace_back("limit", std::to_string(q.limit));
      next.emplace_back("cursor", page->next_cursor);
      body += "<p><a id=\"next\" href=\"/" + esc(query(next)) + "\">Next page →</a></p>";
    }
    send_page(res, 200, "Runs", "Runs", body);
  }

  /// A table of run headers (newest first), each linking to its run's page.
  static std::string runs_table(const char* id, const RunPage& page) {
    std::string out =
      std::string("<table id=\"") + id +
      "\"><thead><tr><th>Workflow id</th><th>Definition</th><th>Status</th><th>Last state</th>"
      "<th>Attempts</th><th>Owner</th><th>Created</th><th>Updated</th><th>Failure</th></tr></thead><tbody>";
    for (const auto& h : page.runs) {
      out += "<tr class=\"run\" data-status=\"" + std::string(to_string(h.status)) + "\"><td>" +
             run_link(h.workflow_id) + "</td><td>" + esc(h.definition.empty() ? "—" : h.definition) +
             " <span class=\"note\">v" + std::to_string(h.workflow_version) + "</span></td><td>" + badge(h.status) +
             "</td><td>" + esc(h.last_state.empty() ? "—" : h.last_state) + "</td><td>" + std::to_string(h.attempts) +
             "</td><td class=\"mono\">" + esc(h.owner.empty() ? "—" : h.owner) + "</td><td>" + utc(h.created_at) +
             "</td><td>" + utc(h.updated_at) + "</td><td>" +
             (h.failure ? "<span class=\"error\">" + error_line(*h.failure, 160) + "</span>" : std::string()) +
             "</td></tr>";
    }
    for (const auto& u : page.unreadable) {
      out += "<tr class=\"run unreadable\"><td>" + run_link(u.workflow_id) +
             "</td><td colspan=\"8\" class=\"error\">unreadable header: " + esc(cut(u.reason, 400)) + "</td></tr>";
    }
    return out + "</tbody></table>";
  }

  /// Runs being driven now (running, or undoing their saga steps), of the filtered definition.
  std::string in_flight_section(const RunQuery& filter) {
    RunQuery q;
    q.statuses = {RunStatus::running, RunStatus::compensating};
    q.definition = filter.definition;
    q.limit = filter.limit;
    std::string out = "<h2>In flight</h2>";
    auto page = guarded([&] { return store->list_runs(q); });
    if (!page) {
      return out + "<p class=\"error\">cannot list the runs in flight: " + error_line(page.error()) + "</p>";
    }
    if (page->runs.empty() && page->unreadable.empty()) {
      return out + "<p class=\"note\" id=\"none-in-flight\">No run is in flight.</p>";
    }
    out += runs_table("in-flight", *page);
    if (!page->next_cursor.empty()) {
      std::vector<std::pair<std::string, std::string>> all{{"status", "running"}, {"status", "compensating"}};
      if (!q.definition.empty()) {
        all.emplace_back("definition", q.definition);
      }
      out += "<p><a href=\"/" + esc(query(all)) + "\">All runs in flight →</a></p>";
    }
    return out;
  }

  /// One line per live node incarnation (with its runs in flight), when the page has a cluster.
  std::string nodes_summary() {
    node_lister lister;
    {
      std::lock_guard<std::mutex> guard(mutex);
      lister = nodes;
    }
    if (!lister) {
      return {};
    }
    std::string out = "<h2>Nodes</h2>";
    auto members = guarded([&] { return lister(); });
    if (!members) {
      return out + "<p class=\"error\">cannot list the nodes: " + error_line(members.error()) + "</p>";
    }
    std::size_t dead = 0;
    std::string live;
    for (const auto& n : *members) {
      if (n.state == "dead") {
        ++dead;
        continue;
      }
      live += "<li class=\"member\" data-state=\"" + esc(n.state) + "\"><span class=\"mono\">" + esc(n.owner()) +
              "</span> " + esc(n.state) + ", " + std::to_string(n.owned_unfinished) + " unfinished runs owned, at " +
              "<span class=\"mono\">" + esc(n.address) + "</span></li>";
    }
    out += live.empty() ? "<p class=\"note\" id=\"no-live-nodes\">No live node.</p>"
                        : "<ul id=\"members\">" + live + "</ul>";
    return out + "<p class=\"note\">" + std::to_string(dead) +
           " dead incarnations. <a href=\"/nodes\">Every node and lease →</a></p>";
  }

  std::string filter_form(const RunQuery& q) {
    std::string out = "<form class=\"filters\" method=\"get\" action=\"/\"><span>Status:</span>";
    for (auto s : all_statuses) {
      bool on = std::find(q.statuses.begin(), q.statuses.end(), s) != q.statuses.end();
      out += std::string("<label><input type=\"checkbox\" name=\"status\" value=\"") + to_string(s) + "\"" +
             (on ? " checked" : "") + "> " + to_string(s) + "</label>";
    }
    out += "<label>Definition: <input type=\"text\" name=\"definition\" list=\"definitions\" value=\"" +
           esc(q.definition) + "\"></label><datalist id=\"definitions\">";
    {
      std::lock_guard<std::mutex> guard(mutex);
      std::string last;
      for (const auto& kv : graphs) {
        if (kv.first.first != last) {
          last = kv.first.first;
          out += "<option value=\"" + esc(last) + "\">";
        }
      }
    }
    out += "</datalist><label>Per page: <input type=\"number\" name=\"limit\" min=\"1\" max=\"" +
           std::to_string(max_page_size) + "\" value=\"" + std::to_string(q.limit) +
           "\"></label>"
           "<button type=\"submit\">Filter</button></form>";
    return out;
  }

  // -- /run?id= : one run ---------------------------------------------------------------------

  void run_page(const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("id")) {
      return send_problem(res, 400, "Which run?", "give the run's workflow id: /run?id=<workflow id>");
    }
    auto id = req.get_param_value("id");
    auto header = guarded([&] { return store->run_header(id); });
    if (!header) {
      return send_problem(res, 500, "Cannot read the run", header.error().to_string());
    }
    auto log = guarded([&] { return store->run_log(id); });
    if (!*header && (!log || log->empty())) {
      return send_problem(res, 404, "No such run", "this store has no run with workflow id \"" + id + "\"");
    }
    std::string body = "<h1>Run <code id=\"workflow-id\">" + esc(id) + "</code></h1>";
    std::optional<std::pair<std::string, std::uint32_t>> definition;
    if (*header) {
      const auto& h = **header;
      definition.emplace(h.definition, h.workflow_version);
      auto row = [](const char* name, const std::string& html_value) {
        return std::string("<dt>") + name + "</dt><dd>" + html_value + "</dd>";
      };
      body += "<dl class=\"header\" id=\"header\">";
      body += row("Status", "<span id=\"status\">" + badge(h.status) + "</span>");
      body +=
        row("Definition", esc(h.definition.empty() ? "—" : h.definition) + " v" + std::to_string(h.workflow_version));
      body += row("Last state", esc(h.last_state.empty() ? "—" : h.last_state));
      if (!h.final_state.empty()) {
        body += row("Final state", esc(h.final_state));
      }
      body += row("Attempts", std::to_string(h.attempts));
      body += row("Created", utc(h.created_at));
      body += row("Updated", utc(h.updated_at));
      if (!h.owner.empty()) {
        body +=
          row("Owner", "<span class=\"mono\">" + esc(h.owner) + "</span> (fence " + std::to_string(h.fence) + ")");
      }
      auto input =
        h.input.is_null() ? std::string("—") : h.input.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
      body += row("Input", "<pre>" + esc(cut(mask_secrets(input), 4000)) + "</pre>");
      body += "</dl>";
      if (h.failure) {
        body += "<h2>Failure</h2><section id=\"failure\">" + error_block(*h.failure) + "</section>";
      }
      if (h.rollback) {
        body += rollback_section(*h.rollback);
      }
    } else {
      body += "<p class=\"note\">No run header: this run's log was written by a driver that keeps none.</p>";
    }
    body += "<h2>History</h2>";
    if (!log) {
      body += "<p class=\"error\">cannot read the run's log: " + error_line(log.error()) + "</p>";
    } else if (log->empty()) {
      body += "<p class=\"note\" id=\"no-history\">No rows: the log was cleared (a completed run, or a clean rollback) "
              "and the store keeps no history.</p>";
    } else {
      body += "<table id=\"history\"><thead><tr><th>Sequence</th><th>Kind</th><th>State</th><th>Task</th><th>Blob</th>"
              "<th>Version</th><th>Written</th><th>Archived</th></tr></thead><tbody>";
      for (const auto& e : *log) {
        const auto& r = e.row;
        body += "<tr class=\"row\"><td>" + std::to_string(r.sequence) + "</td><td>" + kind_name(r.kind) + "</td><td>" +
                esc(r.state) + "</td><td class=\"mono\">" + esc(r.task_id.empty() ? "—" : r.task_id) + "</td><td>" +
                (r.output_blob ? std::to_string(r.output_blob->size()) + " bytes" : std::string("—")) + "</td><td>" +
                std::to_string(r.workflow_version) + "</td><td>" + utc(e.written_at) + "</td><td>" +
                (e.archived ? "yes" : "no") + "</td></tr>";
      }
      body += "</tbody></table>";
    }
    body += "<h2>Workflow</h2>";
    bool known = false;
    if (definition) {
      std::lock_guard<std::mutex> guard(mutex);
      known = graphs.count(*definition) != 0;
    }
    if (known) {
      body +=
        "<div class=\"graph\"><img id=\"graph\" alt=\"the graph of " + esc(definition->first) + "\" src=\"/graph.svg" +
        esc(query({{"definition", definition->first}, {"version", std::to_string(definition->second)}})) + "\"></div>";
    } else {
      body += "<p class=\"note\">This page has no graph of this run's definition (status_page::add_workflow).</p>";
    }
    send_page(res, 200, "Run " + id, "Runs", body);
  }

  static std::string rollback_section(const RollbackRecord& rb) {
    std::string out = "<h2>Rollback</h2><p class=\"note\">" + std::to_string(rb.undone) + " of " +
                      std::to_string(rb.stack.size()) + " saga steps undone" +
                      (rb.finished() ? "" : " (the drain continues when the run is resumed)") +
                      "</p><table id=\"rollback\"><thead><tr><th>Step</th><th>Compensator</th><th>Completion row</th>"
                      "<th>Output</th><th>Undone</th></tr></thead><tbody>";
    for (std::size_t i = rb.stack.size(); i-- > 0;) {
      const auto& e = rb.stack[i];
      bool undone = rb.stack.size() - i <= rb.undone;
      out += "<tr><td>" + std::to_string(i) + "</td><td class=\"mono\">" + esc(e.task_id) + "</td><td>" +
             std::to_string(e.sequence) + "</td><td>" + std::to_string(e.output.size()) + " bytes</td><td>" +
             (undone ? "yes" : "no") + "</td></tr>";
    }
    out += "</tbody></table>";
    if (rb.errors.size() > 1) {
      out += "<p class=\"note\">Failed undos:</p><ol>";
      for (std::size_t i = 1; i < rb.errors.size(); ++i) {
        out += "<li class=\"error\">" + error_line(rb.errors[i]) + "</li>";
      }
      out += "</ol>";
    }
    return out;
  }

  // -- /graph.svg ------------------------------------------------------------------------------

  void graph_svg(const httplib::Request& req, httplib::Response& res) {
    auto name = req.get_param_value("definition");
    auto version_text = req.get_param_value("version");
    std::uint32_t version = 0;
    try {
      auto v = std::stoul(version_text);
      if (v > UINT32_MAX || std::to_string(v) != version_text) {
        throw std::out_of_range("version");
      }
      version = static_cast<std::uint32_t>(v);
    } catch (const std::exception&) {
      return send_problem(res, 400, "Bad graph request", "version must be a number, not \"" + version_text + "\"");
    }
    std::string dot;
    {
      std::lock_guard<std::mutex> guard(mutex);
      auto it = graphs.find({name, version});
      if (it == graphs.end()) {
        return send_problem(res, 404, "No such graph", "no graph of definition \"" + name + "\" v" + version_text);
      }
      if (it->second.svg) {
        return send_svg(res, *it->second.svg);
      }
      dot = it->second.dot;
    }
    auto svg = detail::render_svg(dot, std::chrono::seconds(30));
    {
      std::lock_guard<std::mutex> guard(mutex);
      auto it = graphs.find({name, version});
      if (it != graphs.end() && it->second.dot == dot) {
        it->second.svg = svg;
      }
    }
    send_svg(res, svg);
  }

  void send_svg(httplib::Response& res, const expected<std::string>& svg) const {
    if (!svg) {
      return send_problem(res, 500, "Cannot draw the graph", svg.error().to_string());
    }
    secure(res);
    res.set_content(*svg, "image/svg+xml");
  }

  // -- /nodes ------------------------------------------------------------------------------------

  void nodes_page(httplib::Response& res) {
    node_lister lister;
    {
      std::lock_guard<std::mutex> guard(mutex);
      lister = nodes;
    }
    std::string body = "<h1>Nodes</h1>";
    if (!lister) {
      body += "<p class=\"note\" id=\"no-cluster\">No cluster: this page was given no node list "
              "(status_page::set_nodes).</p>";
      return send_page(res, 200, "Nodes", "Nodes", body);
    }
    auto members = guarded([&] { return lister(); });
    if (!members) {
      return send_problem(res, 500, "Cannot list nodes", members.error().to_string());
    }
    body += "<table id=\"nodes\"><thead><tr><th>Node</th><th>Incarnation</th><th>State</th><th>Address</th>"
            "<th>Lease left</th><th>Lease until</th><th>Started</th><th>Serves</th><th>Unfinished runs "
            "owned</th></tr></thead>"
            "<tbody>";
    for (const auto& n : *members) {
      std::string serves;
      for (const auto& d : n.definitions) {
        serves += (serves.empty() ? "" : ", ") + esc(d);
      }
      auto left = n.lease_left.count();
      body += "<tr class=\"node\" data-state=\"" + esc(n.state) + "\"><td class=\"mono\">" + esc(n.node_id) +
              "</td><td>" + std::to_string(n.incarnation) + "</td><td>" + esc(n.state) + "</td><td class=\"mono\">" +
              esc(n.address) + "</td><td>" +
              (left >= 0 ? std::to_string(left) + " ms" : "expired " + std::to_string(-left) + " ms ago") +
              "</td><td>" + utc(n.lease_until) + "</td><td>" + utc(n.started_at) + "</td><td>" +
              (serves.empty() ? "—" : serves) + "</td><td>" + std::to_string(n.owned_unfinished) + "</td></tr>";
    }
    body += "</tbody></table>";
    send_page(res, 200, "Nodes", "Nodes", body);
  }

  /// Calls `fn` (a store or a node lister: user code) and turns what it throws into an error.
  template <class F>
  static auto guarded(F&& fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const std::exception& e) {
      return error::checkpoint_store(std::string("the store threw: ") + e.what());
    } catch (...) {
      return error::checkpoint_store("the store threw");
    }
  }

  void routes() {
    // Read-only: nothing but GET (and HEAD, answered like GET without a body) gets through.
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.method == "GET" || req.method == "HEAD") {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.set_header("Allow", "GET, HEAD");
      send_problem(res, 405, "Read-only", "this page only reads: " + req.method + " is not allowed");
      return httplib::Server::HandlerResponse::Handled;
    });
    server.Get("/", [this](const httplib::Request& req, httplib::Response& res) { runs_page(req, res); });
    server.Get("/run", [this](const httplib::Request& req, httplib::Response& res) { run_page(req, res); });
    server.Get("/graph.svg", [this](const httplib::Request& req, httplib::Response& res) { graph_svg(req, res); });
    server.Get("/nodes", [this](const httplib::Request&, httplib::Response& res) { nodes_page(res); });
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (res.status == 404 && res.body.empty()) {
        send_problem(res, 404, "Not found", "no page at " + req.path);
      }
    });
    server.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      send_problem(res, 500, "Internal error", what);
    });
    // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, with which a second page (a
    // second node) on the same port would bind too and share its connections.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
    });
    server.set_payload_max_length(64 * 1024);
    server.set_read_timeout(10, 0);
    server.set_write_timeout(10, 0);
  }
};

status_page::status_page(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

status_page::~status_page() { stop(); }

expected<std::unique_ptr<status_page>> status_page::start(std::shared_ptr<CheckpointStore> store,
                                                          status_page_options options) {
  if (!store) {
    return error::configuration("status_page: no checkpoint store to show");
  }
  if (options.page_size == 0) {
    return error::configuration("status_page: page_size must be at least 1");
  }
  options.page_size = std::min(options.page_size, max_page_size);
  auto p = std::make_unique<impl>();
  p->store = std::move(store);
  p->options = options;
  p->routes();
  int port = options.port == 0 ? p->server.bind_to_any_port(options.host)
                               : (p->server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port <= 0) {
    return error::configuration("status_page: cannot listen on " + options.host + ":" + std::to_string(options.port) +
                                " (in use, or not an address of this machine)");
  }
  p->port = static_cast<std::uint16_t>(port);
  auto* server = &p->server;
  p->listener = std::thread([server] { server->listen_after_bind(); });
  // stop() only stops a server that runs: wait until it does (it starts at once).
  for (int i = 0; i < 5000 && !p->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::unique_ptr<status_page>(new status_page(std::move(p)));
}

void status_page::add_graph(const std::string& definition, std::uint32_t version, std::string dot) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  impl_->graphs[{definition, version}] = impl::graph{std::move(dot), std::nullopt};
}

void status_page::set_nodes(node_lister nodes) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  impl_->nodes = std::move(nodes);
}

std::uint16_t status_page::port() const noexcept { return impl_->port; }

std::string status_page::url() const {
  const auto& host = impl_->options.host;
  return "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(impl_->port) + "/";
}

void status_page::stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->server.stop();
    if (impl_->listener.joinable()) {
      impl_->listener.join();
    }
  });
}

} // namespace cano
