// A small blocking HTTP/1.1 client for socket-level tests of mcpsse's HTTP transport.
//
// POSIX sockets on 127.0.0.1. Keep-alive (one connection per client object, several
// requests in turn or pipelined), Content-Length, chunked and close-delimited response
// bodies, an SSE reader yielding events (id, event, data, retry), raw-bytes mode for
// malformed requests, and a deadline on every wait so a broken server fails a test
// instead of hanging it.
#pragma once

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace mcpsse_test {

using namespace std::chrono_literals;

/// Case-insensitive ASCII comparison of header names.
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

/// One HTTP response (head, and the body once read).
struct HttpResponse {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// False when the response did not arrive (timeout or connection closed).
    bool complete = false;

    /// The first header named `name` (case-insensitive).
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const {
        for (const auto& h : headers)
            if (iequals(h.first, name)) return h.second;
        return std::nullopt;
    }
    [[nodiscard]] bool has_header(std::string_view name) const { return header(name).has_value(); }
    /// The body parsed as JSON (discarded value when it isn't).
    [[nodiscard]] nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

/// One Server-Sent Event.
struct SseEvent {
    std::optional<std::string> id;
    std::string event;  // empty: the default type "message"
    std::string data;
    std::optional<long> retry;
    [[nodiscard]] nlohmann::json json() const { return nlohmann::json::parse(data, nullptr, false); }
};

/// A header list for a request.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A blocking HTTP/1.1 client connection to 127.0.0.1:`port`.
class HttpClient {
public:
    using clock = std::chrono::steady_clock;

    /// Connects (throws std::runtime_error when the connection is refused). `rcvbuf`,
    /// when non-zero, shrinks the receive buffer (for slow-consumer tests).
    explicit HttpClient(std::uint16_t port, std::chrono::milliseconds timeout = 5s, int rcvbuf = 0)
        : port_(port), timeout_(timeout) {
        if (!try_connect(rcvbuf)) throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
    }

    /// A client not connected yet (assign a connected one).
    HttpClient() = default;

    /// Tries to connect; nullopt when refused.
    static std::optional<HttpClient> connect(std::uint16_t port, std::chrono::milliseconds timeout = 5s) {
        HttpClient c(port, timeout, Tag{});
        if (!c.try_connect(0)) return std::nullopt;
        return c;
    }

    HttpClient(HttpClient&& o) noexcept { *this = std::move(o); }
    HttpClient& operator=(HttpClient&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            port_ = o.port_;
            timeout_ = o.timeout_;
            in_ = std::move(o.in_);
            eof_ = o.eof_;
            body_ = o.body_;
            remaining_ = o.remaining_;
            chunk_state_ = o.chunk_state_;
            timed_out_ = o.timed_out_;
            sse_ = std::move(o.sse_);
            comments_ = o.comments_;
        }
        return *this;
    }
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    ~HttpClient() { close(); }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    /// The client's own (ephemeral) port, 0 when not connected.
    [[nodiscard]] std::uint16_t local_port() const noexcept {
        sockaddr_in addr{};
        socklen_t len = sizeof addr;
        if (fd_ < 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
        return ntohs(addr.sin_port);
    }
    [[nodiscard]] std::string host_header() const { return "127.0.0.1:" + std::to_string(port_); }
    void set_timeout(std::chrono::milliseconds t) noexcept { timeout_ = t; }

    /// Closes the connection (abruptly is fine: the peer just sees EOF).
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    /// Closes with RST (SO_LINGER 0) instead of FIN.
    void reset() {
        if (fd_ < 0) return;
        linger l{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close();
    }

    /// Sends bytes as they are; false when the connection is gone.
    bool send_raw(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Builds the bytes of a request (adds Host and, when there is a body or the method
    /// is POST, Content-Length, unless given).
    [[nodiscard]] std::string format_request(std::string_view method, std::string_view target, const Headers& headers,
                                             std::string_view body) const {
        std::string out;
        out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
        bool host = false, length = false;
        for (const auto& h : headers) {
            host = host || iequals(h.first, "host");
            length = length || iequals(h.first, "content-length") || iequals(h.first, "transfer-encoding");
            out.append(h.first).append(": ").append(h.second).append("\r\n");
        }
        if (!host) out.append("Host: ").append(host_header()).append("\r\n");
        if (!length && (!body.empty() || method == "POST"))
            out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
        out.append("\r\n").append(body);
        return out;
    }

    /// Sends a request and reads its whole response (for streams: use `send_request`
    /// and `read_head`).
    HttpResponse request(std::string_view method, std::string_view target, const Headers& headers = {},
                         std::string_view body = {}) {
        if (!send_request(method, target, headers, body)) return {};
        return read_response();
    }

    bool send_request(std::string_view method, std::string_view target, const Headers& headers = {},
                      std::string_view body = {}) {
        return send_raw(format_request(method, target, headers, body));
    }

    /// Reads a response head; skips 1xx responses unless `keep_informational`. Sets up
    /// body reading. `complete` is false on timeout or EOF.
    HttpResponse read_head(bool keep_informational = false) {
        const auto deadline = clock::now() + timeout_;
        for (;;) {
            HttpResponse r;
            auto line = read_line(deadline);
            if (!line) return r;
            // "HTTP/1.1 200 OK"
            if (line->size() < 12 || line->compare(0, 5, "HTTP/") != 0) return r;
            r.status = std::atoi(line->c_str() + 9);
            if (line->size() > 13) r.reason = line->substr(13);
            for (;;) {
                auto field = read_line(deadline);
                if (!field) return r;
                if (field->empty()) break;
                const auto colon = field->find(':');
                if (colon == std::string::npos) return r;
                std::string value = field->substr(colon + 1);
                while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
                while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
                r.headers.emplace_back(field->substr(0, colon), std::move(value));
            }
            if (r.status >= 100 && r.status < 200) {
                if (keep_informational) {
                    r.complete = true;
                    body_ = Body::none;
                    return r;
                }
                continue;
            }
            r.complete = true;
            sse_.clear();
            if (last_method_head_ || r.status == 204 || r.status == 304) {
                body_ = Body::none;
            } else if (auto te = r.header("transfer-encoding"); te && te->find("chunked") != std::string::npos) {
                body_ = Body::chunked;
                remaining_ = 0;
                chunk_state_ = ChunkState::size;
            } else if (auto cl = r.header("content-length")) {
                remaining_ = std::stoull(*cl);
                body_ = remaining_ == 0 ? Body::none : Body::length;
            } else {
                body_ = Body::until_close;
            }
            return r;
        }
    }

    /// Reads the next piece of the current body; nullopt when it ended (or on timeout:
    /// then `timed_out()`).
    std::optional<std::string> read_body_piece(clock::time_point deadline) {
        timed_out_ = false;
        switch (body_) {
        case Body::none:
            return std::nullopt;
        case Body::length: {
            if (in_.empty() && !fill(deadline)) return fail_body();
            const std::size_t n = std::min<std::size_t>(in_.size(), remaining_);
            std::string piece = in_.substr(0, n);
            in_.erase(0, n);
            remaining_ -= n;
            if (remaining_ == 0) body_ = Body::none;
            return piece;
        }
        case Body::until_close: {
            if (in_.empty() && !fill(deadline)) {
                if (timed_out_) return std::nullopt;
                body_ = Body::none;
                return std::nullopt;
            }
            std::string piece;
            piece.swap(in_);
            return piece;
        }
        case Body::chunked:
            for (;;) {
                if (chunk_state_ == ChunkState::size) {
                    auto line = read_line(deadline);
                    if (!line) return fail_body();
                    remaining_ = std::stoull(*line, nullptr, 16);
                    chunk_state_ = remaining_ == 0 ? ChunkState::trailer : ChunkState::data;
                    continue;
                }
                if (chunk_state_ == ChunkState::trailer) {
                    auto line = read_line(deadline);
                    if (!line) return fail_body();
                    if (line->empty()) {
                        body_ = Body::none;
                        return std::nullopt;
                    }
                    continue;
                }
                if (chunk_state_ == ChunkState::data) {
                    if (remaining_ == 0) {
                        auto line = read_line(deadline);  // CRLF after the data
                        if (!line) return fail_body();
                        chunk_state_ = ChunkState::size;
                        continue;
                    }
                    if (in_.empty() && !fill(deadline)) return fail_body();
                    const std::size_t n = std::min<std::size_t>(in_.size(), remaining_);
                    std::string piece = in_.substr(0, n);
                    in_.erase(0, n);
                    remaining_ -= n;
                    return piece;
                }
            }
        }
        return std::nullopt;
    }

    /// True when the last wait ended by its deadline.
    [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }
    /// True while the current response has more body to read.
    [[nodiscard]] bool body_pending() const noexcept { return body_ != Body::none; }

    /// Reads the whole body of the current response.
    std::optional<std::string> read_body() {
        const auto deadline = clock::now() + timeout_;
        std::string body;
        while (body_ != Body::none) {
            auto piece = read_body_piece(deadline);
            if (!piece) {
                if (body_ != Body::none) return std::nullopt;
                break;
            }
            body += *piece;
        }
        return body;
    }

    /// Reads a whole response (head and body).
    HttpResponse read_response() {
        HttpResponse r = read_head();
        if (!r.complete) return r;
        auto body = read_body();
        if (!body) {
            r.complete = false;
            return r;
        }
        r.body = std::move(*body);
        return r;
    }

    /// The next SSE event of the current body; nullopt at its end or after `timeout`
    /// (then `timed_out()`). `:` comments are skipped and counted.
    std::optional<SseEvent> next_event(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
        const auto deadline = clock::now() + timeout.value_or(timeout_);
        for (;;) {
            if (auto e = parse_event()) return e;
            auto piece = read_body_piece(deadline);
            if (!piece) return std::nullopt;
            sse_ += *piece;
        }
    }

    /// Number of `:` comment lines seen by `next_event`.
    [[nodiscard]] std::size_t comments() const noexcept { return comments_; }

    /// Waits until the server closes the connection (EOF or reset), discarding what
    /// arrives; false on timeout.
    bool wait_closed(std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        in_.clear();
        for (;;) {
            if (eof_) return true;
            if (!fill(deadline)) return eof_;
            in_.clear();
        }
    }

    /// True when nothing arrives and the connection stays open for `duration`.
    bool quiet_for(std::chrono::milliseconds duration) {
        if (!in_.empty()) return false;
        const auto deadline = clock::now() + duration;
        return !fill(deadline) && timed_out_ && !eof_;
    }

    /// Bytes received but not consumed yet.
    [[nodiscard]] const std::string& pending_bytes() const noexcept { return in_; }

private:
    struct Tag {};
    HttpClient(std::uint16_t port, std::chrono::milliseconds timeout, Tag) : port_(port), timeout_(timeout) {}

    enum class Body { none, length, chunked, until_close };
    enum class ChunkState { size, data, trailer };

    bool try_connect(int rcvbuf) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return false;
        if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        timeval tv{static_cast<time_t>(timeout_.count() / 1000), static_cast<suseconds_t>((timeout_.count() % 1000) * 1000)};
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port_);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            close();
            return false;
        }
        return true;
    }

    // Receives more bytes into in_; false on EOF, error or deadline (timed_out_).
    bool fill(clock::time_point deadline) {
        timed_out_ = false;
        if (fd_ < 0 || eof_) return false;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
            if (left <= 0) {
                timed_out_ = true;
                return false;
            }
            pollfd p{fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) continue;
            char buf[16384];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                eof_ = true;
                return false;
            }
            in_.append(buf, static_cast<std::size_t>(n));
            return true;
        }
    }

    std::optional<std::string> read_line(clock::time_point deadline) {
        for (;;) {
            const auto pos = in_.find("\r\n");
            if (pos != std::string::npos) {
                std::string line = in_.substr(0, pos);
                in_.erase(0, pos + 2);
                return line;
            }
            if (!fill(deadline)) return std::nullopt;
        }
    }

    std::optional<std::string> fail_body() {
        if (!timed_out_) body_ = Body::none;
        return std::nullopt;
    }

    // One complete event from sse_ (terminated by an empty line), or nullopt.
    std::optional<SseEvent> parse_event() {
        for (;;) {
            // Normalize: the server uses LF line endings.
            const auto end = sse_.find("\n\n");
            if (end == std::string::npos) return std::nullopt;
            std::string block = sse_.substr(0, end + 1);
            sse_.erase(0, end + 2);
            SseEvent e;
            bool any = false;
            bool has_data = false;
            std::size_t start = 0;
            while (start < block.size()) {
                const auto nl = block.find('\n', start);
                std::string line = block.substr(start, nl - start);
                start = nl + 1;
                if (!line.empty() && line.back() == '\r') line.pop_back();
                if (line.empty()) continue;
                if (line.front() == ':') {
                    ++comments_;
                    continue;
                }
                const auto colon = line.find(':');
                std::string field = line.substr(0, colon);
                std::string value = colon == std::string::npos ? std::string{} : line.substr(colon + 1);
                if (!value.empty() && value.front() == ' ') value.erase(0, 1);
                any = true;
                if (field == "id") e.id = value;
                else if (field == "event") e.event = value;
                else if (field == "retry") e.retry = std::stol(value);
                else if (field == "data") {
                    if (has_data) e.data += '\n';
                    e.data += value;
                    has_data = true;
                }
            }
            if (any) return e;
        }
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::chrono::milliseconds timeout_{5000};
    std::string in_;
    bool eof_ = false;
    bool timed_out_ = false;
    bool last_method_head_ = false;
    Body body_ = Body::none;
    ChunkState chunk_state_ = ChunkState::size;
    std::size_t remaining_ = 0;
    std::string sse_;
    std::size_t comments_ = 0;
};

}  // namespace mcpsse_test
