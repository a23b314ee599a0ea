// mcpsse: MCP over HTTP/1.1 with Server-Sent Events: every HTTP transport revision real clients speak.
#pragma once

#include <mcpsse/async_event_store.hpp>
#include <mcpsse/dispatcher.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/event_store.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/metrics.hpp>
#include <mcpsse/plain_tcp.hpp>
#include <mcpsse/session_store.hpp>
#include <mcpsse/failover_store.hpp>
#include <mcpsse/sse_session.hpp>
#include <mcpsse/sse_transport_options.hpp>
#include <mcpsse/transport_observer.hpp>
#include <mcpsse/transport_stats.hpp>
#include <mcpsse/detail/auth/request_authorization.hpp>
#include <mcpsse/detail/http/error.hpp>
#include <mcpsse/detail/http/io.hpp>
#include <mcpsse/detail/http/listener.hpp>
#include <mcpsse/detail/http/pipeline.hpp>
#include <mcpsse/detail/http/pipeline_io.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/request_parser.hpp>
#include <mcpsse/detail/http/response.hpp>
#include <mcpsse/detail/http/writer.hpp>
#include <mcpsse/detail/mcp/context.hpp>
#include <mcpsse/detail/mcp/instance_lease.hpp>
#include <mcpsse/detail/mcp/relay.hpp>
#include <mcpsse/detail/mcp/legacy.hpp>
#include <mcpsse/detail/mcp/messages.hpp>
#include <mcpsse/detail/mcp/replies.hpp>
#include <mcpsse/detail/mcp/router.hpp>
#include <mcpsse/detail/mcp/stateless.hpp>
#include <mcpsse/detail/mcp/stream_plan.hpp>
#include <mcpsse/detail/mcp/stream_server.hpp>
#include <mcpsse/detail/mcp/streamable.hpp>
#include <mcpsse/detail/ops/probes.hpp>
#include <mcpsse/detail/sse/connection.hpp>
#include <mcpsse/detail/sse/pump.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mcpsse {

/// MCP over HTTP/1.1 and Server-Sent Events: one Asio server that speaks every HTTP
/// transport revision real clients use: Streamable HTTP (every revision) at one endpoint,
/// legacy HTTP+SSE at two more.
///
/// - Streamable HTTP with sessions (2025-03-26, 2025-06-18, 2025-11-25) at
///   `options.mcp_path`: `initialize` creates a session (`Mcp-Session-Id`, MCP N1-N6);
///   POST answers JSON or an SSE stream (P1-P9); GET opens the standalone stream
///   (G1-G4, one per session, else 409); DELETE ends the session; events carry ids
///   `<stream>-<sequence>` and are kept in `Store` for resumption with
///   `Last-Event-ID` (R1-R4). Codes as in tests/CHECKLIST.md.
/// - Stateless Streamable HTTP (2026-07-28) at the same path: a POST whose
///   `params._meta` or `MCP-Protocol-Version` names 2026-07-28 runs without a session;
///   `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` are checked
///   against the body (400 with -32020 or -32022); closing its SSE response cancels
///   the handler; server-to-client requests are refused (hosts return input-required
///   results instead).
/// - Legacy HTTP+SSE (2024-11-05): `GET options.sse_path` opens the stream and sends
///   `event: endpoint` with `<messages_path>?sessionId=<id>` (the stream's response head
///   also carries the id as `Mcp-Session-Id`, for load balancers that route by it); POSTs
///   there get 202 and their replies go out on the stream as `event: message`.
///
/// Layers (include/mcpsse/detail/): `http` reads requests, runs the request pipeline
/// (Host/Origin guard, CORS, the host's `RequestStage`s and `HttpRoute`s) and writes
/// responses; `mcp/router.hpp` picks the endpoint and era; `mcp/streamable.hpp`,
/// `mcp/stateless.hpp` and `mcp/legacy.hpp` hold each era's rules; `sse/pump.hpp` writes
/// streams. This class owns them and runs each connection's loop.
///
/// Safe defaults: binds 127.0.0.1; checks `Origin` (403) and `Host` (403); no CORS
/// unless configured. The transport's limits are in `SseTransportOptions` (the event
/// store's in `InMemoryEventStoreLimits`); README.md lists every limit with its status.
/// Status map: 400 (malformed HTTP, -32700 including JSON over `json_limits`, -32600,
/// missing session), 403, 404 (unknown session, unknown path), 405 with `Allow`, 406,
/// 408, 409, 410 (resumption whose events were evicted, -32051), 413, 414, 415, 429
/// (`max_requests_in_flight`, -32050, `Retry-After: 1`), 431, 501, 505, 503 (connection
/// cap with `Retry-After: 1`, session cap with `Retry-After: 5`).
///
/// Threads: one coroutine per connection on its own strand, one strand per session;
/// safe on an `io_context` run by any number of threads. With
/// `options.single_threaded` (one thread runs the context) the strands are skipped.
/// Share-nothing mode (the constructor taking several executors, one per thread)
/// spreads connections over one-thread contexts and runs each request on its
/// connection's thread, so requests of one session run concurrently. No thread per
/// connection.
///
/// `Executor` is the executor type of `get_executor()`; `Store` models `EventStore` or
/// `AsyncEventStore` (a store whose operations may suspend), and when it also models
/// `SessionStore` the transport shares its Streamable HTTP sessions through it;
/// `Security` is `PlainTcp` (HTTP) or `Tls` (HTTPS, `<mcpsse/tls.hpp>`; see
/// `TlsSseTransport`): over TLS every limit and deadline applies as over plain TCP, plus
/// the handshake's. The transport, its dispatcher and its store must outlive the run. `stop()` is safe
/// from any thread; other members from the thread that created the transport, except
/// where noted. Models `Transport`; its sessions (`session_type`) model `Session`.
template <class Executor = asio::any_io_executor, class Store = InMemoryEventStore, class Security = PlainTcp>
class SseTransport {
    static_assert(EventStore<Store> || AsyncEventStore<Store>,
                  "Store must model mcpsse::EventStore or mcpsse::AsyncEventStore");
    using Stream = typename Security::stream_type;
    using Conn = detail::SseConnection<Stream>;

public:
    /// The executor type given at construction.
    using executor_type = Executor;
    /// The handle to one of its sessions (models `Session`); see `for_each_session`
    /// and `SseTransportOptions::on_session_open`.
    using session_type = SseSession<>;

