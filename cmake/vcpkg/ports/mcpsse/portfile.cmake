# vcpkg port for mcpsse (header-only).
#
# As an overlay port from a checkout of mcpsse, building the checkout itself:
#   vcpkg install mcpsse --overlay-ports=<mcpsse checkout>/cmake/vcpkg/ports
# (or list that directory under "overlay-ports" in vcpkg-configuration.json).
#
# For a release in a registry, replace the local SOURCE_PATH below with the
# tagged sources, e.g.:
#   vcpkg_from_github(
#       OUT_SOURCE_PATH SOURCE_PATH
#       REPO <owner>/mcpsse
#       REF "v${VERSION}"
#       SHA512 <sha512 of the release archive>
#       HEAD_REF main
#   )

# Header-only: one (release) configuration is enough.
set(VCPKG_BUILD_TYPE release)

if(NOT DEFINED SOURCE_PATH)
  # This file lives in <repo>/cmake/vcpkg/ports/mcpsse/.
  get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
endif()
if(NOT EXISTS "${SOURCE_PATH}/include/mcpsse/mcpsse.hpp")
  message(FATAL_ERROR "mcpsse sources not found at ${SOURCE_PATH}")
endif()

# Features tls and jwt: the mcpsse::tls and mcpsse::jwt components (OpenSSL); redis:
# mcpsse::redis (hiredis; MCPSSE_REDIS=OFF without it, so no hiredis outside vcpkg).
# Without one the build is told MCPSSE_TLS=OFF / MCPSSE_JWT=OFF, so it never looks
# for an OpenSSL outside vcpkg.
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
    FEATURES
        tls MCPSSE_TLS
        jwt MCPSSE_JWT
        redis MCPSSE_REDIS
)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        ${FEATURE_OPTIONS}
        -DMCPSSE_BUILD_TESTS=OFF
        -DMCPSSE_BUILD_EXAMPLES=OFF
        -DMCPSSE_BUILD_BENCHMARKS=OFF
        -DMCPSSE_WERROR=OFF
        -DMCPSSE_INSTALL=ON
)
vcpkg_cmake_install()

# The project installs its package files to share/cmake/mcpsse (header-only,
# architecture independent); vcpkg expects share/mcpsse.
vcpkg_cmake_config_fixup(PACKAGE_NAME mcpsse CONFIG_PATH share/cmake/mcpsse)

# Nothing architecture specific is installed.
file(REMOVE_RECURSE
    "${CURRENT_PACKAGES_DIR}/debug"
    "${CURRENT_PACKAGES_DIR}/lib"
    "${CURRENT_PACKAGES_DIR}/share/doc")

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
