// mcpsse: a snapshot of what an HTTP transport holds now (SseTransport::stats), for hosts
// and for a JSON statistics endpoint.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mcpsse {

/// One open session in a `TransportStats`.
struct SessionStats {
    /// The session id.
    std::string id;
    /// The negotiated protocol revision ("2024-11-05" for legacy HTTP+SSE).
    std::string protocol_version;
    /// True for a legacy HTTP+SSE session.
    bool legacy = false;
    /// The subject of the token that opened it (`Principal::subject`); empty without
    /// authorization.
    std::string subject;
    /// Time since it was created.
    std::chrono::steady_clock::duration age{};
    /// SSE events sent on its streams (see `SseSession::events_sent`).
    std::uint64_t events_sent = 0;
    /// Bytes of those events.
    std::uint64_t bytes_sent = 0;
};

/// What an `SseTransport` holds at one moment (`SseTransport::stats`).
struct TransportStats {
    /// Open connections.
    std::size_t connections_open = 0;
    /// Open sessions (the length of `sessions`).
    std::size_t sessions_open = 0;
    /// True while draining or stopping.
    bool draining = false;
    /// SSE events and bytes sent by the open sessions (sums over `sessions`).
    std::uint64_t events_sent = 0;
    std::uint64_t bytes_sent = 0;
    /// Open sessions per subject (the empty subject: sessions without authorization).
    std::map<std::string, std::size_t> sessions_by_subject;
    /// The open sessions, oldest first (so the oldest is the first, the newest the last).
    std::vector<SessionStats> sessions;
};

/// `stats` as JSON: `{"connections_open", "sessions_open", "draining", "events_sent",
/// "bytes_sent", "sessions_by_subject": {subject: count}, "oldest_session_age_seconds",
/// "newest_session_age_seconds", "sessions": [{"id", "protocol_version", "legacy",
/// "subject", "age_seconds", "events_sent", "bytes_sent"}]}` (ages in seconds, the age
/// members absent without sessions). With `include_sessions` false the `sessions` array
/// is left out (a large server's snapshot stays small). Session ids are credentials of
/// a sort (a client presenting one continues the session): serve this only to operators.
[[nodiscard]] inline nlohmann::json to_json(const TransportStats& stats, bool include_sessions = true) {
    const auto seconds = [](std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); };
    nlohmann::json out = {{"connections_open", stats.connections_open},
                          {"sessions_open", stats.sessions_open},
                          {"draining", stats.draining},
                          {"events_sent", stats.events_sent},
                          {"bytes_sent", stats.bytes_sent},
                          {"sessions_by_subject", stats.sessions_by_subject}};
    if (!stats.sessions.empty()) {
        out["oldest_session_age_seconds"] = seconds(stats.sessions.front().age);
        out["newest_session_age_seconds"] = seconds(stats.sessions.back().age);
    }
    if (!include_sessions) return out;
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& s : stats.sessions)
        sessions.push_back({{"id", s.id},
                            {"protocol_version", s.protocol_version},
                            {"legacy", s.legacy},
                            {"subject", s.subject},
                            {"age_seconds", seconds(s.age)},
                            {"events_sent", s.events_sent},
                            {"bytes_sent", s.bytes_sent}});
    out["sessions"] = std::move(sessions);
    return out;
}

}  // namespace mcpsse
