// mcpsse_loadgen: a minimal HTTP/1.1 client on raw Asio sockets (keep-alive,
// Content-Length, chunked and close-delimited bodies), optionally over TLS
// (asio::ssl on OpenSSL, when built with MCPSSE_LOADGEN_TLS=1), and an incremental
// text/event-stream reader. Written for the load generator only: it measures servers
// from the outside and shares no code with the library under test.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#if MCPSSE_LOADGEN_TLS
#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>

#include <openssl/ssl.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace loadgen {

using tcp = asio::ip::tcp;

/// Errors of the client itself (as opposed to socket errors).
enum class ClientError { bad_response = 1, head_too_large, bad_chunk, timeout };

inline const std::error_category& client_category() {
    struct Category final : std::error_category {
        const char* name() const noexcept override { return "loadgen"; }
        std::string message(int c) const override {
            switch (static_cast<ClientError>(c)) {
            case ClientError::bad_response: return "malformed HTTP response";
            case ClientError::head_too_large: return "response head too large";
            case ClientError::bad_chunk: return "malformed chunked body";
            case ClientError::timeout: return "timed out";
            }
            return "unknown";
        }
    };
    static const Category category;
    return category;
}

inline std::error_code make_error(ClientError e) { return {static_cast<int>(e), client_category()}; }

/// ASCII lowercase (HTTP field names and tokens are ASCII; no locale lookup per byte).
constexpr char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
    }
    return true;
}

inline bool icontains(std::string_view haystack, std::string_view needle) {
    if (needle.size() > haystack.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
        if (iequals(haystack.substr(i, needle.size()), needle)) return true;
    }
    return false;
}

/// `http://host:port/path?query` (or `https://`) split for the client.
struct Url {
    std::string host;
    std::string port = "80";
    std::string target = "/";
    /// The Host header value (host[:port]).
    std::string authority;
    /// https: the connections speak TLS (see TlsClient).
    bool tls = false;
};

inline std::optional<Url> parse_url(std::string_view text) {
    constexpr std::string_view http = "http://";
    constexpr std::string_view https = "https://";
    Url url;
    if (text.substr(0, https.size()) == https) {
        text.remove_prefix(https.size());
        url.tls = true;
        url.port = "443";
    } else if (text.substr(0, http.size()) == http) {
        text.remove_prefix(http.size());
    } else {
        return std::nullopt;
    }
    const std::size_t slash = text.find('/');
    url.authority = std::string(text.substr(0, slash));
    url.target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
    const std::string_view auth = url.authority;
    if (!auth.empty() && auth.front() == '[') {  // [v6]:port
        const std::size_t close = auth.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        url.host = std::string(auth.substr(1, close - 1));
        if (close + 1 < auth.size() && auth[close + 1] == ':') url.port = std::string(auth.substr(close + 2));
    } else {
        const std::size_t colon = auth.rfind(':');
        url.host = std::string(auth.substr(0, colon));
        if (colon != std::string_view::npos) url.port = std::string(auth.substr(colon + 1));
    }
    if (url.host.empty() || url.port.empty()) return std::nullopt;
    return url;
}

/// What the client needs from a response head.
struct ResponseHead {
    int status = 0;
    /// Content-Type value as sent (empty when absent).
    std::string content_type;
    /// Mcp-Session-Id value (empty when absent).
    std::string session_id;
    std::optional<std::uint64_t> content_length;
    bool chunked = false;
    /// The server will close the connection after this response.
    bool close = false;

    [[nodiscard]] bool is_event_stream() const { return icontains(content_type, "text/event-stream"); }
    [[nodiscard]] bool is_json() const { return icontains(content_type, "application/json"); }
};

