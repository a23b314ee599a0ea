// mcpsse internal: the SubscriptionStore of a RedisStore.
#pragma once

#include <mcpsse/detail/redis/redis_connection.hpp>
#include <mcpsse/redis_error.hpp>
#include <mcpsse/subscription_store.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// Resource subscriptions in two Redis sets: `<prefix>{<session>}:subscriptions` (the
/// session's URIs; it expires with the session's other keys) and
/// `<prefix>subscribers:{<uri>}` (the sessions subscribed to the URI; its expiry is
/// renewed to `ttl` by each subscription). A subscription is one Lua script (the limit
/// check and both sets at once), and so is the lookup of a URI's subscribers, which
/// keeps only the sessions whose own set still lists the URI and removes the others
/// (sessions that ended without DELETE, whose keys expired). The keys are in
/// different Redis Cluster slots (mcpsse's Redis client speaks to one server).
/// Errors: throws `std::system_error` with a `RedisErrc` (or the connection's error).
/// Thread-safety: any thread; the coroutines run on the caller's executor.
class RedisSubscriptionStore final : public SubscriptionStore {
public:
    RedisSubscriptionStore(std::shared_ptr<RedisConnection> connection, std::string prefix, std::chrono::milliseconds ttl)
        : connection_(std::move(connection)), prefix_(std::move(prefix)), ttl_(ttl) {}

    asio::awaitable<bool> async_subscribe(std::string session_id, std::string uri, std::size_t max_per_session) override {
        RedisConnection::Command cmd{"EVAL", std::string(subscribe_script), "2", session_key(session_id), uri_key(uri),
                                     uri, session_id, std::to_string(max_per_session), std::to_string(ttl_.count())};
        const RedisValue reply = co_await connection_->async_command(std::move(cmd), asio::use_awaitable);
        check(reply);
        co_return reply.type == RedisValue::Type::integer && reply.integer == 1;
    }

    asio::awaitable<void> async_unsubscribe(std::string session_id, std::string uri) override {
        std::vector<RedisConnection::Command> cmds;
        cmds.push_back({"SREM", session_key(session_id), uri});
        cmds.push_back({"SREM", uri_key(uri), session_id});
        const auto replies = co_await connection_->async_pipeline(std::move(cmds), asio::use_awaitable);
        for (const auto& r : replies) check(r);
    }

    asio::awaitable<std::vector<std::string>> async_subscribers(std::string uri) override {
        RedisConnection::Command cmd{"EVAL", std::string(subscribers_script), "1", uri_key(uri), prefix_, uri};
        const RedisValue reply = co_await connection_->async_command(std::move(cmd), asio::use_awaitable);
        check(reply);
        std::vector<std::string> out;
        for (const auto& member : reply.elements)
            if (member.type == RedisValue::Type::string) out.push_back(member.str);
        co_return out;
    }

    asio::awaitable<void> async_forget_session(std::string session_id) override {
        const std::string key = session_key(session_id);
        RedisConnection::Command members{"SMEMBERS", key};
        const RedisValue uris = co_await connection_->async_command(std::move(members), asio::use_awaitable);
        check(uris);
        std::vector<RedisConnection::Command> cmds;
        for (const auto& uri : uris.elements)
            if (uri.type == RedisValue::Type::string) cmds.push_back({"SREM", uri_key(uri.str), session_id});
        cmds.push_back({"DEL", key});
        const auto replies = co_await connection_->async_pipeline(std::move(cmds), asio::use_awaitable);
        for (const auto& r : replies) check(r);
    }

    /// The key of the session's set of URIs.
    [[nodiscard]] std::string session_key(const std::string& session_id) const {
        return prefix_ + "{" + session_id + "}:subscriptions";
    }
    /// The key of the URI's set of sessions.
    [[nodiscard]] std::string uri_key(const std::string& uri) const { return prefix_ + "subscribers:{" + uri + "}"; }

private:
    // KEYS: the session's set, the URI's set; ARGV: uri, session, limit, ttl (ms).
    // 1: recorded (or there already); 0: the session is at the limit.
    static constexpr std::string_view subscribe_script = R"lua(
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 and redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
)lua";

    // KEYS: the URI's set; ARGV: the key prefix, the uri. The sessions whose own set
    // lists the uri; the others are removed from the URI's set.
    static constexpr std::string_view subscribers_script = R"lua(
local live = {}
for _, session in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('SISMEMBER', ARGV[1] .. '{' .. session .. '}:subscriptions', ARGV[2]) == 1 then
    live[#live + 1] = session
  else
    redis.call('SREM', KEYS[1], session)
  end
end
return live
)lua";

    static void check(const RedisValue& reply) {
        if (reply.is_error()) throw std::system_error(RedisErrc::server_error, reply.str);
    }

    std::shared_ptr<RedisConnection> connection_;
    std::string prefix_;
    std::chrono::milliseconds ttl_;
};

}  // namespace mcpsse::detail
