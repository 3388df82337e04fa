// A workflow definition as a graph (issue 15): one node per state (registered, exit, join target
// or declared target), in the order of the states' codes; an edge per declared transition; a
// split's edge to its join state labelled with its join strategy; a dashed edge "decided at run
// time" from every task state that declares nothing. Compensatable states and exit states are
// marked. Two renderings of one model: Graphviz DOT and a Mermaid flowchart.
#include "cano/detail/workflow_graph.hpp"

#include <map>
#include <set>
#include <sstream>

#include "format.hpp"

namespace cano::detail {

namespace {

struct graph_node {
  enum class kind { task, router, split, stepped, compensatable, exit, unregistered };
  kind type = kind::unregistered;
  std::string label;
  std::vector<std::string> lines; // under the label: what the state runs
};

struct graph_edge {
  enum class kind { declared, join, run_time };
  std::size_t from = 0;
  std::size_t to = 0; // for run_time: the index of the state itself (its own "?" node)
  kind type = kind::declared;
  std::string text;
};

struct graph {
  std::string name;
  std::vector<graph_node> nodes;
  std::vector<graph_edge> edges;
};

std::string join_text(const split_info& join, std::size_t branches) {
  std::string out = "join " + join.strategy.to_string() + " of " + std::to_string(branches);
  if (join.timeout) {
    out += ", timeout " + debug_duration(*join.timeout);
  }
  if (join.bulkhead) {
    out += ", bulkhead " + std::to_string(*join.bulkhead);
  }
  return out;
}

graph model_of(const definition& def) {
  graph g;
  g.name = def.name.empty() ? "workflow" : def.name;
  // Every state the drawing mentions, ordered by code: the output does not depend on hashing.
  std::set<state_code> codes;
  for (const auto& kv : def.states) {
    codes.insert(kv.first);
    if (kv.second->type == state_entry::kind::split) {
      codes.insert(kv.second->join.join_state);
    }
  }
  for (auto code : def.exit_states) {
    codes.insert(code);
  }
  for (const auto& kv : def.transitions) {
    if (def.states.count(kv.first) != 0) {
      codes.insert(kv.second.begin(), kv.second.end());
    }
  }
  std::map<state_code, std::size_t> index;
  for (auto code : codes) {
    index[code] = g.nodes.size();
    graph_node n;
    n.label = def.label_of(code);
    auto entry = def.states.find(code);
    if (def.exit_set.count(code) != 0) {
      n.type = graph_node::kind::exit; // drawn as a double circle, the usual mark of a final state
    } else if (entry == def.states.end()) {
      n.type = graph_node::kind::unregistered;
      n.lines.push_back("no task registered");
    } else {
      const auto& e = *entry->second;
      switch (e.type) {
        case state_entry::kind::single:
          n.type = graph_node::kind::task;
          n.lines.push_back("task " + e.work.task_name);
          break;
        case state_entry::kind::router:
          n.type = graph_node::kind::router;
          n.lines.push_back("router " + e.work.task_name);
          break;
        case state_entry::kind::stepped:
          n.type = graph_node::kind::stepped;
          n.lines.push_back("stepped " + e.work.task_name);
          break;
        case state_entry::kind::compensatable:
          n.type = graph_node::kind::compensatable;
          n.lines.push_back("task " + e.work.task_name);
          n.lines.push_back("compensatable");
          break;
        case state_entry::kind::split: {
          n.type = graph_node::kind::split;
          n.lines.push_back("split into " + std::to_string(e.branches.size()) + ":");
          for (const auto& b : e.branches) {
            n.lines.push_back(b.task_name);
          }
          break;
        }
      }
    }
    g.nodes.push_back(std::move(n));
  }
  for (auto code : codes) {
    auto entry = def.states.find(code);
    if (entry == def.states.end() || def.exit_set.count(code) != 0) {
      continue; // an exit state ends the run; an unregistered state goes nowhere
    }
    auto from = index[code];
    const auto& e = *entry->second;
    if (e.type == state_entry::kind::split) {
      g.edges.push_back({from, index[e.join.join_state], graph_edge::kind::join, join_text(e.join, e.branches.size())});
      continue;
    }
    auto declared = def.transitions.find(code);
    if (declared == def.transitions.end() || declared->second.empty()) {
      g.edges.push_back({from, from, graph_edge::kind::run_time, "decided at run time"});
      continue;
    }
    std::set<state_code> seen;
    for (auto to : declared->second) {
      if (seen.insert(to).second) {
        g.edges.push_back({from, index[to], graph_edge::kind::declared, ""});
      }
    }
  }
  return g;
}

/// A DOT quoted string: quotes and backslashes escaped, newlines as \n.
std::string dot_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': break;
      default: out.push_back(c);
    }
  }
  return out + "\"";
}

