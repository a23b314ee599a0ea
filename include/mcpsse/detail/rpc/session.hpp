// mcpsse internal: the JSON-RPC state of one peer (one MCP session).
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/logging_level.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/detail/rpc/message_sink.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// Bookkeeping of one request whose handler is running. `signal`, `done` and
/// `last_progress` belong to the handler's executor; `cancelled` may be set from any
/// thread.
struct InFlight {
    /// The executor the handler runs on (the session's, or the request's connection's).
    asio::any_io_executor executor;
    /// Emitted (terminal) on `executor` to cancel the handler's coroutine.
    asio::cancellation_signal signal;
    /// The method being served (`initialize` cannot be cancelled).
    std::string method;
    /// Set by `notifications/cancelled` or by the transport; suppresses the response.
    std::atomic<bool> cancelled{false};
    /// Set when the handler finished; no progress may follow.
    bool done = false;
    /// The last progress value sent (progress strictly increases).
    std::optional<double> last_progress;
    /// Ends the handler after `RpcLimits::handler_timeout` (absent when there is none).
    std::unique_ptr<asio::steady_timer> deadline;
    /// Set when `deadline` expired: the client gets `request_timeout`, not the handler's outcome.
    bool timed_out = false;
    /// This record itself while its handler's coroutine exists (see RpcSession's
    /// RethrowFailure, which releases it).
    std::shared_ptr<InFlight> keep_alive;
};

/// Limits on the handlers one peer (session) runs; `SseTransportOptions` and
/// `StdioOptions` set them.
struct RpcLimits {
    /// Request and notification handlers running at once (count). A request over it is
    /// answered with `error_code::too_many_requests` (-32050); a notification over it is
    /// dropped (it cannot be answered). Cancellations are always handled.
    std::size_t max_in_flight = 64;
    /// Time a request handler may run, in ms; zero: no limit. On expiry the handler gets
    /// a terminal cancellation and the client `error_code::request_timeout` (-32001).
    std::chrono::milliseconds handler_timeout{0};
};

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

/// The JSON-RPC state of one peer: lifecycle (negotiated protocol version, client
/// capabilities), requests in flight with their cancellation signals, and
/// server-to-client requests waiting for answers. Transport-independent: transports
/// feed it parsed messages and give it the sink each reply belongs to.
///
/// Thread-safety: a mutex guards the tables of running and pending requests, the
/// default sink, the log level and the closed flag, so `cancel_request`, `cancel_all`,
/// `close`, `notify`, the sink and log-level members and the counters are safe from any
/// thread. `start_request` and `async_handle` must be called on the executor the
/// request's handler is to run on (by default `get_executor()`; it must serialize its
/// work: a strand, or a context one thread runs), and `async_request` runs inside such a
/// handler. A transport may start requests on different executors (`SseTransport`'s
/// share-nothing mode starts each on its connection's), and then handlers of one session
/// run concurrently. The lifecycle (protocol version, client capabilities and info,
/// `initialized`, and their setters) is not guarded: it is written by `initialize`, or by
/// the transport, before the session is shared with other threads, and only read
/// afterwards (`SseTransport` publishes a session only once its `initialize` handler has
/// finished).
class RpcSession : public std::enable_shared_from_this<RpcSession> {
public:
    /// The executor that serializes the session's work.
    using executor_type = asio::any_io_executor;

    /// Creates the state of one peer. `dispatcher` must outlive the session;
    /// `default_sink` receives messages unrelated to any request (may be null).
    RpcSession(executor_type executor, const Dispatcher& dispatcher,
               std::shared_ptr<MessageSink> default_sink, std::string session_id = {})
        : executor_(std::move(executor)),
          dispatcher_(dispatcher),
          session_id_(std::move(session_id)),
          default_sink_(std::move(default_sink)) {}

    /// The executor all of this session's work runs on.
    [[nodiscard]] executor_type get_executor() const noexcept { return executor_; }
    /// The dispatcher serving this session.
    [[nodiscard]] const Dispatcher& dispatcher() const noexcept { return dispatcher_; }
    /// The transport's session id (may be empty).
    [[nodiscard]] const std::string& session_id() const noexcept { return session_id_; }

