// mcpsse: the MCP protocol revisions mcpsse knows, and what each implies.
#pragma once

#include <string_view>

namespace mcpsse::protocol_version {

/// MCP 2024-11-05: stdio and the legacy HTTP+SSE transport.
inline constexpr std::string_view v2024_11_05{"2024-11-05"};
/// MCP 2025-03-26: Streamable HTTP, sessions, resumability; JSON-RPC batches.
inline constexpr std::string_view v2025_03_26{"2025-03-26"};
/// MCP 2025-06-18: `MCP-Protocol-Version` header; batches removed.
inline constexpr std::string_view v2025_06_18{"2025-06-18"};
/// MCP 2025-11-25: invalid Origin -> 403, SSE polling, error ids may be omitted.
inline constexpr std::string_view v2025_11_25{"2025-11-25"};
/// MCP 2026-07-28: stateless Streamable HTTP; no `initialize`, per-request `_meta`.
inline constexpr std::string_view v2026_07_28{"2026-07-28"};

/// The newest revision negotiated through `initialize` (session-based revisions).
inline constexpr std::string_view latest_session_based = v2025_11_25;

/// What one protocol revision implies for the transports: the one table the transports
/// and the JSON-RPC layer consult instead of comparing revision strings.
struct RevisionTraits {
    /// The revision, e.g. "2025-11-25".
    std::string_view version;
    /// JSON-RPC batches are accepted in a POST body (2025-03-26 only).
    bool batches = false;
    /// Sessions (`Mcp-Session-Id`) and `initialize` (2025-03-26 to 2025-11-25; the legacy
    /// 2024-11-05 transport has its own sessions).
    bool sessions = false;
    /// An SSE response starts with an empty priming event carrying its first id, and the
    /// server may end a response early for the client to resume it, SSE polling
    /// (2025-11-25 on).
    bool priming_and_polling = false;
    /// Version, capabilities and log level travel in each request's `_meta`; `initialize`,
    /// `ping` and `logging/setLevel` are removed (2026-07-28 on).
    bool stateless = false;
};

/// The revisions mcpsse knows, oldest first.
inline constexpr RevisionTraits revisions[] = {
    {v2024_11_05, false, false, false, false}, {v2025_03_26, true, true, false, false},
    {v2025_06_18, false, true, false, false},  {v2025_11_25, false, true, true, false},
    {v2026_07_28, false, false, true, true},
};

/// The traits of `version`. An unknown revision string (they are ISO dates, so they
/// order lexicographically) gets those of the newest known revision not after it, or
/// of the oldest.
[[nodiscard]] constexpr const RevisionTraits& traits(std::string_view version) noexcept {
    const RevisionTraits* found = &revisions[0];
    for (const auto& r : revisions)
        if (version.size() == 10 && version >= r.version) found = &r;
    return *found;
}

/// True when JSON-RPC batches must be accepted under revision `version`
/// (only 2025-03-26 allows them).
[[nodiscard]] constexpr bool allows_batches(std::string_view version) noexcept {
    return version == v2025_03_26;
}

/// True when `version` is a stateless revision (2026-07-28 or later): no sessions,
/// no `initialize`, version carried per request.
[[nodiscard]] constexpr bool is_stateless(std::string_view version) noexcept {
    return version.size() == 10 && traits(version).stateless;
}

}  // namespace mcpsse::protocol_version
