// mcpsse internal: the JSON-RPC state of one peer (one MCP session).
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/logging_level.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/detail/http/observers.hpp>
#include <mcpsse/detail/rpc/handler_run.hpp>
#include <mcpsse/detail/rpc/in_flight.hpp>
#include <mcpsse/detail/rpc/lifecycle.hpp>
#include <mcpsse/detail/rpc/message_sink.hpp>
#include <mcpsse/detail/rpc/pending_requests.hpp>
#include <mcpsse/detail/rpc/reply_shape.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>  // not used here; kept for the includers that expect it from this header
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
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

/// The JSON-RPC state of one peer: lifecycle (negotiated protocol version, client
/// capabilities), requests in flight with their cancellation signals, and
/// server-to-client requests waiting for answers. Transport-independent: transports
/// feed it parsed messages and give it the sink each reply belongs to.
///
/// It routes each message and answers what needs no handler; the state lives in parts
/// with their own locks: `SessionLifecycle` (what `initialize` negotiated, the log
/// level), `InFlightTable` (running handlers, their limits and cancellation) and
/// `PendingRequests` (server-to-client requests). A request's handler runs as a spawned
/// coroutine (`invoke`) whose `Finish` asks `conclude` for the reply.
///
/// Thread-safety: locks guard the tables of running and pending requests, the default
/// sink and the log level, so `cancel_request`, `cancel_all`, `close`, `notify`, the sink
/// and log-level members and the counters are safe from any thread. `start_request` and
/// `async_handle` must be called on the executor the request's handler is to run on (by
/// default `get_executor()`; it must serialize its work: a strand, or a context one
/// thread runs), and `async_request` runs inside such a handler. A transport may start
/// requests on different executors (`SseTransport`'s share-nothing mode starts each on
/// its connection's), and then handlers of one session run concurrently. The lifecycle
/// (protocol version, client capabilities and info, `initialized`, and their setters) is
/// not guarded: it is written by `initialize`, or by the transport, before the session is
/// shared with other threads, and only read afterwards (`SseTransport` publishes a
/// session only once its `initialize` handler has finished).
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

    // ---- lifecycle (see SessionLifecycle) ----------------------------------------------

    /// The negotiated (or per-request) protocol revision; empty before `initialize`.
    [[nodiscard]] const std::string& protocol_version() const noexcept { return lifecycle_.protocol_version(); }
    /// The protocol revision copied under the lifecycle's lock: safe from any thread.
    [[nodiscard]] std::string protocol_version_copy() const { return lifecycle_.protocol_version_copy(); }
    /// Sets the protocol revision (transports do this for stateless requests).
    void set_protocol_version(std::string version) { lifecycle_.set_protocol_version(std::move(version)); }
    /// True once an `initialize` request has been answered successfully.
    [[nodiscard]] bool initialized() const noexcept { return lifecycle_.initialized(); }
    /// True once the client sent `notifications/initialized`.
    [[nodiscard]] bool client_initialized() const noexcept { return lifecycle_.client_initialized(); }
    /// The client's declared capabilities (an object).
    [[nodiscard]] const nlohmann::json& client_capabilities() const noexcept { return lifecycle_.client_capabilities(); }
    /// Sets the client's capabilities (stateless requests carry them in `_meta`).
    void set_client_capabilities(nlohmann::json capabilities) {
        lifecycle_.set_client_capabilities(std::move(capabilities));
    }
    /// The client's `clientInfo`, or null.
    [[nodiscard]] const nlohmann::json& client_info() const noexcept { return lifecycle_.client_info(); }
    /// Takes over a session initialized elsewhere (see `SessionLifecycle::restore`);
    /// before the session is shared with other threads.
    void restore(std::string version, nlohmann::json capabilities, nlohmann::json info) {
        lifecycle_.restore(std::move(version), std::move(capabilities), std::move(info));
    }
    /// Sets the client's `clientInfo`.
    void set_client_info(nlohmann::json info) { lifecycle_.set_client_info(std::move(info)); }
    /// The minimum level of log messages the client wants (`logging/setLevel`, or the
    /// 2026-07-28 `_meta` log level); empty: the client wants none.
    [[nodiscard]] std::optional<LoggingLevel> log_level() const { return lifecycle_.log_level(); }
    /// Sets the minimum log level (empty: send no log messages).
    void set_log_level(std::optional<LoggingLevel> level) { lifecycle_.set_log_level(level); }

    /// Parse options for text received from this peer: `limits`, with batches only
    /// under 2025-03-26.
    [[nodiscard]] ParseOptions parse_options(const JsonLimits& limits = {}) const noexcept {
        return ParseOptions::with(limits, protocol_version::allows_batches(protocol_version()));
    }

    // ---- handlers in flight (see InFlightTable) ----------------------------------------

    /// Number of request handlers running now.
    [[nodiscard]] std::size_t in_flight_count() const { return in_flight_.size(); }
    /// Sets the handler limits (before the session serves requests).
    void set_limits(const RpcLimits& limits) noexcept { in_flight_.set_limits(limits); }
    /// Observers told of each request whose handler runs (`on_rpc_request_start`,
    /// `on_rpc_request`); null or empty: none. They must outlive the session. Call before
    /// the session serves requests.
    void set_observers(const Observers* observers) noexcept {
        observers_ = observers && observers->observes_rpc() ? observers : nullptr;
    }
    /// The handler limits.
    [[nodiscard]] const RpcLimits& limits() const noexcept { return in_flight_.limits(); }
    /// True when as many handlers run as `RpcLimits::max_in_flight` allows, so a new
    /// request or notification would be refused (transports answer 429 up front).
    /// Lock-free (a transport asks once per request): a snapshot that may be stale by
    /// the time it is used; `start_request` checks again under its lock.
    [[nodiscard]] bool at_capacity() const noexcept { return in_flight_.at_capacity(); }
    /// The answer to a request (or, without id, a notification) over
    /// `RpcLimits::max_in_flight`: `too_many_requests` (-32050), `data.max_in_flight`.
    [[nodiscard]] ErrorResponse too_many_requests(std::optional<RequestId> id) const {
        return in_flight_.too_many_requests(std::move(id));
    }
    /// Cancels the running request `id`: its response is suppressed, and its handler's
    /// coroutine receives a terminal cancellation on the handler's executor (at once
    /// when called there). Unknown or finished ids and `initialize` are ignored (MCP
    /// basic/utilities/cancellation). Returns true when a handler was cancelled.
    bool cancel_request(const RequestId& id) { return in_flight_.cancel(id); }
    /// Cancels every running handler (a session ends, or a transport stops hard).
    void cancel_all() { in_flight_.cancel_all(); }

    // ---- server-to-client requests (see PendingRequests) -------------------------------

    /// Number of server-to-client requests waiting for an answer.
    [[nodiscard]] std::size_t pending_request_count() const { return pending_.size(); }
    /// Fails every waiting server-to-client request with `connection_closed`: the peer
    /// can no longer answer (each waiter wakes on its own executor). Running handlers go on.
    void close() { pending_.close(); }
    /// True after `close()`.
    [[nodiscard]] bool is_closed() const { return pending_.is_closed(); }
    /// Sends a server-to-client request on `sink` and waits for the answer (see
    /// `PendingRequests::async_request`; `RequestContext::async_request` has the contract).
    asio::awaitable<nlohmann::json> async_request(std::string method, nlohmann::json params,
                                                  std::chrono::milliseconds timeout,
                                                  std::shared_ptr<MessageSink> sink) {
        return pending_.async_request(std::move(method), std::move(params), timeout, std::move(sink));
    }
    /// Names server-to-client requests `<issuer>-<n>` and hands answers that name
    /// another issuer to `relay(issuer, answer)` instead of dropping them (a session
    /// shared by several transport instances, `RelayStore`). Called once, before the
    /// session is shared.
    void set_answer_relay(const std::string& issuer, std::function<void(std::string, Message)> relay) {
        pending_.set_id_prefix(issuer + "-");
        answer_relay_ = std::move(relay);
    }
    /// Calls `share(level)` after each successful `logging/setLevel` of the client (a
    /// session shared by several transport instances tells them). Called once, before
    /// the session is shared.
    void set_level_relay(std::function<void(LoggingLevel)> share) { level_relay_ = std::move(share); }
    /// Calls `relay(id)` for a client's `notifications/cancelled` naming a request that
    /// is not running here (a session shared by several transport instances: it may run
    /// at another). Called once, before the session is shared.
    void set_cancel_relay(std::function<void(const RequestId&)> relay) { cancel_relay_ = std::move(relay); }
    /// Hands a client's answer relayed from another instance to the request it answers
    /// (as if it had arrived here). Thread-safe.
    void deliver_answer(Message answer) { pending_.deliver(std::move(answer)); }

    // ---- outbound channels --------------------------------------------------------------

    /// Replaces the sink for messages unrelated to a request (e.g. a new GET stream).
    void set_default_sink(std::shared_ptr<MessageSink> sink) {
        std::lock_guard lock(sink_mutex_);
        default_sink_ = std::move(sink);
    }
    /// The sink for messages unrelated to a request (may be null).
    [[nodiscard]] std::shared_ptr<MessageSink> default_sink() const {
        std::lock_guard lock(sink_mutex_);
        return default_sink_;
    }
    /// Sends a notification unrelated to any request on the default sink (e.g.
    /// `notifications/tools/list_changed`). Returns false when there is no open channel.
    bool notify(std::string method, nlohmann::json params = nullptr) {
        return send_on(default_sink(), Notification{std::move(method), std::move(params)});
    }
    /// Serializes and queues `message` on `sink`; false when not delivered.
    bool send_on(const std::shared_ptr<MessageSink>& sink, const Message& message) {
        if (!sink) return false;
        return sink->send(json_rpc::serialize(message));
    }

    // ---- incoming messages ----------------------------------------------------------------

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
        if (answer_relay_) {
            const RequestId* id = nullptr;
            if (const auto* response = std::get_if<Response>(&message)) id = &response->id;
            else if (const auto* error = std::get_if<ErrorResponse>(&message); error && error->id) id = &*error->id;
            if (id)
                if (auto issuer = pending_.issuer_of(*id)) {
                    answer_relay_(std::move(*issuer), std::move(message));
                    co_return std::nullopt;
                }
        }
        pending_.deliver(std::move(message));
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
        const bool removed = protocol_version::is_stateless(protocol_version()) &&
                             (is_initialize || request.method == "ping" || request.method == "logging/setLevel");
        const Dispatcher::RequestHandler* handler = dispatcher_.find_request_handler(request.method);
        // A handler will run: record it and check for a duplicate id under one lock.
        std::shared_ptr<InFlight> flight;
        Admission admission = Admission::admitted;
        if (handler && !removed && !(is_initialize && initialized())) {
            flight = std::make_shared<InFlight>();
            flight->executor = executor;
            flight->method = request.method;
            admission = in_flight_.admit(request.id, flight);
        } else if (in_flight_.contains(request.id)) {
            admission = Admission::duplicate;
        }
        if (auto refusal = refuse(request, admission, is_initialize, removed, handler != nullptr))
            return std::move(done)(std::move(refusal));

        nlohmann::json params = request.params.is_null() ? nlohmann::json::object() : std::move(request.params);
        if (!handler) {
            std::optional<std::string> reply = answer_builtin(std::move(request.id), is_initialize, params);
            if (observers_) observe_builtin(request.method, reply);
            return std::move(done)(std::move(reply));
        }

        nlohmann::json meta = meta_of(params);
        if (observers_) observe_start(*flight, params);
        in_flight_.arm_deadline(flight, executor);
        auto slot = flight->signal.slot();
        RethrowFailure completion{flight};
        Finish<RpcSession, Done> finish{
            shared_from_this(),
            HandlerRun{flight.get(), request.id, is_initialize ? params : nlohmann::json(), is_initialize},
            std::move(done)};
        asio::co_spawn(executor,
                       invoke(handler, std::move(params),
                              RequestContext(shared_from_this(), request.id, std::move(request.method),
                                             std::move(meta), std::move(sink), std::move(flight)),
                              std::move(finish)),
                       asio::bind_cancellation_slot(slot, std::move(completion)));
    }

    /// The reply to a request whose handler ended (`Finish` calls it on the handler's
    /// executor): retires the request, adopts a successful `initialize`, and returns the
    /// serialized response or error; nullopt when the request was cancelled.
    std::optional<std::string> conclude(HandlerRun& run, std::exception_ptr error, nlohmann::json result) {
        std::optional<ErrorResponse> failure;
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const RpcError& e) {
                failure = ErrorResponse{run.id, e.code(), e.what(), e.data()};
            } catch (...) {
                failure = ErrorResponse{run.id, error_code::internal_error, "Internal error", nullptr};
            }
        } else if (run.is_initialize) {
            lifecycle_.adopt_initialize(run.initialize_params, result);
        }
        InFlight& flight = *run.flight;
        in_flight_.retire(run.id, flight);
        if (observers_) observe_end(flight, failure ? failure->code : 0);
        if (flight.cancelled) return std::nullopt;
        if (flight.timed_out) {
            const auto ms = limits().handler_timeout.count();
            return json_rpc::serialize(
                ErrorResponse{run.id, error_code::request_timeout,
                              "Request timed out: the handler ran longer than " + std::to_string(ms) + " ms",
                              {{"timeout", ms}}});
        }
        if (failure) return json_rpc::serialize(*failure);
        return json_rpc::serialize(Response{std::move(run.id), std::move(result)});
    }

