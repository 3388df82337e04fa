# The installed package: `find_package(cano_actor [COMPONENTS sqlite postgres])` imports
# cano_actor::cano_actor and each requested store component. Each store installs its own export
# set (cano_actor_<component>Targets.cmake); the config loads those that were built.
include(CMakePackageConfigHelpers)
set(cano_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/cano_actor)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cano_actorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cano_actorConfig.cmake INSTALL_DESTINATION ${cano_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cano_actorConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/cano_actorConfig.cmake
  ${PROJECT_BINARY_DIR}/cano_actorConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/CanoActorDependencies.cmake
  DESTINATION ${cano_cmake_dir})
