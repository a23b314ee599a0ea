// mcpsse internal: requests a session sent to its client, waiting for the answers.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/rpc/message_sink.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/dispatch.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace mcpsse::detail {

/// A server-to-client request waiting for the client's answer. Every member is used on
/// the executor of the handler that sent the request (`timer`'s).
struct PendingRequest {
    explicit PendingRequest(const asio::any_io_executor& executor) : timer(executor) {}
    /// Woken (cancelled) when the answer arrives or the session closes.
    asio::steady_timer timer;
    /// The client's answer (a `Response` or an `ErrorResponse`).
    std::optional<Message> reply;
    /// Set when the session closed before an answer arrived.
    bool closed = false;
};

/// The server-to-client requests of one session (`sampling/createMessage`,
/// `elicitation/create`, ...): issues their ids, matches the client's answers to the
/// waiting handlers, and fails the waiters when the session closes. Ids are integers
/// counting from 0, or, after `set_id_prefix(p)`, strings `p<n>` (a transport sharing
/// its sessions with other instances names itself in them, so that any instance can
/// tell whose request an answer is for: `issuer_of`).
///
/// Thread-safety: a mutex guards the table, the id counter and the closed flag, so every
/// member is safe from any thread; `async_request` runs inside a handler whose executor
/// serializes its work (a strand, or a context one thread runs), and the answer and
/// `close()` reach it there.
class PendingRequests {
public:
    /// Sends a request on `sink` and waits for the answer (see
    /// `RequestContext::async_request` for the contract). The answer and `close()` reach
    /// the waiter on the executor it runs on, which must serialize it (a strand or a
    /// one-thread context), so neither can slip in before the wait begins.
    asio::awaitable<nlohmann::json> async_request(std::string method, nlohmann::json params,
                                                  std::chrono::milliseconds timeout,
                                                  std::shared_ptr<MessageSink> sink) {
        if (!sink || !sink->accepts_requests())
            throw RpcError(error_code::connection_closed,
                           "Connection closed: the channel cannot carry requests to the client");
        auto pending = std::make_shared<PendingRequest>(co_await asio::this_coro::executor);
        std::int64_t id = 0;
        RequestId wire_id;
        {
            std::lock_guard lock(mutex_);
            if (closed_)
                throw RpcError(error_code::connection_closed,
                               "Connection closed: the channel cannot carry requests to the client");
            id = next_id_++;
            pending_.emplace(id, pending);
            if (prefix_.empty()) wire_id = id;
            else wire_id = prefix_ + std::to_string(id);
        }
        if (!sink->send(json_rpc::serialize(Request{wire_id, std::move(method), std::move(params)}))) {
            erase(id);
            throw RpcError(error_code::connection_closed, "Connection closed");
        }
        pending->timer.expires_after(timeout);
        std::error_code ec;
        co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        erase(id);
        if (pending->reply) {
            if (auto* response = std::get_if<Response>(&*pending->reply)) co_return std::move(response->result);
            auto& error = std::get<ErrorResponse>(*pending->reply);
            throw RpcError(error.code, error.message, std::move(error.data));
        }
        if (pending->closed) throw RpcError(error_code::connection_closed, "Connection closed");
        const auto state = co_await asio::this_coro::cancellation_state;
        const bool aborted = state.cancelled() != asio::cancellation_type::none;
        // Tell the client to stop working on it (MCP basic/utilities/cancellation).
        sink->send(json_rpc::serialize(Notification{
            "notifications/cancelled",
            {{"requestId", json_rpc::id_to_json(wire_id)}, {"reason", aborted ? "cancelled" : "timeout"}}}));
        if (aborted) throw std::system_error(asio::error::operation_aborted);
        throw RpcError(error_code::request_timeout, "Request timed out", {{"timeout", timeout.count()}});
    }

