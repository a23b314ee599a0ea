# Findhiredis.cmake: the hiredis C client library as the imported target hiredis::hiredis.
#
# hiredis 1.x (vcpkg, upstream) installs hiredis-config.cmake, which defines
# hiredis::hiredis: that is preferred. Debian 12's hiredis 0.14 ships a
# HiredisConfig.cmake that only sets variables (and fails without a requested
# version) plus hiredis.pc; for it, and for other installs without a package
# configuration, this module looks for <hiredis/async.h> and the library itself,
# hinted by pkg-config when available.
#
# Result: hiredis_FOUND, hiredis_VERSION (when known), the target hiredis::hiredis.
# Hints: hiredis_ROOT, or hiredis_INCLUDE_DIR / hiredis_LIBRARY in the cache.

if(TARGET hiredis::hiredis)
  set(hiredis_FOUND TRUE)
  return()
endif()

find_package(hiredis CONFIG QUIET NO_MODULE)
if(TARGET hiredis::hiredis)
  include(FindPackageHandleStandardArgs)
  find_package_handle_standard_args(hiredis CONFIG_MODE)
  return()
endif()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_HIREDIS QUIET hiredis)
endif()

# pkg-config's include directory is .../include/hiredis; mcpsse includes <hiredis/async.h>.
set(_hiredis_include_hints "")
foreach(_dir IN LISTS PC_HIREDIS_INCLUDE_DIRS)
  get_filename_component(_parent "${_dir}" DIRECTORY)
  list(APPEND _hiredis_include_hints "${_parent}" "${_dir}")
endforeach()
find_path(hiredis_INCLUDE_DIR NAMES hiredis/async.h HINTS ${_hiredis_include_hints})
find_library(hiredis_LIBRARY NAMES hiredis HINTS ${PC_HIREDIS_LIBRARY_DIRS})
mark_as_advanced(hiredis_INCLUDE_DIR hiredis_LIBRARY)
unset(_hiredis_include_hints)

if(PC_HIREDIS_VERSION)
  set(hiredis_VERSION "${PC_HIREDIS_VERSION}")
elseif(hiredis_INCLUDE_DIR AND EXISTS "${hiredis_INCLUDE_DIR}/hiredis/hiredis.h")
  file(STRINGS "${hiredis_INCLUDE_DIR}/hiredis/hiredis.h" _hiredis_lines
       REGEX "^#define HIREDIS_(MAJOR|MINOR|PATCH) [0-9]+")
  set(_hiredis_parts "")
  foreach(_part IN ITEMS MAJOR MINOR PATCH)
    string(REGEX MATCH "HIREDIS_${_part} ([0-9]+)" _m "${_hiredis_lines}")
    list(APPEND _hiredis_parts "${CMAKE_MATCH_1}")
  endforeach()
  list(JOIN _hiredis_parts "." hiredis_VERSION)
  unset(_hiredis_lines)
  unset(_hiredis_parts)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(hiredis
  REQUIRED_VARS hiredis_LIBRARY hiredis_INCLUDE_DIR
  VERSION_VAR hiredis_VERSION)

if(hiredis_FOUND AND NOT TARGET hiredis::hiredis)
  add_library(hiredis::hiredis UNKNOWN IMPORTED)
  set_target_properties(hiredis::hiredis PROPERTIES
    IMPORTED_LOCATION "${hiredis_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${hiredis_INCLUDE_DIR}")
endif()