    /// Creates the transport and binds its listening socket (so port 0 is resolved and
    /// address errors surface here). Throws `std::system_error` when the address cannot
    /// be bound, and `std::invalid_argument` for an unparsable `allowed_origins` entry.
    explicit SseTransport(const executor_type& executor, SseTransportOptions options = {}, Store store = Store{},
                          Security security = Security{})
        : SseTransport(std::vector<executor_type>{executor}, false, std::move(options),
                       Parts{std::move(store), std::move(security)}) {}

    /// As above, over `security` (e.g. a `Tls`) with a default store.
    SseTransport(const executor_type& executor, SseTransportOptions options, Security security)
        : SseTransport(std::vector<executor_type>{executor}, false, std::move(options),
                       Parts{Store{}, std::move(security)}) {}

    /// Share-nothing mode: creates the transport over `executors`, one per thread, each
    /// of whose execution contexts exactly one thread runs (e.g. one `asio::io_context`
    /// per thread, each with its own `run()`); running one on two threads is a data race.
    /// The first executor accepts and runs the transport's own timers; accepted
    /// connections are dealt to the executors in turn and stay there, and each request
    /// runs on its connection's thread with no strand. Requests of one session may then
    /// run concurrently, so handlers must be safe for that (`Server` is; the JSON-RPC
    /// state is guarded by a mutex); notifications, batches and legacy HTTP+SSE requests
    /// still run on the session's executor (that of the connection that created it).
    /// The transport keeps every context from running out of work until `async_run`
    /// completes, so the first context must keep running until then (if its thread
    /// stops, the others wait). `options.single_threaded` is implied (and `options()`
    /// reports it). Throws `std::invalid_argument` when `executors` is empty, else as the
    /// one-executor constructor.
    SseTransport(const std::vector<executor_type>& executors, SseTransportOptions options = {}, Store store = Store{},
                 Security security = Security{})
        : SseTransport(non_empty(executors), true, std::move(options), Parts{std::move(store), std::move(security)}) {}

private:
    static const std::vector<executor_type>& non_empty(const std::vector<executor_type>& executors) {
        if (executors.empty()) throw std::invalid_argument("mcpsse: SseTransport needs at least one executor");
        return executors;
    }

    struct Parts {
        Store store;
        Security security;
    };

    SseTransport(const std::vector<executor_type>& executors, bool share_nothing, SseTransportOptions options,
                 Parts parts)
        : executor_(executors.front()),
          options_(implied(std::move(options), share_nothing)),
          store_(std::move(parts.store)),
          security_(std::move(parts.security)),
          listener_(asio::any_io_executor(executor_), endpoint_of(options_), listener_settings(), security_),
          pipeline_(pipeline_parts()),
          era_(options_, asio::any_io_executor(executor_), share_nothing, registry_settings(), store_),
          router_(era_),
          streamable_(era_),
          stateless_(era_),
          legacy_(era_),
          stop_timer_(listener_.get_executor()),
          reap_timer_(listener_.get_executor()),
          drain_timer_(listener_.get_executor()) {
        era_.pump.stopping = &stopping_;
        era_.pump.observers = &observers_;
        era_.pump.heartbeat_event = options_.operations.heartbeat_event;
        era_.observers = &observers_;
        era_.authorizer = auth_.authorizer();
        era_.limiter = &limiter_;
        if (share_nothing)
            for (const auto& executor : executors) connection_executors_.emplace_back(executor);
        if constexpr (RelayStore<Store>) {
            relay_.emplace(store_, era_.sessions, listener_.get_executor(),
                           [this](const std::string& message) { broadcast_local(message); });
            era_.sessions.set_relay(&*relay_);
        }
    }

public:
    SseTransport(const SseTransport&) = delete;
    SseTransport& operator=(const SseTransport&) = delete;

    /// The executor given at construction.
    [[nodiscard]] executor_type get_executor() const noexcept { return executor_; }

    /// The bound TCP port (the chosen one when `options.port` was 0). Read it before
    /// `stop()`: once the acceptor is closed this throws `std::system_error`
    /// (`bad_descriptor`).
    [[nodiscard]] std::uint16_t local_port() const { return listener_.local_port(); }

    /// The settings in force.
    [[nodiscard]] const SseTransportOptions& options() const noexcept { return options_; }

    /// The event store (e.g. to inspect it in tests).
    [[nodiscard]] Store& event_store() noexcept { return store_; }

    /// Adds an observer (as `options.observers` does). Not thread-safe: call it before
    /// `async_run`.
    void add_observer(std::shared_ptr<TransportObserver> observer) { observers_.add(std::move(observer)); }

    /// The connection security (e.g. a `Tls`, to reload its certificate).
    [[nodiscard]] Security& security() noexcept { return security_; }

    /// Serves MCP with `dispatcher` until `stop()`. Completion signature
    /// `void(std::exception_ptr)`; null after a clean stop. Start it at most once. In
    /// share-nothing mode every executor's context counts outstanding work from this
    /// call until the run completes, so each thread's `run()` returns only after that
    /// (with a token that defers the operation, launch it: until the run has started
    /// and ended, the contexts never run out of work).
    template <class CompletionToken>
    auto async_run(Dispatcher& dispatcher, CompletionToken&& token) {
        // Share-nothing mode: no context may run out of work before the first accept.
        for (const auto& executor : connection_executors_)
            busy_.push_back(asio::prefer(executor, asio::execution::outstanding_work.tracked));
        return asio::co_spawn(listener_.get_executor(), run(dispatcher), std::forward<CompletionToken>(token));
    }

