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

/// True when JSON-RPC batches must be accepted under revision `version`
/// (only 2025-03-26 allows them).
[[nodiscard]] constexpr bool allows_batches(std::string_view version) noexcept {
    return version == v2025_03_26;
}

/// True when `version` is a stateless revision (2026-07-28 or later): no sessions,
/// no `initialize`, version carried per request. Revision strings are ISO dates,
/// so they order lexicographically.
[[nodiscard]] constexpr bool is_stateless(std::string_view version) noexcept {
    return version.size() == 10 && version >= v2026_07_28;
}

}  // namespace mcpsse::protocol_version
