# Fixture for packaging.find_package: install the mcpsse build tree BUILD_DIR
# into a fresh PREFIX and check the package files landed where consumers
# look.  Also wipes CLEAN (the consumer's build dir) so every run is clean.
# TLS tells whether the build has mcpsse::tls: its export file must then be
# installed, and otherwise must not be.  JWT does the same for mcpsse::jwt.
#
#   cmake -DBUILD_DIR=... -DPREFIX=... [-DCONFIG=...] [-DCLEAN=...] [-DTLS=ON|OFF]
#         [-DJWT=ON|OFF]
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
# Component export files: present exactly when the build has the component.
set(_tls_targets share/cmake/mcpsse/mcpsseTlsTargets.cmake)
set(_jwt_targets share/cmake/mcpsse/mcpsseJwtTargets.cmake)
foreach(_component IN ITEMS tls jwt)
  string(TOUPPER "${_component}" _flag)
  set(_file "${_${_component}_targets}")
  if(${_flag})
    if(NOT EXISTS "${PREFIX}/${_file}")
      list(APPEND _missing "${_file}")
    endif()
  elseif(EXISTS "${PREFIX}/${_file}")
    message(FATAL_ERROR "build without mcpsse::${_component} installed ${_file}")
  endif()
endforeach()
if(_missing)
  message(FATAL_ERROR "installed tree under ${PREFIX} lacks: ${_missing}")
endif()

# The core targets must not mention OpenSSL: only the tls component links it.
file(READ "${PREFIX}/share/cmake/mcpsse/mcpsseTargets.cmake" _core_targets)
if(_core_targets MATCHES "OpenSSL")
  message(FATAL_ERROR "mcpsseTargets.cmake refers to OpenSSL; only the component targets may")
endif()
if(TLS)
  file(READ "${PREFIX}/${_tls_targets}" _tls_text)
  if(NOT _tls_text MATCHES "OpenSSL::SSL" OR NOT _tls_text MATCHES "mcpsse::mcpsse")
    message(FATAL_ERROR "${_tls_targets} does not link mcpsse::mcpsse and OpenSSL::SSL")
  endif()
endif()
# mcpsse::jwt needs libcrypto only, never libssl.
if(JWT)
  file(READ "${PREFIX}/${_jwt_targets}" _jwt_text)
  if(NOT _jwt_text MATCHES "OpenSSL::Crypto" OR NOT _jwt_text MATCHES "mcpsse::mcpsse"
     OR _jwt_text MATCHES "OpenSSL::SSL")
    message(FATAL_ERROR "${_jwt_targets} must link mcpsse::mcpsse and OpenSSL::Crypto (not OpenSSL::SSL)")
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
