# Findasio.cmake -- locate standalone (non-Boost) Asio when no CMake package
# configuration is available, e.g. Debian's libasio-dev.
#
# mcpsse prefers `find_package(asio CONFIG)` (vcpkg and other package managers
# ship an asio-config.cmake providing `asio::asio`); this module is the
# fallback and is installed next to mcpsseConfig.cmake so that consumers of an
# installed mcpsse get the same behaviour.
#
# Result variables:
#   asio_FOUND         TRUE when asio.hpp was found
#   asio_INCLUDE_DIR   directory containing asio.hpp (cache)
#   asio_VERSION       version parsed from asio/version.hpp (e.g. 1.22.1)
#
# Imported target:
#   asio::asio         INTERFACE IMPORTED; include dir, ASIO_STANDALONE and
#                      Threads::Threads.  ASIO_NO_DEPRECATED is deliberately
#                      NOT part of the interface: that is a choice for each
#                      consumer, not for the dependency.
#
# Clang >= 14 with libstdc++: older Asio (e.g. Debian 12's 1.22) recognises
# Clang's coroutines only through <experimental/coroutine> (libc++), so
# asio::awaitable is missing although <coroutine> works.  The target
# therefore predefines ASIO_HAS_CO_AWAIT=1 under Clang >= 14, the same
# conclusion newer Asio releases reach on their own (Asio defines the macro
# only when it is not predefined, so this is harmless there).

find_path(asio_INCLUDE_DIR
  NAMES asio.hpp
  PATH_SUFFIXES asio/include
  DOC "Directory containing the standalone Asio header asio.hpp")
mark_as_advanced(asio_INCLUDE_DIR)

if(asio_INCLUDE_DIR AND EXISTS "${asio_INCLUDE_DIR}/asio/version.hpp")
  # ASIO_VERSION is encoded as MMmmmpp: major * 100000 + minor * 100 + patch.
  file(STRINGS "${asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line
       REGEX "^#[ \t]*define[ \t]+ASIO_VERSION[ \t]+[0-9]+")
  if(_asio_version_line MATCHES "ASIO_VERSION[ \t]+([0-9]+)")
    set(_asio_version_number "${CMAKE_MATCH_1}")
    math(EXPR _asio_major "${_asio_version_number} / 100000")
    math(EXPR _asio_minor "${_asio_version_number} / 100 % 1000")
    math(EXPR _asio_patch "${_asio_version_number} % 100")
    set(asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
  endif()
  unset(_asio_version_line)
  unset(_asio_version_number)
  unset(_asio_major)
  unset(_asio_minor)
  unset(_asio_patch)
endif()

# Asio's reactor needs the platform thread library.
if(NOT TARGET Threads::Threads)
  set(THREADS_PREFER_PTHREAD_FLAG ON)
  find_package(Threads QUIET)
endif()
if(TARGET Threads::Threads)
  set(_asio_threads_found TRUE)
else()
  set(_asio_threads_found FALSE)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(asio
  REQUIRED_VARS asio_INCLUDE_DIR _asio_threads_found
  VERSION_VAR asio_VERSION)
unset(_asio_threads_found)

if(asio_FOUND AND NOT TARGET asio::asio)
  add_library(asio::asio INTERFACE IMPORTED)
  set(_asio_definitions
    ASIO_STANDALONE
    "$<$<AND:$<CXX_COMPILER_ID:Clang>,$<VERSION_GREATER_EQUAL:$<CXX_COMPILER_VERSION>,14>>:ASIO_HAS_CO_AWAIT=1>")
  set_target_properties(asio::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${asio_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "${_asio_definitions}"
    INTERFACE_LINK_LIBRARIES "Threads::Threads")
  unset(_asio_definitions)
endif()
