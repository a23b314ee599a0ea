// mcpsse: structured access logs (JSON lines or logfmt-like text) through the transport's
// observers. mcpsse writes no log itself; a host enables this one.
#pragma once

#include <mcpsse/logging_level.hpp>
#include <mcpsse/transport_observer.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace mcpsse {

/// How an `AccessLog` writes its lines.
enum class LogFormat {
    json,  ///< one JSON object per line (JSON Lines), keys in a fixed order
    text,  ///< logfmt-like `key=value` pairs separated by spaces, values quoted when needed
};

/// The flag name of `format`: "json" or "text".
[[nodiscard]] constexpr std::string_view to_string(LogFormat format) noexcept {
    return format == LogFormat::json ? "json" : "text";
}

/// Parses "json" or "text" (exact, lower case); nullopt for anything else. For levels use
/// `logging_level_from_string` (logging_level.hpp): "debug", "info", "warning", "error", ...
[[nodiscard]] constexpr std::optional<LogFormat> parse_log_format(std::string_view name) noexcept {
    if (name == "json") return LogFormat::json;
    if (name == "text") return LogFormat::text;
    return std::nullopt;
}

/// Where an `AccessLog` sends a line: the line without its end-of-line character.
using LogSink = std::function<void(std::string_view line)>;

/// A sink that writes each line and a newline to standard error with one `fwrite` (stdio
/// locks the stream for it, so lines of different threads never interleave) and flushes.
[[nodiscard]] inline LogSink stderr_log_sink() {
    return [](std::string_view line) {
        std::string out;
        out.reserve(line.size() + 1);
        out.append(line).push_back('\n');
        std::fwrite(out.data(), 1, out.size(), stderr);
        std::fflush(stderr);
    };
}

/// Settings of an `AccessLog`.
struct AccessLogOptions {
    /// The line format.
    LogFormat format = LogFormat::json;
    /// The threshold: events less severe than this are dropped (`LoggingLevel::debug`
    /// logs everything). Events use four of the eight levels: debug, info, warning, error.
    LoggingLevel level = LoggingLevel::info;
    /// Receives each line. Empty: `stderr_log_sink()`. `AccessLog` calls it for one line at
    /// a time (under its own mutex), so it needs no locking of its own; it should be quick,
    /// since the transport's I/O thread waits for it.
    LogSink sink{};
    /// The wall clock for the `time` field. Empty: `std::chrono::system_clock::now`. For
    /// tests.
    std::function<std::chrono::system_clock::time_point()> clock{};
};

/// A `TransportObserver` that writes one structured line per event worth an operator's
/// attention. Add it to `SseTransportOptions::observers`:
///
///     options.observers.push_back(std::make_shared<mcpsse::AccessLog>(log_options));
///
/// Events (`event` field) and their levels:
/// - `request`: an answered HTTP request (or its ended stream). error for 5xx, warning for
///   4xx and for 0 (no response could be written), debug otherwise.
/// - `authorization_refused` (warning): a 401, 403 or 503 of authorization with its
///   `reason`; the same request's `request` line follows. `token_accepted` (info): a token
///   newly verified, with its `subject`. Tokens are never logged (the events carry none).
/// - `limit` (warning): a configured limit hit, `limit` naming it, `detail` when given.
/// - `tls_handshake_failed` (warning): with the error in `detail`.
/// - `session_opened`, `session_closed` (info): with `protocol_version`, `subject`,
///   `legacy` when legacy HTTP+SSE; the close with `reason` and the session's `duration_ms`.
/// - `rpc` (a JSON-RPC request whose handler ran): warning when it failed (`outcome`
///   "error" or "timed_out", with `error_code`), debug otherwise.
/// - `connection_closed` (debug): with the connection's `duration_ms`, `requests` answered
///   and `bytes` sent on it (tracked only when the threshold is debug).
///
/// Fields, in this order and each only when it has a value: `time` (RFC 3339, UTC, ms),
/// `level`, `event`, `peer` (address:port, IPv6 in brackets), `subject`, `session` (the
/// first 8 characters of the session id: enough to correlate lines, too few to take the
/// session over), `method`, `path` (without its query string, which may carry a legacy
/// `sessionId`), `route`, `status`, `duration_ms` (a number with µs precision), `bytes`,
/// `traceparent`, then the event's own (`reason`, `limit`, `detail`, ...). Paths and other
/// client-chosen text are escaped: a line never spans two lines.
///
/// Thread-safety: the transport calls it from any of its I/O threads concurrently; every
/// member is thread-safe. Its settings are fixed at construction. It never throws: a line
/// that cannot be formatted or written (e.g. the sink throws) is dropped.
class AccessLog : public TransportObserver {
public:
    /// A log with `options` (default: JSON lines at info to standard error).
    explicit AccessLog(AccessLogOptions options = {});

