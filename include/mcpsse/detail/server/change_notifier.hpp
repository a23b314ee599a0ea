// mcpsse internal: change notifications of a `Server` (`notifications/*/list_changed`,
// `notifications/resources/updated`): the 2026-07-28 `subscriptions/listen` streams
// they are relayed on, and the host's observer.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/meta_key.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/detail/server/result_members.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// The lists whose changes are announced: `tools` (`notifications/tools/list_changed`,
/// filter key `toolsListChanged`), `prompts` and `resources` likewise (resource
/// templates count as resources).
enum class ListKind { tools, prompts, resources };

/// Announces changes to every open `subscriptions/listen` stream whose filter asks for
/// them, and to the host's observer (`Server::on_change`).
///
/// Errors (`RpcError`): `subscriptions/listen` outside a stateless request or as a
/// notification -> -32601; `params.notifications` not an object -> -32602.
/// Thread-safety: all member functions are thread-safe. One mutex guards the listener
/// list and the observer and is never held while calling out; a listener's queue and
/// state are touched on that listener's executor only (notifications are posted there).
class ChangeNotifier {
public:
    /// A function observing every change: the notification's method and params.
    using Observer = std::function<void(const std::string& method, const nlohmann::json& params)>;

    /// No listeners, no observer. `list_changed`: whether listen streams may ask for the
    /// `list_changed` notifications (`ServerOptions::list_changed`).
    explicit ChangeNotifier(bool list_changed) : list_changed_(list_changed) {}

    /// Announces `notifications/<kind>/list_changed`; returns the number of streams told.
    std::size_t list_changed(ListKind kind) {
        const char* key = kind == ListKind::tools     ? "toolsListChanged"
                          : kind == ListKind::prompts ? "promptsListChanged"
                                                      : "resourcesListChanged";
        const char* method = kind == ListKind::tools     ? "notifications/tools/list_changed"
                             : kind == ListKind::prompts ? "notifications/prompts/list_changed"
                                                         : "notifications/resources/list_changed";
        return broadcast([key](const nlohmann::json& filter) { return filter.value(key, false); }, method,
                         nlohmann::json::object());
    }

    /// Announces `notifications/resources/updated` for `uri` to the streams whose
    /// `resourceSubscriptions` list it; returns the number of streams told.
    std::size_t resource_updated(const std::string& uri) {
        const nlohmann::json params = {{"uri", uri}};
        return broadcast(
            [&](const nlohmann::json& filter) {
                const auto it = filter.find("resourceSubscriptions");
                return it != filter.end() && it->is_array() &&
                       std::find(it->begin(), it->end(), nlohmann::json(uri)) != it->end();
            },
            "notifications/resources/updated", params);
    }

    /// Replaces the observer (an empty one removes it). It is called on the thread that
    /// caused the change, without any lock held.
    void set_observer(Observer observer) {
        std::lock_guard lock(mutex_);
        observer_ = std::move(observer);
    }

    /// Number of open listen streams.
    [[nodiscard]] std::size_t listener_count() const {
        std::lock_guard lock(mutex_);
        return listeners_.size();
    }

    /// Ends every open listen stream with its final result; later streams are served.
    void close_listeners() {
        std::vector<std::shared_ptr<Listener>> all;
        {
            std::lock_guard lock(mutex_);
            all = listeners_;
        }
        for (auto& listener : all)
            asio::post(listener->executor, [listener] {
                listener->closed = true;
                listener->timer.cancel();
            });
    }

    /// `subscriptions/listen` (2026-07-28): acknowledges the filter the server will honour
    /// (`notifications/subscriptions/acknowledged`), then relays the notifications it asks
    /// for, each tagged with the subscription id (the request id) in `_meta`, until the
    /// client closes the stream (the transport cancels the handler) or `close_listeners`.
    asio::awaitable<nlohmann::json> listen(nlohmann::json params, RequestContext& context) {
        if (!stateless(context) || !context.id()) throw RpcError(error_code::method_not_found, "Method not found");
        const auto requested = params.find("notifications");
        if (requested == params.end() || !requested->is_object())
            throw RpcError(error_code::invalid_params, "Invalid params: notifications must be an object");
        nlohmann::json filter = nlohmann::json::object();
        for (const char* key : {"toolsListChanged", "promptsListChanged", "resourcesListChanged"})
            if (requested->value(key, false) && list_changed_) filter[key] = true;
        if (const auto r = requested->find("resourceSubscriptions"); r != requested->end() && r->is_array())
            filter["resourceSubscriptions"] = *r;
        const nlohmann::json id = json_rpc::id_to_json(*context.id());
        const auto executor = co_await asio::this_coro::executor;
        auto listener = std::make_shared<Listener>(executor, id, filter);
        {
            std::lock_guard lock(mutex_);
            listeners_.push_back(listener);
        }
        struct Unregister {
            ChangeNotifier* notifier;
            std::shared_ptr<Listener> listener;
            ~Unregister() {
                std::lock_guard lock(notifier->mutex_);
                std::erase(notifier->listeners_, listener);
            }
        } unregister{this, listener};

        nlohmann::json meta = {{std::string(meta_key::subscription_id), id}};
        nlohmann::json ack = {{"notifications", filter}, {"_meta", meta}};
        co_await context.async_notify("notifications/subscriptions/acknowledged", std::move(ack));
        for (;;) {
            while (!listener->queue.empty()) {
                auto [method, note] = std::move(listener->queue.front());
                listener->queue.pop_front();
                note["_meta"] = meta;
                co_await context.async_notify(std::move(method), std::move(note));
            }
            if (listener->closed || context.is_cancelled()) break;
            listener->timer.expires_after(std::chrono::hours(24));
            std::error_code ec;
            co_await listener->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            const auto state = co_await asio::this_coro::cancellation_state;
            if (state.cancelled() != asio::cancellation_type::none) throw std::system_error(asio::error::operation_aborted);
        }
        nlohmann::json result = {{"_meta", meta}};
        finish_result(result, context);
        co_return result;
    }

private:
    // One open listen stream. Only `executor`, `subscription_id` and `filter` are read
    // off the executor (they never change).
    struct Listener {
        Listener(asio::any_io_executor ex, nlohmann::json id, nlohmann::json f)
            : executor(std::move(ex)), timer(executor), subscription_id(std::move(id)), filter(std::move(f)) {}
        asio::any_io_executor executor;
        asio::steady_timer timer;
        nlohmann::json subscription_id;
        nlohmann::json filter;
        std::deque<std::pair<std::string, nlohmann::json>> queue;  // touched on `executor` only
        bool closed = false;                                       // touched on `executor` only
    };

    // Tells the observer, then posts (method, params) to each stream `wants(filter)`.
    template <class Wants>
    std::size_t broadcast(Wants wants, const char* method, const nlohmann::json& params) {
        std::vector<std::shared_ptr<Listener>> targets;
        Observer observer;
        {
            std::lock_guard lock(mutex_);
            for (const auto& l : listeners_)
                if (wants(l->filter)) targets.push_back(l);
            observer = observer_;
        }
        if (observer) observer(method, params);
        for (auto& listener : targets)
            asio::post(listener->executor, [listener, m = std::string(method), p = params]() mutable {
                listener->queue.emplace_back(std::move(m), std::move(p));
                listener->timer.cancel();
            });
        return targets.size();
    }

    const bool list_changed_;
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<Listener>> listeners_;
    Observer observer_;
};

}  // namespace mcpsse::detail