    /// Graceful stop, from any thread: stops accepting, closes idle connections and
    /// standalone streams, lets running requests finish for `options.stop_timeout`, then
    /// cancels what is left and closes every connection; the run completes after that.
    /// Replies produced before the deadline are written.
    void stop() {
        asio::post(listener_.get_executor(), [this] { begin_stop(); });
    }

    /// Graceful drain before a shutdown (e.g. on SIGTERM), from any thread: the
    /// readiness path answers 503; whatever would open a session (`initialize`, a legacy
    /// GET, a session restored from a `SessionStore`), a standalone GET stream or a
    /// `subscriptions/listen` gets 503 with `Retry-After: 1`; open sessions go on being
    /// served, and a POST's stream stays open until its response is sent. Standalone,
    /// legacy and `subscriptions/listen` streams end at once with an SSE `retry:` field
    /// (`OperationsOptions::drain_retry`), so their clients reconnect (through a load
    /// balancer, to another instance). Once no request is being answered, or after
    /// `OperationsOptions::drain_timeout` (idle sessions do not extend it), the transport
    /// stops as `stop()` does and the run completes. No effect after `stop()` or a first
    /// `drain()`.
    void drain() {
        asio::post(listener_.get_executor(), [this] { begin_drain(); });
    }

    /// The transport's Prometheus metrics (see `Metrics`), counted when
    /// `OperationsOptions::metrics` is set or a `metrics_path` is given; null otherwise.
    /// Serve them on another listener with `metrics()->route("/metrics")` (the transport
    /// must outlive that listener's run). Thread-safe.
    [[nodiscard]] const std::shared_ptr<Metrics>& metrics() const noexcept { return metrics_; }

    /// True once `drain()` or `stop()` began. Thread-safe.
    [[nodiscard]] bool draining() const noexcept { return draining_.load() || stopping_.load(); }

    /// Sessions open now. Thread-safe.
    [[nodiscard]] std::size_t session_count() const { return era_.sessions.size(); }

    /// Connections open now. Thread-safe.
    [[nodiscard]] std::size_t connection_count() const noexcept { return listener_.count(); }

    /// A snapshot of the open connections and sessions (see `TransportStats`, and
    /// `to_json` for a statistics endpoint). Thread-safe; it copies each open session's
    /// description, so it costs O(sessions) time and memory.
    [[nodiscard]] TransportStats stats() const {
        TransportStats stats;
        stats.connections_open = connection_count();
        stats.draining = draining();
        const auto now = clock::now();
        era_.sessions.for_each([&](const std::shared_ptr<detail::SseSessionState>& s) {
            SessionStats one;
            one.id = s->id();
            one.protocol_version = s->protocol_version();
            one.legacy = s->legacy();
            one.subject = std::string(s->subject());
            one.age = now - s->created();
            one.events_sent = s->events_sent();
            one.bytes_sent = s->bytes_sent();
            stats.events_sent += one.events_sent;
            stats.bytes_sent += one.bytes_sent;
            ++stats.sessions_by_subject[one.subject];
            stats.sessions.push_back(std::move(one));
        });
        std::sort(stats.sessions.begin(), stats.sessions.end(),
                  [](const SessionStats& a, const SessionStats& b) { return a.age > b.age; });
        stats.sessions_open = stats.sessions.size();
        return stats;
    }

    /// Ends the session `id` from the server side, as a client's DELETE would (MCP N5):
    /// it leaves the session table, its streams (standalone, legacy, POST streams) close,
    /// running requests of the session are cancelled, `on_session_close` runs and
    /// observers see `SessionEndReason::closed`. Later requests naming it get 404 (a
    /// Streamable HTTP client then starts a new session with `initialize`; a legacy
    /// client sees its stream end). Returns false when no session has that id (already
    /// ended, or never existed). With a shared `SessionStore` the stored record is kept,
    /// as after the idle timeout (only DELETE ends a session everywhere). Thread-safe.
    bool end_session(std::string_view id) {
        auto session = era_.sessions.find(id);
        if (!session) return false;
        era_.sessions.end(session, SessionEndReason::closed);
        return true;
    }

    /// Calls `visit` for each open session. Thread-safe; `visit` must not block or call
    /// back into the transport.
    void for_each_session(const std::function<void(const SseSession<>&)>& visit) {
        era_.sessions.for_each([&](const std::shared_ptr<detail::SseSessionState>& state) {
            visit(detail::SseSessionAccess::handle(state));
        });
    }

    /// Sends one notification to the standalone stream (GET or legacy) of every session
    /// for which `filter` returns true (all when empty); returns how many sessions it
    /// was queued for (sessions without a standalone stream are skipped; a disconnected
    /// resumable stream keeps it for replay). The message is serialized once and handed
    /// to each stream directly. Thread-safe; `filter` and the sends run outside the
    /// session table's lock (as for `for_each_session`), so `filter` may call the transport.
    ///
    /// With a `RelayStore` (instances sharing sessions): without a filter, the
    /// notification also goes (one store write) to every other instance, each sending it
    /// to the standalone streams it holds, so every session of the deployment gets it
    /// once (the count is of this instance's streams). With a filter, it goes to the
    /// sessions this instance knows for which `filter` is true, relayed to the instance
    /// holding a session's standalone stream when that is another one (each counted).
    std::size_t broadcast(const std::string& method, const nlohmann::json& params = nullptr,
                          const std::function<bool(const SseSession<>&)>& filter = {}) {
        std::string message = json_rpc::serialize(Notification{method, params});
        std::size_t count = 0;
        if (!filter) {
            count = broadcast_local(message);
            if constexpr (RelayStore<Store>)
                relay_->relay_broadcast(std::move(message));
            return count;
        }
        era_.sessions.for_each([&](const std::shared_ptr<detail::SseSessionState>& state) {
            if (filter(detail::SseSessionAccess::handle(state)) && state->send_serialized(message)) ++count;
        });
        return count;
    }

