# Installing clance like a distribution library: the CMake package
# (find_package(clance CONFIG) -> clance::clance, clance::clance_static and,
# when libclance_mpi is installed, clance::clance_mpi), clance.pc and
# clance_mpi.pc for pkg-config, the manual pages (generated from the CLI's own
# --help sources), the `docs` target (Doxygen API reference) and the tests of
# all that (labels man, consumer). Included last from the top CMakeLists.txt,
# when every target exists.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CLANCE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/clance)

# ---- CMake package ---------------------------------------------------------
install(EXPORT clance-targets NAMESPACE clance:: DESTINATION ${CLANCE_CMAKE_DIR}
  FILE clance-targets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/clanceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/clanceConfig.cmake
  INSTALL_DESTINATION ${CLANCE_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/clanceConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/clanceConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/clanceConfigVersion.cmake DESTINATION ${CLANCE_CMAKE_DIR})

# ---- pkg-config ------------------------------------------------------------
# Written at install time, with the prefix actually installed into
# (cmake --install --prefix), spaces escaped as pkg-config wants them.
set(CLANCE_PC_FILES clance)
if(TARGET clance_mpi_shared OR TARGET clance_mpi_static)
  list(APPEND CLANCE_PC_FILES clance_mpi)
endif()
foreach(pc ${CLANCE_PC_FILES})
  install(CODE "
    set(PROJECT_VERSION \"${PROJECT_VERSION}\")
    set(PC_LIBDIR_REL \"${CMAKE_INSTALL_LIBDIR}\")
    set(PC_INCLUDEDIR_REL \"${CMAKE_INSTALL_INCLUDEDIR}\")
    string(REPLACE \" \" \"\\\\ \" PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    foreach(v LIBDIR INCLUDEDIR)
      if(IS_ABSOLUTE \"\${PC_\${v}_REL}\")
        string(REPLACE \" \" \"\\\\ \" PC_\${v} \"\${PC_\${v}_REL}\")
      else()
        set(PC_\${v} \"\\\${prefix}/\${PC_\${v}_REL}\")
      endif()
    endforeach()
    configure_file(\"${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in\"
                   \"${PROJECT_BINARY_DIR}/cmake/install/${pc}.pc\" @ONLY)
    file(INSTALL \"${PROJECT_BINARY_DIR}/cmake/install/${pc}.pc\"
         DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\")")
endforeach()

# ---- manual pages ----------------------------------------------------------
# clance(1) comes from the command tables (clance --help-man); clance-mpi(1)
# from clance-mpi --help. Neither is written by hand, so neither can drift.
set(CLANCE_MAN_DIR ${PROJECT_BINARY_DIR}/man)
set(CLANCE_MAN_PAGES ${CLANCE_MAN_DIR}/clance.1)
add_custom_command(OUTPUT ${CLANCE_MAN_DIR}/clance.1
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CLANCE_MAN_DIR}
  COMMAND $<TARGET_FILE:clance_cli> --help-man > ${CLANCE_MAN_DIR}/clance.1
  DEPENDS clance_cli
  COMMENT "Generating clance.1 from the CLI's command tables")
if(TARGET clance_mpi_tool)
  add_custom_command(OUTPUT ${CLANCE_MAN_DIR}/clance-mpi.1
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CLANCE_MAN_DIR}
    COMMAND sh ${PROJECT_SOURCE_DIR}/cmake/help2man.sh $<TARGET_FILE:clance_mpi_tool> clance-mpi
            "write a Lance dataset, or add columns to one, from every rank of an MPI job in one transaction"
            ${PROJECT_VERSION} ${CLANCE_MAN_DIR}/clance-mpi.1
    DEPENDS clance_mpi_tool ${PROJECT_SOURCE_DIR}/cmake/help2man.sh
    COMMENT "Generating clance-mpi.1 from clance-mpi --help")
  list(APPEND CLANCE_MAN_PAGES ${CLANCE_MAN_DIR}/clance-mpi.1)
endif()
add_custom_target(man ALL DEPENDS ${CLANCE_MAN_PAGES})
install(FILES ${CLANCE_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# ---- API reference ---------------------------------------------------------
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/docs/Doxyfile @ONLY)
  add_custom_target(docs
    COMMAND ${DOXYGEN_EXECUTABLE} ${PROJECT_BINARY_DIR}/docs/Doxyfile
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_SOURCE_DIR}/include/clance/clance.h
    COMMENT "API reference (Doxygen) in ${PROJECT_BINARY_DIR}/docs/api"
    VERBATIM)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "doxygen not found: install it (scripts/setup.sh) for the docs target"
    COMMAND ${CMAKE_COMMAND} -E false)
endif()

# ---- tests -----------------------------------------------------------------
if(CLANCE_BUILD_TESTS)
  add_test(NAME man.clance
    COMMAND sh ${PROJECT_SOURCE_DIR}/tests/man/check_man.sh $<TARGET_FILE:clance_cli>
            ${CLANCE_MAN_DIR}/clance.1)
  set_tests_properties(man.clance PROPERTIES LABELS man TIMEOUT 60)
  if(TARGET clance_mpi_tool)
    add_test(NAME man.clance-mpi
      COMMAND sh ${PROJECT_SOURCE_DIR}/tests/man/check_man_mpi.sh $<TARGET_FILE:clance_mpi_tool>
              ${CLANCE_MAN_DIR}/clance-mpi.1)
    set_tests_properties(man.clance-mpi PROPERTIES LABELS man TIMEOUT 60)
  endif()
  # Installs this build into a temporary prefix (with a space in its path)
  # and builds a separate project against it with pkg-config and with
  # find_package, shared and static, C and C++. Not for sanitizer builds,
  # whose libraries only load into sanitized programs.
  if(NOT CLANCE_SANITIZE AND NOT CLANCE_LIBFUZZER)
  add_test(NAME consumer.installed
    COMMAND bash ${PROJECT_SOURCE_DIR}/tests/consumer/run.sh --build-dir ${PROJECT_BINARY_DIR})
  set_tests_properties(consumer.installed PROPERTIES LABELS consumer TIMEOUT 300
    RUN_SERIAL OFF)
  endif()
endif()
