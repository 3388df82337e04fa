// status_page — a small read-only web page of a checkpoint store's runs, for people operating
// cano-actor: runs by status with filters, one run's header, history and failure, its workflow's
// graph (SVG made on the server by Graphviz's `dot`), and a cluster's nodes and leases.
//
//   auto page = cano::status_page::start(store, {"127.0.0.1", 8080}).value();
//   page->add_workflow(order_workflow);                    // its graph on its runs' pages
//   page->set_nodes([opts] { return cano::node::members(opts); });   // a cluster's nodes
//   // open http://127.0.0.1:8080/
//
// It only reads (CheckpointStore::list_runs, run_header, run_log): every request other than GET
// or HEAD is refused (405). Every text that comes from runs or users is HTML-escaped, and pages
// forbid scripts (Content-Security-Policy), so a hostile workflow id shows as text. It listens on
// 127.0.0.1 unless told otherwise. Requests are served by a few threads of its own; stop() (or
// destruction) waits for them.
//
// Pages: /  (runs: ?status=…&definition=…&limit=…&cursor=…; without a status filter it opens
// with the live nodes and the runs in flight — running or compensating — above the newest runs),
// /run?id=<workflow id>, /graph.svg?definition=<name>&version=<n>, /nodes.
//
// Component cano_actor::status_page (CMake option CANO_ACTOR_WITH_STATUS_PAGE), cpp-httplib;
// graphs need Graphviz (`dot` on PATH) at run time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cano/checkpoint.hpp"
#include "cano/cluster_node.hpp"
#include "cano/error.hpp"
#include "cano/workflow.hpp"

namespace cano {

struct status_page_options {
  /// The address to listen on: loopback unless you mean to expose the page.
  std::string host = "127.0.0.1";
  /// 0: any free port (port() tells which).
  std::uint16_t port = 0;
  /// The name in the pages' titles and heading.
  std::string title = "cano-actor";
  /// Runs per page when the request does not say (at most 500).
  std::size_t page_size = 50;
};

class status_page {
public:
  using node_lister = std::function<expected<std::vector<cluster_node>>()>;

  /// Starts serving `store`. Errors: configuration — a null store, a page size of 0, or the
  /// address cannot be listened on (naming it).
  static expected<std::unique_ptr<status_page>> start(std::shared_ptr<CheckpointStore> store,
                                                      status_page_options options = {});
  ~status_page(); // stop()
  status_page(const status_page&) = delete;
  status_page& operator=(const status_page&) = delete;

  /// Shows `wf`'s graph on the pages of its runs (matched by definition name and version).
  template <class S>
  void add_workflow(const Workflow<S>& wf) {
    add_graph(wf.name(), wf.workflow_version(), wf.to_dot());
  }
  /// The same from a DOT text (Workflow::to_dot); replaces an earlier graph of that definition.
  void add_graph(const std::string& definition, std::uint32_t version, std::string dot);
  /// Where the Nodes page reads a cluster's nodes; without one it says there is no cluster.
  void set_nodes(node_lister nodes);

  std::uint16_t port() const noexcept;
  /// "http://host:port/".
  std::string url() const;
  /// Stops listening and waits for requests being served. Idempotent.
  void stop();

  struct impl;

private:
  explicit status_page(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace cano
