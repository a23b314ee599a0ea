// mcpsse internal: the messages a transport instance relays to and receives from the
// other instances sharing its sessions through a RelayStore.
#pragma once

#include <mcpsse/json_rpc.hpp>
#include <mcpsse/relay_store.hpp>
#include <mcpsse/detail/mcp/instance_lease.hpp>
#include <mcpsse/detail/mcp/session_registry.hpp>
#include <mcpsse/detail/mcp/session_state.hpp>
#include <mcpsse/detail/sse/event_id.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// One transport instance's side of the relay (`RelayStore`):
/// - sending (`SessionRelay`, from any thread, never waiting): a client's answer to
///   another instance's server-to-client request goes to that instance's inbox; a
///   notification for a session whose standalone stream another instance holds goes to
///   that instance, or into that stream's record when the instance is gone
///   (`async_relay_notification`); a broadcast goes to all;
/// - receiving (`run()`, on one strand until `stop()`): reads the inbox and the
///   broadcasts, delivers each message once and then removes it from the inbox: an
///   answer to the session's waiting request, a notification to the session's
///   standalone stream here (relayed on to
///   the holder when the client moved the stream away meanwhile; dropped when the
///   session is no longer here), a broadcast of another instance to
///   `deliver_broadcast` (this instance's own were delivered when sent), a logging
///   level to the session's copy here, a cancellation to the request running here, a
///   `stream_moved` to the session here: its standalone stream's connection ends, the
///   events it stored in that stream after the new holder's last read of it are
///   passed on to the new holder, and its notifications are relayed there from then
///   on (a late one ends a connection that attached again meanwhile; its client
///   resumes, losing nothing, and attaching again here makes this instance the holder
///   again).
/// A read that fails (the store is down) is retried every 100 ms, from where it stood.
/// (Unconstrained, so that a transport can name it for any store; only a `RelayStore`
/// instantiates it.)
template <class Store>
class Relay final : public SessionRelay {
public:
    /// `deliver_broadcast(message)`: sends another instance's broadcast to the standalone
    /// streams this one holds.
    Relay(Store& store, SessionRegistry<Store>& sessions, const asio::any_io_executor& executor,
          std::function<void(const std::string&)> deliver_broadcast)
        : store_(store), sessions_(sessions), executor_(executor), timer_(executor),
          name_(detail::instance_name(sessions.instance_tag())), deliver_broadcast_(std::move(deliver_broadcast)) {}

    [[nodiscard]] const std::string& instance_name() const noexcept override { return name_; }

    void relay_notification(const std::string& session_id, std::string message) override {
        sent_.fetch_add(1, std::memory_order_relaxed);
        // Started here, not in a coroutine of its own: when `deliver` passes on an inbox
        // message, Redis applies this before the removal of that message.
        std::string copy = message;
        store_.async_relay_notification(
            session_id, name_, std::move(copy),
            asio::bind_executor(executor_, [this, session_id, message = std::move(message)](
                                               std::error_code ec, NotificationRelay outcome) mutable {
                // Recorded here, but the stream is gone (e.g. the session idled out here).
                if (!ec && outcome == NotificationRelay::holder_is_sender)
                    if (auto session = sessions_.find(session_id)) session->send_local(std::move(message));
            }));
    }

    void relay_answer(std::string issuer, const std::string& session_id, const Message& answer) override {
        sent_.fetch_add(1, std::memory_order_relaxed);
        RelayedMessage m;
        m.kind = RelayedMessage::Kind::response;
        m.origin = name_;
        m.session_id = session_id;
        m.message = json_rpc::serialize(answer);
        store_.async_relay(issuer, std::move(m), [](std::error_code) {});
    }

    void share_logging_level(const std::string& session_id, LoggingLevel level) override {
        sent_.fetch_add(1, std::memory_order_relaxed);
        const std::string name(to_string(level));
        store_.async_save_logging_level(session_id, name, [](std::error_code) {});
        RelayedMessage m;
        m.kind = RelayedMessage::Kind::logging_level;
        m.origin = name_;
        m.session_id = session_id;
        m.message = name;
        store_.async_relay_broadcast(std::move(m), [](std::error_code) {});
    }

    void relay_cancellation(const std::string& session_id, const RequestId& id) override {
        sent_.fetch_add(1, std::memory_order_relaxed);
        RelayedMessage m;
        m.kind = RelayedMessage::Kind::cancellation;
        m.origin = name_;
        m.session_id = session_id;
        m.message = json_rpc::id_to_json(id).dump();
        store_.async_relay_broadcast(std::move(m), [](std::error_code) {});
    }

    void relay_stream_moved(std::string former, const std::string& session_id,
                            std::optional<EventId> read_up_to) override {
        sent_.fetch_add(1, std::memory_order_relaxed);
        RelayedMessage m;
        m.kind = RelayedMessage::Kind::stream_moved;
        m.origin = name_;
        m.session_id = session_id;
        if (read_up_to) m.message = std::string(EventIdText(*read_up_to).view());
        store_.async_relay(former, std::move(m), [](std::error_code) {});
    }

    /// Sends `message` (a serialized notification) to every other instance, which
    /// deliver it to the standalone streams they hold. Thread-safe; not waiting.
    void relay_broadcast(std::string message) {
        sent_.fetch_add(1, std::memory_order_relaxed);
        RelayedMessage m;
        m.kind = RelayedMessage::Kind::broadcast;
        m.origin = name_;
        m.message = std::move(message);
        store_.async_relay_broadcast(std::move(m), [](std::error_code) {});
    }