    /// The negotiated (or per-request) protocol revision; empty before `initialize`.
    [[nodiscard]] const std::string& protocol_version() const noexcept { return protocol_version_; }
    /// Sets the protocol revision (transports do this for stateless requests).
    void set_protocol_version(std::string version) { protocol_version_ = std::move(version); }
    /// True once an `initialize` request has been answered successfully.
    [[nodiscard]] bool initialized() const noexcept { return initialized_; }
    /// True once the client sent `notifications/initialized`.
    [[nodiscard]] bool client_initialized() const noexcept { return client_initialized_.load(); }
    /// The client's declared capabilities (an object).
    [[nodiscard]] const nlohmann::json& client_capabilities() const noexcept { return client_capabilities_; }
    /// Sets the client's capabilities (stateless requests carry them in `_meta`).
    void set_client_capabilities(nlohmann::json capabilities) {
        client_capabilities_ = capabilities.is_object() ? std::move(capabilities) : nlohmann::json::object();
    }
    /// The client's `clientInfo`, or null.
    [[nodiscard]] const nlohmann::json& client_info() const noexcept { return client_info_; }
    /// Sets the client's `clientInfo`.
    void set_client_info(nlohmann::json info) { client_info_ = std::move(info); }
    /// Number of request handlers running now.
    [[nodiscard]] std::size_t in_flight_count() const {
        std::lock_guard lock(mutex_);
        return in_flight_.size();
    }
    /// Number of server-to-client requests waiting for an answer.
    [[nodiscard]] std::size_t pending_request_count() const {
        std::lock_guard lock(mutex_);
        return pending_.size();
    }

    /// Replaces the sink for messages unrelated to a request (e.g. a new GET stream).
    void set_default_sink(std::shared_ptr<MessageSink> sink) {
        std::lock_guard lock(mutex_);
        default_sink_ = std::move(sink);
    }
    /// The sink for messages unrelated to a request (may be null).
    [[nodiscard]] std::shared_ptr<MessageSink> default_sink() const {
        std::lock_guard lock(mutex_);
        return default_sink_;
    }

    /// Sets the handler limits (before the session serves requests).
    void set_limits(const RpcLimits& limits) noexcept { limits_ = limits; }
    /// The handler limits.
    [[nodiscard]] const RpcLimits& limits() const noexcept { return limits_; }
    /// True when as many handlers run as `RpcLimits::max_in_flight` allows, so a new
    /// request or notification would be refused (transports answer 429 up front).
    /// Lock-free (a transport asks once per request): a snapshot that may be stale by
    /// the time it is used; `start_request` checks again under its lock.
    [[nodiscard]] bool at_capacity() const noexcept {
        return running_.load(std::memory_order_relaxed) >= limits_.max_in_flight;
    }

    /// Parse options for text received from this peer: `limits`, with batches only
    /// under 2025-03-26.
    [[nodiscard]] ParseOptions parse_options(const JsonLimits& limits = {}) const noexcept {
        return ParseOptions::with(limits, protocol_version::allows_batches(protocol_version_));
    }

    /// Handles one message from the peer; completes with the serialized reply for a
    /// request (nullopt for notifications, responses, and cancelled requests).
    /// `reply_sink` carries the notifications and requests related to this request.
    asio::awaitable<std::optional<std::string>> async_handle(Message message,
                                                             std::shared_ptr<MessageSink> reply_sink) {
        if (auto* request = std::get_if<Request>(&message))
            co_return co_await handle_request(std::move(*request), std::move(reply_sink));
        if (auto* notification = std::get_if<Notification>(&message)) {
            co_await handle_notification(std::move(*notification), std::move(reply_sink));
            co_return std::nullopt;
        }
        handle_reply(std::move(message));
        co_return std::nullopt;
    }

