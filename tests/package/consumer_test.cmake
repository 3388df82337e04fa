# Installs cano_actor into a fresh prefix, then configures, builds and runs a consumer project
# copied out of the source tree, which finds the library only through CMAKE_PREFIX_PATH; then
# builds the same consumer with the library added by add_subdirectory.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run_step)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

run_step(${CMAKE_COMMAND} --install ${CANO_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
file(COPY ${CANO_SOURCE_DIR}/tests/package/consumer/ DESTINATION ${WORK_DIR}/src)
run_step(${CMAKE_COMMAND} -S ${WORK_DIR}/src -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release
         -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run_step(${WORK_DIR}/build/consumer)
if(NOT step_output MATCHES "consumer finished in Done")
  message(FATAL_ERROR "consumer printed an unexpected result:\n${step_output}")
endif()
message(STATUS "consumer output: ${step_output}")

# The same consumer with the library pulled in by add_subdirectory (no apps, no tests).
file(COPY ${CANO_SOURCE_DIR}/tests/package/subdir_consumer/ DESTINATION ${WORK_DIR}/sub/subdir_consumer)
file(COPY ${CANO_SOURCE_DIR}/tests/package/consumer/ DESTINATION ${WORK_DIR}/sub/consumer)
run_step(${CMAKE_COMMAND} -S ${WORK_DIR}/sub/subdir_consumer -B ${WORK_DIR}/sub/build -DCMAKE_BUILD_TYPE=Release
         -DCANO_SOURCE_DIR=${CANO_SOURCE_DIR})
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/sub/build --target consumer -j2)
run_step(${WORK_DIR}/sub/build/consumer)
if(NOT step_output MATCHES "consumer finished in Done")
  message(FATAL_ERROR "the add_subdirectory consumer printed an unexpected result:\n${step_output}")
endif()