/// TLS for every connection of the process: set once, before the first connect, by
/// the command line (`--tls CA_FILE`). Without a context connections are plain TCP.
/// Counts the handshakes and what they negotiated, for the result line.
struct TlsClient {
#if MCPSSE_LOADGEN_TLS
    asio::ssl::context* context = nullptr;
#endif
    /// The name the server's certificate must match (a DNS name or an IP address);
    /// also sent as SNI when it is a DNS name.
    std::string server_name;
    std::atomic<std::uint64_t> handshakes{0};
    std::atomic<std::uint64_t> handshake_ns{0};

    [[nodiscard]] bool enabled() const {
#if MCPSSE_LOADGEN_TLS
        return context != nullptr;
#else
        return false;
#endif
    }

    /// "TLSv1.3 TLS_AES_128_GCM_SHA256 alpn=http/1.1" -> handshakes that negotiated it.
    std::map<std::string, std::uint64_t> negotiated() {
        const std::lock_guard<std::mutex> lock(mutex_);
        return negotiated_;
    }
    void note(std::string what, std::uint64_t ns) {
        handshakes.fetch_add(1, std::memory_order_relaxed);
        handshake_ns.fetch_add(ns, std::memory_order_relaxed);
        const std::lock_guard<std::mutex> lock(mutex_);
        ++negotiated_[std::move(what)];
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::uint64_t> negotiated_;
};

inline TlsClient& tls_client() {
    static TlsClient client;
    return client;
}

/// One HTTP/1.1 connection with a read buffer; one request at a time. Over TLS when
/// tls_client() has a context: the TLS stream wraps socket_, which stays the object
/// to cancel or close (closing it ends pending TLS operations too).
class Connection {
public:
    explicit Connection(const asio::any_io_executor& executor) : socket_(executor) {}

    [[nodiscard]] bool is_open() const { return socket_.is_open(); }
    [[nodiscard]] tcp::socket& socket() { return socket_; }

    asio::awaitable<std::error_code> connect(const tcp::resolver::results_type& endpoints) {
        close();
        std::error_code ec;
        co_await asio::async_connect(socket_, endpoints, asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
            socket_.set_option(tcp::no_delay(true), ec);
            ec = {};
        }
#if MCPSSE_LOADGEN_TLS
        if (!ec && tls_client().enabled()) {
            ec = co_await handshake();
            if (ec) close();
        }
#endif
        co_return ec;
    }

    void close() {
        std::error_code ignored;
        if (socket_.is_open()) {
            socket_.shutdown(tcp::socket::shutdown_both, ignored);
            socket_.close(ignored);
        }
        rpos_ = wpos_ = 0;
        body_ = {};
    }