    /// Handles the messages of one batch one after another; completes with the JSON
    /// array of replies, or nullopt when the batch produced none (JSON-RPC 2.0 section 6).
    /// `errors` are validation errors of the batch's invalid elements.
    asio::awaitable<std::optional<std::string>> async_handle_batch(
        std::vector<Message> messages, std::vector<ErrorResponse> errors,
        std::shared_ptr<MessageSink> reply_sink) {
        std::vector<std::string> replies;
        for (auto& error : errors) replies.push_back(json_rpc::serialize(error));
        for (auto& message : messages) {
            if (const auto* request = std::get_if<Request>(&message);
                request && request->method == "initialize") {
                replies.push_back(json_rpc::serialize(
                    ErrorResponse{request->id, error_code::invalid_request,
                                  "Invalid Request: initialize must not be part of a batch", nullptr}));
                continue;
            }
            if (auto reply = co_await async_handle(std::move(message), reply_sink))
                replies.push_back(std::move(*reply));
        }
        if (replies.empty()) co_return std::nullopt;
        co_return json_rpc::serialize_batch(replies);
    }

    /// Cancels the running request `id`: its response is suppressed, and its handler's
    /// coroutine receives a terminal cancellation on the handler's executor (at once
    /// when called there). Unknown or finished ids and `initialize` are ignored (MCP
    /// basic/utilities/cancellation). Returns true when a handler was cancelled.
    bool cancel_request(const RequestId& id) {
        std::shared_ptr<InFlight> flight;
        {
            std::lock_guard lock(mutex_);
            const auto it = in_flight_.find(id);
            if (it == in_flight_.end() || it->second->method == "initialize" || it->second->cancelled.exchange(true))
                return false;
            flight = it->second;
        }
        const auto executor = flight->executor;
        asio::dispatch(executor, [flight = std::move(flight)] { flight->signal.emit(asio::cancellation_type::terminal); });
        return true;
    }

    /// Cancels every running handler (a session ends, or a transport stops hard).
    void cancel_all() {
        std::vector<RequestId> ids;
        {
            std::lock_guard lock(mutex_);
            for (const auto& entry : in_flight_) ids.push_back(entry.first);
        }
        for (const auto& id : ids) cancel_request(id);
    }

    /// Fails every waiting server-to-client request with `connection_closed`: the peer
    /// can no longer answer (each waiter wakes on its own executor). Running handlers go on.
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

    /// Sends a notification unrelated to any request on the default sink (e.g.
    /// `notifications/tools/list_changed`). Returns false when there is no open channel.
    bool notify(std::string method, nlohmann::json params = nullptr) {
        return send_on(default_sink(), Notification{std::move(method), std::move(params)});
    }

    // ---- used by RequestContext -------------------------------------------------------

    /// Serializes and queues `message` on `sink`; false when not delivered.
    bool send_on(const std::shared_ptr<MessageSink>& sink, const Message& message) {
        if (!sink) return false;
        return sink->send(json_rpc::serialize(message));
    }

    /// The minimum level of log messages the client wants (`logging/setLevel`, or the
    /// 2026-07-28 `_meta` log level); empty: the client wants none.
    [[nodiscard]] std::optional<LoggingLevel> log_level() const {
        std::lock_guard lock(mutex_);
        return log_level_;
    }
    /// Sets the minimum log level (empty: send no log messages).
    void set_log_level(std::optional<LoggingLevel> level) {
        std::lock_guard lock(mutex_);
        log_level_ = level;
    }

