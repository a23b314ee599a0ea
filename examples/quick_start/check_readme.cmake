# Checks that README.md's quick start is examples/quick_start/main.cpp, verbatim:
# the first ```cpp block after the heading "## Quick start" must equal the file.
#
#   cmake -DREADME=<README.md> -DSOURCE=<main.cpp> [-DOUT=<dir>] -P check_readme.cmake
#
# On a mismatch it writes the README's block to <OUT>/quick_start_readme.cpp (OUT
# defaults to the current directory), prints the diff command, and fails.
foreach(_var README SOURCE)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "check_readme.cmake: -D${_var}=<path> is required")
  endif()
endforeach()
if(NOT DEFINED OUT)
  set(OUT "${CMAKE_CURRENT_BINARY_DIR}")
endif()

file(READ "${README}" _readme)
file(READ "${SOURCE}" _source)

string(FIND "${_readme}" "\n## Quick start\n" _heading)
if(_heading LESS 0)
  message(FATAL_ERROR "${README}: no \"## Quick start\" heading")
endif()
string(SUBSTRING "${_readme}" ${_heading} -1 _rest)
set(_open "\n```cpp\n")
string(FIND "${_rest}" "${_open}" _start)
if(_start LESS 0)
  message(FATAL_ERROR "${README}: no ```cpp block after \"## Quick start\"")
endif()
string(LENGTH "${_open}" _open_len)
math(EXPR _start "${_start} + ${_open_len}")
string(SUBSTRING "${_rest}" ${_start} -1 _rest)
string(FIND "${_rest}" "\n```" _end)
if(_end LESS 0)
  message(FATAL_ERROR "${README}: the quick start's ```cpp block is not closed")
endif()
math(EXPR _end "${_end} + 1")  # keep the block's last newline
string(SUBSTRING "${_rest}" 0 ${_end} _block)

if(NOT _block STREQUAL _source)
  file(WRITE "${OUT}/quick_start_readme.cpp" "${_block}")
  message(FATAL_ERROR "README.md's quick start differs from ${SOURCE}; see\n"
                      "  diff ${SOURCE} ${OUT}/quick_start_readme.cpp")
endif()
message(STATUS "README.md's quick start is ${SOURCE}")
