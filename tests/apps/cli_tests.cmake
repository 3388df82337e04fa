# For each binary in apps/: --help prints usage and the exit codes and runs nothing (exit 0),
# --version prints the version (exit 0), a bad argument fails with a message naming it (exit 2).
function(cano_cli_test name target args expect_rc expect)
  cmake_parse_arguments(PARSE_ARGV 5 arg "" "FORBID" "")
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND}
    -DPROGRAM=$<TARGET_FILE:${target}> "-DARGS=${args}" -DEXPECT_RC=${expect_rc}
    "-DEXPECT=${expect}" "-DFORBID=${arg_FORBID}"
    -P ${CMAKE_CURRENT_LIST_DIR}/check_cli.cmake)
  set_tests_properties(${name} PROPERTIES TIMEOUT 120)
endfunction()

if(TARGET cano-demo)
  # "checkpoints in" is the demo's first line of work: --help must stop before it.
  cano_cli_test(cano_demo_help_prints_usage_and_runs_nothing cano-demo "--help" 0
    "Usage:.*Exit codes:.*0  every order ended as expected.*2  bad arguments" FORBID "checkpoints in|order-100")
  cano_cli_test(cano_demo_version_prints_the_version cano-demo "--version" 0 "^cano-demo ${PROJECT_VERSION}$")
  cano_cli_test(cano_demo_rejects_an_unknown_option cano-demo "--bogus" 2
    "--bogus.*Run with --help" FORBID "checkpoints in")
  cano_cli_test(cano_demo_worker_rejects_a_bad_mode cano-demo "worker;/nonexistent/x.db;order-1;sideways" 2
    "mode: .*sideways|sideways.*not in" FORBID "RESULT")
  # The whole demo (about 2 s): its orders end as expected, then its scheduled flows (issue 17's
  # demo part): globex backs off, trips, and runs again after reset_flow; both end Completed.
  cano_cli_test(cano_demo_runs_its_orders_and_scheduled_flows cano-demo "" 0
    "globex +runs=3 Tripped \\(streak 3\\).*reset_flow\\(\"globex\"\\).*final  acme +runs=[0-9]+ Completed.*final  globex +runs=[0-9]+ Completed.*every order ended as expected")
endif()
if(TARGET cano-bench)
  cano_cli_test(cano_bench_help_prints_usage_and_runs_nothing cano-bench "--help" 0
    "Usage:.*--workload.*Exit codes:.*2  bad arguments" FORBID "ns_per_transition|runs_per_sec")
  cano_cli_test(cano_bench_version_prints_the_version cano-bench "--version" 0 "^cano-bench ${PROJECT_VERSION}$")
  cano_cli_test(cano_bench_rejects_a_negative_duration cano-bench "--seconds=-1" 2
    "--seconds.*Run with --help" FORBID "ns_per_transition")
  cano_cli_test(cano_bench_rejects_an_unknown_workload cano-bench "--workload;nosuch" 2
    "unknown workload \"nosuch\"" FORBID "ns_per_transition")
endif()
