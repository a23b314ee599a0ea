# current_deps.cmake -- build mcpsse's own targets against the current releases of
# its dependencies that package managers such as vcpkg ship (Asio 1.3x, Catch2 v3,
# nlohmann/json 3.11.3+), from a folder of their unmodified sources, without any
# network access.  Debian 12 ships older ones (Asio 1.22, Catch2 2.13, json 3.11.2).
#
# Used by cmake/scripts/test.sh's `deps` configuration (and the optional `deps-asan`) through
#   -DCMAKE_PROJECT_TOP_LEVEL_INCLUDES=<repo>/cmake/testing/current_deps.cmake
#   -DMCPSSE_CURRENT_DEPS_DIR=<folder>
# where <folder> holds:
#   asio-<version>.tar.gz            standalone Asio; its include/ is used
#   catch2-<version>/catch_amalgamated.{hpp,cpp}
#   nlohmann-json-<version>/nlohmann/json.hpp
#
# It runs once, at the top-level project() call, and points find_package at package
# configurations it writes under <build>/_current_deps:
#   asio::asio                      (through cmake/Findasio.cmake's asio_INCLUDE_DIR)
#   nlohmann_json::nlohmann_json    (nlohmann_json_DIR)
#   Catch2::Catch2WithMain          (Catch2_DIR; a static library built from the
#                                    amalgamated source, with the v3 header names the
#                                    tests include forwarding to catch_amalgamated.hpp)
# Nothing here is installed or part of mcpsse's interface.

include_guard(GLOBAL)

if(NOT MCPSSE_CURRENT_DEPS_DIR OR NOT IS_DIRECTORY "${MCPSSE_CURRENT_DEPS_DIR}")
  message(FATAL_ERROR "current_deps.cmake: set MCPSSE_CURRENT_DEPS_DIR to the dependency folder "
                      "(got '${MCPSSE_CURRENT_DEPS_DIR}')")
endif()
set(_cd_src "${MCPSSE_CURRENT_DEPS_DIR}")
set(_cd_out "${CMAKE_BINARY_DIR}/_current_deps")
include(CMakePackageConfigHelpers)

# ---- Asio: unpack include/ once ------------------------------------------------------
file(GLOB _cd_asio_tar "${_cd_src}/asio-*.tar.gz")
list(LENGTH _cd_asio_tar _cd_n)
if(NOT _cd_n EQUAL 1)
  message(FATAL_ERROR "current_deps.cmake: expected one asio-*.tar.gz in ${_cd_src}")
endif()
if(NOT EXISTS "${_cd_out}/asio.stamp")
  file(REMOVE_RECURSE "${_cd_out}/asio")
  file(ARCHIVE_EXTRACT INPUT "${_cd_asio_tar}" DESTINATION "${_cd_out}/asio")
  file(TOUCH "${_cd_out}/asio.stamp")
endif()
file(GLOB_RECURSE _cd_asio_hpp LIST_DIRECTORIES false "${_cd_out}/asio/version.hpp")
list(FILTER _cd_asio_hpp INCLUDE REGEX "/include/asio/version.hpp$")
if(NOT _cd_asio_hpp)
  message(FATAL_ERROR "current_deps.cmake: no include/asio/version.hpp in ${_cd_asio_tar}")
endif()
list(GET _cd_asio_hpp 0 _cd_asio_hpp)
get_filename_component(_cd_asio_inc "${_cd_asio_hpp}" DIRECTORY)
get_filename_component(_cd_asio_inc "${_cd_asio_inc}" DIRECTORY)
set(asio_INCLUDE_DIR "${_cd_asio_inc}" CACHE PATH "Directory containing asio.hpp" FORCE)
# No asio-config.cmake elsewhere may win over it.
set(asio_DIR "${_cd_out}/no-asio-config" CACHE PATH "" FORCE)

# ---- nlohmann/json -------------------------------------------------------------------
file(GLOB _cd_json_dir LIST_DIRECTORIES true "${_cd_src}/nlohmann-json-*")
if(NOT _cd_json_dir OR NOT EXISTS "${_cd_json_dir}/nlohmann/json.hpp")
  message(FATAL_ERROR "current_deps.cmake: no nlohmann-json-*/nlohmann/json.hpp in ${_cd_src}")
endif()
set(_cd_json_ver "")
foreach(_part IN ITEMS MAJOR MINOR PATCH)
  file(STRINGS "${_cd_json_dir}/nlohmann/json.hpp" _cd_line
       REGEX "^#define NLOHMANN_JSON_VERSION_${_part} [0-9]+" LIMIT_COUNT 1)
  string(REGEX MATCH "${_part} ([0-9]+)" _cd_line "${_cd_line}")
  list(APPEND _cd_json_ver "${CMAKE_MATCH_1}")
endforeach()
list(JOIN _cd_json_ver "." _cd_json_ver)
file(WRITE "${_cd_out}/nlohmann_json/nlohmann_jsonConfig.cmake"
"if(NOT TARGET nlohmann_json::nlohmann_json)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES \"${_cd_json_dir}\")
endif()
")
write_basic_package_version_file("${_cd_out}/nlohmann_json/nlohmann_jsonConfigVersion.cmake"
  VERSION "${_cd_json_ver}" COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
set(nlohmann_json_DIR "${_cd_out}/nlohmann_json" CACHE PATH "" FORCE)

# ---- Catch2 v3, amalgamated ----------------------------------------------------------
file(GLOB _cd_catch_dir LIST_DIRECTORIES true "${_cd_src}/catch2-*")
if(NOT _cd_catch_dir OR NOT EXISTS "${_cd_catch_dir}/catch_amalgamated.cpp")
  message(FATAL_ERROR "current_deps.cmake: no catch2-*/catch_amalgamated.cpp in ${_cd_src}")
endif()
string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+$" _cd_catch_ver "${_cd_catch_dir}")
foreach(_h IN ITEMS catch_approx.hpp catch_template_test_macros.hpp catch_test_macros.hpp
                    generators/catch_generators_all.hpp matchers/catch_matchers_all.hpp)
  file(WRITE "${_cd_out}/catch2-include/catch2/${_h}" "#include <catch_amalgamated.hpp>\n")
endforeach()
file(WRITE "${_cd_out}/Catch2/Catch2Config.cmake"
"if(NOT TARGET Catch2::Catch2WithMain)
  add_library(mcpsse_catch2_amalgamated STATIC \"${_cd_catch_dir}/catch_amalgamated.cpp\")
  target_include_directories(mcpsse_catch2_amalgamated SYSTEM PUBLIC
    \"${_cd_catch_dir}\" \"${_cd_out}/catch2-include\")
  target_compile_features(mcpsse_catch2_amalgamated PUBLIC cxx_std_20)
  add_library(Catch2::Catch2 ALIAS mcpsse_catch2_amalgamated)
  add_library(Catch2::Catch2WithMain ALIAS mcpsse_catch2_amalgamated)
endif()
")
write_basic_package_version_file("${_cd_out}/Catch2/Catch2ConfigVersion.cmake"
  VERSION "${_cd_catch_ver}" COMPATIBILITY SameMajorVersion)
set(Catch2_DIR "${_cd_out}/Catch2" CACHE PATH "" FORCE)

message(STATUS "mcpsse: current dependencies from ${_cd_src}: Asio in ${_cd_asio_inc}, "
               "nlohmann/json ${_cd_json_ver}, Catch2 ${_cd_catch_ver} (amalgamated)")