/// Mermaid label text, quoted: characters Mermaid would read as syntax become entities.
std::string mermaid_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "#quot;"; break;
      case '<': out += "#lt;"; break;
      case '>': out += "#gt;"; break;
      case '#': out += "#35;"; break;
      case '\n': out += "<br/>"; break;
      case '\r': break;
      default: out.push_back(c);
    }
  }
  return out + "\"";
}

std::string node_text(const graph_node& n) {
  std::string out = n.label;
  for (const auto& l : n.lines) {
    out += "\n" + l;
  }
  return out;
}

} // namespace

std::string definition_to_dot(const definition& def) {
  auto g = model_of(def);
  std::ostringstream out;
  out << "digraph " << dot_quote(g.name) << " {\n"
      << "  rankdir=TB;\n"
      << "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    out << "  n" << i << " [label=" << dot_quote(node_text(n));
    switch (n.type) {
      case graph_node::kind::router: out << ", shape=diamond, style=solid"; break;
      case graph_node::kind::split: out << ", shape=box3d, style=solid"; break;
      case graph_node::kind::compensatable:
        out << ", style=\"rounded,filled\", fillcolor=\"#fde2c4\", peripheries=2";
        break;
      case graph_node::kind::exit: out << ", shape=doublecircle, style=solid"; break;
      case graph_node::kind::unregistered: out << ", style=\"rounded,dashed\""; break;
      case graph_node::kind::stepped: out << ", style=\"rounded,bold\""; break;
      case graph_node::kind::task: break;
    }
    out << "];\n";
  }
  for (const auto& e : g.edges) {
    switch (e.type) {
      case graph_edge::kind::declared: out << "  n" << e.from << " -> n" << e.to << ";\n"; break;
      case graph_edge::kind::join:
        out << "  n" << e.from << " -> n" << e.to << " [label=" << dot_quote(e.text) << ", style=bold];\n";
        break;
      case graph_edge::kind::run_time:
        out << "  r" << e.from << " [label=\"?\", shape=circle, style=dashed, color=gray50, fontcolor=gray50];\n"
            << "  n" << e.from << " -> r" << e.from << " [label=" << dot_quote(e.text)
            << ", style=dashed, color=gray50, fontcolor=gray50];\n";
        break;
    }
  }
  out << "}\n";
  return out.str();
}

std::string definition_to_mermaid(const definition& def) {
  auto g = model_of(def);
  std::ostringstream out;
  out << "---\ntitle: " << mermaid_quote(g.name) << "\n---\nflowchart TD\n";
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    auto text = mermaid_quote(node_text(n));
    out << "  n" << i;
    switch (n.type) {
      case graph_node::kind::router: out << "{" << text << "}"; break;
      case graph_node::kind::split: out << "[[" << text << "]]"; break;
      case graph_node::kind::exit: out << "((" << text << "))"; break;
      case graph_node::kind::compensatable: out << "[" << text << "]:::compensatable"; break;
      case graph_node::kind::unregistered: out << "[" << text << "]:::unregistered"; break;
      case graph_node::kind::task:
      case graph_node::kind::stepped: out << "(" << text << ")"; break;
    }
    out << "\n";
  }
  for (const auto& e : g.edges) {
    switch (e.type) {
      case graph_edge::kind::declared: out << "  n" << e.from << " --> n" << e.to << "\n"; break;
      case graph_edge::kind::join:
        out << "  n" << e.from << " ==>|" << mermaid_quote(e.text) << "| n" << e.to << "\n";
        break;
      case graph_edge::kind::run_time:
        out << "  n" << e.from << " -.->|" << mermaid_quote(e.text) << "| r" << e.from << "((\"?\")):::runtime\n";
        break;
    }
  }
  out << "  classDef compensatable fill:#fde2c4,stroke:#b5651d,stroke-width:2px\n"
      << "  classDef unregistered stroke-dasharray:4 3\n"
      << "  classDef runtime fill:#ffffff,stroke:#808080,stroke-dasharray:4 3,color:#808080\n";
  return out.str();
}

} // namespace cano::detail