    /// Sends one notification to the standalone stream of session `session_id`, as
    /// `SseSession::notify` does, whether or not this instance holds the session: with a
    /// `RelayStore`, a session held elsewhere (or whose standalone stream another
    /// instance holds) gets it through the instance holding that stream. Returns false
    /// when the session is not here and cannot be reached through a store (then nothing
    /// is sent); true when it was queued or relayed (a relayed notification for a
    /// session with no standalone stream anywhere is dropped there). Never on two
    /// streams (MCP M1: the standalone stream only). Thread-safe.
    bool notify(std::string_view session_id, const std::string& method, const nlohmann::json& params = nullptr) {
        if (auto session = era_.sessions.find(session_id)) {
            session->notify(method, params);
            return true;
        }
        if constexpr (RelayStore<Store>) {
            relay_->relay_notification(std::string(session_id), json_rpc::serialize(Notification{method, params}));
            return true;
        }
        return false;
    }

private:
    using clock = std::chrono::steady_clock;

    // `message` to the standalone streams this instance holds (never relayed).
    std::size_t broadcast_local(const std::string& message) {
        std::size_t count = 0;
        era_.sessions.for_each([&](const std::shared_ptr<detail::SseSessionState>& state) {
            if (state->send_local(message)) ++count;
        });
        return count;
    }

    // ---- construction ------------------------------------------------------------------

    static SseTransportOptions implied(SseTransportOptions options, bool share_nothing) {
        if (share_nothing) options.single_threaded = true;
        return options;
    }

    static asio::ip::tcp::endpoint endpoint_of(const SseTransportOptions& options) {
        return {asio::ip::make_address(options.host), options.port};
    }

    typename detail::Listener<Conn, Security>::Settings listener_settings() {
        typename detail::Listener<Conn, Security>::Settings s;
        s.connection.http_limits = options_.http_limits;
        s.connection.request_timeout = options_.request_timeout;
        s.connection.idle_timeout = options_.idle_timeout;
        s.connection.send_timeout = options_.send_timeout;
        s.connection.lingering_close_timeout = options_.lingering_close_timeout;
        s.connection.stopping = &stopping_;
        s.connection.observers = &observers_;
        s.max_connections = options_.max_connections;
        s.over_capacity_body = detail::error_body(error_code::internal_error, "Service Unavailable: too many connections");
        s.observers = &observers_;
        return s;
    }

    detail::Pipeline::Parts pipeline_parts() {
        const bool loopback = asio::ip::make_address(options_.host).is_loopback();
        return {detail::HostGuard(loopback, options_.allowed_hosts, options_.allowed_origins),
                detail::CorsPolicy(options_.cors_origins), options_.stages, routes(),
                detail::Router<Conn, Store>::resources(options_)};
    }

    // The host's routes, the operations paths, and the protected resource metadata's when
    // authorization is on.
    std::vector<HttpRoute> routes() {
        std::vector<HttpRoute> all = options_.routes;
        for (auto& probe : detail::probe_routes(options_.operations, [this] { return readiness(); }))
            all.push_back(std::move(probe));
        if (metrics_ && !options_.operations.metrics_path.empty())
            all.push_back(metrics_->route(options_.operations.metrics_path));
        if (auto metadata = auth_.metadata_route()) all.push_back(std::move(*metadata));
        return all;
    }

    // The transport's metrics when asked for (OperationsOptions), counting as an observer;
    // the event store's size comes from the store when it tells it.
    std::shared_ptr<Metrics> make_metrics() {
        const OperationsOptions& ops = options_.operations;
        if (!ops.metrics && ops.metrics_path.empty()) return nullptr;
        MetricsOptions settings;
        settings.max_tool_labels = ops.max_tool_labels;
        auto metrics = std::make_shared<Metrics>(std::move(settings));
        if constexpr (requires(const Store& s) { { s.stats() } -> std::same_as<EventStoreStats>; })
            metrics->set_event_store_source([this] { return store_.stats(); });
        if constexpr (RelayStore<Store>) metrics->set_relay_source([this] { return relay_->stats(); });
        observers_.add(metrics);
        return metrics;
    }

    // What the readiness path answers (OperationsOptions::readiness_path).
    detail::Readiness readiness() const {
        if (draining()) return detail::Readiness::draining;
        if (era_.sessions.full()) return detail::Readiness::full;
        if (options_.operations.ready && !options_.operations.ready()) return detail::Readiness::not_ready;
        // Until it holds its instance lease, the other instances count this one as gone
        // (FailoverStore): take no traffic before.
        if constexpr (FailoverStore<Store>)
            if (!instance_lease_held_.load(std::memory_order_relaxed)) return detail::Readiness::not_ready;
        return detail::Readiness::ready;
    }

    // A host's session callback, given handles (null stays null).
    static std::function<void(const std::shared_ptr<detail::SseSessionState>&)> handle_callback(
        std::function<void(const SseSession<>&)> callback) {
        if (!callback) return {};
        return [callback = std::move(callback)](const std::shared_ptr<detail::SseSessionState>& state) {
            callback(detail::SseSessionAccess::handle(state));
        };
    }

    typename detail::SessionRegistry<Store>::Settings registry_settings() {
        typename detail::SessionRegistry<Store>::Settings s;
        s.max_sessions = options_.max_sessions;
        s.idle_timeout = options_.session_idle_timeout;
        s.on_open = handle_callback(options_.on_session_open);
        s.on_close = handle_callback(options_.on_session_close);
        s.observers = &observers_;
        return s;
    }

