// Precompiled header shared by the unit tests (see tests/CMakeLists.txt).
// Only heavy third-party headers belong here: mcpsse's own headers must stay
// out so the tests keep checking what each header includes.
#pragma once

#include <asio.hpp>
#include <nlohmann/json.hpp>

#include "catch.hpp"
