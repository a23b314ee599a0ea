// mcpsse: what the protocol eras of the HTTP transport share: settings, sessions, exchanges.
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/session_store.hpp>
#include <mcpsse/detail/auth/authorizer.hpp>
#include <mcpsse/detail/limits/client_limiter.hpp>
#include <mcpsse/detail/mcp/session_state.hpp>
#include <mcpsse/sse_transport_options.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/mcp/listen_streams.hpp>
#include <mcpsse/detail/mcp/session_registry.hpp>
#include <mcpsse/detail/rpc/scoped_sink.hpp>
#include <mcpsse/detail/rpc/session.hpp>
#include <mcpsse/detail/sse/connection.hpp>
#include <mcpsse/detail/sse/pump.hpp>
#include <mcpsse/detail/sse/stream.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace mcpsse::detail {

/// How one request's exchange is answered (see `EraContext::exchange`).
struct ExchangeSpec {
    std::shared_ptr<RpcSession> rpc;
    std::shared_ptr<SseStream> stream;
    SseSessionState* session = nullptr;  // its stream becomes resumable there (null: none)
    bool priming = false;           // start the SSE stream with a priming event
    bool cancel_on_peer_close = false;  // the peer closing the response cancels the request
    int (*error_status)(std::string_view reply) = nullptr;  // an error reply's HTTP status (null: 200)
    bool hold_until_finished = false;  // write nothing before the reply (initialize)
    const std::function<std::string(bool)>* headers = nullptr;
    const std::function<asio::awaitable<void>(bool)>* before_head = nullptr;  // awaited first
};

/// The state the era handlers share, owned by the transport: its options, the session
/// table, the dispatcher (set when the run starts), the executor policy, and running one
/// request as an exchange answered on its connection. Calls go down only (to the rpc,
/// sse and http layers).
template <class Conn, class Store>
class EraContext {
public:
    EraContext(const SseTransportOptions& options, asio::any_io_executor executor, bool share_nothing,
               typename SessionRegistry<Store>::Settings registry, Store& store)
        : options(options), sessions(store, std::move(registry)), executor_(std::move(executor)),
          share_nothing_(share_nothing) {
        pump.keep_alive_interval = options.keep_alive_interval;
        pump.retry = options.sse_retry;
    }

    const SseTransportOptions& options;
    PumpSettings pump;
    SessionRegistry<Store> sessions;
    Dispatcher* dispatcher = nullptr;
    Authorizer* authorizer = nullptr;  // set by the transport when authorization is on
    const Observers* observers = nullptr;  // set by the transport: told of JSON-RPC requests
    ListenStreams listens;                 // open subscriptions/listen exchanges (a drain ends them)
    ClientLimiter* limiter = nullptr;  // set by the transport

    /// The key `ClientLimits` counts `req` on `c` under (empty: not limited).
    [[nodiscard]] std::string client_key(Conn& c, const HttpRequest& req) const {
        if (!limiter || (!req.principal && c.exempt_peer)) return {};
        return limiter->key(req, c.info().remote_endpoint.address());
    }

    /// Puts a slot of `what` for the client of `req` on `c` in `slot`; false at the
    /// client's limit (the observers are told; answer `ClientLimiter::too_many_requests`).
    [[nodiscard]] bool client_slot(Conn& c, const HttpRequest& req, ClientResource what, ClientSlot& slot) const {
        if (!limiter) return true;
        const std::string key = client_key(c, req);
        if (limiter->acquire(what, key, slot)) return true;
        c.report_limit(ClientLimiter::name_of(what), key);
        return false;
    }

    /// The 403 answer when a request among `messages` needs scopes (the dispatcher's
    /// `scope_rule`) that `req`'s principal lacks (reported to the observers of `c`);
    /// nullopt when every request may run. Runs before dispatch: a response that has
    /// started streaming cannot become a 403.
    [[nodiscard]] std::optional<HttpResponse> scope_refusal(Conn& c, const HttpRequest& req,
                                                            const std::vector<Message>& messages) const {
        if (!authorizer || !req.principal || !dispatcher->scope_rule()) return std::nullopt;
        for (const auto& message : messages) {
            const auto* request = std::get_if<Request>(&message);
            if (!request) continue;
            const std::vector<std::string> needed = dispatcher->scope_rule()(request->method, request->params);
            if (!needed.empty() && !req.principal->has_scopes(needed)) {
                AuthOutcome refusal = authorizer->insufficient_scope(*req.principal, needed);
                refusal.principal = req.principal;
                report_authorization(c, req, refusal);
                return authorizer->response(refusal);
            }
        }
        return std::nullopt;
    }

