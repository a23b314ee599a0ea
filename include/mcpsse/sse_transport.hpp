// mcpsse: MCP over HTTP/1.1 with Server-Sent Events, every transport revision at one endpoint.
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/event_store.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/sse_session.hpp>
#include <mcpsse/sse_transport_options.hpp>
#include <mcpsse/detail/util/base64.hpp>
#include <mcpsse/detail/sse/event_id.hpp>
#include <mcpsse/detail/http/chars.hpp>
#include <mcpsse/detail/http/error.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/request_parser.hpp>
#include <mcpsse/detail/http/response.hpp>
#include <mcpsse/detail/http/media_type.hpp>
#include <mcpsse/detail/http/origin.hpp>
#include <mcpsse/detail/http/read_buffer.hpp>
#include <mcpsse/detail/rpc/session.hpp>
#include <mcpsse/detail/mcp/session_id.hpp>
#include <mcpsse/detail/sse/event.hpp>
#include <mcpsse/detail/sse/stream.hpp>
#include <mcpsse/detail/util/string_hash.hpp>
#include <mcpsse/detail/http/uri.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/prefer.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/dispatch.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mcpsse {

/// MCP over HTTP/1.1 and Server-Sent Events: one Asio server that speaks every transport
/// revision real clients use, at one endpoint.
///
/// - Streamable HTTP with sessions (2025-03-26, 2025-06-18, 2025-11-25) at
///   `options.mcp_path`: `initialize` creates a session (`Mcp-Session-Id`, MCP N1-N6);
///   POST answers JSON or an SSE stream (P1-P9); GET opens the standalone stream
///   (G1-G4, one per session, else 409); DELETE ends the session; events carry ids
///   `<stream>-<sequence>` and are kept in `Store` for resumption with
///   `Last-Event-ID` (R1-R4).
/// - Stateless Streamable HTTP (2026-07-28) at the same path: a POST whose
///   `params._meta` or `MCP-Protocol-Version` names 2026-07-28 runs without a session;
///   `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` are checked
///   against the body (400 with -32020 or -32022); closing its SSE response cancels
///   the handler; server-to-client requests are refused (hosts return input-required
///   results instead).
/// - Legacy HTTP+SSE (2024-11-05): `GET options.sse_path` opens the stream and sends
///   `event: endpoint` with `<messages_path>?sessionId=<id>`; POSTs there get 202 and
///   their replies go out on the stream as `event: message`.
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
/// `Executor` is the executor type of `get_executor()`; `Store` models `EventStore`.
/// The transport, its dispatcher and its store must outlive the run. `stop()` is safe
/// from any thread; other members from the thread that created the transport, except
/// where noted. Models `Transport`.
template <class Executor = asio::any_io_executor, class Store = InMemoryEventStore>
class SseTransport {
    static_assert(EventStore<Store>, "Store must model mcpsse::EventStore");

public:
    /// The executor type given at construction.
    using executor_type = Executor;

    /// Creates the transport and binds its listening socket (so port 0 is resolved and
    /// address errors surface here). Throws `std::system_error` when the address cannot
    /// be bound, and `std::invalid_argument` for an unparsable `allowed_origins` entry.
    explicit SseTransport(const executor_type& executor, SseTransportOptions options = {}, Store store = Store{})
        : SseTransport(std::vector<executor_type>{executor}, false, std::move(options), std::move(store)) {}

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
    SseTransport(const std::vector<executor_type>& executors, SseTransportOptions options = {}, Store store = Store{})
        : SseTransport(non_empty(executors), true, std::move(options), std::move(store)) {}

private:
    static const std::vector<executor_type>& non_empty(const std::vector<executor_type>& executors) {
        if (executors.empty()) throw std::invalid_argument("mcpsse: SseTransport needs at least one executor");
        return executors;
    }

