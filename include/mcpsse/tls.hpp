// mcpsse: HTTPS for SseTransport over OpenSSL (CMake component `tls`, target mcpsse::tls).
#pragma once

#include <mcpsse/event_store.hpp>
#include <mcpsse/sse_transport.hpp>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

namespace mcpsse {

/// Where a `Tls` finds its certificate and how it checks clients.
struct TlsOptions {
    /// PEM file with the server certificate, then any intermediates (required).
    std::string certificate_chain_file;
    /// PEM file with the certificate's private key (required, unencrypted).
    std::string private_key_file;
    /// PEM file of the CAs whose client certificates are accepted. Non-empty: mutual TLS,
    /// every client must present a certificate that chains to one of them (the handshake
    /// fails otherwise). Empty (the default): clients are not asked for certificates.
    std::string client_ca_file;
    /// Time a new connection has to complete its handshake, in ms; then it is closed.
    std::chrono::milliseconds handshake_timeout{10'000};
};

/// The HTTPS connection security of an `SseTransport` (see `PlainTcp` for the concept):
/// TLS 1.2 and 1.3 through OpenSSL, ALPN `http/1.1` (a client offering only other
/// protocols is served without ALPN), a handshake deadline, close_notify at the end of
/// each connection. A failed handshake is reported to `TransportObserver::on_handshake_failed`
/// and closes that connection only; a plain-HTTP request on the TLS port gets a plain
/// 400 and a close at once.
///
/// `reload()` re-reads the certificate files: connections accepted afterwards use the new
/// certificate, open ones keep theirs. Thread-safe: `reload` may run on any thread while
/// the transport serves. Copies share one context.
class Tls {
public:
    /// The stream a connection reads and writes.
    using stream_type = asio::ssl::stream<asio::ip::tcp::socket>;
    /// A handshake runs before the first request.
    static constexpr bool secure = true;

    /// Loads the certificate and key. Throws `std::system_error` (an
    /// `asio::error::get_ssl_category()` code) when a file cannot be read or the key does
    /// not match the certificate.
    explicit Tls(TlsOptions options) : state_(std::make_shared<State>(std::move(options))) {
        state_->context = make_context(state_->options);
    }

    /// Re-reads the files given at construction; new connections use them. Throws as the
    /// constructor (the current certificate then stays in use).
    void reload() {
        auto fresh = make_context(state_->options);
        std::lock_guard lock(state_->mutex);
        state_->context = std::move(fresh);
    }

    /// The stream of an accepted socket, under the current certificate.
    stream_type wrap(asio::ip::tcp::socket socket) const {
        std::shared_ptr<asio::ssl::context> context;
        {
            std::lock_guard lock(state_->mutex);
            context = state_->context;
        }
        // The stream's SSL object holds its own reference to the context's SSL_CTX, so a
        // reload may drop `context` while the connection lives.
        return stream_type(std::move(socket), *context);
    }

    /// The handshake deadline, in ms.
    [[nodiscard]] std::chrono::milliseconds handshake_timeout() const noexcept {
        return state_->options.handshake_timeout;
    }

    /// Runs the server handshake.
    asio::awaitable<std::error_code> async_handshake(stream_type& stream) const {
        std::error_code ec;
        co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
        co_return ec;
    }

    /// Sends close_notify and waits for the peer's.
    asio::awaitable<std::error_code> async_shutdown(stream_type& stream) const {
        std::error_code ec;
        co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
        co_return ec;
    }

    /// True when a handshake failed because the peer spoke plain HTTP.
    [[nodiscard]] static bool is_plain_http(std::error_code ec) noexcept {
        return ec.category() == asio::error::get_ssl_category() &&
               ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_HTTP_REQUEST;
    }

private:
    struct State {
        explicit State(TlsOptions o) : options(std::move(o)) {}
        TlsOptions options;
        std::mutex mutex;
        std::shared_ptr<asio::ssl::context> context;
    };

    static std::shared_ptr<asio::ssl::context> make_context(const TlsOptions& options) {
        auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
        context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
        SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
        context->use_certificate_chain_file(options.certificate_chain_file);
        context->use_private_key_file(options.private_key_file, asio::ssl::context::pem);
        if (SSL_CTX_check_private_key(context->native_handle()) != 1)
            throw std::system_error(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category(),
                                    "mcpsse: the TLS private key does not match the certificate");
        if (!options.client_ca_file.empty()) {
            context->load_verify_file(options.client_ca_file);
            context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
        }
        SSL_CTX_set_alpn_select_cb(context->native_handle(), &select_alpn, nullptr);
        return context;
    }

    // ALPN (RFC 7301): http/1.1 when offered; otherwise proceed without a protocol.
    static int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                           unsigned int in_length, void*) {
        static constexpr unsigned char http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
        unsigned char* selected = nullptr;
        if (SSL_select_next_proto(&selected, out_length, http11, sizeof(http11), in, in_length) !=
            OPENSSL_NPN_NEGOTIATED)
            return SSL_TLSEXT_ERR_NOACK;
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }

    std::shared_ptr<State> state_;
};

/// `SseTransport` serving HTTPS: construct it with a `Tls`, e.g.
/// `TlsSseTransport<> transport{io.get_executor(), options, Tls{{.certificate_chain_file = "cert.pem",
/// .private_key_file = "key.pem"}}};`
template <class Executor = asio::any_io_executor, class Store = InMemoryEventStore>
using TlsSseTransport = SseTransport<Executor, Store, Tls>;

}  // namespace mcpsse