    /// Writes `data`: at once when the socket takes it all (the usual case for a small
    /// request), else the rest asynchronously. Saves a trip through the scheduler per
    /// request, as a client written against epoll directly would.
    asio::awaitable<std::error_code> write(std::string_view data) {
        std::error_code ec;
#if MCPSSE_LOADGEN_TLS
        if (tls_) {
            co_await asio::async_write(*tls_, asio::buffer(data.data(), data.size()),
                                       asio::redirect_error(asio::use_awaitable, ec));
            co_return ec;
        }
#endif
        if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
        std::size_t sent = ec ? 0 : socket_.write_some(asio::buffer(data.data(), data.size()), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
        if (ec) co_return ec;
        if (sent < data.size())
            co_await asio::async_write(socket_, asio::buffer(data.data() + sent, data.size() - sent),
                                       asio::redirect_error(asio::use_awaitable, ec));
        co_return ec;
    }

    /// Reads a response head (skipping 1xx interim responses) and prepares the body
    /// reader. `head_request` tells that the body is empty whatever the head says.
    asio::awaitable<std::error_code> read_head(ResponseHead& head, bool head_request = false) {
        while (true) {
            // Bytes after rpos_ already searched (fill() may move rpos_, never the data).
            std::size_t scanned = 0;
            std::size_t end = std::string_view::npos;
            while (true) {
                const std::string_view view(buf_.data() + rpos_, wpos_ - rpos_);
                end = view.find("\r\n\r\n", scanned >= 3 ? scanned - 3 : 0);
                if (end != std::string_view::npos) break;
                if (view.size() > 64 * 1024) co_return make_error(ClientError::head_too_large);
                scanned = view.size();
                if (const auto ec = co_await fill()) co_return ec;
            }
            const std::string_view raw(buf_.data() + rpos_, end + 4);
            const bool ok = parse_head(raw, head);
            rpos_ += end + 4;
            if (!ok) co_return make_error(ClientError::bad_response);
            if (head.status >= 100 && head.status < 200) continue;  // interim
            body_ = {};
            if (head_request || head.status == 204 || head.status == 304) {
                body_.kind = BodyKind::none;
            } else if (head.chunked) {
                body_.kind = BodyKind::chunked;
            } else if (head.content_length) {
                body_.kind = *head.content_length == 0 ? BodyKind::none : BodyKind::length;
                body_.remaining = *head.content_length;
            } else {
                body_.kind = BodyKind::until_close;
                head.close = true;
            }
            co_return std::error_code{};
        }
    }

    /// Appends whatever body bytes are available to `out`, reading from the socket at
    /// most once; sets `done` when the body ended. Never returns with neither progress
    /// nor `done` unless an error occurred.
    asio::awaitable<std::error_code> read_body_some(std::string& out, bool& done) {
        const std::size_t before = out.size();
        std::error_code ec = decode(out, done);
        if (ec || done || out.size() != before) co_return ec;
        while (true) {
            ec = co_await fill();
            if (ec == asio::error::eof && body_.kind == BodyKind::until_close) {
                body_.kind = BodyKind::none;
                done = true;
                co_return std::error_code{};
            }
            if (ec) co_return ec;
            ec = decode(out, done);
            if (ec || done || out.size() != before) co_return ec;
        }
    }

    /// Reads the whole body into `out` (appended).
    asio::awaitable<std::error_code> read_body(std::string& out) {
        bool done = false;
        while (!done) {
            if (const auto ec = co_await read_body_some(out, done)) co_return ec;
        }
        co_return std::error_code{};
    }

private:
    enum class BodyKind { none, length, chunked, until_close };
    enum class ChunkState { size, data, data_crlf, trailer };
    struct BodyState {
        BodyKind kind = BodyKind::none;
        std::uint64_t remaining = 0;
        ChunkState chunk = ChunkState::size;
    };

    static bool parse_head(std::string_view raw, ResponseHead& head) {
        // Reset field by field: the strings keep their storage for the next response.
        head.status = 0;
        head.content_type.clear();
        head.session_id.clear();
        head.content_length.reset();
        head.chunked = false;
        head.close = false;
        std::size_t eol = raw.find("\r\n");
        const std::string_view status_line = raw.substr(0, eol);
        if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return false;
        const bool http10 = status_line.substr(5, 3) == "1.0";
        int status = 0;
        const auto r = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
        if (r.ec != std::errc{}) return false;
        head.status = status;
        bool keep_alive_token = false;
        raw.remove_prefix(eol + 2);
        while (!raw.empty()) {
            eol = raw.find("\r\n");
            if (eol == 0 || eol == std::string_view::npos) break;
            const std::string_view line = raw.substr(0, eol);
            raw.remove_prefix(eol + 2);
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos) return false;
            const std::string_view name = line.substr(0, colon);
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
            if (iequals(name, "content-length")) {
                std::uint64_t n = 0;
                const auto c = std::from_chars(value.data(), value.data() + value.size(), n);
                if (c.ec != std::errc{} || c.ptr != value.data() + value.size()) return false;
                head.content_length = n;
            } else if (iequals(name, "transfer-encoding")) {
                head.chunked = icontains(value, "chunked");
            } else if (iequals(name, "content-type")) {
                head.content_type.assign(value);
            } else if (iequals(name, "mcp-session-id")) {
                head.session_id.assign(value);
            } else if (iequals(name, "connection")) {
                if (icontains(value, "close")) head.close = true;
                if (icontains(value, "keep-alive")) keep_alive_token = true;
            }
        }
        if (http10 && !keep_alive_token) head.close = true;
        return true;
    }

