# Fixture for packaging.find_package: install the mcpsse build tree BUILD_DIR
# into a fresh PREFIX and check the package files landed where consumers
# look.  Also wipes CLEAN (the consumer's build dir) so every run is clean.
#
#   cmake -DBUILD_DIR=... -DPREFIX=... [-DCONFIG=...] [-DCLEAN=...] -P install_tree.cmake

cmake_minimum_required(VERSION 3.21)

foreach(_var BUILD_DIR PREFIX)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "install_tree.cmake: ${_var} is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
if(DEFINED CLEAN AND NOT CLEAN STREQUAL "")
  file(REMOVE_RECURSE "${CLEAN}")
endif()

set(_config_args "")
if(DEFINED CONFIG AND NOT CONFIG STREQUAL "")
  set(_config_args --config "${CONFIG}")
endif()

execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
          --component mcpsse ${_config_args}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} failed (${_rc})")
endif()

set(_expected
  share/cmake/mcpsse/mcpsseConfig.cmake
  share/cmake/mcpsse/mcpsseConfigVersion.cmake
  share/cmake/mcpsse/mcpsseTargets.cmake
  share/cmake/mcpsse/Findasio.cmake
  share/doc/mcpsse/LICENSE)
set(_missing "")
foreach(_file IN LISTS _expected)
  if(NOT EXISTS "${PREFIX}/${_file}")
    list(APPEND _missing "${_file}")
  endif()
endforeach()
if(_missing)
  message(FATAL_ERROR "installed tree under ${PREFIX} lacks: ${_missing}")
endif()

# Header-only and architecture independent: nothing may land in lib/ or bin/.
file(GLOB _arch_dirs LIST_DIRECTORIES true "${PREFIX}/lib*" "${PREFIX}/bin")
if(_arch_dirs)
  message(FATAL_ERROR "header-only install put files in: ${_arch_dirs}")
endif()

file(GLOB_RECURSE _headers RELATIVE "${PREFIX}" "${PREFIX}/include/*.hpp")
list(LENGTH _headers _count)
message(STATUS "installed mcpsse into ${PREFIX} (${_count} headers)")
