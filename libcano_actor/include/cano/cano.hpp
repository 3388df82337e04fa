// cano.hpp — the whole core API in one include: workflows, tasks of every processing model,
// sagas, joins, retries, circuit breakers, resources, observers, checkpoints, the runtime and the
// scheduler.
//
//   #include <cano/cano.hpp>
//
//   enum class Step { Hello, Done };
//   auto wf = cano::Workflow<Step>{}
//                 .register_task(Step::Hello, "hello", [] { return Step::Done; })
//                 .add_exit_state(Step::Done);
//   cano::runtime rt{sys};                     // sys: the application's caf::actor_system
//   cano::expected<Step> end = rt.run(wf, Step::Hello);
//
// The durable stores are separate components with their own headers and targets:
// <cano/sqlite_checkpoint_store.hpp> (cano_actor::sqlite) and
// <cano/postgres_checkpoint_store.hpp> (cano_actor::postgres).
#pragma once

#include "cano/actor_api.hpp"
#include "cano/batch_task.hpp"
#include "cano/cancellation.hpp"
#include "cano/checkpoint.hpp"
#include "cano/circuit.hpp"
#include "cano/cron.hpp"
#include "cano/error.hpp"
#include "cano/join.hpp"
#include "cano/log_sink.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/memory_store.hpp"
#include "cano/metrics_sink.hpp"
#include "cano/observer.hpp"
#include "cano/poll_task.hpp"
#include "cano/recording_observer.hpp"
#include "cano/resources.hpp"
#include "cano/retry.hpp"
#include "cano/runtime.hpp"
#include "cano/saga.hpp"
#include "cano/scheduler.hpp"
#include "cano/state.hpp"
#include "cano/stepped_task.hpp"
#include "cano/task.hpp"
#include "cano/task_context.hpp"
#include "cano/workflow.hpp"
