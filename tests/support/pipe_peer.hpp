// Test support: a peer that talks to a StdioTransport over two pipes.
#pragma once

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace mcpsse_test {

/// Two pipes: the test writes requests into `to_server` and reads replies from
/// `from_server`. `server_input()` / `server_output()` are the transport's ends; the
/// transport duplicates them, so call `release_server_ends()` after constructing it.
class PipePeer {
public:
    PipePeer() {
        if (::pipe(to_server_) != 0 || ::pipe(from_server_) != 0) throw std::runtime_error("pipe");
    }
    PipePeer(const PipePeer&) = delete;
    PipePeer& operator=(const PipePeer&) = delete;
    ~PipePeer() {
        for (int fd : {to_server_[0], to_server_[1], from_server_[0], from_server_[1]})
            if (fd >= 0) ::close(fd);
    }

    [[nodiscard]] int server_input() const { return to_server_[0]; }
    [[nodiscard]] int server_output() const { return from_server_[1]; }

    /// Closes the test's copies of the transport's ends (so EOF is seen correctly).
    void release_server_ends() {
        close_fd(to_server_[0]);
        close_fd(from_server_[1]);
    }

    /// Writes raw bytes to the server's input.
    void write(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            const auto n = ::write(to_server_[1], bytes.data() + done, bytes.size() - done);
            if (n <= 0) throw std::runtime_error("write to server failed");
            done += static_cast<std::size_t>(n);
        }
    }

    /// Writes one JSON message followed by a newline.
    void send(const nlohmann::json& message) { write(message.dump() + "\n"); }

    /// Closes the server's input (end of file).
    void close_input() { close_fd(to_server_[1]); }

    /// Reads one line from the server, or nullopt on timeout or end of output.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{from_server_[0], POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
            char chunk[65536];
            const auto n = ::read(from_server_[0], chunk, sizeof chunk);
            if (n <= 0) return std::nullopt;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    /// Reads one line and parses it as JSON (fails the test by exception otherwise).
    nlohmann::json receive(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto line = read_line(timeout);
        if (!line) throw std::runtime_error("no message from server");
        return nlohmann::json::parse(*line);
    }

private:
    static void close_fd(int& fd) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    int to_server_[2]{-1, -1};
    int from_server_[2]{-1, -1};
    std::string buffer_;
};

}  // namespace mcpsse_test