    /// Sends a server-to-client request on `sink` and waits for the answer (see
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
        {
            std::lock_guard lock(mutex_);
            if (closed_)
                throw RpcError(error_code::connection_closed,
                               "Connection closed: the channel cannot carry requests to the client");
            id = next_request_id_++;
            pending_.emplace(id, pending);
        }
        if (!sink->send(json_rpc::serialize(Request{id, std::move(method), std::move(params)}))) {
            erase_pending(id);
            throw RpcError(error_code::connection_closed, "Connection closed");
        }
        pending->timer.expires_after(timeout);
        std::error_code ec;
        co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        erase_pending(id);
        if (pending->reply) {
            if (auto* response = std::get_if<Response>(&*pending->reply)) co_return std::move(response->result);
            auto& error = std::get<ErrorResponse>(*pending->reply);
            throw RpcError(error.code, error.message, std::move(error.data));
        }
        if (pending->closed) throw RpcError(error_code::connection_closed, "Connection closed");
        const auto state = co_await asio::this_coro::cancellation_state;
        const bool aborted = state.cancelled() != asio::cancellation_type::none;
        // Tell the client to stop working on it (MCP basic/utilities/cancellation).
        send_on(sink, Notification{"notifications/cancelled",
                                   {{"requestId", id}, {"reason", aborted ? "cancelled" : "timeout"}}});
        if (aborted) throw std::system_error(asio::error::operation_aborted);
        throw RpcError(error_code::request_timeout, "Request timed out",
                       {{"timeout", timeout.count()}});
    }

private:
    bool is_in_flight(const RequestId& id) const {
        std::lock_guard lock(mutex_);
        return in_flight_.contains(id);
    }

public:
    /// The answer to a request (or, without id, a notification) over
    /// `RpcLimits::max_in_flight`: `too_many_requests` (-32050), `data.max_in_flight`.
    [[nodiscard]] ErrorResponse too_many_requests(std::optional<RequestId> id) const {
        return ErrorResponse{std::move(id), error_code::too_many_requests,
                             "Too many requests in flight: at most " + std::to_string(limits_.max_in_flight) +
                                 " per session",
                             {{"max_in_flight", limits_.max_in_flight}}};
    }