private:
    // Reports a request's handler starting (and notes what its end report needs).
    void observe_start(InFlight& flight, const nlohmann::json& params) {
        flight.started = std::chrono::steady_clock::now();
        if (flight.method == "tools/call" && params.is_object()) {
            const auto name = params.find("name");
            if (name != params.end() && name->is_string()) flight.tool = name->get<std::string>();
        }
        observers_->each_rpc([&](TransportObserver& o) { o.on_rpc_request_start(flight.method); });
    }

    // Reports a request mcpsse answered itself (initialize, ping, logging/setLevel).
    void observe_builtin(const std::string& method, const std::optional<std::string>& reply) {
        observers_->each_rpc([&](TransportObserver& o) { o.on_rpc_request_start(method); });
        RpcRequestInfo info{method};
        const bool ok = reply && is_success_reply(*reply);
        info.outcome = ok ? RpcOutcome::success : RpcOutcome::error;
        if (!ok && reply) {
            const auto parsed = nlohmann::json::parse(*reply, nullptr, false);
            if (parsed.is_object() && parsed.contains("error")) info.error_code = parsed["error"].value("code", 0);
        }
        info.session_id = session_id_;
        observers_->each_rpc([&](TransportObserver& o) { o.on_rpc_request(info); });
    }

    // Reports how a request whose start was reported ended (`code`: its error, or 0).
    void observe_end(const InFlight& flight, int code) {
        RpcRequestInfo info{flight.method};
        info.tool = flight.tool;
        info.outcome = flight.cancelled   ? RpcOutcome::cancelled
                       : flight.timed_out ? RpcOutcome::timed_out
                       : code != 0        ? RpcOutcome::error
                                          : RpcOutcome::success;
        info.error_code = flight.timed_out ? error_code::request_timeout : code;
        info.duration = std::chrono::steady_clock::now() - flight.started;
        info.session_id = session_id_;
        observers_->each_rpc([&](TransportObserver& o) { o.on_rpc_request(info); });
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

    // The answer to a request no handler will serve (checked in this order): over the
    // limit, duplicate id, second initialize, removed in 2026-07-28, unknown method;
    // nullopt when the request goes on (to a handler, or a built-in method).
    std::optional<std::string> refuse(const Request& request, Admission admission, bool is_initialize,
                                      bool removed, bool has_handler) const {
        if (admission == Admission::busy) return json_rpc::serialize(too_many_requests(request.id));
        if (admission == Admission::duplicate)
            return json_rpc::serialize(ErrorResponse{
                request.id, error_code::invalid_request,
                "Invalid Request: a request with this id is already in progress", nullptr});
        if (is_initialize && initialized())
            return json_rpc::serialize(ErrorResponse{
                request.id, error_code::invalid_request, "Invalid Request: the session is already initialized",
                nullptr});
        if (removed || (!has_handler && !is_initialize && request.method != "logging/setLevel"))
            return json_rpc::serialize(ErrorResponse{
                request.id, error_code::method_not_found, "Method not found", {{"method", request.method}}});
        return std::nullopt;
    }

    // The answer of the built-in `initialize` or `logging/setLevel` (`refuse` let only
    // those through without a handler).
    std::optional<std::string> answer_builtin(RequestId id, bool is_initialize, const nlohmann::json& params) {
        try {
            nlohmann::json result = is_initialize ? initialize(params) : lifecycle_.set_level(params);
            if (!is_initialize && level_relay_)
                if (const auto level = lifecycle_.log_level()) level_relay_(*level);
            return json_rpc::serialize(Response{std::move(id), std::move(result)});
        } catch (const RpcError& error) {
            return json_rpc::serialize(ErrorResponse{id, error.code(), error.what(), error.data()});
        } catch (...) {
            return json_rpc::serialize(ErrorResponse{id, error_code::internal_error, "Internal error", nullptr});
        }
    }

    // The built-in `initialize`: the requested revision when the dispatcher supports it
    // (else its preferred one), its capabilities, `serverInfo` and `instructions`; the
    // lifecycle adopts the outcome. Throws `RpcError` (`invalid_params`) when
    // `protocolVersion` is not a string.
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
        lifecycle_.adopt_initialize(params, result);
        return result;
    }

    // A request's or notification's `params._meta` object (a copy), or null.
    static nlohmann::json meta_of(const nlohmann::json& params) {
        nlohmann::json meta;
        if (params.is_object())
            if (const auto m = params.find("_meta"); m != params.end() && m->is_object()) meta = *m;
        return meta;
    }

    // Runs `handler` with the context it needs alive (the handler takes it by reference),
    // then `finish`, inside the spawned coroutine: a handler that completes without
    // suspending is answered before co_spawn returns, with no trip through the scheduler
    // between its result and its reply (co_spawn's own completion is posted).
    template <class Done>
    static asio::awaitable<void> invoke(const Dispatcher::RequestHandler* handler, nlohmann::json params,
                                        RequestContext context, Finish<RpcSession, Done> finish) {
        std::exception_ptr error;
        nlohmann::json result;
        try {
            result = co_await (*handler)(std::move(params), context);
        } catch (...) {
            error = std::current_exception();
        }
        finish(std::move(error), std::move(result));
    }

    asio::awaitable<void> handle_notification(Notification notification, std::shared_ptr<MessageSink> sink) {
        if (notification.method == "notifications/cancelled" && notification.params.is_object()) {
            if (const auto id = notification.params.find("requestId"); id != notification.params.end())
                if (auto request_id = json_rpc::id_from_json(*id); request_id && !cancel_request(*request_id) &&
                                                                   cancel_relay_)
                    cancel_relay_(*request_id);  // not running here: maybe at another instance
        } else if (notification.method == "notifications/initialized") {
            lifecycle_.set_client_initialized();
        }
        const auto* handler = dispatcher_.find_notification_handler(notification.method);
        if (!handler) co_return;
        if (!in_flight_.try_begin_notification()) co_return;  // dropped
        struct Running {
            InFlightTable& table;
            ~Running() { table.end_notification(); }
        } running{in_flight_};
        nlohmann::json params =
            notification.params.is_null() ? nlohmann::json::object() : std::move(notification.params);
        RequestContext context(shared_from_this(), std::nullopt, notification.method, meta_of(params),
                               std::move(sink), std::make_shared<InFlight>());
        try {
            co_await (*handler)(std::move(params), context);
        } catch (...) {
            // Notifications are never answered; a failing handler must not end the session.
        }
    }

    executor_type executor_;
    const Dispatcher& dispatcher_;
    std::string session_id_;
    SessionLifecycle lifecycle_;
    InFlightTable in_flight_;
    PendingRequests pending_;
    std::function<void(std::string, Message)> answer_relay_;  // set once, before sharing
    std::function<void(LoggingLevel)> level_relay_;           // set once, before sharing
    std::function<void(const RequestId&)> cancel_relay_;      // set once, before sharing
    mutable std::mutex sink_mutex_;  // guards default_sink_
    std::shared_ptr<MessageSink> default_sink_;
    const Observers* observers_ = nullptr;  // told of requests (null: nobody observes)
};

}  // namespace mcpsse::detail

#include <mcpsse/detail/rpc/impl/request_context.hpp>