    /// Reads more bytes into the buffer (growing or compacting it first).
    asio::awaitable<std::error_code> fill() {
        if (rpos_ == wpos_) {
            rpos_ = wpos_ = 0;
        } else if (rpos_ > 0 && buf_.size() - wpos_ < 1024) {
            std::memmove(buf_.data(), buf_.data() + rpos_, wpos_ - rpos_);
            wpos_ -= rpos_;
            rpos_ = 0;
        }
        if (buf_.size() - wpos_ < 1024) buf_.resize(std::max<std::size_t>(buf_.size() * 2, 4096));
        std::error_code ec;
        const auto space = asio::buffer(buf_.data() + wpos_, buf_.size() - wpos_);
#if MCPSSE_LOADGEN_TLS
        if (tls_) {
            const std::size_t n = co_await tls_->async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
            wpos_ += n;
            // A peer that closes without close_notify ends the stream like a TCP EOF.
            if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
            co_return ec;
        }
#endif
        const std::size_t n = co_await socket_.async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
        wpos_ += n;
        co_return ec;
    }

#if MCPSSE_LOADGEN_TLS
    /// Client handshake on the freshly connected socket_, verifying the certificate
    /// against tls_client().server_name. A new TLS stream per TCP connection (the old
    /// one has no pending operation: connect() runs on the coroutine that used it).
    asio::awaitable<std::error_code> handshake() {
        TlsClient& settings = tls_client();
        tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *settings.context);
        std::error_code ec;
        asio::ip::make_address(settings.server_name, ec);
        if (ec) {  // SNI carries DNS names only (RFC 6066)
            if (SSL_set_tlsext_host_name(tls_->native_handle(), settings.server_name.c_str()) != 1)
                co_return std::make_error_code(std::errc::invalid_argument);
        }
        ec = {};
        tls_->set_verify_mode(asio::ssl::verify_peer);
        tls_->set_verify_callback(asio::ssl::host_name_verification(settings.server_name));
        const auto t0 = std::chrono::steady_clock::now();
        co_await tls_->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return ec;
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
        SSL* ssl = tls_->native_handle();
        const unsigned char* alpn = nullptr;
        unsigned int alpn_len = 0;
        SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
        std::string what = std::string(SSL_get_version(ssl)) + " " + SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)) +
                           " alpn=" + (alpn_len ? std::string(reinterpret_cast<const char*>(alpn), alpn_len) : "none");
        settings.note(std::move(what), static_cast<std::uint64_t>(ns.count()));
        co_return ec;
    }
