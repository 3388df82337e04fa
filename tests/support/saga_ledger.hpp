// Reading the side-effect ledger that tests/e2e/saga_worker.cpp writes ("<FWD|UNDO> <run> <step>
// <pid>" per effect) and checking ARCHITECTURE D7's promises against it, across SIGKILLs.
#pragma once

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace test {

struct ledger_entry {
  std::string kind; // FWD or UNDO
  std::string run;
  std::string step;
  std::string pid;
};

inline std::vector<ledger_entry> read_ledger(const std::string& path) {
  std::vector<ledger_entry> out;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) {
    std::istringstream fields(l);
    ledger_entry e;
    if (fields >> e.kind >> e.run >> e.step >> e.pid) {
      out.push_back(std::move(e));
    }
  }
  return out;
}

/// Violations of D7 in a ledger, by kind, with one example each.
struct ledger_verdict {
  std::map<std::string, int> violations;
  std::map<std::string, std::string> examples;
  int undos = 0;
  void add(const std::string& kind, const std::string& example) {
    if (violations[kind]++ == 0) {
      examples[kind] = example;
    }
  }
  int total() const {
    int n = 0;
    for (const auto& kv : violations) {
      n += kv.second;
    }
    return n;
  }
};

/// Checks every run of the ledger: no forward step after its first undo ("forward after
/// rollback"); each undo of a step done once, unless the earlier one was the last effect of its
/// run in a process that was then killed ("undo repeated": D7 counts recorded undos; an undo cut
/// short by the crash itself runs again); the steps in `undo_expected(run)` undone at least once
/// ("undo missing"), and no other step undone ("undo unexpected").
template <class Expected>
ledger_verdict check_ledger(const std::vector<ledger_entry>& entries, Expected undo_expected) {
  ledger_verdict v;
  std::map<std::string, std::vector<std::size_t>> by_run;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    by_run[entries[i].run].push_back(i);
  }
  for (const auto& [run, idx] : by_run) {
    bool undoing = false;
    std::map<std::string, std::vector<std::size_t>> undos; // step → positions in idx
    for (std::size_t k = 0; k < idx.size(); ++k) {
      const auto& e = entries[idx[k]];
      if (e.kind == "UNDO") {
        undoing = true;
        undos[e.step].push_back(k);
        ++v.undos;
      } else if (undoing) {
        v.add("forward after rollback", run + ": " + e.step + " by pid " + e.pid);
      }
    }
    auto expected = undo_expected(run);
    for (const auto& step : expected) {
      if (undos[step].empty()) {
        v.add("undo missing", run + ": " + step);
      }
    }
    for (const auto& [step, at] : undos) {
      if (std::find(expected.begin(), expected.end(), step) == expected.end()) {
        v.add("undo unexpected", run + ": " + step);
      }
      for (std::size_t n = 0; n + 1 < at.size(); ++n) {
        // The earlier undo must have been its process's last effect on this run.
        const auto& pid = entries[idx[at[n]]].pid;
        bool last_of_its_process = true;
        for (std::size_t k = at[n] + 1; k < idx.size(); ++k) {
          if (entries[idx[k]].pid == pid) {
            last_of_its_process = false;
          }
        }
        if (!last_of_its_process) {
          v.add("undo repeated", run + ": " + step + " by pid " + pid);
        }
      }
    }
  }
  return v;
}

} // namespace test
