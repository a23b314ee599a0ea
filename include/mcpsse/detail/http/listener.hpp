// mcpsse: the listening socket and the table of open connections.
#pragma once

#include <mcpsse/detail/http/connection.hpp>
#include <mcpsse/detail/http/io.hpp>
#include <mcpsse/detail/http/observers.hpp>
#include <mcpsse/detail/http/writer.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcpsse::detail {

/// Accepts TCP connections, keeps the table of open ones and runs each one's life:
/// counting it, the TLS handshake when `Security` is secure (bounded by its
/// `handshake_timeout`; a failure is reported to observers and closes the connection,
/// and a plain-HTTP request on the TLS port gets a plain 400 at once), refusing it over
/// `max_connections` (503), handing it to the layer above, then a lingering close when
/// the last response asked for one, the TLS close_notify, shutdown and close. `Conn`
/// derives from `Connection<Security::stream_type>` and is constructed from
/// `(stream_type, const ConnectionSettings&)`. Knows nothing of what the connection serves.
///
/// Threads: the accept loop and `close` run on the acceptor's strand; the connection
/// table is guarded by a mutex, so `for_each_connection` and `count` are safe from any
/// thread.
template <class Conn, class Security>
class Listener {
public:
    using tcp = asio::ip::tcp;

    /// What a listener needs besides its address.
    struct Settings {
        ConnectionSettings connection;
        std::size_t max_connections = 16'384;
        std::string over_capacity_body;  // the 503's body (a JSON-RPC error)
        const Observers* observers = nullptr;  // the owner's, which outlives the listener
    };

    /// Binds and listens on `endpoint` (throws `std::system_error` when it cannot).
    /// `security` must outlive the listener.
    Listener(const asio::any_io_executor& executor, const tcp::endpoint& endpoint, Settings settings,
             Security& security)
        : settings_(std::move(settings)), security_(security), acceptor_(asio::make_strand(executor)) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
    }

    /// The bound port; throws `std::system_error` once closed.
    [[nodiscard]] std::uint16_t local_port() const { return acceptor_.local_endpoint().port(); }
    /// The acceptor's strand.
    [[nodiscard]] asio::any_io_executor get_executor() { return acceptor_.get_executor(); }
    /// Connections open now. Thread-safe.
    [[nodiscard]] std::size_t count() const noexcept { return count_.load(); }
    /// The settings every connection uses.
    [[nodiscard]] const Settings& settings() const noexcept { return settings_; }

    /// Accepts until `close()`: each connection goes to `next_executor()` and is served
    /// by `serve(std::shared_ptr<Conn>) -> asio::awaitable<void>`, spawned on it. Then
    /// waits until every connection has ended.
    template <class NextExecutor, class Serve>
    asio::awaitable<void> async_run(NextExecutor next_executor, Serve serve) {
        for (;;) {
            std::error_code ec;
            tcp::socket socket =
                co_await acceptor_.async_accept(next_executor(), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                if (closed_ || ec == asio::error::operation_aborted) break;
                // Out of descriptors or similar: pause briefly rather than spin.
                asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
                co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                continue;
            }
            auto connection = std::make_shared<Conn>(security_.wrap(std::move(socket)), settings_.connection);
            connection->connection_info.id = ++accepted_;
            connection->connection_info.secure = Security::secure;
            const auto executor = connection->socket().get_executor();
            asio::co_spawn(executor, run_connection(std::move(connection), serve), asio::detached);
        }
        // Wait for connections to finish (the owner forces them after its deadline).
        while (count_.load() != 0) {
            asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(5));
            std::error_code ec;
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }

    /// Stops accepting (on the acceptor's strand).
    void close() {
        closed_ = true;
        std::error_code ignored;
        acceptor_.close(ignored);
    }

    /// Calls `visit` with each open connection, outside the table's lock. Thread-safe.
    void for_each_connection(const std::function<void(const std::shared_ptr<Conn>&)>& visit) {
        std::vector<std::shared_ptr<Conn>> all;
        {
            std::lock_guard lock(mutex_);
            for (auto& entry : table_)
                if (auto c = entry.second.lock()) all.push_back(std::move(c));
        }
        for (auto& c : all) visit(c);
    }

private:
    template <class Serve>
    asio::awaitable<void> run_connection(std::shared_ptr<Conn> c, Serve serve) {
        const auto count = count_.fetch_add(1) + 1;
        {
            std::lock_guard lock(mutex_);
            table_.emplace(c.get(), c);
        }
        const Observers& observers = *settings_.observers;
        if (!observers.empty()) observers.each([&](TransportObserver& o) { o.on_connection_open(c->info()); });
        std::error_code ec;
        c->socket().set_option(tcp::no_delay(true), ec);
        c->socket().non_blocking(true, ec);  // a peer-close detector's read_some must never block
        bool secured = true;
        if constexpr (Security::secure) secured = co_await handshake(c);
        if (!secured) {
            // Reported and answered in handshake().
        } else if (count > settings_.max_connections) {
            if (!observers.empty())
                observers.each([&](TransportObserver& o) { o.on_limit({"max_connections", {}, &c->info()}); });
            co_await async_write_simple(*c, 503, settings_.over_capacity_body, "Retry-After: 1\r\nConnection: close\r\n");
        } else {
            try {
                co_await serve(c);
            } catch (const std::exception&) {
                // A failure in one connection must not take the server down.
            }
        }
        if constexpr (Security::secure) {
            if (secured && !c->closing) {
                // close_notify, and the peer's, for as long as a lingering close may take.
                c->arm(std::max(settings_.connection.lingering_close_timeout, std::chrono::milliseconds(100)));
                co_await security_.async_shutdown(c->stream);
                c->disarm();
            }
        }
        if (c->linger && !c->closing && settings_.connection.lingering_close_timeout.count() > 0)
            co_await async_lingering_close(c);
        c->closing = true;
        c->socket().shutdown(tcp::socket::shutdown_both, ec);
        c->socket().close(ec);
        c->watchdog.cancel();
        if (!observers.empty())
            observers.each([&](TransportObserver& o) { o.on_connection_close(c->info()); });
        {
            std::lock_guard lock(mutex_);
            table_.erase(c.get());
        }
        count_.fetch_sub(1);
    }

    // The TLS handshake under its deadline; false (reported, connection to be closed) on failure.
    asio::awaitable<bool> handshake(const std::shared_ptr<Conn>& c) {
        c->arm(security_.handshake_timeout());
        const std::error_code ec = co_await security_.async_handshake(c->stream);
        c->disarm();
        if (!ec) co_return true;
        const Observers& observers = *settings_.observers;
        if (!observers.empty()) observers.each([&](TransportObserver& o) { o.on_handshake_failed(c->info(), ec); });
        if (security_.is_plain_http(ec)) {
            // A plain-HTTP request on the TLS port: say so in plain HTTP, then close.
            c->linger = true;
            std::error_code ignored;
            asio::write(c->socket(), asio::buffer(plain_http_refusal), ignored);
        }
        co_return false;
    }

    static constexpr std::string_view plain_http_refusal =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 34\r\n"
        "Connection: close\r\n\r\nThis port serves HTTPS, not HTTP.\n";

    Settings settings_;
    Security& security_;
    asio::basic_socket_acceptor<tcp, asio::strand<asio::any_io_executor>> acceptor_;
    bool closed_ = false;            // on the acceptor's strand
    std::uint64_t accepted_ = 0;     // on the acceptor's strand
    std::atomic<std::size_t> count_{0};
    std::mutex mutex_;
    std::unordered_map<Conn*, std::weak_ptr<Conn>> table_;
};

}  // namespace mcpsse::detail