    /// The settings.
    [[nodiscard]] const AccessLogOptions& options() const noexcept { return options_; }

    /// True when events of `level` are written (at or above the threshold).
    [[nodiscard]] bool enabled(LoggingLevel level) const noexcept {
        return static_cast<int>(level) >= static_cast<int>(options_.level);
    }

    /// The first 8 characters of a session id (all of a shorter one).
    [[nodiscard]] static std::string_view short_session_id(std::string_view id) noexcept {
        return id.substr(0, 8);
    }

    /// "address:port" of `endpoint`, "[address]:port" for IPv6.
    [[nodiscard]] static std::string format_peer(const asio::ip::tcp::endpoint& endpoint);

    /// `time` as RFC 3339 in UTC with milliseconds, e.g. "2026-07-28T09:15:02.517Z".
    [[nodiscard]] static std::string format_time(std::chrono::system_clock::time_point time);

    /// Requests and JSON-RPC requests, not SSE streams (a stream's request line reports
    /// its end).
    [[nodiscard]] ObserverInterests interests() const noexcept override { return {true, false, true}; }

    void on_connection_open(const ConnectionInfo& connection) override;
    void on_connection_close(const ConnectionInfo& connection) override;
    void on_handshake_failed(const ConnectionInfo& connection, std::error_code error) override;
    void on_request(const RequestInfo& request) override;
    void on_session_open(const SessionInfo& session) override;
    void on_session_close(const SessionInfo& session, SessionEndReason reason) override;
    void on_limit(const LimitEvent& event) override;
    void on_rpc_request(const RpcRequestInfo& request) override;
    void on_authorization(const AuthorizationEvent& event) override;

private:
    // One field of a line: text, an integer, a number of milliseconds or a flag.
    struct Milliseconds {
        std::chrono::steady_clock::duration value;
    };
    using Value = std::variant<std::string_view, std::string, std::uint64_t, std::int64_t, Milliseconds, bool>;
    using Fields = std::vector<std::pair<std::string_view, Value>>;

    struct Connection {
        std::chrono::steady_clock::time_point opened;
        std::uint64_t requests = 0;
        std::uint64_t bytes = 0;
    };

    // Adds `key` unless `value` is empty.
    static void add(Fields& fields, std::string_view key, std::string_view value) {
        if (!value.empty()) fields.emplace_back(key, value);
    }
    // The fields every connection-bound event starts with.
    static Fields connection_fields(const ConnectionInfo& connection);
    void write(LoggingLevel level, std::string_view event, const Fields& fields) noexcept;
    std::string format_line(LoggingLevel level, std::string_view event, const Fields& fields) const;

    AccessLogOptions options_;
    std::mutex sink_mutex_;
    std::mutex state_mutex_;
    std::unordered_map<std::uint64_t, Connection> connections_;  // at debug only
};

// ---- definitions -------------------------------------------------------------------------

inline AccessLog::AccessLog(AccessLogOptions options) : options_(std::move(options)) {
    if (!options_.sink) options_.sink = stderr_log_sink();
    if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
}

inline std::string AccessLog::format_peer(const asio::ip::tcp::endpoint& endpoint) {
    const asio::ip::address address = endpoint.address();
    std::string out = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    out += ':';
    out += std::to_string(endpoint.port());
    return out;
}

inline std::string AccessLog::format_time(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(time);
    const auto day = floor<days>(ms);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> clock_time{ms - day};
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(clock_time.hours().count()), static_cast<int>(clock_time.minutes().count()),
                  static_cast<int>(clock_time.seconds().count()), static_cast<int>(clock_time.subseconds().count()));
    return buffer;
}

