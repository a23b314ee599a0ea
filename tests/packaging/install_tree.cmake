# Fixture for packaging.find_package: install the mcpsse build tree BUILD_DIR
# into a fresh PREFIX and check the package files landed where consumers
# look.  Also wipes CLEAN (the consumer's build dir) so every run is clean.
# TLS tells whether the build has mcpsse::tls: its export file must then be
# installed, and otherwise must not be.
#
#   cmake -DBUILD_DIR=... -DPREFIX=... [-DCONFIG=...] [-DCLEAN=...] [-DTLS=ON|OFF]
#         -P install_tree.cmake

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
set(_tls_targets share/cmake/mcpsse/mcpsseTlsTargets.cmake)
if(TLS)
  if(NOT EXISTS "${PREFIX}/${_tls_targets}")
    list(APPEND _missing "${_tls_targets}")
  endif()
elseif(EXISTS "${PREFIX}/${_tls_targets}")
  message(FATAL_ERROR "build without mcpsse::tls installed ${_tls_targets}")
endif()
if(_missing)
  message(FATAL_ERROR "installed tree under ${PREFIX} lacks: ${_missing}")
endif()

# The core targets must not mention OpenSSL: only the tls component links it.
file(READ "${PREFIX}/share/cmake/mcpsse/mcpsseTargets.cmake" _core_targets)
if(_core_targets MATCHES "OpenSSL")
  message(FATAL_ERROR "mcpsseTargets.cmake refers to OpenSSL; only mcpsseTlsTargets.cmake may")
endif()
if(TLS)
  file(READ "${PREFIX}/${_tls_targets}" _tls_text)
  if(NOT _tls_text MATCHES "OpenSSL::SSL" OR NOT _tls_text MATCHES "mcpsse::mcpsse")
    message(FATAL_ERROR "${_tls_targets} does not link mcpsse::mcpsse and OpenSSL::SSL")
  endif()
endif()

# Header-only and architecture independent: nothing may land in lib/ or bin/.
file(GLOB _arch_dirs LIST_DIRECTORIES true "${PREFIX}/lib*" "${PREFIX}/bin")
if(_arch_dirs)
  message(FATAL_ERROR "header-only install put files in: ${_arch_dirs}")
endif()

file(GLOB_RECURSE _headers RELATIVE "${PREFIX}" "${PREFIX}/include/*.hpp")
list(LENGTH _headers _count)
message(STATUS "installed mcpsse into ${PREFIX} (${_count} headers)")
