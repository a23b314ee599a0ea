# Build helpers for mcpsse's own targets (tests, examples, benchmarks, fuzzers).
# Nothing here is installed or leaks into the mcpsse::mcpsse interface.
#
#   mcpsse_set_warnings(<target>)
#       -Wall -Wextra -Wpedantic on <target>, plus -Werror when MCPSSE_WERROR
#       is ON (MSVC: /W4 /permissive- and /WX).  Call it for every target you
#       add under examples/, benchmarks/ or tests/.
#       GCC: -Wno-mismatched-new-delete.  GCC (seen with 12) reports every
#       asio::awaitable coroutine frame as freed by a "mismatched" operator
#       delete: the frame is allocated and released by Asio's class-specific
#       operator new/delete pair, which the warning does not model.  The
#       report points into mcpsse's coroutines, so system-header suppression
#       does not hide it.
#
#   mcpsse_apply_project_defaults()
#       Directory-scoped settings for everything the calling directory (and
#       its subdirectories) builds: ASIO_NO_DEPRECATED, so mcpsse never relies
#       on Asio APIs that newer Asio releases removed, and the sanitizer flags
#       from MCPSSE_SANITIZE.  The top-level CMakeLists.txt calls it once,
#       after defining the mcpsse library and before adding examples/, tests/
#       and benchmarks/, so those targets get it without opting in.

include_guard(GLOBAL)

function(mcpsse_set_warnings target)
  if(MSVC)
    set(_flags /W4 /permissive-)
    if(MCPSSE_WERROR)
      list(APPEND _flags /WX)
    endif()
  else()
    set(_flags -Wall -Wextra -Wpedantic)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      list(APPEND _flags -Wno-mismatched-new-delete)
    endif()
    if(MCPSSE_WERROR)
      list(APPEND _flags -Werror)
    endif()
  endif()
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    message(FATAL_ERROR "mcpsse_set_warnings: ${target} is an INTERFACE library; "
                        "warnings belong on targets that compile sources")
  endif()
  target_compile_options(${target} PRIVATE ${_flags})
endfunction()

# Flags for MCPSSE_SANITIZE (a -fsanitize= list such as "address,undefined").
# Returned through <out_var> so the fuzz setup can reuse the same logic.
function(mcpsse_sanitizer_flags out_var sanitizers)
  set(_flags "")
  if(sanitizers)
    if(MSVC)
      message(FATAL_ERROR "MCPSSE_SANITIZE is only supported with GCC or Clang")
    endif()
    list(APPEND _flags "-fsanitize=${sanitizers}" -fno-omit-frame-pointer)
    if(sanitizers MATCHES "undefined")
      # Make every UBSan finding fatal even without UBSAN_OPTIONS.
      list(APPEND _flags -fno-sanitize-recover=undefined)
    endif()
  endif()
  set(${out_var} "${_flags}" PARENT_SCOPE)
endfunction()

macro(mcpsse_apply_project_defaults)
  add_compile_definitions(ASIO_NO_DEPRECATED)
  if(MCPSSE_SANITIZE)
    mcpsse_sanitizer_flags(_mcpsse_san_flags "${MCPSSE_SANITIZE}")
    add_compile_options(${_mcpsse_san_flags})
    add_link_options(${_mcpsse_san_flags})
    unset(_mcpsse_san_flags)
  endif()
endmacro()

