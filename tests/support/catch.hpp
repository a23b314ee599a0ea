// Catch2 include shim for mcpsse's tests: include this instead of a Catch2
// header so the same test sources build against Catch2 v3 (vcpkg, upstream)
// and Catch2 v2 (Debian 12's catch2 package).
//
// Portable subset: TEST_CASE, SECTION, REQUIRE/CHECK (+ _FALSE, _THROWS,
// _THROWS_AS, _NOTHROW), TEMPLATE_TEST_CASE, GENERATE, INFO/CAPTURE,
// FAIL/SUCCEED, and Approx (usable unqualified with both versions).  Not
// portable: SKIP (v3 only) and matcher names (v2 Contains vs v3
// ContainsSubstring); prefer plain REQUIRE expressions over matchers.
//
// Include it as "support/catch.hpp" (or "catch.hpp"); both directories are
// on the tests' include path.
#pragma once

// tests/CMakeLists.txt defines MCPSSE_CATCH2_MAJOR from the Catch2 it linked;
// fall back to detection when the header is used outside that build.
#if !defined(MCPSSE_CATCH2_MAJOR)
#  if __has_include(<catch2/catch_test_macros.hpp>)
#    define MCPSSE_CATCH2_MAJOR 3
#  else
#    define MCPSSE_CATCH2_MAJOR 2
#  endif
#endif

#if MCPSSE_CATCH2_MAJOR >= 3
#  include <catch2/catch_approx.hpp>
#  include <catch2/catch_template_test_macros.hpp>
#  include <catch2/catch_test_macros.hpp>
#  include <catch2/generators/catch_generators_all.hpp>
#  include <catch2/matchers/catch_matchers_all.hpp>
using Catch::Approx;
#else
#  include <catch2/catch.hpp>
#endif
