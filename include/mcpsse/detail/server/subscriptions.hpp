// mcpsse internal: resource subscriptions of session-based clients
// (`resources/subscribe` and `resources/unsubscribe`, before 2026-07-28).
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/detail/server/params.hpp>
#include <mcpsse/detail/server/result_members.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace mcpsse::detail {

/// Which session (a transport's session id; empty for stdio) subscribed to which
/// resource URI, at most `max_per_session` URIs per session. It only records: sending
/// `notifications/resources/updated` to those sessions is up to the host.
///
/// Errors (`RpcError`): both methods under a stateless revision -> -32601; a missing
/// `uri` or one subscription too many -> -32602. Thread-safety: all member functions
/// are thread-safe (one mutex).
class ResourceSubscriptions {
public:
    /// No subscriptions; each session may hold `max_per_session` of them.
    explicit ResourceSubscriptions(std::size_t max_per_session) : max_per_session_(max_per_session) {}

    /// `resources/subscribe`: records (session, `params.uri`); an empty result.
    asio::awaitable<nlohmann::json> subscribe(nlohmann::json params, RequestContext& context) {
        if (stateless(context)) throw RpcError(error_code::method_not_found, "Method not found");
        const auto uri = required_string(params, "uri");
        {
            std::lock_guard lock(mutex_);
            std::string session(context.session_id());
            if (!entries_.contains({session, uri})) {
                std::size_t held = 0;
                for (auto it = entries_.lower_bound({session, std::string()}); it != entries_.end() && it->first == session;
                     ++it)
                    ++held;
                if (held >= max_per_session_)
                    throw RpcError(error_code::invalid_params,
                                   "Invalid params: at most " + std::to_string(max_per_session_) +
                                       " subscriptions per session",
                                   {{"max_subscriptions", max_per_session_}});
                entries_.emplace(std::move(session), uri);
            }
        }
        co_return nlohmann::json::object();
    }

    /// `resources/unsubscribe`: forgets (session, `params.uri`); an empty result.
    asio::awaitable<nlohmann::json> unsubscribe(nlohmann::json params, RequestContext& context) {
        if (stateless(context)) throw RpcError(error_code::method_not_found, "Method not found");
        const auto uri = required_string(params, "uri");
        {
            std::lock_guard lock(mutex_);
            entries_.erase({std::string(context.session_id()), uri});
        }
        co_return nlohmann::json::object();
    }

    /// True when `session_id` subscribed to `uri` and has not unsubscribed.
    [[nodiscard]] bool contains(std::string_view session_id, std::string_view uri) const {
        std::lock_guard lock(mutex_);
        return entries_.contains({std::string(session_id), std::string(uri)});
    }

    /// Forgets every subscription of `session_id`.
    void forget_session(std::string_view session_id) {
        std::lock_guard lock(mutex_);
        const std::string session(session_id);
        const auto first = entries_.lower_bound({session, std::string()});
        auto last = first;
        while (last != entries_.end() && last->first == session) ++last;
        entries_.erase(first, last);
    }

private:
    const std::size_t max_per_session_;
    mutable std::mutex mutex_;
    std::set<std::pair<std::string, std::string>> entries_;  // (session id, uri)
};

}  // namespace mcpsse::detail