private:

    void erase_pending(std::int64_t id) {
        std::lock_guard lock(mutex_);
        pending_.erase(id);
    }

    // async_handle's request case: start_request with a completion that resumes the
    // awaiting coroutine. (An initiation object, not a lambda: GCC 12 mishandles lambda
    // temporaries inside a co_await.)
    struct StartRequest {
        RpcSession* self;
        Request* request;
        std::shared_ptr<MessageSink>* sink;
        const executor_type* executor;
        template <class Handler>
        void operator()(Handler&& handler) const {
            self->start_request(std::move(*request), std::move(*sink), std::forward<Handler>(handler), *executor);
        }
    };

    asio::awaitable<std::optional<std::string>> handle_request(Request request,
                                                               std::shared_ptr<MessageSink> sink) {
        const executor_type executor = co_await asio::this_coro::executor;
        const StartRequest initiation{this, &request, &sink, &executor};
        co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::optional<std::string>)>(
            initiation, asio::use_awaitable);
    }

    // Completes a request whose handler ran: records the outcome, then calls `done` with
    // the serialized reply (nullopt when the request was cancelled).
    template <class Done>
    struct Finish {
        std::shared_ptr<RpcSession> self;
        // Owned by co_spawn's completion (RethrowFailure), which outlives the coroutine.
        InFlight* flight;
        RequestId id;
        nlohmann::json initialize_params;  // an initialize request's params, else null
        bool is_initialize = false;
        Done done;

        void operator()(std::exception_ptr error, nlohmann::json result) {
            std::optional<ErrorResponse> failure;
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const RpcError& e) {
                    failure = ErrorResponse{id, e.code(), e.what(), e.data()};
                } catch (...) {
                    failure = ErrorResponse{id, error_code::internal_error, "Internal error", nullptr};
                }
            } else if (is_initialize) {
                self->adopt_initialize(initialize_params, result);
            }
            flight->done = true;
            if (flight->deadline) flight->deadline->cancel();
            {
                std::lock_guard lock(self->mutex_);
                self->in_flight_.erase(id);
                self->running_.store(self->in_flight_.size() + self->notifications_running_,
                                     std::memory_order_relaxed);
            }
            if (flight->cancelled) return std::move(done)(std::nullopt);
            if (flight->timed_out) {
                const auto ms = self->limits_.handler_timeout.count();
                return std::move(done)(json_rpc::serialize(
                    ErrorResponse{id, error_code::request_timeout,
                                  "Request timed out: the handler ran longer than " + std::to_string(ms) + " ms",
                                  {{"timeout", ms}}}));
            }
            if (failure) return std::move(done)(json_rpc::serialize(*failure));
            std::move(done)(json_rpc::serialize(Response{std::move(id), std::move(result)}));
        }
    };

    // Runs `handler` with the context it needs alive (the handler takes it by reference),
    // then `finish`, inside the spawned coroutine: a handler that completes without
    // suspending is answered before co_spawn returns, with no trip through the scheduler
    // between its result and its reply (co_spawn's own completion is posted).
    template <class Done>
    static asio::awaitable<void> invoke(const Dispatcher::RequestHandler* handler, nlohmann::json params,
                                        RequestContext context, Finish<Done> finish) {
        std::exception_ptr error;
        nlohmann::json result;
        try {
            result = co_await (*handler)(std::move(params), context);
        } catch (...) {
            error = std::current_exception();
        }
        finish(std::move(error), std::move(result));
    }

    // co_spawn's completion for `invoke`: only an exception thrown by `finish` itself
    // (std::bad_alloc) reaches it, and it leaves io_context::run as it would from a
    // completion handler. It owns the request's InFlight, whose signal the spawn's
    // cancellation slot belongs to: Asio requires that signal to outlive the whole
    // operation, not just the coroutine's body. Since Asio 1.2x the spawned thread
    // clears its slot on every resumption, including the final one co_spawn posts when
    // the coroutine ended inside co_spawn's own call (a handler that never suspends);
    // with the InFlight released by `invoke`'s frame, that read freed memory (ASan,
    // Asio 1.38.2). Holding it here ties its life to co_spawn's completion.
    // (It holds the record through InFlight::keep_alive and a plain pointer, not a
    // shared_ptr member: the handler is stored in co_spawn's frame, and 8 more bytes put
    // that frame past the size Asio's per-thread recycling allocator caches, which cost
    // 1.4 k instructions a request in malloc.)
    struct RethrowFailure {
        InFlight* owner = nullptr;
        explicit RethrowFailure(std::shared_ptr<InFlight> flight) : owner(flight.get()) {
            owner->keep_alive = std::move(flight);
        }
        RethrowFailure(RethrowFailure&& other) noexcept : owner(std::exchange(other.owner, nullptr)) {}
        RethrowFailure& operator=(RethrowFailure&&) = delete;
        ~RethrowFailure() {
            if (owner) owner->keep_alive.reset();  // may destroy *owner (reset empties the member first)
        }
        void operator()(const std::exception_ptr& error) const {
            if (error) std::rethrow_exception(error);
        }
    };