    /// Hands a `Response` or `ErrorResponse` from the client to the request it answers,
    /// on the waiter's executor. Other messages, ids mcpsse did not issue, late answers
    /// (after the timeout) and second answers are ignored.
    void deliver(Message message) {
        const std::optional<RequestId> id = std::visit(
            [](const auto& m) -> std::optional<RequestId> {
                using T = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<T, Response>) return m.id;
                else if constexpr (std::is_same_v<T, ErrorResponse>) return m.id;
                else return std::nullopt;
            },
            message);
        if (!id) return;
        std::shared_ptr<PendingRequest> pending;
        {
            std::lock_guard lock(mutex_);
            const auto number = local_number(*id);
            if (!number) return;  // not an id this table issued
            const auto it = pending_.find(*number);
            if (it == pending_.end()) return;  // late or unknown: ignore
            pending = it->second;
        }
        // The waiter's executor owns `pending` (see async_request).
        const auto executor = pending->timer.get_executor();
        asio::dispatch(executor, [pending = std::move(pending), message = std::move(message)]() mutable {
            if (pending->reply) return;  // a second answer: ignore
            pending->reply = std::move(message);
            pending->timer.cancel();
        });
    }

    /// From now on, ids are strings `prefix` + the number (before any request is sent).
    /// An empty prefix: integers.
    void set_id_prefix(std::string prefix) {
        std::lock_guard lock(mutex_);
        prefix_ = std::move(prefix);
    }

    /// The issuer named by a string id `<issuer>-<digits>`, the issuer 8 lower-case hex
    /// digits (an instance's name), when it is not this table's (`set_id_prefix(<issuer>
    /// "-")`): an answer for a request another instance sent; nullopt for this table's
    /// ids, integers and other strings.
    [[nodiscard]] std::optional<std::string> issuer_of(const RequestId& id) const {
        constexpr std::size_t issuer_size = 8;
        const auto* text = std::get_if<std::string>(&id);
        if (!text || text->size() < issuer_size + 2 || (*text)[issuer_size] != '-') return std::nullopt;
        for (std::size_t i = 0; i < issuer_size; ++i) {
            const char c = (*text)[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
        }
        for (std::size_t i = issuer_size + 1; i < text->size(); ++i)
            if ((*text)[i] < '0' || (*text)[i] > '9') return std::nullopt;
        const std::size_t dash = issuer_size;
        std::lock_guard lock(mutex_);
        if (prefix_.empty() || text->compare(0, dash + 1, prefix_) == 0) return std::nullopt;
        return text->substr(0, dash);
    }

    /// Fails every waiting request with `connection_closed`, and every later one at once:
    /// the peer can no longer answer (each waiter wakes on its own executor).
    void close() {
        std::vector<std::shared_ptr<PendingRequest>> waiting;
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
            for (auto& entry : pending_) waiting.push_back(entry.second);
        }
        for (auto& pending : waiting) {
            const auto executor = pending->timer.get_executor();
            asio::dispatch(executor, [pending = std::move(pending)] {
                pending->closed = true;
                pending->timer.cancel();
            });
        }
    }

    /// True after `close()`.
    [[nodiscard]] bool is_closed() const {
        std::lock_guard lock(mutex_);
        return closed_;
    }

    /// Number of requests waiting for an answer.
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return pending_.size();
    }

private:
    // The number of an id this table issued (under the lock); nullopt for others.
    std::optional<std::int64_t> local_number(const RequestId& id) const {
        if (prefix_.empty()) {
            const auto* number = std::get_if<std::int64_t>(&id);
            return number ? std::optional<std::int64_t>(*number) : std::nullopt;
        }
        const auto* text = std::get_if<std::string>(&id);
        if (!text || text->size() <= prefix_.size() || text->compare(0, prefix_.size(), prefix_) != 0) return std::nullopt;
        std::int64_t n = 0;
        const char* first = text->data() + prefix_.size();
        const char* last = text->data() + text->size();
        const auto [end, ec] = std::from_chars(first, last, n);
        if (ec != std::errc{} || end != last) return std::nullopt;
        return n;
    }

    void erase(std::int64_t id) {
        std::lock_guard lock(mutex_);
        pending_.erase(id);
    }

    mutable std::mutex mutex_;  // guards the members below
    std::map<std::int64_t, std::shared_ptr<PendingRequest>> pending_;
    std::int64_t next_id_ = 0;
    std::string prefix_;  // of string ids (empty: integer ids)
    bool closed_ = false;
};

}  // namespace mcpsse::detail