#endif

    /// Decodes buffered body bytes into `out`.
    std::error_code decode(std::string& out, bool& done) {
        done = false;
        switch (body_.kind) {
        case BodyKind::none:
            done = true;
            return {};
        case BodyKind::length: {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(body_.remaining, wpos_ - rpos_));
            out.append(buf_.data() + rpos_, take);
            rpos_ += take;
            body_.remaining -= take;
            if (body_.remaining == 0) {
                body_.kind = BodyKind::none;
                done = true;
            }
            return {};
        }
        case BodyKind::until_close:
            out.append(buf_.data() + rpos_, wpos_ - rpos_);
            rpos_ = wpos_;
            return {};
        case BodyKind::chunked:
            return decode_chunked(out, done);
        }
        return {};
    }

    std::error_code decode_chunked(std::string& out, bool& done) {
        while (rpos_ < wpos_) {
            const std::string_view view(buf_.data() + rpos_, wpos_ - rpos_);
            switch (body_.chunk) {
            case ChunkState::size: {
                const std::size_t eol = view.find("\r\n");
                if (eol == std::string_view::npos) {
                    if (view.size() > 1024) return make_error(ClientError::bad_chunk);
                    return {};
                }
                std::string_view digits = view.substr(0, eol);
                digits = digits.substr(0, digits.find_first_of("; \t"));
                std::uint64_t size = 0;
                const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
                if (digits.empty() || r.ec != std::errc{} || r.ptr != digits.data() + digits.size())
                    return make_error(ClientError::bad_chunk);
                rpos_ += eol + 2;
                body_.remaining = size;
                body_.chunk = size == 0 ? ChunkState::trailer : ChunkState::data;
                break;
            }
            case ChunkState::data: {
                const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(body_.remaining, view.size()));
                out.append(view.data(), take);
                rpos_ += take;
                body_.remaining -= take;
                if (body_.remaining == 0) body_.chunk = ChunkState::data_crlf;
                break;
            }
            case ChunkState::data_crlf:
                if (view.size() < 2) return {};
                if (view.substr(0, 2) != "\r\n") return make_error(ClientError::bad_chunk);
                rpos_ += 2;
                body_.chunk = ChunkState::size;
                break;
            case ChunkState::trailer: {
                const std::size_t eol = view.find("\r\n");
                if (eol == std::string_view::npos) return {};
                rpos_ += eol + 2;
                if (eol == 0) {
                    body_ = {};
                    done = true;
                    return {};
                }
                break;
            }
            }
        }
        return {};
    }

    tcp::socket socket_;
#if MCPSSE_LOADGEN_TLS
    std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
#endif
    std::vector<char> buf_ = std::vector<char>(4096);
    std::size_t rpos_ = 0;
    std::size_t wpos_ = 0;
    BodyState body_;
};

/// One dispatched server-sent event.
struct SseEvent {
    std::string event;
    std::string data;
    std::string id;
};

/// Incremental `text/event-stream` reader: lines end in LF, CRLF or CR; `:` lines are
/// comments; an empty line dispatches the event collected so far (when it had a data
/// field). Remembers the last event id seen (for Last-Event-ID).
class SseReader {
public:
    template <class OnEvent>
    void feed(std::string_view bytes, OnEvent&& on_event) {
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            const char c = bytes[i];
            if (skip_lf_) {
                skip_lf_ = false;
                if (c == '\n') continue;
            }
            if (c == '\r' || c == '\n') {
                skip_lf_ = c == '\r';
                line_done(on_event);
                continue;
            }
            // Take the run of ordinary bytes at once.
            std::size_t j = i;
            while (j < bytes.size() && bytes[j] != '\r' && bytes[j] != '\n') ++j;
            line_.append(bytes.data() + i, j - i);
            i = j - 1;
        }
    }

    [[nodiscard]] const std::string& last_event_id() const { return last_id_; }

private:
    template <class OnEvent>
    void line_done(OnEvent& on_event) {
        if (line_.empty()) {
            if (has_data_) {
                if (!event_.data.empty() && event_.data.back() == '\n') event_.data.pop_back();
                on_event(event_);
            }
            event_.event.clear();
            event_.data.clear();
            event_.id.clear();
            has_data_ = false;
            return;
        }
        if (line_.front() != ':') {
            const std::size_t colon = line_.find(':');
            const std::string_view field = std::string_view(line_).substr(0, colon);
            std::string_view value;
            if (colon != std::string::npos) {
                value = std::string_view(line_).substr(colon + 1);
                if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            }
            if (field == "data") {
                event_.data.append(value);
                event_.data.push_back('\n');
                has_data_ = true;
            } else if (field == "event") {
                event_.event.assign(value);
            } else if (field == "id") {
                if (value.find('\0') == std::string_view::npos) {
                    event_.id.assign(value);
                    last_id_.assign(value);
                }
            }
        }
        line_.clear();
    }

    std::string line_;
    SseEvent event_;
    bool has_data_ = false;
    bool skip_lf_ = false;
    std::string last_id_;
};

}  // namespace loadgen
