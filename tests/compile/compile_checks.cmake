# Compile-time guarantees, each a CTest test that builds a target outside `all`:
#   public_headers_compile_alone          every installed header compiles alone in its own TU
#   register_task_without_run_does_not_compile   the static_assert of Workflow::register_task
#   register_task_with_run_compiles       its control: the same file with run overridden
# They build in this build tree, so they never run at the same time (RESOURCE_LOCK).

# -- every public header on its own ------------------------------------------------------------
set(cano_header_roots ${PROJECT_SOURCE_DIR}/libcano_actor/include)
set(cano_header_links cano_actor)
if(CANO_ACTOR_WITH_SQLITE)
  list(APPEND cano_header_roots ${PROJECT_SOURCE_DIR}/stores/sqlite/include)
  list(APPEND cano_header_links cano_actor_sqlite)
endif()
if(CANO_ACTOR_WITH_POSTGRES)
  list(APPEND cano_header_roots ${PROJECT_SOURCE_DIR}/stores/postgres/include)
  list(APPEND cano_header_links cano_actor_postgres)
endif()
foreach(component metrics status_page spdlog)
  string(TOUPPER ${component} upper)
  if(CANO_ACTOR_WITH_${upper})
    list(APPEND cano_header_roots ${PROJECT_SOURCE_DIR}/libcano_actor/${component}/include)
    list(APPEND cano_header_links cano_actor_${component})
  endif()
endforeach()
set(cano_header_tus "")
foreach(root IN LISTS cano_header_roots)
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS RELATIVE ${root} ${root}/cano/*.hpp)
  foreach(header IN LISTS headers)
    string(MAKE_C_IDENTIFIER "${header}" tu_name)
    set(tu ${CMAKE_CURRENT_BINARY_DIR}/header_check/${tu_name}.cpp)
    # Included twice: the second include checks the include guard.
    file(CONFIGURE OUTPUT ${tu} CONTENT "#include \"${header}\"\n#include \"${header}\"\n" @ONLY)
    list(APPEND cano_header_tus ${tu})
  endforeach()
endforeach()
add_library(cano_header_check OBJECT EXCLUDE_FROM_ALL ${cano_header_tus})
target_link_libraries(cano_header_check PRIVATE ${cano_header_links} cano_warnings)
add_test(NAME public_headers_compile_alone
  COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target cano_header_check)

# -- a class task without a body does not compile ----------------------------------------------
add_library(compile_fail_register_task OBJECT EXCLUDE_FROM_ALL
  ${CMAKE_CURRENT_LIST_DIR}/register_task_without_run.cpp)
target_link_libraries(compile_fail_register_task PRIVATE cano_actor)
add_test(NAME register_task_without_run_does_not_compile
  COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target compile_fail_register_task)
# Passes only when the build prints the assertion's text (so it must have failed on it).
set_tests_properties(register_task_without_run_does_not_compile PROPERTIES
  PASS_REGULAR_EXPRESSION "overrides neither run\\(task_context&\\) nor run_bare\\(\\); override one of them")

add_library(compile_check_register_task OBJECT EXCLUDE_FROM_ALL
  ${CMAKE_CURRENT_LIST_DIR}/register_task_without_run.cpp)
target_link_libraries(compile_check_register_task PRIVATE cano_actor cano_warnings)
target_compile_definitions(compile_check_register_task PRIVATE CANO_COMPILE_CHECK_CONTROL)
add_test(NAME register_task_with_run_compiles
  COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target compile_check_register_task)

set_tests_properties(public_headers_compile_alone register_task_without_run_does_not_compile
  register_task_with_run_compiles PROPERTIES RESOURCE_LOCK "cano_build_tree;compiler_load" TIMEOUT 600)