    /// An executor that serializes one connection's or one session's work: a new strand,
    /// or the plain executor when one thread runs the context (`single_threaded`). Over
    /// an io_context the strand is built on its concrete executor type: that strand fits
    /// in any_io_executor's small-object buffer, so copying it allocates nothing (a strand
    /// of any_io_executor does not fit, and each copy and `prefer` allocates).
    [[nodiscard]] asio::any_io_executor serial_executor() const {
        if (options.single_threaded) return executor_;
        if (const auto* io = executor_.template target<asio::io_context::executor_type>())
            return asio::any_io_executor(asio::make_strand(*io));
        return asio::any_io_executor(asio::make_strand(executor_));
    }

    /// The executor of a new session's (or stateless request's) JSON-RPC state: in
    /// share-nothing mode that of the connection creating it, else a serializing one.
    [[nodiscard]] asio::any_io_executor session_executor(Conn& c) const {
        return share_nothing_ ? asio::any_io_executor(c.socket().get_executor()) : serial_executor();
    }

    /// The JSON-RPC state of a new session (or of one stateless request).
    [[nodiscard]] std::shared_ptr<RpcSession> new_rpc(Conn& c, std::string id = {}) const {
        auto rpc = std::make_shared<RpcSession>(session_executor(c), *dispatcher, nullptr, std::move(id));
        rpc->set_limits({options.max_requests_in_flight, options.request_handler_timeout});
        if (observers && observers->observes_rpc()) rpc->set_observers(observers);
        return rpc;
    }

    /// A new session created on connection `c`, bound to `principal` (the request's; null
    /// without authorization).
    std::shared_ptr<SseSessionState> create_session(Conn& c, bool legacy, std::shared_ptr<const Principal> principal) {
        auto session = sessions.create(legacy, [&](std::string id) { return new_rpc(c, std::move(id)); });
        session->set_principal(std::move(principal));
        return session;
    }

    /// The session a request names that this transport does not hold, restored from
    /// the record a `SessionStore` keeps (MCP N4 when there is none: 404), under the
    /// `max_sessions` cap (503 when full) and the client's `ClientLimits::max_sessions`
    /// (429); 400 for an unsupported `MCP-Protocol-Version` (V3); 404 as well when the
    /// record's subject is not the subject of `req`'s token; 503 when the store could not
    /// answer (e.g. its connection is not up yet): the session may well exist, and a 404
    /// would make the client drop it. Only for stores that model `SessionStore`.
    asio::awaitable<typename SessionRegistry<Store>::Lookup> async_restore(Conn& c, std::string id,
                                                                           std::optional<std::string_view> header_version,
                                                                           const HttpRequest& req)
        requires SessionStore<Store>
    {
        std::shared_ptr<const Principal> principal = req.principal;
        std::error_code ec;
        SessionLookup record = co_await sessions.store().async_load_session(id, asio::redirect_error(asio::use_awaitable, ec));
        const std::string_view subject = principal ? std::string_view(principal->subject) : std::string_view();
        if (ec) co_return typename SessionRegistry<Store>::Lookup{nullptr, 503, "Service Unavailable: the session store is unavailable"};
        if (!record || record->id != id || record->subject != subject) co_return typename SessionRegistry<Store>::Lookup{nullptr, 404, "Not Found: unknown or ended session"};
        if (sessions.draining())
            co_return typename SessionRegistry<Store>::Lookup{nullptr, 503, "Service Unavailable: the server is draining"};
        if (header_version && !dispatcher->supports_protocol_version(*header_version))
            co_return typename SessionRegistry<Store>::Lookup{nullptr, 400, "Bad Request: unsupported MCP-Protocol-Version"};
        ClientSlot slot;
        if (!client_slot(c, req, ClientResource::session, slot))
            co_return typename SessionRegistry<Store>::Lookup{nullptr, 429, "Too Many Requests: per-client limit reached"};
        auto session = sessions.create(false, [&](std::string sid) { return new_rpc(c, std::move(sid)); }, std::move(id));
        session->hold(std::move(slot));
        session->rpc()->restore(record->protocol_version, std::move(record->client_capabilities),
                                std::move(record->client_info));
        if (const auto level = logging_level_from_string(record->logging_level)) session->rpc()->set_log_level(*level);
        session->set_protocol_version(std::move(record->protocol_version));
        session->set_principal(std::move(principal));
        auto held = sessions.adopt(session);
        if (!held) co_return typename SessionRegistry<Store>::Lookup{nullptr, 503, "Service Unavailable: too many sessions"};
        if (held != session) session->end();
        co_return typename SessionRegistry<Store>::Lookup{std::move(held)};
    }

    /// Renews `session`'s record in a `RenewableSessionStore` when a renewal is due
    /// (`RenewableSessionStore` says when), without waiting for it; nothing with other
    /// stores. Called for every POST and GET naming the session.
    void renew_record(SseSessionState& session) {
        if constexpr (RenewableSessionStore<Store>) {
            if (session.record_renewal_due(sessions.store().session_touch_interval()))
                sessions.store().async_touch_session(session.id(), asio::detached);
        } else {
            (void)session;
        }
    }

