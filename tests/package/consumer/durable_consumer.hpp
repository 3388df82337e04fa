// A durable run through an installed store component: while the second state's task runs, the
// store already holds the entry rows of both states (write-ahead); after the run, a new handle
// on the same database reads the run's header as completed.
#pragma once

#include <cstddef>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cano/cano.hpp>

namespace consumer {

enum class Step { Reserve, Ship, Done };
inline std::string to_string(Step s) { return s == Step::Reserve ? "Reserve" : s == Step::Ship ? "Ship" : "Done"; }

/// Runs Reserve -> Ship -> Done on `store`; `reopen` opens a second handle on the same database.
inline int run_durable(const std::string& label, std::shared_ptr<cano::CheckpointStore> store,
                       const std::function<std::shared_ptr<cano::CheckpointStore>()>& reopen,
                       const std::string& workflow_id) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto rows_before_ship = std::make_shared<std::size_t>(0);
  auto wf = cano::Workflow<Step>{}
              .with_name("package-consumer")
              .register_task(Step::Reserve, "reserve", [] { return Step::Ship; })
              .register_task(Step::Ship, "ship",
                             [store, rows_before_ship](cano::task_context& ctx) -> cano::expected<Step> {
                               auto rows = store->load_run(ctx.workflow_id());
                               if (!rows) {
                                 return rows.error();
                               }
                               *rows_before_ship = rows->size();
                               return Step::Done;
                             })
              .add_exit_state(Step::Done)
              .with_checkpoint_store(store);
  auto end = rt.run(wf, Step::Reserve, {workflow_id, {{"order", 7}}});
  if (!end) {
    std::cerr << label << " consumer failed: " << end.error() << "\n";
    return 1;
  }
  auto again = reopen();
  if (!again) {
    return 1;
  }
  auto header = again->run_header(workflow_id);
  if (!header || !header->has_value()) {
    std::cerr << label << " consumer: no run header for " << workflow_id << " in a new handle\n";
    return 1;
  }
  std::cout << label << " consumer: rows before ship " << *rows_before_ship << ", finished in " << to_string(*end)
            << ", header " << cano::to_string((*header)->status) << "\n";
  return *rows_before_ship == 2 && (*header)->status == cano::RunStatus::completed ? 0 : 1;
}

} // namespace consumer
