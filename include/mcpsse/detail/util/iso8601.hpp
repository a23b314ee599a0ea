// mcpsse internal: ISO 8601 UTC timestamps (task `createdAt`, `lastUpdatedAt`).
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace mcpsse::detail {

/// `time` as ISO 8601 UTC with milliseconds, e.g. `2026-07-28T10:30:00.125Z`.
[[nodiscard]] inline std::string iso8601_utc(std::chrono::system_clock::time_point time) {
    const auto since_epoch = time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t t = static_cast<std::time_t>(seconds.count());
    std::tm parts{};
    gmtime_r(&t, &parts);
    std::array<char, 128> buffer{};  // ample: GCC sizes each %d for any int
    std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                  static_cast<int>(millis));
    return buffer.data();
}

}  // namespace mcpsse::detail