public:
    /// Starts handling `request` and returns; `done(reply)` is called once with the
    /// serialized response or error (nullopt when the request was cancelled). Requests
    /// answered without a handler (unknown method, duplicate id, built-in `initialize`
    /// and `logging/setLevel`) call `done` before this returns; a handler runs as a
    /// coroutine spawned on `executor` (default: the session's), cancellable through
    /// `notifications/cancelled` (MCP basic/utilities/cancellation), and `done` runs on
    /// that executor when it ends: before this returns too when the handler completes
    /// without suspending and this runs on `executor` already (co_spawn starts the
    /// handler at once then). Call it on `executor`, which must serialize its work
    /// (a strand, or a context one thread runs). JSON-RPC errors reaching the peer:
    /// -32600 (duplicate id, second initialize), -32601 (unknown method), -32602/-32603
    /// (from the handler), or the handler's `RpcError` code.
    template <class Done>
    void start_request(Request request, std::shared_ptr<MessageSink> sink, Done done) {
        start_request(std::move(request), std::move(sink), std::move(done), executor_);
    }

    /// `start_request` with the handler on `executor`.
    template <class Done>
    void start_request(Request request, std::shared_ptr<MessageSink> sink, Done done, const executor_type& executor) {
        const bool is_initialize = request.method == "initialize";
        // Removed in 2026-07-28: version, capabilities and log level travel in _meta.
        const bool removed = protocol_version::is_stateless(protocol_version_) &&
                             (is_initialize || request.method == "ping" || request.method == "logging/setLevel");
        const Dispatcher::RequestHandler* handler = dispatcher_.find_request_handler(request.method);
        // A handler will run: record it and check for a duplicate id under one lock.
        std::shared_ptr<InFlight> flight;
        bool duplicate = false;
        bool busy = false;
        if (handler && !removed && !(is_initialize && initialized_)) {
            flight = std::make_shared<InFlight>();
            flight->executor = executor;
            flight->method = request.method;
            std::lock_guard lock(mutex_);
            if (in_flight_.size() + notifications_running_ >= limits_.max_in_flight) {
                busy = true;
            } else {
                duplicate = !in_flight_.emplace(request.id, flight).second;
                running_.store(in_flight_.size() + notifications_running_, std::memory_order_relaxed);
            }
        } else {
            duplicate = is_in_flight(request.id);
        }
        if (busy)
            return std::move(done)(json_rpc::serialize(too_many_requests(request.id)));
        if (duplicate)
            return std::move(done)(json_rpc::serialize(ErrorResponse{
                request.id, error_code::invalid_request,
                "Invalid Request: a request with this id is already in progress", nullptr}));
        if (is_initialize && initialized_)
            return std::move(done)(json_rpc::serialize(ErrorResponse{
                request.id, error_code::invalid_request, "Invalid Request: the session is already initialized",
                nullptr}));
        if (removed)
            return std::move(done)(json_rpc::serialize(ErrorResponse{
                request.id, error_code::method_not_found, "Method not found", {{"method", request.method}}}));
        const bool builtin_initialize = is_initialize && !handler;
        const bool builtin_set_level = !handler && request.method == "logging/setLevel";
        if (!handler && !builtin_initialize && !builtin_set_level)
            return std::move(done)(json_rpc::serialize(ErrorResponse{
                request.id, error_code::method_not_found, "Method not found", {{"method", request.method}}}));

        nlohmann::json params = request.params.is_null() ? nlohmann::json::object() : std::move(request.params);
        if (builtin_initialize || builtin_set_level) {
            std::optional<std::string> reply;
            try {
                nlohmann::json result = builtin_initialize ? initialize(params) : set_level(params);
                reply = json_rpc::serialize(Response{std::move(request.id), std::move(result)});
            } catch (const RpcError& error) {
                reply = json_rpc::serialize(ErrorResponse{request.id, error.code(), error.what(), error.data()});
            } catch (...) {
                reply = json_rpc::serialize(
                    ErrorResponse{request.id, error_code::internal_error, "Internal error", nullptr});
            }
            return std::move(done)(std::move(reply));
        }

        nlohmann::json meta;
        if (params.is_object())
            if (const auto m = params.find("_meta"); m != params.end() && m->is_object()) meta = *m;
        if (limits_.handler_timeout.count() > 0) {
            flight->deadline = std::make_unique<asio::steady_timer>(executor, limits_.handler_timeout);
            flight->deadline->async_wait([weak = std::weak_ptr<InFlight>(flight)](std::error_code ec) {
                // On the handler's executor: `done` and the signal belong to it.
                const auto f = weak.lock();
                if (ec || !f || f->done) return;
                f->timed_out = true;
                f->signal.emit(asio::cancellation_type::terminal);
            });
        }
        auto slot = flight->signal.slot();
        RethrowFailure completion{flight};
        Finish<Done> finish{shared_from_this(), flight.get(), request.id,
                            is_initialize ? params : nlohmann::json(), is_initialize, std::move(done)};
        asio::co_spawn(executor,
                       invoke(handler, std::move(params),
                              RequestContext(shared_from_this(), request.id, std::move(request.method),
                                             std::move(meta), std::move(sink), std::move(flight)),
                              std::move(finish)),
                       asio::bind_cancellation_slot(slot, std::move(completion)));
    }