    // ---- run, stop ---------------------------------------------------------------------

    asio::awaitable<void> run(Dispatcher& dispatcher) {
        era_.dispatcher = &dispatcher;
        // Held by this frame: however the run ends (or its frame is destroyed with its
        // context), the contexts may then run out of work.
        const std::vector<asio::any_io_executor> work = std::exchange(busy_, {});
        asio::co_spawn(listener_.get_executor(), reap_sessions(), asio::detached);
        if constexpr (RelayStore<Store>) {
            // The instance's lease is held, and relayed messages received, while
            // connections are served (FailoverStore, RelayStore).
            using namespace asio::experimental::awaitable_operators;
            instance_lease_.emplace(store_, listener_.get_executor(), era_.sessions.instance_tag(), instance_lease_held_);
            co_await (serve_connections() && instance_lease_->run() && relay_->run());
        } else if constexpr (FailoverStore<Store>) {
            // The instance's lease is held while connections are served (FailoverStore).
            using namespace asio::experimental::awaitable_operators;
            instance_lease_.emplace(store_, listener_.get_executor(), era_.sessions.instance_tag(), instance_lease_held_);
            co_await (serve_connections() && instance_lease_->run());
        } else {
            co_await serve_connections();
        }
        for (auto& session : era_.sessions.snapshot()) era_.sessions.end(session, SessionEndReason::stopped);
        stop_timer_.cancel();
        if constexpr (FailoverStore<Store>) co_await instance_lease_->release();
    }

    // Accepts and serves connections until the listener stops (then the instance lease,
    // if any, is given up too).
    asio::awaitable<void> serve_connections() {
        co_await listener_.async_run([this] { return connection_executor(); },
                                     [this](const std::shared_ptr<Conn>& c) { return connection_loop(c); });
        if constexpr (FailoverStore<Store>) instance_lease_->stop();
        if constexpr (RelayStore<Store>) relay_->stop();
    }

    void begin_stop() {
        if (stopping_.exchange(true)) return;
        if (metrics_) metrics_->set_draining(true);
        listener_.close();
        reap_timer_.cancel();  // else its pending wait keeps io_context::run() busy for up to 30 s
        drain_timer_.cancel();
        listener_.for_each_connection([](const std::shared_ptr<Conn>& c) {
            asio::post(c->socket().get_executor(), [c] {
                if (c->idle) {
                    std::error_code ec;
                    c->socket().cancel(ec);
                }
                c->notify();
            });
        });
        // Standalone streams end now; running requests get until the deadline.
        era_.sessions.for_each([](const std::shared_ptr<detail::SseSessionState>& s) {
            if (auto standalone = s->existing_standalone_stream()) standalone->close();
        });
        stop_timer_.expires_after(options_.stop_timeout);
        stop_timer_.async_wait([this](std::error_code ec) {
            if (ec) return;
            era_.sessions.for_each([](const std::shared_ptr<detail::SseSessionState>& s) { s->end(); });
            listener_.for_each_connection([](const std::shared_ptr<Conn>& c) {
                asio::post(c->socket().get_executor(), [c] {
                    std::error_code ignored_ec;
                    c->closing = true;
                    c->socket().close(ignored_ec);
                    c->notify();
                });
            });
        });
    }

    void begin_drain() {
        if (stopping_ || draining_.exchange(true)) return;
        if (metrics_) metrics_->set_draining(true);
        era_.sessions.set_draining();
        const auto retry = options_.operations.drain_retry;
        era_.sessions.for_each([&](const std::shared_ptr<detail::SseSessionState>& s) {
            if (auto standalone = s->existing_standalone_stream()) standalone->close_with_retry(retry);
        });
        era_.listens.close_all(retry);
        asio::co_spawn(listener_.get_executor(), finish_drain(clock::now() + options_.operations.drain_timeout),
                       asio::detached);
    }