    SseTransport(const std::vector<executor_type>& executors, bool share_nothing, SseTransportOptions options,
                 Store store)
        : executor_(executors.front()),
          options_(std::move(options)),
          store_(std::move(store)),
          acceptor_(asio::make_strand(asio::any_io_executor(executor_))),
          stop_timer_(acceptor_.get_executor()),
          reap_timer_(acceptor_.get_executor()) {
        const auto address = asio::ip::make_address(options_.host);
        const asio::ip::tcp::endpoint endpoint(address, options_.port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
        loopback_ = address.is_loopback();
        for (const auto& origin : options_.allowed_origins) {
            auto parsed = detail::parse_origin(origin);
            if (!parsed) throw std::invalid_argument("mcpsse: invalid allowed origin: " + origin);
            allowed_origins_.push_back(std::move(*parsed));
        }
        share_nothing_ = share_nothing;
        if (share_nothing_) {
            options_.single_threaded = true;
            for (const auto& executor : executors) connection_executors_.emplace_back(executor);
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
    [[nodiscard]] std::uint16_t local_port() const { return acceptor_.local_endpoint().port(); }

    /// The settings in force.
    [[nodiscard]] const SseTransportOptions& options() const noexcept { return options_; }

    /// The event store (e.g. to inspect it in tests).
    [[nodiscard]] Store& event_store() noexcept { return store_; }

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
        return asio::co_spawn(acceptor_.get_executor(), run(dispatcher), std::forward<CompletionToken>(token));
    }

    /// Graceful stop, from any thread: stops accepting, closes idle connections and
    /// standalone streams, lets running requests finish for `options.stop_timeout`, then
    /// cancels what is left and closes every connection; the run completes after that.
    /// Replies produced before the deadline are written.
    void stop() {
        asio::post(acceptor_.get_executor(), [this] { begin_stop(); });
    }

    /// Sessions open now. Thread-safe.
    [[nodiscard]] std::size_t session_count() const {
        std::lock_guard lock(sessions_mutex_);
        return sessions_.size();
    }

    /// Connections open now. Thread-safe.
    [[nodiscard]] std::size_t connection_count() const noexcept { return connection_count_.load(); }

    /// Calls `visit` for each open session. Thread-safe; `visit` must not block or call
    /// back into the transport.
    void for_each_session(const std::function<void(SseSession&)>& visit) {
        std::vector<std::shared_ptr<SseSession>> all;
        {
            std::lock_guard lock(sessions_mutex_);
            all.reserve(sessions_.size());
            for (auto& entry : sessions_) all.push_back(entry.second);
        }
        for (auto& session : all) visit(*session);
    }

    /// Sends one notification to the standalone stream (GET or legacy) of every session
    /// for which `filter` returns true (all when empty); returns how many sessions it
    /// was queued for (sessions without a standalone stream are skipped; a disconnected
    /// resumable stream keeps it for replay). The message is serialized once and handed
    /// to each stream directly. Thread-safe; `filter` and the sends run outside the
    /// session table's lock (as for `for_each_session`), so `filter` may call the transport.
    std::size_t broadcast(const std::string& method, const nlohmann::json& params = nullptr,
                          const std::function<bool(const SseSession&)>& filter = {}) {
        const std::string message = json_rpc::serialize(Notification{method, params});
        std::size_t count = 0;
        for_each_session([&](SseSession& session) {
            if ((!filter || filter(session)) && session.send_serialized(message)) ++count;
        });
        return count;
    }

private:
    using tcp = asio::ip::tcp;
    using clock = std::chrono::steady_clock;

    // The session's view of the event store. Appends stop once the session has ended:
    // end_session erases its events once, after SseSession::end(), and a handler still
    // running (a POST stream that has not opened is not closed by end()) must not put
    // them back.
    // (It keeps no copy of the session id: the session, while it exists, has it.)
    class StoreLog final : public detail::EventLog {
    public:
        explicit StoreLog(Store& store) : store_(store) {}
        void set_session(const std::shared_ptr<SseSession>& session) { session_ = session; }
        void append(EventId id, std::string message) override {
            if (const auto session = session_.lock())
                session->if_live([&] { store_.append(session->id(), id, std::move(message)); });
        }
        bool replay_after(EventId id, const std::function<void(EventId, std::string_view)>& visit) override {
            const auto session = session_.lock();
            return session && store_.replay_after(session->id(), id, visit);
        }

    private:
        Store& store_;
        std::weak_ptr<SseSession> session_;
    };

    // What a streamed exchange is. An `initialize` POST writes nothing before its handler
    // has finished: its head publishes the session (Mcp-Session-Id), which must not
    // happen while initialize is still writing the session's lifecycle.
    enum class StreamKind { post, initialize, standalone, legacy, replay };

    // A long-lived stream to serve on a connection (standalone GET, resumption, legacy GET).
    struct StreamPlan {
        std::shared_ptr<detail::SseStream> stream;
        StreamKind kind = StreamKind::standalone;
        std::optional<EventId> resume_after;
        bool priming = false;
        std::string prefix;                    // bytes sent before the stream's events
        std::shared_ptr<SseSession> session;   // its activity ends with the stream
        bool end_session = false;              // a legacy session lives as long as its stream
    };

    // One accepted connection; its members are used on the connection's strand only.
    struct Connection : std::enable_shared_from_this<Connection> {
        explicit Connection(tcp::socket s)
            : socket(std::move(s)), watchdog(socket.get_executor()), wake(socket.get_executor()) {}
        tcp::socket socket;
        asio::steady_timer watchdog;
        asio::steady_timer wake;
        detail::ReadBuffer in;  // received, not yet parsed
        clock::time_point deadline = clock::time_point::max();
        bool watchdog_running = false;
        bool timed_out = false;
        bool idle = false;         // waiting for the first byte of a request
        bool peer_closed = false;  // seen while streaming
        bool detector_running = false;
        bool detector_stop = false;
        bool closing = false;
        bool writing = false;   // a write waits for the peer: the watchdog enforces send_timeout
        bool linger = false;    // an error response ends the connection: drain before closing
        bool notified = false;  // a wake arrived while no wait was pending
        // The pump waits with its head written and no write pending, so the waker (on the
        // connection's executor) may write new events itself (see write_directly).
        bool parked = false;
        bool parked_chunked = true;
        std::uint64_t parked_generation = 0;
        detail::SseStream* parked_stream = nullptr;
        std::string unsent;  // taken by write_directly, not yet written: the pump writes it first
        // A GET stream `route` accepted; connection_loop attaches and pumps it (a
        // resumption takes the stream over from a connection still attached, which may be
        // dead without the server knowing yet; otherwise a second consumer gets 409).
        std::optional<StreamPlan> plan;

        // Wakes the pump (on the connection's strand); never lost.
        void notify() {
            notified = true;
            wake.cancel();
        }
    };

    // ---- run, accept, stop -------------------------------------------------------------

    asio::awaitable<void> run(Dispatcher& dispatcher) {
        dispatcher_ = &dispatcher;
        // Held by this frame: however the run ends (or its frame is destroyed with its
        // context), the contexts may then run out of work.
        const std::vector<asio::any_io_executor> work = std::exchange(busy_, {});
        asio::co_spawn(acceptor_.get_executor(), reap_sessions(), asio::detached);
        while (!stopping_) {
            std::error_code ec;
            tcp::socket socket = co_await acceptor_.async_accept(connection_executor(),
                asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                if (stopping_ || ec == asio::error::operation_aborted) break;
                // Out of descriptors or similar: pause briefly rather than spin.
                asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
                co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                continue;
            }
            auto connection = std::make_shared<Connection>(std::move(socket));
            const auto executor = connection->socket.get_executor();
            asio::co_spawn(executor, serve(connection), asio::detached);
        }
        // Wait for connections to finish (stop() forces them after the deadline).
        while (connection_count_.load() != 0) {
            asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(5));
            std::error_code ec;
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        std::vector<std::shared_ptr<SseSession>> all;
        {
            std::lock_guard lock(sessions_mutex_);
            for (auto& entry : sessions_) all.push_back(entry.second);
        }
        for (auto& session : all) end_session(session);
        stop_timer_.cancel();
    }

    void begin_stop() {
        if (stopping_.exchange(true)) return;
        std::error_code ignored;
        acceptor_.close(ignored);
        reap_timer_.cancel();  // else its pending wait keeps io_context::run() busy for up to 30 s
        for_each_connection([](const std::shared_ptr<Connection>& c) {
            asio::post(c->socket.get_executor(), [c] {
                if (c->idle) {
                    std::error_code ec;
                    c->socket.cancel(ec);
                }
                c->notify();
            });
        });
        // Standalone streams end now; running requests get until the deadline.
        for_each_session_locked_copy([](SseSession& s) {
            if (auto standalone = s.existing_standalone_stream()) standalone->close();
        });
        stop_timer_.expires_after(options_.stop_timeout);
        stop_timer_.async_wait([this](std::error_code ec) {
            if (ec) return;
            for_each_session_locked_copy([](SseSession& s) { s.end(); });
            for_each_connection([](const std::shared_ptr<Connection>& c) {
                asio::post(c->socket.get_executor(), [c] {
                    std::error_code ignored_ec;
                    c->closing = true;
                    c->socket.close(ignored_ec);
                    c->notify();
                });
            });
        });
    }

    // An executor that serializes one connection's or one session's work: a new strand,
    // or the plain executor when one thread runs the context (options.single_threaded).
    // Over an io_context the strand is built on its concrete executor type: that strand
    // fits in any_io_executor's small-object buffer, so copying it allocates nothing
    // (a strand of any_io_executor does not fit, and each copy and `prefer` allocates).
    asio::any_io_executor serial_executor() const {
        if (options_.single_threaded) return asio::any_io_executor(executor_);
        const asio::any_io_executor any(executor_);
        if (const auto* io = any.template target<asio::io_context::executor_type>())
            return asio::any_io_executor(asio::make_strand(*io));
        return asio::any_io_executor(asio::make_strand(any));
    }

    // The executor of a new connection: the next one in turn (share-nothing mode), else
    // a serializing one.
    asio::any_io_executor connection_executor() {
        if (connection_executors_.empty()) return serial_executor();
        return connection_executors_[next_executor_++ % connection_executors_.size()];
    }

    // The executor of a new session's (or stateless request's) JSON-RPC state: in
    // share-nothing mode that of the connection creating it, else a serializing one.
    asio::any_io_executor session_executor(Connection& c) const {
        return share_nothing_ ? c.socket.get_executor() : serial_executor();
    }

    void for_each_session_locked_copy(const std::function<void(SseSession&)>& visit) { for_each_session(visit); }

    void for_each_connection(const std::function<void(const std::shared_ptr<Connection>&)>& visit) {
        std::vector<std::shared_ptr<Connection>> all;
        {
            std::lock_guard lock(connections_mutex_);
            for (auto& entry : connections_)
                if (auto c = entry.second.lock()) all.push_back(std::move(c));
        }
        for (auto& c : all) visit(c);
    }

    asio::awaitable<void> reap_sessions() {
        const auto period = std::clamp<std::chrono::milliseconds>(options_.session_idle_timeout / 4,
                                                                  std::chrono::milliseconds(10), std::chrono::seconds(30));
        while (!stopping_) {
            reap_timer_.expires_after(period);
            std::error_code ec;
            co_await reap_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            std::vector<std::shared_ptr<SseSession>> expired;
            {
                std::lock_guard lock(sessions_mutex_);
                for (auto& entry : sessions_) {
                    auto& s = entry.second;
                    if (s->activity() == 0 && s->idle_for() > options_.session_idle_timeout) expired.push_back(s);
                }
            }
            for (auto& s : expired) end_session(s);
        }
    }

    // ---- sessions ---------------------------------------------------------------------

    std::shared_ptr<SseSession> find_session(std::string_view id) {
        std::lock_guard lock(sessions_mutex_);
        const auto it = sessions_.find(id);
        return it == sessions_.end() ? nullptr : it->second;
    }

    // The session a POST, GET or DELETE names, or why there is none: no Mcp-Session-Id
    // -> 400 (MCP N3), unknown or ended -> 404 (N4), an unsupported
    // MCP-Protocol-Version -> 400 (V3; a missing one is fine, V2).
    struct SessionLookup {
        std::shared_ptr<SseSession> session;
        int status = 0;
        const char* message = "";
    };
    SessionLookup lookup_session(const detail::HttpRequest& req, std::optional<std::string_view> header_version) {
        const auto id = req.find("mcp-session-id");
        if (!id) return {nullptr, 400, "Bad Request: Mcp-Session-Id header is required"};
        auto session = find_session(*id);
        if (!session) return {nullptr, 404, "Not Found: unknown or ended session"};
        if (header_version && !dispatcher_->supports_protocol_version(*header_version))
            return {nullptr, 400, "Bad Request: unsupported MCP-Protocol-Version"};
        return {std::move(session)};
    }

    std::shared_ptr<SseSession> create_session(Connection& c, bool legacy) {
        auto id = detail::make_session_id();
        auto log = legacy ? nullptr : std::make_shared<StoreLog>(store_);
        auto session = std::make_shared<SseSession>(id, legacy, log);
        if (log) log->set_session(session);
        session->set_rpc(new_rpc(c, std::move(id)));
        return session;
    }

    // The JSON-RPC state of a new session (or of one stateless request).
    std::shared_ptr<detail::RpcSession> new_rpc(Connection& c, std::string id = {}) const {
        auto rpc = std::make_shared<detail::RpcSession>(session_executor(c), *dispatcher_, nullptr, std::move(id));
        rpc->set_limits({options_.max_requests_in_flight, options_.request_handler_timeout});
        return rpc;
    }

    // Adds a session unless the cap is reached. `reserved`: it holds a slot from
    // reserve_session_slot (then it always fits).
    bool register_session(const std::shared_ptr<SseSession>& session, bool reserved = false) {
        {
            std::lock_guard lock(sessions_mutex_);
            if (reserved) --reserved_sessions_;
            else if (sessions_.size() + reserved_sessions_ >= options_.max_sessions) return false;
            sessions_.emplace(session->id(), session);
        }
        if (options_.on_session_open) options_.on_session_open(*session);
        return true;
    }

    // Holds a place in the session table for an initialize still running (false: full).
    bool reserve_session_slot() {
        std::lock_guard lock(sessions_mutex_);
        if (sessions_.size() + reserved_sessions_ >= options_.max_sessions) return false;
        ++reserved_sessions_;
        return true;
    }

    void release_session_slot() {
        std::lock_guard lock(sessions_mutex_);
        --reserved_sessions_;
    }

    void end_session(const std::shared_ptr<SseSession>& session) {
        {
            std::lock_guard lock(sessions_mutex_);
            sessions_.erase(session->id());
        }
        if (!session->end()) return;
        store_.erase(session->id());
        if (options_.on_session_close) options_.on_session_close(*session);
    }

    // ---- connection --------------------------------------------------------------------

    asio::awaitable<void> serve(std::shared_ptr<Connection> c) {
        const auto count = connection_count_.fetch_add(1) + 1;
        {
            std::lock_guard lock(connections_mutex_);
            connections_.emplace(c.get(), c);
        }
        std::error_code ec;
        c->socket.set_option(tcp::no_delay(true), ec);
        c->socket.non_blocking(true, ec);  // the close detector's read_some must never block
        if (count > options_.max_connections) {
            co_await write_simple(*c, 503, error_body(error_code::internal_error, "Service Unavailable: too many connections"),
                                  "Retry-After: 1\r\nConnection: close\r\n");
        } else {
            try {
                co_await connection_loop(c);
            } catch (const std::exception&) {
                // A failure in one connection must not take the server down.
            }
        }
        if (c->linger && !c->closing && options_.lingering_close_timeout.count() > 0) co_await lingering_close(c);
        c->closing = true;
        c->socket.shutdown(tcp::socket::shutdown_both, ec);
        c->socket.close(ec);
        c->watchdog.cancel();
        {
            std::lock_guard lock(connections_mutex_);
            connections_.erase(c.get());
        }
        connection_count_.fetch_sub(1);
    }

    asio::awaitable<void> connection_loop(const std::shared_ptr<Connection>& c) {
        detail::HttpRequestParser parser(options_.http_limits);
        while (!c->closing && !stopping_) {
            std::error_code http_error;
            bool partial = false;
            auto request = co_await read_request(c, parser, http_error, partial);
            if (!request) {
                if (http_error) {
                    c->linger = true;
                    co_await write_simple(*c, detail::status_for(http_error),
                                          error_body(error_code::invalid_request, http_error.message()),
                                          "Connection: close\r\n");
                } else if (c->timed_out && partial) {
                    c->linger = true;
                    co_await write_simple(*c, 408, error_body(error_code::invalid_request, "Request Timeout"),
                                          "Connection: close\r\n");
                }
                co_return;
            }
            bool keep = co_await route(c, *request);
            if (c->plan) {
                // A GET stream: serve it here, so no routing frames stay parked for its life.
                StreamPlan plan = std::move(*c->plan);
                c->plan.reset();
                std::string{}.swap(request->body);  // a stream has no use for the body that opened it
                compact(*request);
                const bool resume = plan.resume_after.has_value();
                bool replayed = true;
                const std::uint64_t generation =
                    plan.stream->attach(waker(c, plan.stream), plan.resume_after, &replayed, resume);
                if (generation == 0) {
                    keep = co_await reply_error(*c, *request, 409, std::nullopt, error_code::invalid_request,
                                                "Conflict: this stream is already being received");
                } else if (!replayed) {
                    // Events after Last-Event-ID were evicted: never resume with a gap.
                    plan.stream->detach(generation);
                    keep = co_await refuse_gap(*c, *request, *plan.session, *plan.stream);
                } else {
                    keep = co_await pump(c, *request, plan.stream, generation, plan.kind, plan.priming && !resume,
                                         std::move(plan.prefix), no_headers(), false, {}, nullptr);
                }
                plan.session->end_activity();
                if (plan.end_session) end_session(plan.session);
            }
            if (!keep || !request->keep_alive() || stopping_) co_return;
            parser.recycle(std::move(*request));  // the next request reuses its storage
        }
    }

    // A request that lives as long as its stream is replaced by a copy sized to it, which
    // drops the storage kept from earlier requests on the connection (see recycle). Not
    // a coroutine: the temporary copy takes no room in connection_loop's frame.
    static void compact(detail::HttpRequest& request) { request = detail::HttpRequest(std::as_const(request)); }

    // Reads one whole request; nullopt at end of input, on timeout or on an HTTP error.
    // `parser` is ready for a new request (new, or reset by its release/recycle).
    asio::awaitable<std::optional<detail::HttpRequest>> read_request(const std::shared_ptr<Connection>& c,
                                                                     detail::HttpRequestParser& parser,
                                                                     std::error_code& http_error, bool& partial) {
        bool sent_continue = false;
        arm(c, c->in.empty() ? options_.idle_timeout : options_.request_timeout);
        for (;;) {
            if (!c->in.empty()) {
                if (!partial) {
                    partial = true;
                    arm(c, options_.request_timeout);
                }
                const auto result = parser.parse(c->in.view());
                c->in.consume(result.consumed);
                if (result.status == detail::ParseStatus::complete) {
                    disarm(c);
                    // After a large request: keep no more than the parser keeps per part.
                    if (c->in.capacity() > detail::HttpRequestParser::max_reused_bytes) c->in.release();
                    co_return parser.release();
                }
                if (result.status == detail::ParseStatus::error) {
                    disarm(c);
                    http_error = result.error;
                    co_return std::nullopt;
                }
                if (result.status == detail::ParseStatus::headers_complete && !sent_continue &&
                    parser.request().expects_continue()) {
                    sent_continue = true;
                    // Every check that can refuse the request from its head runs first, so
                    // a client waiting for 100 Continue gets the refusal without sending
                    // its body (RFC 9110 section 10.1.1).
                    if (auto refusal = refuse_head(parser.request())) {
                        disarm(c);
                        c->linger = true;
                        co_await write_json(*c, parser.request(), refusal->status,
                                            error_body(error_code::invalid_request, refusal->message),
                                            "Connection: close\r\n");
                        co_return std::nullopt;
                    }
                    std::error_code ec;
                    co_await asio::async_write(c->socket, asio::buffer(detail::continue_response),
                                               asio::redirect_error(asio::use_awaitable, ec));
                    if (ec) co_return std::nullopt;
                }
                if (result.status == detail::ParseStatus::headers_complete && !c->in.empty()) continue;
            }
            c->idle = !partial;
            if (c->idle && stopping_) co_return std::nullopt;
            char* room = c->in.prepare(4096);
            std::error_code ec;
            const std::size_t n = co_await c->socket.async_read_some(asio::buffer(room, 4096),
                                                                     asio::redirect_error(asio::use_awaitable, ec));
            c->in.commit(ec ? 0 : n);
            c->idle = false;
            if (ec) {
                disarm(c);
                co_return std::nullopt;
            }
        }
    }

    // Ends a connection whose error response may have left the request's rest unread:
    // closes the sending side, then reads and discards until the client closes or
    // lingering_close_timeout passes, so the client's remaining bytes meet no reset that
    // would destroy the response before it is read.
    asio::awaitable<void> lingering_close(const std::shared_ptr<Connection>& c) {
        std::error_code ec;
        c->socket.shutdown(tcp::socket::shutdown_send, ec);
        if (ec) co_return;
        arm(c, options_.lingering_close_timeout);
        std::array<char, 4096> scratch{};
        for (;;) {
            co_await c->socket.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
        }
        disarm(c);
    }

    // A refusal decided from a request's head alone.
    struct HeadRefusal {
        int status;
        std::string message;
    };

    // The checks `route` and the POST handlers make that need no body: path, Host,
    // Origin, method, media types, and the session a POST names. Used before 100 Continue.
    std::optional<HeadRefusal> refuse_head(const detail::HttpRequest& req) {
        const std::string_view path = req.path();
        const bool mcp = path == options_.mcp_path;
        const bool legacy_stream = !options_.sse_path.empty() && path == options_.sse_path;
        const bool legacy_post = !options_.sse_path.empty() && path == options_.messages_path;
        if (!mcp && !legacy_stream && !legacy_post) return HeadRefusal{404, "Not Found"};
        if (!host_allowed(req)) return HeadRefusal{403, "Forbidden: Host not allowed"};
        if (!origin_allowed(req)) return HeadRefusal{403, "Forbidden: Origin not allowed"};
        const std::string_view method = req.method;
        if (method == "OPTIONS") return std::nullopt;
        const bool allowed = mcp ? (method == "POST" || (!options_.stateless && (method == "GET" || method == "DELETE")))
                                 : legacy_stream ? method == "GET"
                                                 : method == "POST";
        if (!allowed) return HeadRefusal{405, "Method Not Allowed"};
        if (method != "POST") return std::nullopt;  // GET, DELETE: route decides
        const auto content_type = req.find("content-type");
        const bool json_body = content_type && detail::is_media_type(*content_type, "application/json");
        if (legacy_post) {  // in handle_legacy_post's order
            const auto query_id = detail::query_param(req.query(), "sessionId");
            const auto id = query_id ? query_id : detail::query_param(req.query(), "session_id");
            if (!id || id->empty()) return HeadRefusal{400, "Bad Request: sessionId query parameter is required"};
            const auto session = find_session(*id);
            if (!session || !session->legacy()) return HeadRefusal{404, "Not Found: unknown or ended session"};
            if (!json_body) return HeadRefusal{415, "Unsupported Media Type: Content-Type must be application/json"};
            return std::nullopt;
        }
        const auto accept = req.find("accept");  // in route_post's order
        if (!accept || !detail::accepts_both(*accept, "application/json", "text/event-stream"))
            return HeadRefusal{406, "Not Acceptable: Accept must list application/json and text/event-stream"};
        if (!json_body) return HeadRefusal{415, "Unsupported Media Type: Content-Type must be application/json"};
        if (!options_.stateless && req.find("mcp-session-id")) {
            const auto header_version = req.find("mcp-protocol-version");
            if (!header_version || !protocol_version::is_stateless(*header_version)) {
                auto found = lookup_session(req, header_version);
                if (!found.session) return HeadRefusal{found.status, found.message};
            }
        }
        return std::nullopt;
    }

    // The watchdog: one timer per connection, re-armed lazily (no cancellation per read).
    void arm(const std::shared_ptr<Connection>& c, std::chrono::milliseconds after) {
        c->deadline = clock::now() + after;
        c->timed_out = false;
        if (c->watchdog_running && c->watchdog.expiry() <= c->deadline) return;
        c->watchdog_running = true;
        c->watchdog.expires_at(c->deadline);
        c->watchdog.async_wait([c](std::error_code ec) { on_watchdog(c, ec); });
    }

    static void disarm(const std::shared_ptr<Connection>& c) { c->deadline = clock::time_point::max(); }

    static void on_watchdog(const std::shared_ptr<Connection>& c, std::error_code ec) {
        if (c->closing) {
            c->watchdog_running = false;
            return;
        }
        if (ec == asio::error::operation_aborted && c->watchdog.expiry() > clock::now()) {
            // Re-armed earlier: a new wait is already pending.
            return;
        }
        if (c->deadline == clock::time_point::max()) {
            c->watchdog_running = false;
            return;
        }
        if (clock::now() >= c->deadline) {
            c->watchdog_running = false;
            c->timed_out = true;
            std::error_code ignored;
            if (c->writing) {
                // send_timeout: the peer stopped reading. Closing (not just cancelling) also
                // ends a write between two of its steps; the failed write ends the exchange.
                c->closing = true;
                c->socket.close(ignored);
            } else {
                c->socket.cancel(ignored);
            }
            return;
        }
        c->watchdog.expires_at(c->deadline);
        c->watchdog.async_wait([c](std::error_code e) { on_watchdog(c, e); });
    }

    // ---- routing -----------------------------------------------------------------------

    // A plain function returning the chosen handler's awaitable (no frame of its own):
    // every argument it passes lives in connection_loop's frame, or is a literal.
    asio::awaitable<bool> route(const std::shared_ptr<Connection>& c, detail::HttpRequest& req) {
        const std::string_view path = req.path();
        const bool mcp = path == options_.mcp_path;
        const bool legacy_stream = !options_.sse_path.empty() && path == options_.sse_path;
        const bool legacy_post = !options_.sse_path.empty() && path == options_.messages_path;
        if (!mcp && !legacy_stream && !legacy_post) {
            return reply_error(*c, req, 404, std::nullopt, error_code::invalid_request, "Not Found");
        }
        if (!host_allowed(req))
            return reply_error(*c, req, 403, std::nullopt, error_code::invalid_request,
                                           "Forbidden: Host not allowed");
        if (!origin_allowed(req))
            return reply_error(*c, req, 403, std::nullopt, error_code::invalid_request,
                                           "Forbidden: Origin not allowed");
        const std::string_view method = req.method;
        if (method == "OPTIONS") return preflight(*c, req, mcp ? "GET, POST, DELETE, OPTIONS"
                                                                         : legacy_stream ? "GET, OPTIONS"
                                                                                         : "POST, OPTIONS");
        if (mcp) {
            if (method == "POST") return handle_post(c, req);
            if (method == "GET") return handle_get(c, req);
            if (method == "DELETE") return handle_delete(*c, req);
            return reply_405(*c, req, options_.stateless ? "POST" : "GET, POST, DELETE");
        }
        if (legacy_stream) {
            if (method == "GET") return handle_legacy_get(c, req);
            return reply_405(*c, req, "GET");
        }
        if (method == "POST") return handle_legacy_post(*c, req);
        return reply_405(*c, req, "POST");
    }

    bool host_allowed(const detail::HttpRequest& req) const {
        const auto host = req.find("host");
        if (!host) return true;  // HTTP/1.0 without Host: nothing to rebind
        const auto parsed = detail::parse_host(*host);
        if (!parsed) return false;
        if (!options_.allowed_hosts.empty()) {
            for (const auto& allowed : options_.allowed_hosts)
                if (detail::iequals(allowed, parsed->host)) return true;
            return false;
        }
        if (!loopback_) return true;
        return is_loopback_name(parsed->host);
    }

    bool origin_allowed(const detail::HttpRequest& req) const {
        const auto origin = req.find("origin");
        if (!origin) return true;  // non-browser clients send none (MCP S2)
        const auto parsed = detail::parse_origin(*origin);
        if (!parsed || parsed->opaque) return false;
        if (allowed_origins_.empty()) return is_loopback_name(parsed->host);
        for (const auto& allowed : allowed_origins_)
            if (detail::same_origin(allowed, *parsed)) return true;
        return false;
    }

    static bool is_loopback_name(std::string_view host) {
        return detail::iequals(host, "localhost") || host == "127.0.0.1" || host == "[::1]";
    }

    // ---- Streamable HTTP ---------------------------------------------------------------

    // Where a POST to the MCP endpoint goes, decided without I/O (so that handle_post's
    // coroutine frame stays small: one error reply site instead of one per check).
    struct PostRoute {
        enum class Kind { error, stateless, sessionless, initialize, session } kind = Kind::error;
        int status = 400;                    // error: the HTTP status,
        std::optional<RequestId> error_id;   // the JSON-RPC id, code and message
        int rpc_code = error_code::invalid_request;
        std::string error_message;
        nlohmann::json error_data;
        ParseResult parsed;
        std::optional<std::string> meta_version;
        std::optional<std::string_view> header_version;
        std::shared_ptr<SseSession> session;
    };

    PostRoute route_post(const detail::HttpRequest& req) {
        PostRoute r;
        const auto fail = [&r](int status, std::string message) {
            r.status = status;
            r.error_message = std::move(message);
            return std::move(r);
        };
        const auto accept = req.find("accept");
        if (!accept || !detail::accepts_both(*accept, "application/json", "text/event-stream"))
            return fail(406, "Not Acceptable: Accept must list application/json and text/event-stream");
        const auto content_type = req.find("content-type");
        if (!content_type || !detail::is_media_type(*content_type, "application/json"))
            return fail(415, "Unsupported Media Type: Content-Type must be application/json");

        r.parsed = json_rpc::parse_messages(req.body, ParseOptions::with(options_.json_limits, true));
        if (!r.parsed.batch && r.parsed.messages.empty()) {
            auto& e = r.parsed.errors.front();
            r.error_id = std::move(e.id);
            r.rpc_code = e.code;
            r.error_data = std::move(e.data);
            return fail(400, std::move(e.message));
        }
        r.header_version = req.find("mcp-protocol-version");
        if (!r.parsed.batch) {
            r.meta_version = meta_protocol_version(r.parsed.messages.front());
            if (r.meta_version || (r.header_version && protocol_version::is_stateless(*r.header_version))) {
                r.kind = PostRoute::Kind::stateless;
                return r;
            }
        }
        if (options_.stateless) {
            r.kind = PostRoute::Kind::sessionless;
            return r;
        }
        if (!r.parsed.batch && is_request(r.parsed.messages.front(), "initialize")) {
            r.kind = PostRoute::Kind::initialize;
            return r;
        }
        auto found = lookup_session(req, r.header_version);
        if (!found.session) return fail(found.status, found.message);
        r.session = std::move(found.session);
        // No touch() here: answer_post's exchange ends with one (end_activity), and
        // a notification or response touches the session there.
        r.kind = PostRoute::Kind::session;
        return r;
    }

    // A plain function like `route`: what the callee needs from `r` is moved or copied
    // into its frame.
    asio::awaitable<bool> handle_post(const std::shared_ptr<Connection>& c, detail::HttpRequest& req) {
        PostRoute r = route_post(req);
        switch (r.kind) {
        case PostRoute::Kind::stateless:
            return handle_stateless(c, req, std::move(r.parsed.messages.front()), std::move(r.meta_version));
        case PostRoute::Kind::sessionless:
            return handle_sessionless(c, req, std::move(r.parsed), r.header_version);
        case PostRoute::Kind::initialize:
            return handle_initialize(c, req, std::move(r.parsed.messages.front()));
        case PostRoute::Kind::session:
            return answer_post(c, req, r.session->rpc(), r.session, std::move(r.parsed));
        case PostRoute::Kind::error:
            break;
        }
        return reply_error(*c, req, r.status, std::move(r.error_id), r.rpc_code, std::move(r.error_message),
                           std::move(r.error_data));
    }

    // Answers a parsed POST body on `rpc` (MCP P2-P4): a batch as one JSON array (only
    // under 2025-03-26), notifications and responses with 202, a request through
    // `exchange`. With a session, the request's stream is registered for resumption and
    // primed (2025-11-25 on), batch handlers notify on the standalone stream, and the
    // exchange counts as session activity; without one (sessionless mode) the stream
    // cannot carry server-to-client requests.
    asio::awaitable<bool> answer_post(const std::shared_ptr<Connection>& c, detail::HttpRequest& req,
                                      std::shared_ptr<detail::RpcSession> rpc, std::shared_ptr<SseSession> session,
                                      ParseResult parsed) {
        const std::string& version = session ? session->protocol_version() : rpc->protocol_version();
        if (parsed.batch) {
            if (!protocol_version::allows_batches(version))
                co_return co_await reply_error(*c, req, 400, std::nullopt, error_code::invalid_request,
                                               "Invalid Request: batches are not supported by this protocol version");
            std::shared_ptr<detail::MessageSink> sink;
            if (session) {
                sink = session->existing_standalone_stream();
                session->begin_activity();
            }
            std::optional<std::string> reply = co_await asio::co_spawn(
                rpc->get_executor(),
                rpc->async_handle_batch(std::move(parsed.messages), std::move(parsed.errors), sink),
                asio::use_awaitable);
            if (session) session->end_activity();
            if (!reply) co_return co_await write_simple(*c, 202, {}, cors_headers(req));
            co_return co_await write_json(*c, req, 200, *reply, {});
        }
        Message& message = parsed.messages.front();
        if (is_call(message) && rpc->at_capacity()) co_return co_await reply_busy(*c, req, *rpc, message);
        if (!std::holds_alternative<Request>(message)) {
            if (session) {
                session->touch();
                spawn_on_session(rpc, std::move(message), nullptr);
            } else {
                // Sessionless: the state is this request's own, so no cap counts its
                // handlers; one at a time per connection bounds them.
                co_await run_on_session(rpc, std::move(message));
            }
            co_return co_await write_simple(*c, 202, {}, cors_headers(req));
        }
        detail::SseStreamConfig config;
        config.lazy = true;
        config.accepts_requests = session != nullptr;
        config.max_queue_bytes = options_.max_stream_queue_bytes;
        auto stream = session ? session->open_stream(config) : std::make_shared<detail::SseStream>(config, nullptr);
        const bool priming = session && version.compare(protocol_version::v2025_11_25) >= 0;
        if (session) session->begin_activity();
        const bool keep = co_await exchange(c, req, rpc, stream, session.get(), std::get<Request>(std::move(message)),
                                            priming, false,
                                            no_headers());
        if (session) session->end_exchange(*stream);
        co_return keep;
    }

    asio::awaitable<bool> handle_initialize(const std::shared_ptr<Connection>& c, detail::HttpRequest& req,
                                            Message message) {
        if (!reserve_session_slot())
            co_return co_await write_json(*c, req, 503,
                                          error_body(error_code::internal_error, "Service Unavailable: too many sessions"),
                                          "Retry-After: 5\r\n");
        auto session = create_session(*c, false);
        detail::SseStreamConfig config;
        config.lazy = true;
        config.max_queue_bytes = options_.max_stream_queue_bytes;
        auto stream = session->open_stream(config);
        bool registered = false;
        session->begin_activity();
        // Named, not a temporary: GCC 12 destroys lambda temporaries of a co_await twice.
        const std::function<std::string(bool)> session_header = [&](bool ok) {
            if (!ok) return std::string{};
            // The handler has finished (its stream's mutex orders this read after its
            // writes): record the negotiated revision before others can find the session.
            session->set_protocol_version(session->rpc()->protocol_version());
            registered = register_session(session, true);
            return "Mcp-Session-Id: " + session->id() + "\r\n";
        };
        const bool keep =
            co_await exchange(c, req, session->rpc(), stream, session.get(), std::get<Request>(std::move(message)),
                              false, false, session_header, StreamKind::initialize);
        session->end_exchange(*stream);
        if (!registered) {
            release_session_slot();
            session->end();
        }
        co_return keep;
    }

    asio::awaitable<bool> handle_get(const std::shared_ptr<Connection>& c, detail::HttpRequest& req) {
        const auto header_version = req.find("mcp-protocol-version");
        if (options_.stateless || (header_version && protocol_version::is_stateless(*header_version)))
            co_return co_await reply_405(*c, req, "POST");
        const auto accept = req.find("accept");
        if (!accept || !detail::accepts(*accept, "text/event-stream"))
            co_return co_await reply_error(*c, req, 406, std::nullopt, error_code::invalid_request,
                                           "Not Acceptable: Accept must list text/event-stream");
        auto found = lookup_session(req, header_version);
        if (!found.session)
            co_return co_await reply_error(*c, req, found.status, std::nullopt, error_code::invalid_request,
                                           found.message);
        auto session = std::move(found.session);
        session->touch();
        const auto& rpc = session->rpc();
        const bool priming = session->protocol_version().compare(protocol_version::v2025_11_25) >= 0;

        // Resumption (MCP R3, R4): replay the missed events of exactly that stream.
        std::optional<EventId> last;
        if (const auto value = req.find("last-event-id")) last = detail::parse_event_id(*value);
        if (last) {
            if (auto stream = session->find_stream(last->stream)) {
                session->begin_activity();
                c->plan = StreamPlan{std::move(stream), StreamKind::standalone, last, priming, {}, session, false};
                co_return true;
            }
            if (session->event_log()) {
                std::string events;
                const bool ok = session->event_log()->replay_after(*last, [&](EventId id, std::string_view m) {
                    std::string id_text;
                    detail::append_to(id_text, id);
                    detail::append_sse_event(events, detail::SseEvent{{}, id_text, m, std::nullopt});
                });
                if (ok) co_return co_await write_replay(*c, req, events);
                // A finished stream whose events are gone: a client holding one of its ids
                // would miss what followed.
                if (last->stream != 0 && !(session->existing_standalone_stream() &&
                                           session->existing_standalone_stream()->number() == last->stream))
                    co_return co_await reply_evicted(*c, req);
            }
            // Unknown: serve a fresh standalone stream.
        }
        auto standalone = session->standalone_stream(options_.max_stream_queue_bytes);
        if (standalone->attached())
            co_return co_await reply_error(*c, req, 409, std::nullopt, error_code::invalid_request,
                                           "Conflict: this session already has an open GET stream");
        rpc->set_default_sink(standalone);
        session->begin_activity();
        auto resume_after = last && last->stream == standalone->number() ? last : std::nullopt;
        c->plan = StreamPlan{std::move(standalone), StreamKind::standalone, resume_after, priming, {}, session, false};
        co_return true;
    }

    asio::awaitable<bool> handle_delete(Connection& c, detail::HttpRequest& req) {
        const auto header_version = req.find("mcp-protocol-version");
        if (options_.stateless || (header_version && protocol_version::is_stateless(*header_version)))
            co_return co_await reply_405(c, req, "POST");
        const auto found = lookup_session(req, header_version);
        if (!found.session)
            co_return co_await reply_error(c, req, found.status, std::nullopt, error_code::invalid_request,
                                           found.message);
        end_session(found.session);
        co_return co_await write_simple(c, 200, {}, cors_headers(req));
    }

    // ---- stateless (2026-07-28) and sessionless ---------------------------------------------

    asio::awaitable<bool> handle_stateless(const std::shared_ptr<Connection>& c, detail::HttpRequest& req,
                                           Message message, std::optional<std::string> meta_version) {
        std::optional<RequestId> id;
        if (const auto* r = std::get_if<Request>(&message)) id = r->id;
        const std::string_view method = message_method(message);
        if (method.empty())
            co_return co_await reply_error(*c, req, 400, id, error_code::invalid_request,
                                           "Invalid Request: only requests and notifications may be sent");
        const auto header_version = req.find("mcp-protocol-version");
        const nlohmann::json* meta = params_meta(message);
        if (!meta_version || !meta->contains("io.modelcontextprotocol/clientCapabilities"))
            co_return co_await reply_error(*c, req, 400, id, error_code::invalid_params,
                                           "Invalid params: _meta must carry io.modelcontextprotocol/protocolVersion "
                                           "and io.modelcontextprotocol/clientCapabilities");
        if (!header_version || *header_version != *meta_version)
            co_return co_await reply_error(*c, req, 400, id, error_code::header_mismatch,
                                           "Header mismatch: MCP-Protocol-Version must equal "
                                           "_meta io.modelcontextprotocol/protocolVersion");
        if (!protocol_version::is_stateless(*meta_version) || *meta_version != protocol_version::v2026_07_28) {
            nlohmann::json data = {{"supported", nlohmann::json::array({std::string(protocol_version::v2026_07_28)})},
                                   {"requested", *meta_version}};
            co_return co_await reply_error(*c, req, 400, id, error_code::unsupported_protocol_version,
                                           "Unsupported protocol version", std::move(data));
        }
        if (auto mismatch = check_request_headers(req, message))
            co_return co_await reply_error(*c, req, 400, id, error_code::header_mismatch, *mismatch);

        auto rpc = new_rpc(*c);
        rpc->set_protocol_version(*meta_version);
        rpc->set_client_capabilities(meta->at("io.modelcontextprotocol/clientCapabilities"));
        if (const auto info = meta->find("io.modelcontextprotocol/clientInfo"); info != meta->end())
            rpc->set_client_info(*info);
        // Log messages only when the request asks for them, at its level (2026-07-28).
        std::optional<LoggingLevel> log_level;
        if (const auto level = meta->find("io.modelcontextprotocol/logLevel"); level != meta->end() && level->is_string())
            log_level = logging_level_from_string(level->get_ref<const std::string&>());
        rpc->set_log_level(log_level);
        if (!id) {
            co_await run_on_session(rpc, std::move(message));  // see answer_post: bounded per connection
            co_return co_await write_simple(*c, 202, {}, cors_headers(req));
        }
        detail::SseStreamConfig config;
        config.lazy = true;
        config.accepts_requests = false;
        config.max_queue_bytes = options_.max_stream_queue_bytes;
        auto stream = std::make_shared<detail::SseStream>(config, nullptr);
        stream->set_request_headers(copy_headers(req));
        co_return co_await exchange(c, req, rpc, stream, nullptr, std::get<Request>(std::move(message)), false, true,
                                    no_headers());
    }

    asio::awaitable<bool> handle_sessionless(const std::shared_ptr<Connection>& c, detail::HttpRequest& req,
                                             ParseResult parsed, std::optional<std::string_view> header_version) {
        if (header_version && !dispatcher_->supports_protocol_version(*header_version))
            co_return co_await reply_error(*c, req, 400, std::nullopt, error_code::invalid_request,
                                           "Bad Request: unsupported MCP-Protocol-Version");
        auto rpc = new_rpc(*c);
        rpc->set_protocol_version(header_version ? std::string(*header_version)
                                                 : std::string(protocol_version::v2025_03_26));
        co_return co_await answer_post(c, req, std::move(rpc), nullptr, std::move(parsed));
    }

    // Validates Mcp-Method, Mcp-Name and Mcp-Param-* against the body (2026-07-28).
    static std::optional<std::string> check_request_headers(const detail::HttpRequest& req, const Message& message) {
        const std::string_view method = message_method(message);
        const auto header_method = req.find("mcp-method");
        // Required on requests; on notifications the revision leaves it optional, but a
        // present one must still agree with the body.
        if (!header_method && std::holds_alternative<Request>(message))
            return "Header mismatch: Mcp-Method header is required";
        if (header_method && *header_method != method)
            return "Header mismatch: Mcp-Method does not match the body's method";
        const nlohmann::json* params = message_params(message);
        const char* name_field = method == "tools/call" || method == "prompts/get" ? "name"
                                 : method == "resources/read"                      ? "uri"
                                                                                   : nullptr;
        if (name_field) {
            const auto header_name = req.find("mcp-name");
            if (!header_name) return "Header mismatch: Mcp-Name header is required for " + std::string(method);
            const auto decoded = detail::decode_mcp_header_value(*header_name);
            std::string body_name;
            if (params && params->is_object())
                if (const auto f = params->find(name_field); f != params->end() && f->is_string())
                    body_name = f->template get<std::string>();
            if (!decoded || *decoded != body_name)
                return "Header mismatch: Mcp-Name does not match params." + std::string(name_field);
        }
        for (const auto& field : req.fields) {
            if (field.name.size() > 10 && detail::iequals(field.name.substr(0, 10), "mcp-param-"))
                if (!detail::decode_mcp_header_value(field.value))
                    return "Header mismatch: invalid value in " + std::string(field.name);
        }
        return std::nullopt;
    }

    // ---- legacy HTTP+SSE (2024-11-05) -----------------------------------------------------

    asio::awaitable<bool> handle_legacy_get(const std::shared_ptr<Connection>& c, detail::HttpRequest& req) {
        auto session = create_session(*c, true);
        auto stream = session->standalone_stream(options_.max_stream_queue_bytes);
        const auto& rpc = session->rpc();
        // Before registration: no other thread can reach the session yet.
        rpc->set_default_sink(stream);
        rpc->set_protocol_version(std::string(protocol_version::v2024_11_05));
        if (!register_session(session)) {
            session->end();
            co_return co_await write_json(*c, req, 503,
                                          error_body(error_code::internal_error, "Service Unavailable: too many sessions"),
                                          "Retry-After: 5\r\n");
        }
        std::string endpoint_event;
        const std::string endpoint = options_.messages_path + "?sessionId=" + session->id();
        detail::append_sse_event(endpoint_event, detail::SseEvent{"endpoint", {}, endpoint, std::nullopt});
        session->begin_activity();
        c->plan = StreamPlan{std::move(stream), StreamKind::legacy, std::nullopt, false, std::move(endpoint_event),
                             session, true};
        co_return true;
    }

    asio::awaitable<bool> handle_legacy_post(Connection& c, detail::HttpRequest& req) {
        const auto query_id = detail::query_param(req.query(), "sessionId");
        const auto alt_id = query_id ? query_id : detail::query_param(req.query(), "session_id");
        if (!alt_id || alt_id->empty())
            co_return co_await reply_error(c, req, 400, std::nullopt, error_code::invalid_request,
                                           "Bad Request: sessionId query parameter is required");
        auto session = find_session(*alt_id);
        if (!session || !session->legacy())
            co_return co_await reply_error(c, req, 404, std::nullopt, error_code::invalid_request,
                                           "Not Found: unknown or ended session");
        const auto content_type = req.find("content-type");
        if (!content_type || !detail::is_media_type(*content_type, "application/json"))
            co_return co_await reply_error(c, req, 415, std::nullopt, error_code::invalid_request,
                                           "Unsupported Media Type: Content-Type must be application/json");
        const auto& rpc = session->rpc();
        ParseResult parsed = json_rpc::parse_messages(req.body, ParseOptions::with(options_.json_limits, false));
        if (parsed.messages.empty()) {
            const auto& e = parsed.errors.front();
            co_return co_await reply_error(c, req, 400, e.id, e.code, e.message, e.data);
        }
        if (is_call(parsed.messages.front()) && rpc->at_capacity())
            co_return co_await reply_busy(c, req, *rpc, parsed.messages.front());
        session->touch();
        auto stream = session->existing_standalone_stream();
        spawn_on_session(rpc, std::move(parsed.messages.front()), stream);
        co_return co_await write_simple(c, 202, "Accepted", cors_headers(req));
    }

    // ---- exchanges and streams ------------------------------------------------------------

    // Runs `request` on `rpc` and answers on this connection: JSON, or an SSE stream when
    // the handler streams (or the host asked for SSE); an SSE answer becomes resumable in
    // `session` (null: none) once its head is written. `headers(ok)` adds response headers
    // once the reply's success is known. A plain function returning pump's awaitable, like
    // `route`: every reference argument lives in the caller's frame until it completes.
    asio::awaitable<bool> exchange(const std::shared_ptr<Connection>& c, detail::HttpRequest& req,
                                   const std::shared_ptr<detail::RpcSession>& rpc,
                                   const std::shared_ptr<detail::SseStream>& stream, SseSession* session,
                                   Request request, bool priming, bool stateless,
                                   const std::function<std::string(bool)>& headers,
                                   StreamKind kind = StreamKind::post) {
        const RequestId id = request.id;
        stream->set_request_id(id);
        if (options_.response_mode == ResponseMode::sse) stream->open();
        const std::uint64_t generation = stream->attach(waker(c, stream));
        start_exchange(*c, rpc, stream, std::move(request));
        std::function<void()> on_peer_closed;
        if (stateless)
            on_peer_closed = [rpc, request_id = id] {
                // Closing a stateless response stream cancels the request (2026-07-28).
                rpc->cancel_request(request_id);
            };
        return pump(c, req, stream, generation, kind, priming, {}, headers, stateless,
                    std::move(on_peer_closed), session);
    }

    // Finishes a request's stream with its reply (nullopt when the request was cancelled).
    struct FinishStream {
        std::shared_ptr<detail::SseStream> stream;
        void operator()(std::optional<std::string> reply) const { stream->finish(std::move(reply)); }
    };

    // Runs the handler; its reply finishes `stream`. In share-nothing mode it runs here,
    // on the connection's thread; otherwise on the session's executor, starting right
    // here when this thread already runs that (always under options.single_threaded),
    // so a handler costs one spawn. (A plain function, not a coroutine: GCC 12
    // mishandles a lambda temporary built inside one.) The spawned handler holds `rpc`,
    // which keeps the session state alive while it runs.
    void start_exchange(Connection& c, const std::shared_ptr<detail::RpcSession>& rpc,
                        const std::shared_ptr<detail::SseStream>& stream, Request request) const {
        if (share_nothing_) {
            rpc->start_request(std::move(request), stream, FinishStream{stream}, c.socket.get_executor());
            return;
        }
        asio::dispatch(rpc->get_executor(), [rpc, stream, request = std::move(request)]() mutable {
            rpc->start_request(std::move(request), stream, FinishStream{stream});
        });
    }

    // Wakes the connection's pump when `stream` has work. When the consumer overflowed,
    // also closes the socket: the pump may be blocked in a write to a peer that stopped
    // reading, which would otherwise never complete (a mere cancel() can miss a write
    // between two of its write_some steps); the failed write ends the exchange (events
    // stay replayable).
    // Runs on the connection's executor: inline when the waker is called there already (a
    // handler's reply or a broadcast on the only thread under options.single_threaded),
    // else after a hop. Events for a parked pump then go straight to the socket.
    static std::function<void()> waker(const std::shared_ptr<Connection>& c,
                                       const std::shared_ptr<detail::SseStream>& stream) {
        std::weak_ptr<Connection> weak = c;
        std::weak_ptr<detail::SseStream> weak_stream = stream;
        return [weak, weak_stream] {
            auto conn = weak.lock();
            if (!conn) return;
            const auto executor = conn->socket.get_executor();
            asio::dispatch(executor, [conn = std::move(conn), weak_stream] {
                if (auto s = weak_stream.lock(); s && s->overflowed()) {
                    std::error_code ignored;
                    conn->closing = true;
                    conn->socket.close(ignored);
                } else if (write_directly(*conn)) {
                    return;
                }
                conn->notify();
            });
        };
    }

    // Writes a parked pump's new events from the waker, on the connection's executor:
    // true when they all went out, so the pump sleeps on. Otherwise what was taken stays
    // in `unsent` and the pump is woken to finish it (or to handle what take_events left).
    // The events are taken by swapping buffers and sent with a gather write (chunk
    // header, events, CRLF); only a remainder is copied, into `unsent`.
    static bool write_directly(Connection& c) {
        if (!c.parked || c.closing || c.peer_closed || !c.unsent.empty()) return false;
        std::string events;
        if (!c.parked_stream->take_events(c.parked_generation, events)) return false;
        if (events.empty()) return true;
        std::string header;  // "<hex size>\r\n" fits the small-string buffer
        if (c.parked_chunked) detail::append_chunk_header(header, events.size());
        const std::string_view trailer = c.parked_chunked ? std::string_view("\r\n") : std::string_view();
        const std::array<asio::const_buffer, 3> buffers{asio::buffer(header), asio::buffer(events),
                                                        asio::buffer(trailer)};
        std::error_code ec;
        std::size_t sent = c.socket.write_some(buffers, ec);
        if (ec) sent = 0;
        for (const std::string_view part : {std::string_view(header), std::string_view(events), trailer}) {
            const std::size_t skip = std::min(sent, part.size());
            sent -= skip;
            c.unsent.append(part.substr(skip));
        }
        return c.unsent.empty();
    }

    // Writes what `stream` produces until it finishes, the peer leaves, or the server stops.
    // A POST's stream becomes resumable in `session` (if any) when its SSE head goes out:
    // before that no client can hold one of its event ids, and a stream answered as
    // plain JSON never costs the session's lock.
    asio::awaitable<bool> pump(const std::shared_ptr<Connection>& c, detail::HttpRequest& req,
                               const std::shared_ptr<detail::SseStream>& stream_ptr, std::uint64_t generation,
                               StreamKind kind, bool priming, std::string prefix,
                               const std::function<std::string(bool)>& headers, bool map_status,
                               std::function<void()> on_peer_closed, SseSession* session) {
        detail::SseStream& stream = *stream_ptr;
        bool head_written = false;
        std::string held;  // an initialize stream's events, taken before its handler finished
        bool keep = true;
        c->peer_closed = false;
        c->unsent.clear();
        // The first take below sees everything produced so far, so an earlier wake (such
        // as the reply of a handler that finished inside start_exchange) is spent.
        c->notified = false;
        bool waited = false;  // for the exchange's reply, or yielded before writing it
        std::string out;
        for (;;) {
            if (!c->unsent.empty()) {  // events write_directly took but could not finish
                out.swap(c->unsent);
                c->unsent.clear();
                if (!co_await send(*c, out)) break;
            }
            auto batch = stream.take(generation);
            if (batch.superseded) break;  // a resumption took the stream over
            if (!head_written) {
                if (batch.finished && !waited) {
                    // The handler finished inside start_exchange. Let the other ready
                    // completions of this reactor turn run first, so that their replies go
                    // out together: a client sharing the machine then wakes once per batch
                    // of replies, not once per reply (measured on a 2-core guest: half the
                    // load generator's context switches, and a p99 at 32 connections of
                    // 0.9 ms instead of 4 ms in share-nothing mode).
                    waited = true;
                    co_await asio::post(c->socket.get_executor(), asio::use_awaitable);
                }
                if ((!batch.opened || kind == StreamKind::initialize) && !batch.finished) {
                    held += batch.bytes;
                    co_await wait_for_wake(c, std::nullopt);
                    waited = true;
                    if (c->closing) break;
                    continue;
                }
                if (!batch.opened) {  // a lazy POST finished without streaming: plain JSON
                    stream.detach(generation);
                    if (!batch.json_reply) {
                        // Cancelled: no response exists; end the exchange with an empty stream.
                        co_return co_await write_simple(*c, 200, {}, "Content-Type: text/event-stream\r\n" + cors_headers(req));
                    }
                    const bool ok = is_success(*batch.json_reply);
                    const int status = map_status && !ok ? status_for_error(*batch.json_reply) : 200;
                    co_return co_await write_json(*c, req, status, *batch.json_reply, headers(ok));
                }
                out.clear();
                detail::append_status_line(out, 200, req.version_minor);
                out += "Content-Type: text/event-stream\r\nCache-Control: no-cache, no-transform\r\n"
                       "X-Accel-Buffering: no\r\n";
                if (req.version_minor >= 1) out += "Transfer-Encoding: chunked\r\n";
                else keep = false, out += "Connection: close\r\n";
                held += batch.bytes;
                out += headers(!batch.finished || is_success_event(held));
                out += cors_headers(req);
                detail::end_head(out);
                std::string body = std::move(prefix);
                if (priming && stream.number() != 0) {
                    std::string id_text;
                    detail::append_to(id_text, EventId{stream.number(), 0});
                    detail::append_sse_event(body, detail::SseEvent{{}, id_text, {}, options_.retry});
                }
                body += held;
                std::string{}.swap(held);
                append_body(out, body, req.version_minor >= 1);
                head_written = true;
                // A stream may last hours: it keeps no copy of the body it answers.
                std::string{}.swap(req.body);
                if (session) session->register_stream(stream_ptr);
                if (!co_await send(*c, out)) break;
                start_detector(c);
            } else if (!batch.bytes.empty()) {
                out.clear();
                append_body(out, batch.bytes, req.version_minor >= 1);
                if (!co_await send(*c, out)) break;
            }
            if (batch.overflowed) {
                keep = false;
                break;
            }
            if (batch.drop && !batch.finished) {
                // SSE polling: end this response; the stream lives on for Last-Event-ID.
                out.clear();
                if (batch.retry) {
                    std::string retry_field = "retry: " + std::to_string(batch.retry->count()) + "\n\n";
                    append_body(out, retry_field, req.version_minor >= 1);
                }
                if (req.version_minor >= 1) out += detail::last_chunk;
                else keep = false;
                const bool written = co_await send(*c, out);
                co_await stop_detector(c);
                stream.detach(generation);
                co_return written && keep && !c->peer_closed;
            }
            if (batch.finished || (stopping_ && kind != StreamKind::post && kind != StreamKind::initialize) ||
                c->closing) {
                if (req.version_minor >= 1) {
                    out.assign(detail::last_chunk);
                    if (!co_await send(*c, out)) break;
                }
                if (c->closing) keep = false;
                co_await stop_detector(c);
                stream.detach(generation);
                co_return keep && !c->peer_closed && kind != StreamKind::legacy;
            }
            if (c->peer_closed) break;
            c->parked = true;
            c->parked_chunked = req.version_minor >= 1;
            c->parked_generation = generation;
            c->parked_stream = &stream;
            const bool keep_alive_due = co_await wait_for_wake(c, options_.keep_alive_interval);
            c->parked = false;
            c->parked_stream = nullptr;
            // Not while write_directly left part of a chunk unsent: that goes out first (the
            // keep-alive timer may have fired just before the write).
            if (keep_alive_due && !c->peer_closed && c->unsent.empty()) {
                out.clear();
                std::string comment;
                detail::append_sse_comment(comment, "keep-alive");
                append_body(out, comment, req.version_minor >= 1);
                if (!co_await send(*c, out)) break;
            }
        }
        // The peer left (or the connection failed): the stream lives on for resumption.
        stream.detach(generation);
        if (on_peer_closed) on_peer_closed();
        co_await stop_detector(c);
        co_return false;
    }

    static void append_body(std::string& out, std::string_view bytes, bool chunked) {
        if (bytes.empty()) return;
        if (chunked) detail::append_chunk(out, bytes);
        else out += bytes;
    }

    // Waits until woken (true when `interval` passed without a wake).
    asio::awaitable<bool> wait_for_wake(const std::shared_ptr<Connection>& c,
                                        std::optional<std::chrono::milliseconds> interval) {
        if (c->notified) {
            c->notified = false;
            co_return false;
        }
        if (interval && interval->count() > 0) c->wake.expires_after(*interval);
        else c->wake.expires_at(asio::steady_timer::time_point::max());
        std::error_code ec;
        co_await c->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        c->notified = false;
        co_return !ec;
    }

    // While streaming, a read notices the peer closing (and keeps pipelined bytes). Plain
    // completion handlers rather than a coroutine: an idle stream parks one small wait.
    void start_detector(const std::shared_ptr<Connection>& c) {
        c->in.release();  // streams may idle for hours: keep no storage when nothing is unread
        c->detector_stop = false;
        c->detector_running = true;
        detector_wait(c);
    }

    // Waits for readability first, so an idle stream holds no read buffer.
    void detector_wait(const std::shared_ptr<Connection>& c) {
        if (c->detector_stop) return detector_done(c);
        // Bytes a client sends behind a stream's request are kept for the next request, but
        // no more than one header section: a stream is no place to upload a body.
        if (c->in.size() > options_.http_limits.max_header_bytes) {
            c->peer_closed = true;
            return detector_done(c);
        }
        c->socket.async_wait(tcp::socket::wait_read, [this, c](std::error_code ec) { on_detector_ready(c, ec); });
    }

    void on_detector_ready(const std::shared_ptr<Connection>& c, std::error_code ec) {
        if (!ec) {
            char* room = c->in.prepare(512);
            const std::size_t n = c->socket.read_some(asio::buffer(room, 512), ec);
            c->in.commit(ec ? 0 : n);
            if (!ec && n == 0) ec = asio::error::eof;
            if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) return detector_wait(c);
        }
        // End of input or a reset counts even after stop_detector began: Asio's
        // edge-triggered reactor would not report the EOF to a later read again, which
        // would then wait until idle_timeout.
        if (!c->detector_stop || ec != asio::error::operation_aborted) c->peer_closed = true;
        detector_done(c);
    }

    static void detector_done(const std::shared_ptr<Connection>& c) {
        c->detector_running = false;
        c->notify();
    }

    asio::awaitable<void> stop_detector(const std::shared_ptr<Connection>& c) {
        if (!c->detector_running) co_return;
        c->detector_stop = true;
        std::error_code ec;
        c->socket.cancel(ec);
        while (c->detector_running) co_await wait_for_wake(c, std::chrono::milliseconds(100));
    }

    // ---- responses -------------------------------------------------------------------------

    // Every response goes out here (the interim 100 Continue, written while a request is
    // still being read, and write_directly's events are the exceptions): `first` then `second`. The socket is
    // non-blocking, so it sends at once and waits for the peer only when its window is
    // full (saves a reactor round trip per response). A failed write marks the peer gone.
    asio::awaitable<bool> send_pair(Connection& c, std::string_view first, std::string_view second) {
        std::array<asio::const_buffer, 2> buffers{asio::buffer(first), asio::buffer(second)};
        std::error_code ec;
        const std::size_t sent = c.socket.write_some(buffers, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
        if (!ec && sent < first.size() + second.size()) {
            if (sent < first.size()) buffers[0] = asio::buffer(first) + sent;
            else buffers = {asio::const_buffer{}, asio::buffer(second) + (sent - first.size())};
            // The peer's window is full: from here the write waits on it, for send_timeout at most.
            const auto saved = c.deadline;
            const bool timed = options_.send_timeout.count() > 0;
            if (timed) {
                c.writing = true;
                arm(c.shared_from_this(), options_.send_timeout);
            }
            co_await asio::async_write(c.socket, buffers, asio::redirect_error(asio::use_awaitable, ec));
            if (timed) {
                c.writing = false;
                c.deadline = saved;
            }
        }
        if (ec) c.peer_closed = true;
        co_return !ec;
    }

    // One buffer. A plain function returning send_pair's awaitable: no frame of its own,
    // and the many call sites in pump add no temporaries to pump's frame.
    asio::awaitable<bool> send(Connection& c, const std::string& bytes) { return send_pair(c, bytes, {}); }


    asio::awaitable<bool> write_json(Connection& c, const detail::HttpRequest& req, int status, const std::string& body,
                                     const std::string& extra) {
        std::string head;
        head.reserve(160 + extra.size());
        detail::append_status_line(head, status, req.version_minor);
        head += "Content-Type: application/json\r\n";
        head += extra;
        head += cors_headers(req);
        detail::append_content_length(head, body.size());
        detail::end_head(head);
        co_return co_await send_pair(c, head, body);
    }

    asio::awaitable<bool> write_simple(Connection& c, int status, std::string_view body, const std::string& extra) {
        std::string out;
        detail::append_status_line(out, status);
        out += extra;
        if (!body.empty() && extra.find("Content-Type") == std::string::npos)
            out += body.front() == '{' ? "Content-Type: application/json\r\n" : "Content-Type: text/plain; charset=utf-8\r\n";
        detail::append_content_length(out, body.size());
        detail::end_head(out);
        const bool sent = co_await send_pair(c, out, body);
        co_return sent && extra.find("Connection: close") == std::string::npos;
    }

    asio::awaitable<bool> write_replay(Connection& c, const detail::HttpRequest& req, const std::string& events) {
        std::string out;
        detail::append_status_line(out, 200, req.version_minor);
        out += "Content-Type: text/event-stream\r\nCache-Control: no-cache, no-transform\r\nX-Accel-Buffering: no\r\n";
        out += cors_headers(req);
        detail::append_content_length(out, events.size());
        detail::end_head(out);
        out += events;
        co_return co_await send(c, out);
    }

    // `message` by value: callers may return this awaitable after their own frame is gone.
    asio::awaitable<bool> reply_error(Connection& c, const detail::HttpRequest& req, int status,
                                      std::optional<RequestId> id, int code, std::string message,
                                      nlohmann::json data = nullptr) {
        const std::string body = json_rpc::serialize(ErrorResponse{std::move(id), code, std::move(message), std::move(data)});
        co_return co_await write_json(c, req, status, body, {});
    }

    // A resumption whose events were evicted. A POST's stream gets its request answered
    // with events_evicted (and the handler cancelled): the client stops waiting instead
    // of missing part of the exchange. The standalone stream's GET gets 410, so the
    // client re-syncs.
    asio::awaitable<bool> refuse_gap(Connection& c, const detail::HttpRequest& req, SseSession& session,
                                     const detail::SseStream& stream) {
        if (const auto& id = stream.request_id()) {
            session.rpc()->cancel_request(*id);
            std::string events;
            detail::append_sse_event(
                events, detail::SseEvent{{}, {},
                                         json_rpc::serialize(ErrorResponse{
                                             *id, error_code::events_evicted,
                                             "Events after Last-Event-ID were evicted; the request cannot be resumed",
                                             nullptr}),
                                         std::nullopt});
            co_return co_await write_replay(c, req, events);
        }
        co_return co_await reply_evicted(c, req);
    }

    asio::awaitable<bool> reply_evicted(Connection& c, const detail::HttpRequest& req) {
        return reply_error(c, req, 410, std::nullopt, error_code::events_evicted,
                           "Gone: the events after Last-Event-ID were evicted");
    }

    // 429 for a request or notification over RpcLimits::max_in_flight.
    asio::awaitable<bool> reply_busy(Connection& c, const detail::HttpRequest& req, const detail::RpcSession& rpc,
                                     const Message& message) {
        std::optional<RequestId> id;
        if (const auto* r = std::get_if<Request>(&message)) id = r->id;
        co_return co_await write_json(c, req, 429, json_rpc::serialize(rpc.too_many_requests(std::move(id))),
                                      "Retry-After: 1\r\n");
    }

    asio::awaitable<bool> reply_405(Connection& c, const detail::HttpRequest& req, std::string_view allow) {
        co_return co_await write_json(c, req, 405, error_body(error_code::invalid_request, "Method Not Allowed"),
                                      "Allow: " + std::string(allow) + "\r\n");
    }

    asio::awaitable<bool> preflight(Connection& c, const detail::HttpRequest& req, std::string_view allow) {
        std::string extra = "Allow: " + std::string(allow) + "\r\n";
        const std::string cors = cors_headers(req);
        if (!cors.empty()) {
            extra += cors;
            extra += "Access-Control-Allow-Methods: " + std::string(allow) + "\r\n";
            const auto requested = req.find("access-control-request-headers");
            extra += "Access-Control-Allow-Headers: ";
            extra += requested ? std::string(*requested)
                               : std::string("Content-Type, Accept, Authorization, Mcp-Session-Id, "
                                             "MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name");
            extra += "\r\nAccess-Control-Max-Age: 600\r\n";
        }
        std::string out;
        detail::append_status_line(out, 204);
        out += extra;
        detail::end_head(out);
        co_return co_await send(c, out);
    }

    std::string cors_headers(const detail::HttpRequest& req) const {
        if (options_.cors_origins.empty()) return {};
        const auto origin = req.find("origin");
        if (!origin) return {};
        bool allowed = false;
        for (const auto& o : options_.cors_origins)
            if (o == "*" || detail::same_origin(o, *origin)) allowed = true;
        if (!allowed) return {};
        return "Access-Control-Allow-Origin: " + std::string(*origin) +
               "\r\nVary: Origin\r\nAccess-Control-Expose-Headers: Mcp-Session-Id, MCP-Protocol-Version\r\n";
    }

    static std::string error_body(int code, std::string_view message) {
        return json_rpc::serialize(ErrorResponse{std::nullopt, code, std::string(message), nullptr});
    }

    // ---- message helpers ------------------------------------------------------------------

    // A headers callback adding nothing (a shared object: see session_header above).
    static const std::function<std::string(bool)>& no_headers() {
        static const std::function<std::string(bool)> none = [](bool) { return std::string{}; };
        return none;
    }

    // Handles a notification on a sessionless state and waits for its handler.
    static asio::awaitable<void> run_on_session(std::shared_ptr<detail::RpcSession> rpc, Message message) {
        co_await asio::co_spawn(
            rpc->get_executor(),
            [](std::shared_ptr<detail::RpcSession> state, Message m) -> asio::awaitable<void> {
                co_await state->async_handle(std::move(m), nullptr);
            }(rpc, std::move(message)),
            asio::use_awaitable);
    }

    static void spawn_on_session(const std::shared_ptr<detail::RpcSession>& rpc, Message message,
                                 std::shared_ptr<detail::MessageSink> reply_sink) {
        asio::co_spawn(
            rpc->get_executor(),
            [rpc, m = std::move(message), reply_sink]() mutable -> asio::awaitable<void> {
                auto reply = co_await rpc->async_handle(std::move(m), reply_sink);
                if (reply && reply_sink) reply_sink->send(std::move(*reply));
            },
            asio::detached);
    }

    static std::vector<std::pair<std::string, std::string>> copy_headers(const detail::HttpRequest& req) {
        std::vector<std::pair<std::string, std::string>> headers;
        headers.reserve(req.fields.size());
        for (const auto& field : req.fields) headers.emplace_back(field.name, field.value);
        return headers;
    }

    // A message that would start a handler: a request, or a notification the host
    // handles (cancellations never count: a client must always be able to cancel).
    bool is_call(const Message& message) const {
        if (std::holds_alternative<Request>(message)) return true;
        const auto* n = std::get_if<Notification>(&message);
        return n && n->method != "notifications/cancelled" && dispatcher_->find_notification_handler(n->method);
    }

    static bool is_request(const Message& message, std::string_view method) {
        const auto* r = std::get_if<Request>(&message);
        return r && r->method == method;
    }

    static std::string_view message_method(const Message& message) {
        if (const auto* r = std::get_if<Request>(&message)) return r->method;
        if (const auto* n = std::get_if<Notification>(&message)) return n->method;
        return {};
    }

    static const nlohmann::json* message_params(const Message& message) {
        if (const auto* r = std::get_if<Request>(&message)) return &r->params;
        if (const auto* n = std::get_if<Notification>(&message)) return &n->params;
        return nullptr;
    }

    static const nlohmann::json* params_meta(const Message& message) {
        const auto* params = message_params(message);
        if (!params || !params->is_object()) return nullptr;
        const auto meta = params->find("_meta");
        return meta != params->end() && meta->is_object() ? &*meta : nullptr;
    }

    static std::optional<std::string> meta_protocol_version(const Message& message) {
        const auto* meta = params_meta(message);
        if (!meta) return std::nullopt;
        const auto v = meta->find("io.modelcontextprotocol/protocolVersion");
        if (v == meta->end() || !v->is_string()) return std::nullopt;
        return v->template get<std::string>();
    }

    // mcpsse serializes a success as {"jsonrpc":"2.0","id":...,"result":...} and an
    // error as {"jsonrpc":"2.0","id":...,"error":...}: the first member after the id tells.
    static bool is_success(std::string_view reply) {
        const auto result = reply.find(",\"result\":");
        const auto error = reply.find(",\"error\":{");
        return result != std::string_view::npos && (error == std::string_view::npos || result < error);
    }

    static bool is_success_event(std::string_view events) {
        return events.find(",\"error\":{\"code\"") == std::string_view::npos;
    }

    // HTTP status of a stateless error reply (2026-07-28).
    static int status_for_error(std::string_view reply) {
        const auto value = nlohmann::json::parse(reply, nullptr, false);
        if (!value.is_object() || !value.contains("error")) return 200;
        const auto code = value["error"].value("code", 0);
        if (code == error_code::method_not_found) return 404;
        if (code == error_code::header_mismatch || code == error_code::unsupported_protocol_version ||
            code == error_code::missing_client_capability || code == error_code::invalid_request ||
            code == error_code::parse_error)
            return 400;
        return 200;
    }

    executor_type executor_;
    SseTransportOptions options_;
    Store store_;
    asio::basic_socket_acceptor<tcp, asio::strand<asio::any_io_executor>> acceptor_;
    asio::steady_timer stop_timer_;
    asio::steady_timer reap_timer_;  // paces reap_sessions(); cancelled by stop
    Dispatcher* dispatcher_ = nullptr;
    bool loopback_ = true;
    std::vector<detail::Origin> allowed_origins_;
    bool share_nothing_ = false;
    std::vector<asio::any_io_executor> connection_executors_;  // share-nothing mode only
    std::size_t next_executor_ = 0;                            // on the acceptor's strand
    std::vector<asio::any_io_executor> busy_;  // outstanding work on each, from async_run to the run's end
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> connection_count_{0};
    mutable std::mutex sessions_mutex_;
    std::size_t reserved_sessions_ = 0;  // initializes running (sessions_mutex_)
    // Keys view the id of the session their entry holds (no second copy of each id).
    std::unordered_map<std::string_view, std::shared_ptr<SseSession>, detail::StringHash, std::equal_to<>> sessions_;
    std::mutex connections_mutex_;
    std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
};

}  // namespace mcpsse