    /// Receives and delivers relayed messages until `stop()`.
    asio::awaitable<void> run() {
        receiver_ = store_.make_relay_receiver();
        RelayCursor cursor;
        while (!stopped_) {
            std::error_code ec;
            std::vector<RelayedMessage> messages =
                co_await receiver_->async_receive(name_, cursor, asio::redirect_error(asio::use_awaitable, ec));
            if (stopped_) break;
            // Delivered, then removed from the inbox: what a delivery stores (a
            // notification's event, or its relay on) was started first, so Redis has it
            // before the removal, and a dead instance's inbox keeps only what it never
            // delivered (claimed by a takeover of its streams).
            std::vector<std::string> delivered_entries;
            for (auto& m : messages) {
                if (!m.inbox_entry.empty()) delivered_entries.push_back(m.inbox_entry);
                deliver(std::move(m));
            }
            if (!delivered_entries.empty())
                store_.async_remove_relayed(name_, std::move(delivered_entries), [](std::error_code) {});
            if (ec) {
                timer_.expires_after(std::chrono::milliseconds(100));
                co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
        }
        receiver_->close();
    }

    /// Ends `run()` (a waiting read ends at once). Call on `run()`'s strand.
    void stop() {
        stopped_ = true;
        timer_.cancel();
        if (receiver_) receiver_->close();
    }

    /// Messages relayed to other instances, and relayed messages delivered here, so far.
    /// Thread-safe.
    [[nodiscard]] RelayStats stats() const noexcept {
        RelayStats s;
        s.sent = sent_.load(std::memory_order_relaxed);
        s.delivered = delivered_.load(std::memory_order_relaxed);
        return s;
    }

private:
    // Relays the events of `session`'s standalone stream after `after` to the instance
    // now holding it, as notifications (a server-to-client request among them is
    // answered to this instance, by its id).
    asio::awaitable<void> pass_on_stored_after(std::shared_ptr<SseSessionState> session, EventId after) {
        const ReplayResult later = co_await session->event_log()->async_replay_after(after);
        if (!later) co_return;
        for (const auto& event : *later)
            if (!event.message.empty()) relay_notification(session->id(), event.message);
    }

    void deliver(RelayedMessage m) {
        switch (m.kind) {
        case RelayedMessage::Kind::response: {
            auto session = sessions_.find(m.session_id);
            if (!session) return;  // the asking session is gone from here: its request failed
            mcpsse::ParseResult parsed = json_rpc::parse_messages(m.message);
            if (parsed.messages.size() != 1) return;
            delivered_.fetch_add(1, std::memory_order_relaxed);
            session->rpc()->deliver_answer(std::move(parsed.messages.front()));
            return;
        }
        case RelayedMessage::Kind::notification:
            if (auto session = sessions_.find(m.session_id)) {
                if (!session->holds_standalone()) {
                    // Relayed here before the stream moved on: to its holder now.
                    relay_notification(m.session_id, std::move(m.message));
                    return;
                }
                if (session->send_local(std::move(m.message))) delivered_.fetch_add(1, std::memory_order_relaxed);
            }
            return;
        case RelayedMessage::Kind::broadcast:
            if (m.origin == name_) return;  // delivered here when it was sent
            delivered_.fetch_add(1, std::memory_order_relaxed);
            deliver_broadcast_(m.message);
            return;
        case RelayedMessage::Kind::cancellation: {
            if (m.origin == name_) return;  // not running here
            auto session = sessions_.find(m.session_id);
            if (!session) return;
            const auto id = json_rpc::id_from_json(nlohmann::json::parse(m.message, nullptr, false));
            if (id && session->rpc()->cancel_request(*id)) delivered_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        case RelayedMessage::Kind::stream_moved:
            if (auto session = sessions_.find(m.session_id)) {
                delivered_.fetch_add(1, std::memory_order_relaxed);
                session->set_standalone_moved(true);
                auto stream = session->existing_standalone_stream();
                if (!stream) return;
                stream->close_connection(std::nullopt);
                // What this instance stored in the stream after the new holder's last
                // read of it, before the move was known here: passed on to it.
                const auto read_up_to = parse_event_id(m.message);
                if (read_up_to && read_up_to->stream == stream->number() && session->event_log())
                    asio::co_spawn(executor_, pass_on_stored_after(std::move(session), *read_up_to), asio::detached);
            }
            return;
        case RelayedMessage::Kind::logging_level:
            if (m.origin == name_) return;  // set here
            if (auto session = sessions_.find(m.session_id))
                if (const auto level = logging_level_from_string(m.message)) {
                    delivered_.fetch_add(1, std::memory_order_relaxed);
                    session->rpc()->set_log_level(*level);
                }
            return;
        }
    }

    Store& store_;
    SessionRegistry<Store>& sessions_;
    asio::any_io_executor executor_;
    asio::steady_timer timer_;  // pause after a failed read
    std::string name_;
    std::function<void(const std::string&)> deliver_broadcast_;
    std::shared_ptr<typename decltype(std::declval<Store&>().make_relay_receiver())::element_type> receiver_;
    bool stopped_ = false;
    std::atomic<std::uint64_t> sent_{0};
    std::atomic<std::uint64_t> delivered_{0};
};

}  // namespace mcpsse::detail