    // Stops once no request is being answered (checked every 20 ms), or at `deadline`.
    asio::awaitable<void> finish_drain(clock::time_point deadline) {
        while (!stopping_ && active_requests_.load(std::memory_order_relaxed) != 0 && clock::now() < deadline) {
            drain_timer_.expires_after(std::chrono::milliseconds(20));
            std::error_code ec;
            co_await drain_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        begin_stop();
    }

    // The executor of a new connection: the next one in turn (share-nothing mode), else
    // a serializing one.
    asio::any_io_executor connection_executor() {
        if (connection_executors_.empty()) return era_.serial_executor();
        return connection_executors_[next_executor_++ % connection_executors_.size()];
    }

    asio::awaitable<void> reap_sessions() {
        const auto period = era_.sessions.reap_period();
        while (!stopping_) {
            reap_timer_.expires_after(period);
            std::error_code ec;
            co_await reap_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            era_.sessions.reap();
        }
    }

    // ---- one connection ----------------------------------------------------------------

    asio::awaitable<void> connection_loop(const std::shared_ptr<Conn>& c) {
        detail::ClientSlot connection_slot;  // ClientLimits::max_connections, held for the connection's life
        if (!admit_connection(*c, connection_slot)) co_return co_await refuse_connection(c);
        detail::HttpRequestParser parser(options_.http_limits);
        detail::ReadState state;
        while (!c->closing && !stopping_) {
            state = {};
            c->stages_done = false;
            auto request = co_await detail::async_read_request(c, parser, state);
            while (!request && state.awaiting_continue) {
                if (!co_await answer_continue(c, parser.request())) co_return;
                state.sent_continue = true;
                request = co_await detail::async_read_request(c, parser, state);
            }
            if (!request) co_return co_await refuse_unread(c, state);
            active_requests_.fetch_add(1, std::memory_order_relaxed);  // a drain waits for it
            const clock::time_point started = observed() ? clock::now() : clock::time_point{};
            c->response_status = 0;
            c->bytes_sent = 0;
            c->limited = false;
            detail::PipelineDecision decision = pipeline_.decide(*request, c->response_headers, c->stages_done);
            if (!admitted_now(*c, *request, decision)) co_await admit(c, *request, decision);
            if (decision.kind == detail::PipelineDecision::Kind::stages) co_await run_stages(c, *request, decision);
            const detail::Route route = decision.kind == detail::PipelineDecision::Kind::pass ? router_.route(*request)
                                                                                              : detail::Route{};
            bool keep = true;
            if (decision.kind == detail::PipelineDecision::Kind::pass &&
                (route.kind == detail::Route::Kind::get || route.kind == detail::Route::Kind::legacy_stream)) {
                // One co_await (a frame slot for one result), no conditional expression in it (GCC 12).
                detail::ClientSlot stream_slot;  // ClientLimits::max_streams, held while the stream lasts
                const bool admitted = era_.client_slot(*c, *request, detail::ClientResource::stream, stream_slot);
                detail::GetOutcome opened = co_await open_stream(c, *request, route.kind, admitted);
                if (auto* plan = std::get_if<detail::StreamPlan>(&opened)) {
                    // A GET stream: served here, so no routing frames stay parked for its life.
                    std::string{}.swap(request->body);  // a stream has no use for the body that opened it
                    compact(*request);
                    keep = co_await streams_.serve(c, *request, *plan);
                    era_.sessions.note_stream_detached(*plan->session, *plan->stream);
                    plan->session->end_activity();
                    if (plan->legacy)
                        era_.sessions.end(plan->session, c->limited ? SessionEndReason::limit : SessionEndReason::stream_closed);
                } else {
                    keep = std::get<bool>(opened);
                }
            } else {
                keep = co_await answer(c, *request, decision, route);
            }
            detail::end_stream_watch(*c);
            active_requests_.fetch_sub(1, std::memory_order_relaxed);
            if (observed()) report_request(*c, *request, started);
            if (!keep || !request->keep_alive() || stopping_) co_return;
            parser.recycle(std::move(*request));  // the next request reuses its storage
        }
    }

    // A request that lives as long as its stream is replaced by a copy sized to it, which
    // drops the storage kept from earlier requests on the connection (see recycle). Not
    // a coroutine: the temporary copy takes no room in connection_loop's frame.
    static void compact(detail::HttpRequest& request) { request = detail::HttpRequest(std::as_const(request)); }

    // The GET handler of `kind`, or the 429 of a client at `max_streams` (`admitted`
    // false). A plain function returning its awaitable.
    asio::awaitable<detail::GetOutcome> open_stream(const std::shared_ptr<Conn>& c, detail::HttpRequest& req,
                                                    detail::Route::Kind kind, bool admitted) {
        if (!admitted) return refuse_stream(c);
        if (kind == detail::Route::Kind::get) return streamable_.open_get(c, req);
        return legacy_.open_stream(c, req);
    }

    // Everything but a GET stream, by the pipeline's decision and the route. A plain
    // function returning the chosen handler's awaitable (no frame of its own): every
    // argument it passes lives in connection_loop's frame, or is a literal.
    asio::awaitable<bool> answer(const std::shared_ptr<Conn>& c, detail::HttpRequest& req,
                                 const detail::PipelineDecision& decision, const detail::Route& route) {
        using Kind = detail::PipelineDecision::Kind;
        switch (decision.kind) {
        case Kind::pass: break;
        case Kind::refuse:
            return detail::async_reply_error(*c, req, decision.status, std::nullopt, error_code::invalid_request,
                                             std::string(decision.message));
        case Kind::preflight: return send_owned(*c, detail::CorsPolicy::preflight(req, decision.allow, c->response_headers), 204);
        case Kind::wrong_method: return detail::async_reply_405(*c, req, decision.allow);
        case Kind::route: return detail::async_answer_route(c, req, *decision.route);
        case Kind::answered:
        case Kind::stages: return ready(decision.keep);
        }
        switch (route.kind) {
        case detail::Route::Kind::post: return answer_post(c, req);
        case detail::Route::Kind::remove: return streamable_.remove(*c, req);
        case detail::Route::Kind::legacy_post: return legacy_.post(*c, req);
        case detail::Route::Kind::method_not_allowed: return detail::async_reply_405(*c, req, route.allow);
        default:
            return detail::async_reply_error(*c, req, 404, std::nullopt, error_code::invalid_request, "Not Found");
        }
    }

    // A POST to the MCP endpoint, by era. A plain function like `answer`: what the
    // callee needs from `r` is moved into its frame.
    asio::awaitable<bool> answer_post(const std::shared_ptr<Conn>& c, detail::HttpRequest& req) {
        detail::PostRoute r = router_.route_post(req);
        if (auto refusal = era_.scope_refusal(*c, req, r.parsed.messages)) return send_response(c, std::move(*refusal));
        switch (r.kind) {
        case detail::PostRoute::Kind::stateless:
            return stateless_.answer(c, req, std::move(r.parsed.messages.front()), std::move(r.meta_version));
        case detail::PostRoute::Kind::sessionless:
            return streamable_.answer_sessionless(c, req, std::move(r.parsed), r.header_version);
        case detail::PostRoute::Kind::initialize:
            return streamable_.initialize(c, req, std::move(r.parsed.messages.front()));
        case detail::PostRoute::Kind::session:
            return streamable_.answer_post(c, req, r.session->rpc(), r.session, std::move(r.parsed));
        case detail::PostRoute::Kind::error:
            if constexpr (SessionStore<Store>)
                if (r.unknown_session) return streamable_.answer_restored(c, req, std::move(r.parsed), r.header_version);
            break;
        }
        return detail::async_reply_error(*c, req, r.status, std::move(r.error_id), r.rpc_code, std::move(r.error_message),
                                         std::move(r.error_data));
    }

    static asio::awaitable<bool> ready(bool keep) { co_return keep; }

    // Sends a response this frame owns.
    static asio::awaitable<bool> send_response(std::shared_ptr<Conn> c, HttpResponse response) {
        co_return co_await detail::async_send_response(*c, response);
    }

    // Sends bytes this frame owns.
    static asio::awaitable<bool> send_owned(Conn& c, std::string bytes, int status) {
        c.response_status = status;
        co_return co_await detail::async_send_pair(c, bytes, {});
    }

    // ---- the pipeline's suspending parts, and 100 Continue ------------------------------

    // ---- per-client limits (ClientLimits) ----------------------------------------------

    // Notes whether the peer is exempt from ClientLimits (then nothing about it is looked
    // up again per request), and counts the connection under its address; false when that
    // address is at `max_connections`.
    bool admit_connection(Conn& c, detail::ClientSlot& slot) {
        std::error_code ec;
        const auto peer = c.socket().remote_endpoint(ec);
        if (ec) return true;  // the peer already left: the loop ends on its own
        c.exempt_peer = limiter_.exempt_address(peer.address());
        if (c.exempt_peer || limiter_.table().limit_of(detail::ClientResource::connection) == 0) return true;
        const std::string key = limiter_.connection_key(peer.address());
        if (limiter_.acquire(detail::ClientResource::connection, key, slot)) return true;
        c.report_limit(detail::ClientLimiter::name_of(detail::ClientResource::connection), key);
        return false;
    }

    // 429 to a connection over its address's `max_connections`, then close.
    static asio::awaitable<void> refuse_connection(std::shared_ptr<Conn> c) {
        c->linger = true;
        const HttpResponse answer = detail::ClientLimiter::too_many_requests(detail::ClientResource::connection);
        std::string extra = "Retry-After: 5\r\nConnection: close\r\n";
        co_await detail::async_write_simple(*c, 429, answer.body, extra);
    }

    // True when `req` goes to an MCP endpoint and its client's request bucket is empty.
    bool rate_limited(Conn& c, const detail::HttpRequest& req, const detail::PipelineDecision& decision) {
        using Kind = detail::PipelineDecision::Kind;
        if (decision.kind != Kind::pass && decision.kind != Kind::stages) return false;
        if (!detail::Router<Conn, Store>::serves(options_, req.path())) return false;
        if (req.principal && c.auth && c.auth->principal == req.principal) {  // the connection's usual client
            if (c.auth->client_key.empty()) c.auth->client_key = era_.client_key(c, req);
            return limiter_.take_request(c.auth->client_key).has_value();
        }
        const std::string key = era_.client_key(c, req);
        return !key.empty() && limiter_.take_request(key).has_value();
    }

    // True when authorization (when it covers `req`) and the request rate admit `req`
    // without suspending; false: `admit` decides.
    bool admitted_now(Conn& c, detail::HttpRequest& req, const detail::PipelineDecision& decision) {
        if (auth_.covers(req, decision) && !auth_.admit_now(c, req)) return false;
        return !(limiter_.limits_rate() && rate_limited(c, req, decision));
    }

    // What `admitted_now` could not decide: authorization that suspends (a token to
    // verify) or refuses, then the request rate. A refusal is written and `decision`
    // becomes `answered`; otherwise the request's principal is set. (One co_await site in
    // connection_loop for both.)
    asio::awaitable<void> admit(const std::shared_ptr<Conn>& c, detail::HttpRequest& req,
                                detail::PipelineDecision& decision) {
        if (auth_.covers(req, decision) && !req.principal) {
            bool keep = true;
            if (!co_await auth_.async_admit(c, req, req.principal, false, keep)) {
                decision = {};
                decision.kind = detail::PipelineDecision::Kind::answered;
                decision.keep = keep;
                co_return;
            }
            if (!(limiter_.limits_rate() && rate_limited(*c, req, decision))) co_return;
        }
        const std::string key = era_.client_key(*c, req);
        std::optional<detail::ClientRefusal> refusal = limiter_.take_request(key);
        if (!refusal) refusal = detail::ClientRefusal{"client_limits.requests_per_second", std::chrono::seconds(1), key};
        c->report_limit(refusal->limit, refusal->key);
        const HttpResponse answer = detail::ClientLimiter::too_many_requests(*refusal);
        decision = {};
        decision.kind = detail::PipelineDecision::Kind::answered;
        decision.keep = co_await detail::async_send_response(*c, answer);
    }

    // The 429 of a GET from a client at `max_streams`, as the GET's outcome.
    static asio::awaitable<detail::GetOutcome> refuse_stream(std::shared_ptr<Conn> c) {
        const HttpResponse answer = detail::ClientLimiter::too_many_requests(detail::ClientResource::stream);
        co_return co_await detail::async_send_response(*c, answer);
    }

    // Runs the host's stages into `decision`: the first answer is written (`answered`),
    // else the decision about routes. (The result goes through a reference, so that
    // connection_loop's frame holds no second decision.)
    asio::awaitable<void> run_stages(const std::shared_ptr<Conn>& c, const detail::HttpRequest& req,
                                     detail::PipelineDecision& decision) {
        std::optional<HttpResponse> response = co_await detail::async_check_stages(c, pipeline_, req);
        if (!response) {
            decision = pipeline_.decide_route(req);
            co_return;
        }
        decision = {};
        decision.kind = detail::PipelineDecision::Kind::answered;
        decision.keep = co_await detail::async_send_response(*c, *response);
    }

    // A request waiting for 100 Continue: every check that can refuse it from its head
    // runs first (the pipeline, then the route's), so the client gets the refusal without
    // sending its body (RFC 9110 section 10.1.1). False when the connection ends.
    asio::awaitable<bool> answer_continue(const std::shared_ptr<Conn>& c, detail::HttpRequest& head) {
        using Kind = detail::PipelineDecision::Kind;
        detail::PipelineDecision decision = pipeline_.decide(head, c->response_headers, false);
        std::optional<detail::HeadRefusal> refusal;
        if (auth_.covers(head, decision)) {
            // The principal lets the route's checks below see whose session a request
            // names; the token is checked again (from the cache) once the body is in.
            bool keep = false;
            if (!co_await auth_.async_admit(c, head, head.principal, true, keep)) co_return false;
        }
        if (decision.kind == Kind::stages) {
            if (auto response = co_await detail::async_check_stages(c, pipeline_, head)) {
                c->linger = true;
                response->headers.emplace_back("Connection", "close");
                co_await detail::async_send_response(*c, *response);
                co_return false;
            }
            decision = pipeline_.decide_route(head);
        }
        if (decision.kind == Kind::refuse) refusal = detail::HeadRefusal{decision.status, std::string(decision.message)};
        else if (decision.kind == Kind::wrong_method) refusal = detail::HeadRefusal{405, "Method Not Allowed"};
        else if (decision.kind == Kind::pass) refusal = router_.refuse_head(head);
        if (refusal) {
            c->linger = true;
            co_await detail::async_write_json(*c, head, refusal->status,
                                              detail::error_body(error_code::invalid_request, refusal->message),
                                              "Connection: close\r\n");
            co_return false;
        }
        std::error_code ec;
        co_await asio::async_write(c->stream, asio::buffer(detail::continue_response),
                                   asio::redirect_error(asio::use_awaitable, ec));
        co_return !ec;
    }

    // A request that could not be read: 400-class for malformed or oversized HTTP, 408
    // when a started request timed out; nothing when the peer left or went idle.
    asio::awaitable<void> refuse_unread(const std::shared_ptr<Conn>& c, const detail::ReadState& state) {
        if (state.http_error) {
            c->linger = true;
            report_limit(*c, "http_limits", state.http_error.message());
            co_await detail::async_write_simple(*c, detail::status_for(state.http_error),
                                                detail::error_body(error_code::invalid_request, state.http_error.message()),
                                                "Connection: close\r\n");
        } else if (c->timed_out && state.partial) {
            c->linger = true;
            report_limit(*c, "request_timeout", {});
            co_await detail::async_write_simple(*c, 408, detail::error_body(error_code::invalid_request, "Request Timeout"),
                                                "Connection: close\r\n");
        }
    }

    // ---- observers ---------------------------------------------------------------------

    bool observed() const noexcept { return observers_.observes_requests(); }

    void report_request(Conn& c, const detail::HttpRequest& req, clock::time_point started) {
        const std::string_view subject = req.principal ? std::string_view(req.principal->subject) : std::string_view();
        RequestInfo info{c.info(), req.method, req.path(), c.response_status, c.bytes_sent, clock::now() - started,
                         subject};
        info.route = route_label(info.path);
        std::optional<std::string> legacy_id;
        if (info.route == "messages") legacy_id = detail::query_param(req.query(), "sessionId");
        if (legacy_id) info.session_id = *legacy_id;
        else if (auto id = req.find("mcp-session-id")) info.session_id = *id;
        if (c.traceparent) info.traceparent = *c.traceparent;
        observers_.each_request([&](TransportObserver& o) { o.on_request(info); });
        c.traceparent.reset();
    }

    // The endpoint a path addresses, as `RequestInfo::route` names it.
    std::string_view route_label(std::string_view path) const {
        if (path == options_.mcp_path) return "mcp";
        if (!options_.sse_path.empty() && path == options_.sse_path) return "sse";
        if (!options_.sse_path.empty() && path == options_.messages_path) return "messages";
        for (const auto& route : pipeline_.routes())
            if (route.path == path) return route.path;
        return "other";
    }

    void report_limit(Conn& c, std::string_view limit, std::string_view detail_text) {
        c.report_limit(limit, detail_text);
    }

    executor_type executor_;
    SseTransportOptions options_;
    Store store_;
    Security security_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> draining_{false};
    std::atomic<std::size_t> active_requests_{0};  // being answered (read, not yet answered)
    detail::Observers observers_{options_.observers};
    std::shared_ptr<Metrics> metrics_{make_metrics()};  // before the pipeline: its route is one of the routes
    detail::RequestAuthorization<Conn> auth_{options_};  // before the listener: bad settings throw before binding
    detail::ClientLimiter limiter_{options_.client_limits};
    detail::Listener<Conn, Security> listener_;
    detail::Pipeline pipeline_;
    detail::EraContext<Conn, Store> era_;
    detail::Router<Conn, Store> router_;
    detail::StreamableHttp<Conn, Store> streamable_;
    detail::StatelessHttp<Conn, Store> stateless_;
    detail::LegacyHttpSse<Conn, Store> legacy_;
    detail::StreamServer<Conn, Store> streams_{era_};
    // The lease `instance:<tag>` held while running (FailoverStore only).
    std::conditional_t<FailoverStore<Store>, std::optional<detail::InstanceLease<Store>>, std::monostate> instance_lease_;
    std::atomic<bool> instance_lease_held_{false};  // set by instance_lease_; read by readiness()
    // What this instance relays to and receives from the others (RelayStore only).
    std::conditional_t<RelayStore<Store>, std::optional<detail::Relay<Store>>, std::monostate> relay_;
    asio::steady_timer stop_timer_;
    asio::steady_timer reap_timer_;  // paces reap_sessions(); cancelled by stop
    asio::steady_timer drain_timer_;  // paces finish_drain()
    std::vector<asio::any_io_executor> connection_executors_;  // share-nothing mode only
    std::size_t next_executor_ = 0;                            // on the acceptor's strand
    std::vector<asio::any_io_executor> busy_;  // outstanding work on each, from async_run to the run's end
};

}  // namespace mcpsse
