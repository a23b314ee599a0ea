// mcpsse: the errors of the Redis-backed stores (mcpsse::redis component).
#pragma once

#include <string>
#include <system_error>
#include <type_traits>

namespace mcpsse {

/// Why an operation of `RedisStore` (or its task store) failed. Reported as a
/// `std::error_code` of `redis_category()` to completion handlers, and thrown in a
/// `std::system_error` by the `TaskStore` coroutines. None of these reaches an MCP
/// client directly: the transport treats a failed append as an event that cannot be
/// replayed, a failed load as an unknown session (404) and a failed task load as
/// -32603 (see the store concepts).
enum class RedisErrc {
    /// The store has no connection to Redis right now (never connected, or the
    /// connection dropped and the next attempt has not succeeded yet). Retry later.
    not_connected = 1,
    /// The connection dropped while the command was in flight: it may or may not have
    /// been applied.
    connection_lost,
    /// No reply within `RedisStoreOptions::command_timeout` (or no connection within
    /// `connect_timeout`); the connection is then dropped and made again. Like
    /// `connection_lost`, the command may still have been applied (Redis runs what it
    /// had already read).
    timed_out,
    /// Redis answered with an error reply (e.g. a wrong type, `XADD` with an id not
    /// above the stream's last one, out of memory).
    server_error,
    /// Redis refused the credentials (`AUTH`), or `SELECT` of the database failed.
    auth_failed,
    /// A reply of an unexpected shape, or a stored value that is not valid JSON.
    bad_reply,
    /// The URL given to the store is not `redis://[[user]:password@]host[:port][/db]`.
    bad_url,
    /// The store was closed (`RedisStore::close`, or its last copy went away).
    closed,
};

namespace detail {

class RedisCategory final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "mcpsse.redis"; }
    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<RedisErrc>(value)) {
        case RedisErrc::not_connected: return "not connected to Redis";
        case RedisErrc::connection_lost: return "connection to Redis lost while the command was in flight";
        case RedisErrc::timed_out: return "Redis did not answer in time";
        case RedisErrc::server_error: return "Redis answered with an error";
        case RedisErrc::auth_failed: return "Redis refused AUTH or SELECT";
        case RedisErrc::bad_reply: return "unexpected reply from Redis";
        case RedisErrc::bad_url: return "bad Redis URL (expected redis://[[user]:password@]host[:port][/db])";
        case RedisErrc::closed: return "Redis store closed";
        }
        return "unknown Redis error";
    }
};

}  // namespace detail

/// The error category of `RedisErrc` (name "mcpsse.redis"). Thread-safety: a
/// function-local static, safe from any thread.
inline const std::error_category& redis_category() noexcept {
    static const detail::RedisCategory category;
    return category;
}

/// Makes `RedisErrc` values usable as `std::error_code` (found by ADL).
inline std::error_code make_error_code(RedisErrc e) noexcept { return {static_cast<int>(e), redis_category()}; }

}  // namespace mcpsse

/// `RedisErrc` converts implicitly to `std::error_code`.
template <>
struct std::is_error_code_enum<mcpsse::RedisErrc> : std::true_type {};
