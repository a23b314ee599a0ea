// mcpsse internal: an owned copy of one hiredis reply.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mcpsse::detail {

/// One Redis reply, copied out of hiredis's `redisReply` (which hiredis frees when the
/// callback returns). RESP2 types only (hiredis 0.14 has no RESP3).
struct RedisValue {
    enum class Type { nil, string, status, error, integer, array };
    Type type = Type::nil;
    /// string, status and error replies.
    std::string str;
    /// integer replies.
    long long integer = 0;
    /// array replies.
    std::vector<RedisValue> elements;

    [[nodiscard]] bool is_error() const noexcept { return type == Type::error; }
    [[nodiscard]] bool is_nil() const noexcept { return type == Type::nil; }

    /// Copies `reply` (null: a nil value).
    static RedisValue from(const redisReply* reply) {
        RedisValue v;
        if (!reply) return v;
        switch (reply->type) {
        case REDIS_REPLY_STRING: v.type = Type::string; break;
        case REDIS_REPLY_STATUS: v.type = Type::status; break;
        case REDIS_REPLY_ERROR: v.type = Type::error; break;
        case REDIS_REPLY_INTEGER: v.type = Type::integer; break;
        case REDIS_REPLY_ARRAY: v.type = Type::array; break;
        default: v.type = Type::nil; break;
        }
        if (v.type == Type::string || v.type == Type::status || v.type == Type::error)
            v.str.assign(reply->str, reply->len);
        if (v.type == Type::integer) v.integer = reply->integer;
        if (v.type == Type::array) {
            v.elements.reserve(reply->elements);
            for (std::size_t i = 0; i < reply->elements; ++i) v.elements.push_back(from(reply->element[i]));
        }
        return v;
    }
};

}  // namespace mcpsse::detail
