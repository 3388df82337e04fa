# Installs cano_actor into a fresh prefix, then configures, builds and runs a consumer project
# copied out of the source tree, which finds the library only through CMAKE_PREFIX_PATH: the core
# alone and a durable run through each store component in COMPONENTS. Then builds and runs the
# same consumer with the library added by add_subdirectory, and checks that a SQLite-only
# add_subdirectory configure never looks for libpqxx.
#
# The PostgreSQL consumer needs $CANO_PG_DSN. Without it the test prints "SKIPPED" (ctest reports
# a skip) — unless CANO_REQUIRE_PG=1 (scripts/test.sh), where a missing DSN is a failure.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run_step)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(run_postgres OFF)
set(skip_reason "")
if("postgres" IN_LIST COMPONENTS)
  if(NOT "$ENV{CANO_PG_DSN}" STREQUAL "")
    set(run_postgres ON)
  elseif("$ENV{CANO_REQUIRE_PG}" STREQUAL "1")
    message(FATAL_ERROR "CANO_REQUIRE_PG=1 but CANO_PG_DSN is not set: the PostgreSQL consumer cannot run")
  else()
    set(skip_reason "the PostgreSQL consumer was not run: CANO_PG_DSN is not set")
  endif()
endif()

# Comma-separated for the consumer projects' command lines (a ';' would split the argument).
string(REPLACE ";" "," components_arg "${COMPONENTS}")

# Runs the consumers built in `build_dir`; `how` names the way the library was found.
function(run_consumers build_dir how)
  run_step(${build_dir}/consumer)
  if(NOT step_output MATCHES "consumer finished in Done")
    message(FATAL_ERROR "${how} consumer printed an unexpected result:\n${step_output}")
  endif()
  message(STATUS "${how}: ${step_output}")
  if("sqlite" IN_LIST COMPONENTS)
    run_step(${build_dir}/sqlite_consumer ${WORK_DIR}/${how}-consumer.db)
    if(NOT step_output MATCHES "sqlite consumer: rows before ship 2, finished in Done, header completed")
      message(FATAL_ERROR "${how} SQLite consumer printed an unexpected result:\n${step_output}")
    endif()
    message(STATUS "${how}: ${step_output}")
  endif()
  if(run_postgres)
    run_step(${build_dir}/postgres_consumer)
    if(NOT step_output MATCHES "postgres consumer: rows before ship 2, finished in Done, header completed")
      message(FATAL_ERROR "${how} PostgreSQL consumer printed an unexpected result:\n${step_output}")
    endif()
    message(STATUS "${how}: ${step_output}")
  endif()
endfunction()

# -- installed package -------------------------------------------------------------------------
run_step(${CMAKE_COMMAND} --install ${CANO_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
foreach(header cano/cano.hpp cano/sqlite_checkpoint_store.hpp cano/postgres_checkpoint_store.hpp)
  if(header MATCHES "sqlite" AND NOT "sqlite" IN_LIST COMPONENTS)
    continue()
  elseif(header MATCHES "postgres" AND NOT "postgres" IN_LIST COMPONENTS)
    continue()
  endif()
  if(NOT EXISTS ${WORK_DIR}/prefix/include/${header})
    message(FATAL_ERROR "the install prefix has no ${header}")
  endif()
endforeach()
file(COPY ${CANO_SOURCE_DIR}/tests/package/consumer/ DESTINATION ${WORK_DIR}/src)
run_step(${CMAKE_COMMAND} -S ${WORK_DIR}/src -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release
         -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCANO_CONSUMER_COMPONENTS=${components_arg})
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
run_consumers(${WORK_DIR}/build installed)

# -- add_subdirectory (no apps, no tests, no install rules) -------------------------------------
file(COPY ${CANO_SOURCE_DIR}/tests/package/subdir_consumer/ DESTINATION ${WORK_DIR}/sub/subdir_consumer)
file(COPY ${CANO_SOURCE_DIR}/tests/package/consumer/ DESTINATION ${WORK_DIR}/sub/consumer)
run_step(${CMAKE_COMMAND} -S ${WORK_DIR}/sub/subdir_consumer -B ${WORK_DIR}/sub/build
         -DCMAKE_BUILD_TYPE=Release -DCANO_SOURCE_DIR=${CANO_SOURCE_DIR}
         -DCANO_CONSUMER_COMPONENTS=${components_arg})
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/sub/build -j2)
run_consumers(${WORK_DIR}/sub/build/consumer add_subdirectory)

# -- a SQLite-only consumer never needs libpqxx -------------------------------------------------
if("sqlite" IN_LIST COMPONENTS)
  run_step(${CMAKE_COMMAND} -S ${WORK_DIR}/sub/subdir_consumer -B ${WORK_DIR}/sub/sqlite-only
           -DCANO_SOURCE_DIR=${CANO_SOURCE_DIR} -DCANO_CONSUMER_COMPONENTS=sqlite)
  file(STRINGS ${WORK_DIR}/sub/sqlite-only/CMakeCache.txt pqxx_lines REGEX "PQXX")
  if(pqxx_lines)
    message(FATAL_ERROR "a SQLite-only add_subdirectory configure looked for libpqxx:\n${pqxx_lines}")
  endif()
endif()

if(NOT skip_reason STREQUAL "")
  message("package_consumer_test: SKIPPED: ${skip_reason}")
endif()