private:
    asio::awaitable<void> handle_notification(Notification notification,
                                              std::shared_ptr<MessageSink> sink) {
        if (notification.method == "notifications/cancelled" && notification.params.is_object()) {
            if (const auto id = notification.params.find("requestId"); id != notification.params.end())
                if (auto request_id = json_rpc::id_from_json(*id)) cancel_request(*request_id);
        } else if (notification.method == "notifications/initialized") {
            client_initialized_.store(true);
        }
        const auto* handler = dispatcher_.find_notification_handler(notification.method);
        if (!handler) co_return;
        {
            std::lock_guard lock(mutex_);
            if (in_flight_.size() + notifications_running_ >= limits_.max_in_flight) co_return;  // dropped
            ++notifications_running_;
            running_.store(in_flight_.size() + notifications_running_, std::memory_order_relaxed);
        }
        struct Running {
            RpcSession& self;
            ~Running() {
                std::lock_guard lock(self.mutex_);
                --self.notifications_running_;
                self.running_.store(self.in_flight_.size() + self.notifications_running_,
                                    std::memory_order_relaxed);
            }
        } running{*this};
        nlohmann::json params =
            notification.params.is_null() ? nlohmann::json::object() : std::move(notification.params);
        nlohmann::json meta;
        if (params.is_object())
            if (const auto m = params.find("_meta"); m != params.end() && m->is_object()) meta = *m;
        RequestContext context(shared_from_this(), std::nullopt, notification.method, std::move(meta),
                               std::move(sink), std::make_shared<InFlight>());
        try {
            co_await (*handler)(std::move(params), context);
        } catch (...) {
            // Notifications are never answered; a failing handler must not end the session.
        }
    }

    void handle_reply(Message message) {
        const std::optional<RequestId> id = std::visit(
            [](const auto& m) -> std::optional<RequestId> {
                using T = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<T, Response>) return m.id;
                else if constexpr (std::is_same_v<T, ErrorResponse>) return m.id;
                else return std::nullopt;
            },
            message);
        if (!id) return;
        const auto* number = std::get_if<std::int64_t>(&*id);
        if (!number) return;  // mcpsse only issues integer ids
        std::shared_ptr<PendingRequest> pending;
        {
            std::lock_guard lock(mutex_);
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

    nlohmann::json initialize(const nlohmann::json& params) {
        const auto requested = params.find("protocolVersion");
        if (requested == params.end() || !requested->is_string())
            throw RpcError(error_code::invalid_params, "Invalid params: protocolVersion must be a string");
        const auto& options = dispatcher_.options();
        const auto& version = requested->get_ref<const std::string&>();
        nlohmann::json result = {
            {"protocolVersion", dispatcher_.supports_protocol_version(version) || options.protocol_versions.empty()
                                    ? version
                                    : options.protocol_versions.front()},
            {"capabilities", options.capabilities.is_object() ? options.capabilities : nlohmann::json::object()},
            {"serverInfo", {{"name", options.server_info.name}, {"version", options.server_info.version}}}};
        if (!options.server_info.title.empty()) result["serverInfo"]["title"] = options.server_info.title;
        if (!options.instructions.empty()) result["instructions"] = options.instructions;
        adopt_initialize(params, result);
        return result;
    }

    void adopt_initialize(const nlohmann::json& params, const nlohmann::json& result) {
        if (result.is_object())
            if (const auto v = result.find("protocolVersion"); v != result.end() && v->is_string())
                protocol_version_ = v->get<std::string>();
        if (params.is_object()) {
            if (const auto c = params.find("capabilities"); c != params.end()) set_client_capabilities(*c);
            if (const auto i = params.find("clientInfo"); i != params.end()) client_info_ = *i;
        }
        initialized_ = true;
    }

    nlohmann::json set_level(const nlohmann::json& params) {
        const auto level = params.find("level");
        const auto parsed = level != params.end() && level->is_string()
                                ? logging_level_from_string(level->get_ref<const std::string&>())
                                : std::nullopt;
        if (!parsed) throw RpcError(error_code::invalid_params, "Invalid params: unknown logging level");
        set_log_level(*parsed);
        return nlohmann::json::object();
    }

    executor_type executor_;
    const Dispatcher& dispatcher_;
    std::string session_id_;
    std::string protocol_version_;
    bool initialized_ = false;
    nlohmann::json client_capabilities_ = nlohmann::json::object();
    nlohmann::json client_info_;
    std::atomic<bool> client_initialized_{false};
    mutable std::mutex mutex_;  // guards the members below
    std::shared_ptr<MessageSink> default_sink_;
    bool closed_ = false;
    std::optional<LoggingLevel> log_level_ = LoggingLevel::debug;
    std::map<RequestId, std::shared_ptr<InFlight>> in_flight_;
    std::size_t notifications_running_ = 0;
    // in_flight_.size() + notifications_running_, stored under mutex_ whenever either
    // changes, read without it by at_capacity.
    std::atomic<std::size_t> running_{0};
    RpcLimits limits_;
    std::map<std::int64_t, std::shared_ptr<PendingRequest>> pending_;
    std::int64_t next_request_id_ = 0;
};

}  // namespace mcpsse::detail

