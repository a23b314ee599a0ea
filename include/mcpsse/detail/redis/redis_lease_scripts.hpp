// mcpsse internal: the Lua scripts of RedisStore's leases (run with EVAL, each atomic
// in Redis), and the parsing of a lease's value.
#pragma once

#include <mcpsse/lease.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// A lease is one key whose value is `<fence>:<owner>`, with a time to live, next to
/// a counter key handing out the fencing tokens.
struct RedisLeaseScripts {
    /// KEYS[1] lease, KEYS[2] counter; ARGV[1] owner, ARGV[2] ttl ms, ARGV[3] counter
    /// life ms. Free: a new token, the lease set with `SET NX PX`; held by ARGV[1]:
    /// renewed, its token again; held by another: nil.
    static constexpr std::string_view acquire =
        "local v = redis.call('GET', KEYS[1])\n"
        "if v then\n"
        "  local f, o = string.match(v, '^(%d+):(.*)$')\n"
        "  if o == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]); return tonumber(f) end\n"
        "  return false\n"
        "end\n"
        "local f = redis.call('INCR', KEYS[2])\n"
        "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
        "if redis.call('SET', KEYS[1], f .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2]) then return f end\n"
        "return false\n";
    /// KEYS[1] lease; ARGV[1] `<fence>:<owner>`, ARGV[2] ttl ms: 1 when renewed, 0 when
    /// that grant no longer holds it.
    static constexpr std::string_view renew =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end\n"
        "return 0\n";
    /// KEYS[1] lease; ARGV[1] `<fence>:<owner>`: 1 when released, 0 when that grant no
    /// longer held it.
    static constexpr std::string_view release =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
        "return 0\n";

    /// The value of `lease`.
    [[nodiscard]] static std::string value(const Lease& lease) { return std::to_string(lease.fence) + ":" + lease.owner; }

    /// `<fence>:<owner>` -> the lease; nullopt when malformed.
    [[nodiscard]] static std::optional<Lease> parse(std::string_view text) {
        const auto colon = text.find(':');
        if (colon == std::string_view::npos || colon == 0) return std::nullopt;
        Lease lease;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + colon, lease.fence);
        if (ec != std::errc{} || end != text.data() + colon) return std::nullopt;
        lease.owner = std::string(text.substr(colon + 1));
        return lease;
    }
};

}  // namespace mcpsse::detail