# mcpsse_openssl_component(<name> <option> <min-version> <openssl-target>)
#     An optional component target mcpsse_<name> (alias mcpsse::<name>, EXPORT_NAME
#     <name>) = mcpsse + OpenSSL::<openssl-target>, governed by the cache variable
#     <option> (AUTO, ON or OFF):
#       AUTO  built when OpenSSL >= <min-version> is found, a status message otherwise
#       ON    built; configuring fails when OpenSSL >= <min-version> is missing
#       OFF   not built, OpenSSL is not looked for
#     Sets MCPSSE_HAS_<NAME> (ON/OFF) in the caller's scope.  Used for tls (OpenSSL::SSL)
#     and jwt (OpenSSL::Crypto); only these targets ever link OpenSSL.
function(mcpsse_openssl_component name option min_version openssl_target)
  string(TOUPPER "${name}" _upper)
  string(TOUPPER "${${option}}" _mode)
  set(MCPSSE_HAS_${_upper} OFF PARENT_SCOPE)
  if(NOT _mode STREQUAL "AUTO" AND NOT ${option})
    return()  # OFF: OpenSSL is not looked for.
  endif()
  if(_mode STREQUAL "AUTO")
    find_package(OpenSSL ${min_version} QUIET)
    if(NOT OPENSSL_FOUND)
      message(STATUS "mcpsse: OpenSSL >= ${min_version} not found; mcpsse::${name} is not built "
                     "(install libssl-dev, or set OPENSSL_ROOT_DIR; ${option}=OFF silences this)")
      return()
    endif()
  else()
    find_package(OpenSSL ${min_version})
    if(NOT OPENSSL_FOUND)
      message(FATAL_ERROR "${option}=${${option}} needs OpenSSL >= ${min_version} (Debian: libssl-dev; "
                          "or set OPENSSL_ROOT_DIR), or configure with -D${option}=OFF")
    endif()
  endif()
  add_library(mcpsse_${name} INTERFACE)
  add_library(mcpsse::${name} ALIAS mcpsse_${name})
  set_target_properties(mcpsse_${name} PROPERTIES EXPORT_NAME ${name})
  target_link_libraries(mcpsse_${name} INTERFACE mcpsse OpenSSL::${openssl_target})
  set(MCPSSE_HAS_${_upper} ON PARENT_SCOPE)
  message(STATUS "mcpsse: mcpsse::${name} with OpenSSL ${OPENSSL_VERSION}")
endfunction()

# mcpsse_redis_component()
#     The optional component target mcpsse_redis (alias mcpsse::redis, EXPORT_NAME redis)
#     = mcpsse + hiredis::hiredis (cmake/Findhiredis.cmake), governed by MCPSSE_REDIS
#     (AUTO, ON or OFF, as for mcpsse_openssl_component). Sets MCPSSE_HAS_REDIS.
#     Only this target links hiredis; mcpsse::mcpsse never does.
function(mcpsse_redis_component)
  string(TOUPPER "${MCPSSE_REDIS}" _mode)
  set(MCPSSE_HAS_REDIS OFF PARENT_SCOPE)
  if(NOT _mode STREQUAL "AUTO" AND NOT MCPSSE_REDIS)
    return()  # OFF: hiredis is not looked for.
  endif()
  if(_mode STREQUAL "AUTO")
    find_package(hiredis 0.14 QUIET)
    if(NOT hiredis_FOUND)
      message(STATUS "mcpsse: hiredis >= 0.14 not found; mcpsse::redis is not built "
                     "(install libhiredis-dev, or set hiredis_ROOT; MCPSSE_REDIS=OFF silences this)")
      return()
    endif()
  else()
    find_package(hiredis 0.14)
    if(NOT hiredis_FOUND)
      message(FATAL_ERROR "MCPSSE_REDIS=${MCPSSE_REDIS} needs hiredis >= 0.14 (Debian: libhiredis-dev; "
                          "or set hiredis_ROOT), or configure with -DMCPSSE_REDIS=OFF")
    endif()
  endif()
  add_library(mcpsse_redis INTERFACE)
  add_library(mcpsse::redis ALIAS mcpsse_redis)
  set_target_properties(mcpsse_redis PROPERTIES EXPORT_NAME redis)
  target_link_libraries(mcpsse_redis INTERFACE mcpsse hiredis::hiredis)
  set(MCPSSE_HAS_REDIS ON PARENT_SCOPE)
  message(STATUS "mcpsse: mcpsse::redis with hiredis ${hiredis_VERSION}")
endfunction()