// ---- RequestContext members (they need the complete RpcSession) -----------------------

namespace mcpsse {

inline const nlohmann::json& RequestContext::progress_token() const noexcept {
    static const nlohmann::json none;
    if (!meta_.is_object()) return none;
    const auto it = meta_.find("progressToken");
    if (it == meta_.end() || !(it->is_string() || it->is_number_integer())) return none;
    return *it;
}

inline std::string_view RequestContext::protocol_version() const noexcept {
    return session_->protocol_version();
}

inline const nlohmann::json& RequestContext::client_capabilities() const noexcept {
    return session_->client_capabilities();
}

inline const nlohmann::json& RequestContext::client_info() const noexcept {
    return session_->client_info();
}

inline std::string_view RequestContext::session_id() const noexcept { return session_->session_id(); }

inline bool RequestContext::is_cancelled() const noexcept { return flight_->cancelled; }

inline bool RequestContext::close_stream_connection(std::optional<std::chrono::milliseconds> retry) {
    if (!sink_ || flight_->done || !protocol_version::traits(session_->protocol_version()).priming_and_polling)
        return false;
    return sink_->close_connection(retry);
}

inline std::optional<std::string_view> RequestContext::http_header(std::string_view name) const {
    return sink_ ? sink_->request_header(name) : std::nullopt;
}

inline asio::awaitable<bool> RequestContext::async_progress(double progress, std::optional<double> total,
                                                            std::string message) {
    const auto& token = progress_token();
    if (token.is_null() || flight_->done || flight_->cancelled) co_return false;
    if (flight_->last_progress && !(progress > *flight_->last_progress)) co_return false;
    nlohmann::json params = {{"progressToken", token}, {"progress", progress}};
    if (total) params["total"] = *total;
    if (!message.empty()) params["message"] = std::move(message);
    if (!session_->send_on(sink_, Notification{"notifications/progress", std::move(params)})) co_return false;
    flight_->last_progress = progress;
    co_return true;
}

inline asio::awaitable<bool> RequestContext::async_log(LoggingLevel level, nlohmann::json data,
                                                       std::string logger) {
    const auto minimum = session_->log_level();
    if (!minimum || level < *minimum || flight_->cancelled) co_return false;
    nlohmann::json params = {{"level", to_string(level)}, {"data", std::move(data)}};
    if (!logger.empty()) params["logger"] = std::move(logger);
    co_return session_->send_on(sink_, Notification{"notifications/message", std::move(params)});
}

inline asio::awaitable<bool> RequestContext::async_notify(std::string method, nlohmann::json params) {
    if (flight_->cancelled) co_return false;
    co_return session_->send_on(sink_, Notification{std::move(method), std::move(params)});
}

inline asio::awaitable<nlohmann::json> RequestContext::async_request(
    std::string method, nlohmann::json params, std::optional<std::chrono::milliseconds> timeout) {
    co_return co_await session_->async_request(
        std::move(method), std::move(params),
        timeout.value_or(session_->dispatcher().options().request_timeout), sink_);
}

}  // namespace mcpsse