namespace detail {

// Appends `value` to `out` as a text-format value: bare when it is a non-empty run of
// printable ASCII without spaces, quotes, `=` or backslashes (bytes >= 0x80 pass through),
// else in double quotes with \" \\ \n \r \t and \xNN escapes.
inline void append_logfmt_value(std::string& out, std::string_view value) {
    bool bare = !value.empty();
    for (const char ch : value) {
        const auto byte = static_cast<unsigned char>(ch);
        if (byte <= 0x20 || byte == 0x7f || ch == '"' || ch == '=' || ch == '\\') {
            bare = false;
            break;
        }
    }
    if (bare) {
        out += value;
        return;
    }
    out += '"';
    for (const char ch : value) {
        const auto byte = static_cast<unsigned char>(ch);
        switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (byte < 0x20 || byte == 0x7f) {
                static constexpr char hex[] = "0123456789abcdef";
                out += "\\x";
                out += hex[byte >> 4];
                out += hex[byte & 0xf];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

// `path` without its query string.
[[nodiscard]] constexpr std::string_view path_without_query(std::string_view path) noexcept {
    return path.substr(0, path.find('?'));
}

[[nodiscard]] constexpr std::string_view to_string(SessionEndReason reason) noexcept {
    switch (reason) {
    case SessionEndReason::deleted: return "deleted";
    case SessionEndReason::idle: return "idle";
    case SessionEndReason::stream_closed: return "stream_closed";
    case SessionEndReason::stopped: return "stopped";
    case SessionEndReason::limit: return "limit";
    case SessionEndReason::closed: return "closed";
    }
    return "unknown";
}

[[nodiscard]] constexpr std::string_view to_string(RpcOutcome outcome) noexcept {
    switch (outcome) {
    case RpcOutcome::success: return "success";
    case RpcOutcome::error: return "error";
    case RpcOutcome::cancelled: return "cancelled";
    case RpcOutcome::timed_out: return "timed_out";
    }
    return "unknown";
}

}  // namespace detail

inline std::string AccessLog::format_line(LoggingLevel level, std::string_view event, const Fields& fields) const {
    const std::string time = format_time(options_.clock());
    // Milliseconds with microsecond precision, e.g. 12.345.
    const auto milliseconds = [](std::chrono::steady_clock::duration d) {
        return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()) / 1000.0;
    };
    if (options_.format == LogFormat::json) {
        nlohmann::ordered_json line = nlohmann::ordered_json::object();
        line["time"] = time;
        line["level"] = to_string(level);
        line["event"] = event;
        for (const auto& [key, value] : fields) {
            std::visit(
                [&, key = key](const auto& v) {
                    using V = std::decay_t<decltype(v)>;
                    if constexpr (std::is_same_v<V, Milliseconds>) line[std::string(key)] = milliseconds(v.value);
                    else line[std::string(key)] = v;
                },
                value);
        }
        // Invalid UTF-8 (a client's path, say) becomes U+FFFD rather than an exception.
        return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    }
    std::string out = "time=" + time + " level=";
    out += to_string(level);
    out += " event=";
    detail::append_logfmt_value(out, event);
    for (const auto& [key, value] : fields) {
        out += ' ';
        out += key;
        out += '=';
        std::visit(
            [&](const auto& v) {
                using V = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<V, Milliseconds>) out += nlohmann::json(milliseconds(v.value)).dump();
                else if constexpr (std::is_same_v<V, bool>) out += v ? "true" : "false";
                else if constexpr (std::is_integral_v<V>) out += std::to_string(v);
                else detail::append_logfmt_value(out, v);
            },
            value);
    }
    return out;
}

inline void AccessLog::write(LoggingLevel level, std::string_view event, const Fields& fields) noexcept {
    try {
        const std::string line = format_line(level, event, fields);
        const std::lock_guard lock(sink_mutex_);
        options_.sink(line);
    } catch (...) {
        // A log line is not worth disturbing the transport: dropped.
    }
}

inline AccessLog::Fields AccessLog::connection_fields(const ConnectionInfo& connection) {
    Fields fields;
    fields.reserve(12);
    fields.emplace_back("peer", format_peer(connection.remote_endpoint));
    return fields;
}

inline void AccessLog::on_connection_open(const ConnectionInfo& connection) {
    if (!enabled(LoggingLevel::debug)) return;
    try {
        const std::lock_guard lock(state_mutex_);
        connections_[connection.id].opened = std::chrono::steady_clock::now();
    } catch (...) {
    }
}

inline void AccessLog::on_connection_close(const ConnectionInfo& connection) {
    if (!enabled(LoggingLevel::debug)) return;
    std::optional<Connection> tracked;
    {
        const std::lock_guard lock(state_mutex_);
        if (const auto it = connections_.find(connection.id); it != connections_.end()) {
            tracked = it->second;
            connections_.erase(it);
        }
    }
    try {
        Fields fields = connection_fields(connection);
        if (connection.secure) fields.emplace_back("tls", true);
        if (tracked) {
            fields.emplace_back("duration_ms", Milliseconds{std::chrono::steady_clock::now() - tracked->opened});
            fields.emplace_back("bytes", tracked->bytes);
            fields.emplace_back("requests", tracked->requests);
        }
        write(LoggingLevel::debug, "connection_closed", fields);
    } catch (...) {
    }
}

inline void AccessLog::on_handshake_failed(const ConnectionInfo& connection, std::error_code error) {
    if (!enabled(LoggingLevel::warning)) return;
    try {
        Fields fields = connection_fields(connection);
        fields.emplace_back("detail", error.message());
        write(LoggingLevel::warning, "tls_handshake_failed", fields);
    } catch (...) {
    }
}

inline void AccessLog::on_request(const RequestInfo& request) {
    if (enabled(LoggingLevel::debug)) {
        const std::lock_guard lock(state_mutex_);
        if (const auto it = connections_.find(request.connection.id); it != connections_.end()) {
            ++it->second.requests;
            it->second.bytes += request.bytes_sent;
        }
    }
    const LoggingLevel level = request.status >= 500   ? LoggingLevel::error
                               : request.status >= 400 ? LoggingLevel::warning
                               : request.status == 0   ? LoggingLevel::warning
                                                       : LoggingLevel::debug;
    if (!enabled(level)) return;
    try {
        Fields fields = connection_fields(request.connection);
        add(fields, "subject", request.subject);
        add(fields, "session", short_session_id(request.session_id));
        add(fields, "method", request.method);
        add(fields, "path", detail::path_without_query(request.path));
        add(fields, "route", request.route);
        fields.emplace_back("status", static_cast<std::int64_t>(request.status));
        fields.emplace_back("duration_ms", Milliseconds{request.duration});
        fields.emplace_back("bytes", request.bytes_sent);
        add(fields, "traceparent", request.traceparent);
        write(level, "request", fields);
    } catch (...) {
    }
}

inline void AccessLog::on_session_open(const SessionInfo& session) {
    if (!enabled(LoggingLevel::info)) return;
    try {
        Fields fields;
        add(fields, "subject", session.subject);
        add(fields, "session", short_session_id(session.id));
        add(fields, "protocol_version", session.protocol_version);
        if (session.legacy) fields.emplace_back("legacy", true);
        write(LoggingLevel::info, "session_opened", fields);
    } catch (...) {
    }
}

inline void AccessLog::on_session_close(const SessionInfo& session, SessionEndReason reason) {
    if (!enabled(LoggingLevel::info)) return;
    try {
        Fields fields;
        add(fields, "subject", session.subject);
        add(fields, "session", short_session_id(session.id));
        if (session.created != std::chrono::steady_clock::time_point{})
            fields.emplace_back("duration_ms", Milliseconds{std::chrono::steady_clock::now() - session.created});
        add(fields, "protocol_version", session.protocol_version);
        if (session.legacy) fields.emplace_back("legacy", true);
        fields.emplace_back("reason", detail::to_string(reason));
        write(LoggingLevel::info, "session_closed", fields);
    } catch (...) {
    }
}

inline void AccessLog::on_limit(const LimitEvent& event) {
    if (!enabled(LoggingLevel::warning)) return;
    try {
        Fields fields = event.connection ? connection_fields(*event.connection) : Fields{};
        add(fields, "limit", event.limit);
        add(fields, "detail", event.detail);
        write(LoggingLevel::warning, "limit", fields);
    } catch (...) {
    }
}

inline void AccessLog::on_rpc_request(const RpcRequestInfo& request) {
    const bool failed = request.outcome == RpcOutcome::error || request.outcome == RpcOutcome::timed_out;
    const LoggingLevel level = failed ? LoggingLevel::warning : LoggingLevel::debug;
    if (!enabled(level)) return;
    try {
        Fields fields;
        add(fields, "session", short_session_id(request.session_id));
        fields.emplace_back("duration_ms", Milliseconds{request.duration});
        add(fields, "rpc_method", request.method);
        add(fields, "tool", request.tool);
        fields.emplace_back("outcome", detail::to_string(request.outcome));
        if (request.error_code != 0) fields.emplace_back("error_code", static_cast<std::int64_t>(request.error_code));
        write(level, "rpc", fields);
    } catch (...) {
    }
}

inline void AccessLog::on_authorization(const AuthorizationEvent& event) {
    const bool refused = event.status != 0;
    const LoggingLevel level = refused ? LoggingLevel::warning : LoggingLevel::info;
    if (!enabled(level)) return;
    try {
        Fields fields = connection_fields(event.connection);
        add(fields, "subject", event.subject);
        add(fields, "method", event.method);
        add(fields, "path", detail::path_without_query(event.path));
        if (refused) fields.emplace_back("status", static_cast<std::int64_t>(event.status));
        add(fields, "reason", event.reason);
        write(level, refused ? "authorization_refused" : "token_accepted", fields);
    } catch (...) {
    }
}

}  // namespace mcpsse
