// mcpsse: MCP logging levels (RFC 5424 severities) for `notifications/message`.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace mcpsse {

/// The severity of a log message sent to the client, lowest first
/// (MCP basic/utilities/logging; the RFC 5424 syslog severities).
enum class LoggingLevel { debug, info, notice, warning, error, critical, alert, emergency };

/// The wire name of `level`, e.g. "warning".
[[nodiscard]] constexpr std::string_view to_string(LoggingLevel level) noexcept {
    constexpr std::array<std::string_view, 8> names{"debug", "info",     "notice", "warning",
                                                    "error", "critical", "alert",  "emergency"};
    return names[static_cast<std::size_t>(level)];
}

/// Parses a wire name; nullopt for anything that is not one of the eight names.
[[nodiscard]] constexpr std::optional<LoggingLevel> logging_level_from_string(
    std::string_view name) noexcept {
    for (int i = 0; i <= static_cast<int>(LoggingLevel::emergency); ++i)
        if (to_string(static_cast<LoggingLevel>(i)) == name) return static_cast<LoggingLevel>(i);
    return std::nullopt;
}

}  // namespace mcpsse
