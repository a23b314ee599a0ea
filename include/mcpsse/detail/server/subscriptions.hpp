// mcpsse internal: resource subscriptions of session-based clients
// (`resources/subscribe` and `resources/unsubscribe`, before 2026-07-28).
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/subscription_store.hpp>
#include <mcpsse/detail/server/params.hpp>
#include <mcpsse/detail/server/result_members.hpp>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// Which session (a transport's session id; empty for stdio) subscribed to which
/// resource URI, at most `max_per_session` URIs per session. It only records: sending
/// `notifications/resources/updated` to those sessions is up to the host. With a
/// `SubscriptionStore` (sessions shared by several instances) every change is recorded
/// there as well, first, and `async_subscribers` reads the store.
///
/// Errors (`RpcError`): both methods under a stateless revision -> -32601; a missing
/// `uri` or one subscription too many -> -32602; a store that failed -> -32603.
/// Thread-safety: all member functions are thread-safe (one mutex).
class ResourceSubscriptions {
public:
    /// No subscriptions; each session may hold `max_per_session` of them; `store` (may
    /// be null): where they are shared.
    explicit ResourceSubscriptions(std::size_t max_per_session, std::shared_ptr<SubscriptionStore> store = nullptr)
        : max_per_session_(max_per_session), store_(std::move(store)) {}

    /// `resources/subscribe`: records (session, `params.uri`); an empty result.
    asio::awaitable<nlohmann::json> subscribe(nlohmann::json params, RequestContext& context) {
        if (stateless(context)) throw RpcError(error_code::method_not_found, "Method not found");
        const auto uri = required_string(params, "uri");
        if (store_) {
            bool recorded = false;
            std::string session(context.session_id());
            try {
                recorded = co_await store_->async_subscribe(std::move(session), uri, max_per_session_);
            } catch (const std::exception&) {
                throw RpcError(error_code::internal_error, "Internal error: the subscription store failed");
            }
            if (!recorded) throw too_many();
        }
        {
            std::lock_guard lock(mutex_);
            std::string session(context.session_id());
            if (!entries_.contains({session, uri})) {
                std::size_t held = 0;
                for (auto it = entries_.lower_bound({session, std::string()}); it != entries_.end() && it->first == session;
                     ++it)
                    ++held;
                if (held >= max_per_session_) throw too_many();
                entries_.emplace(std::move(session), uri);
            }
        }
        co_return nlohmann::json::object();
    }

    /// `resources/unsubscribe`: forgets (session, `params.uri`); an empty result.
    asio::awaitable<nlohmann::json> unsubscribe(nlohmann::json params, RequestContext& context) {
        if (stateless(context)) throw RpcError(error_code::method_not_found, "Method not found");
        const auto uri = required_string(params, "uri");
        if (store_) {
            bool failed = false;
            std::string session(context.session_id());
            try {
                co_await store_->async_unsubscribe(std::move(session), uri);
            } catch (const std::exception&) {
                failed = true;
            }
            if (failed) throw RpcError(error_code::internal_error, "Internal error: the subscription store failed");
        }
        {
            std::lock_guard lock(mutex_);
            entries_.erase({std::string(context.session_id()), uri});
        }
        co_return nlohmann::json::object();
    }

    /// True when subscriptions are shared through a store.
    [[nodiscard]] bool shared() const noexcept { return store_ != nullptr; }

    /// The sessions subscribed to `uri`: from the store when there is one (throws what it
    /// throws), else from this table.
    asio::awaitable<std::vector<std::string>> async_subscribers(std::string uri) const {
        if (store_) co_return co_await store_->async_subscribers(std::move(uri));
        std::vector<std::string> out;
        std::lock_guard lock(mutex_);
        for (const auto& [session, subscribed] : entries_)
            if (subscribed == uri) out.push_back(session);
        co_return out;
    }

    /// Forgets every subscription of `session_id` in the store (nothing without one);
    /// throws what it throws.
    asio::awaitable<void> async_forget_shared(std::string session_id) const {
        if (store_) co_await store_->async_forget_session(std::move(session_id));
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
    RpcError too_many() const {
        return RpcError(error_code::invalid_params,
                        "Invalid params: at most " + std::to_string(max_per_session_) + " subscriptions per session",
                        {{"max_subscriptions", max_per_session_}});
    }

    const std::size_t max_per_session_;
    const std::shared_ptr<SubscriptionStore> store_;
    mutable std::mutex mutex_;
    std::set<std::pair<std::string, std::string>> entries_;  // (session id, uri)
};

}  // namespace mcpsse::detail