    /// A message that would start a handler: a request, or a notification the host
    /// handles (cancellations never count: a client must always be able to cancel).
    [[nodiscard]] bool is_call(const Message& message) const {
        if (std::holds_alternative<Request>(message)) return true;
        const auto* n = std::get_if<Notification>(&message);
        return n && n->method != "notifications/cancelled" && dispatcher->find_notification_handler(n->method);
    }

    /// Runs `request` on `spec.rpc` and answers on connection `c`: JSON, or an SSE stream
    /// when the handler streams (or the host asked for SSE, `ResponseMode::sse`); an SSE
    /// answer becomes resumable in `spec.session` once its head is written. A plain
    /// function returning the pump's awaitable: every reference argument lives in the
    /// caller's frame until it completes.
    asio::awaitable<bool> exchange(const std::shared_ptr<Conn>& c, HttpRequest& req, Request request, ExchangeSpec spec) {
        const RequestId id = request.id;
        spec.stream->set_request_id(id);
        spec.stream->set_request_headers(HeaderBlock(req.head(), req.principal));
        if (options.response_mode == ResponseMode::sse) spec.stream->open();
        PumpJob job;
        job.generation = spec.stream->attach(make_waker(c, spec.stream));
        start_exchange(*c, spec.rpc, spec.stream, std::move(request));
        if (spec.cancel_on_peer_close)
            job.on_peer_closed = [rpc = spec.rpc, request_id = id] { rpc->cancel_request(request_id); };
        job.error_status = spec.error_status;
        job.stream = std::move(spec.stream);
        job.hold_until_finished = spec.hold_until_finished;
        job.priming = spec.priming;
        job.headers = spec.headers;
        job.before_head = spec.before_head;
        if (spec.session) job.on_visible = {&register_with_session, spec.session};
        if (!spec.rpc->session_id().empty()) job.session_id = &spec.rpc->session_id();
        return async_pump(c, req, pump, std::move(job));
    }

    /// The channel a handler of a message from `req` gets when its replies go to a shared
    /// `inner` channel (or nowhere): `inner`, with `req`'s headers for `http_header`.
    static std::shared_ptr<MessageSink> scoped_sink(std::shared_ptr<MessageSink> inner, const HttpRequest& req) {
        return std::make_shared<RequestScopedSink>(std::move(inner), HeaderBlock(req.head(), req.principal));
    }

    /// Handles a notification from `req` on a state of its own and waits for its handler.
    static asio::awaitable<void> run_on_session(std::shared_ptr<RpcSession> rpc, Message message, const HttpRequest& req) {
        co_await asio::co_spawn(
            rpc->get_executor(),
            [](std::shared_ptr<RpcSession> state, Message m, std::shared_ptr<MessageSink> sink) -> asio::awaitable<void> {
                co_await state->async_handle(std::move(m), sink);
            }(rpc, std::move(message), scoped_sink(nullptr, req)),
            asio::use_awaitable);
    }

    /// Handles a message on the session's executor without waiting; a reply goes to
    /// `reply_sink` (a `scoped_sink`).
    static void spawn_on_session(const std::shared_ptr<RpcSession>& rpc, Message message,
                                 std::shared_ptr<MessageSink> reply_sink) {
        asio::co_spawn(
            rpc->get_executor(),
            [rpc, m = std::move(message), reply_sink]() mutable -> asio::awaitable<void> {
                auto reply = co_await rpc->async_handle(std::move(m), reply_sink);
                if (reply && reply_sink) reply_sink->send(std::move(*reply));
            },
            asio::detached);
    }

private:
    // Finishes a request's stream with its reply (nullopt when the request was cancelled).
    struct FinishStream {
        std::shared_ptr<SseStream> stream;
        void operator()(std::optional<std::string> reply) const { stream->finish(std::move(reply)); }
    };

    // Runs the handler; its reply finishes `stream`. In share-nothing mode it runs here,
    // on the connection's thread; otherwise on the session's executor, starting right
    // here when this thread already runs that (always under single_threaded), so a
    // handler costs one spawn. (A plain function, not a coroutine: GCC 12 mishandles a
    // lambda temporary built inside one.) The spawned handler holds `rpc`, which keeps the
    // session state alive while it runs.
    void start_exchange(Conn& c, const std::shared_ptr<RpcSession>& rpc, const std::shared_ptr<SseStream>& stream,
                        Request request) const {
        if (share_nothing_) {
            rpc->start_request(std::move(request), stream, FinishStream{stream}, c.socket().get_executor());
            return;
        }
        asio::dispatch(rpc->get_executor(), [rpc, stream, request = std::move(request)]() mutable {
            rpc->start_request(std::move(request), stream, FinishStream{stream});
        });
    }

    static void register_with_session(void* session, const std::shared_ptr<SseStream>& stream) {
        static_cast<SseSessionState*>(session)->register_stream(stream);
    }

    asio::any_io_executor executor_;
    bool share_nothing_;
};

}  // namespace mcpsse::detail
