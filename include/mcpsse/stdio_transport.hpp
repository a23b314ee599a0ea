// mcpsse: MCP over standard input and output (newline-delimited JSON-RPC).
#pragma once

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/stdio_session.hpp>
#include <mcpsse/detail/util/posix_descriptor.hpp>
#include <mcpsse/detail/rpc/message_sink.hpp>
#include <mcpsse/detail/rpc/session.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/write.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <chrono>
#include <vector>

namespace mcpsse {

/// Settings of a `StdioTransport`.
struct StdioOptions {
    /// File descriptor to read JSON-RPC messages from; duplicated, so the caller's
    /// descriptor stays open. Default: standard input.
    int input_fd = STDIN_FILENO;
    /// File descriptor to write JSON-RPC messages to; duplicated. Default: standard output.
    int output_fd = STDOUT_FILENO;
    /// The largest message accepted, in bytes, newline excluded. A longer line is
    /// discarded up to its newline and answered with `invalid_request` (-32600, no id,
    /// `data.max_bytes`); the session goes on.
    std::size_t max_message_bytes = 4 * 1024 * 1024;
    /// Output waiting to be written, in bytes, above which reading input pauses until
    /// the peer has read enough (backpressure instead of unbounded buffering).
    std::size_t max_pending_output_bytes = 16 * 1024 * 1024;
    /// Nesting depth (levels), value count and batch size of one message's JSON; over
    /// the first two a line is answered with `parse_error` (-32700, `data.limit`), over
    /// the batch size with `invalid_request` (-32600). See `JsonLimits`.
    JsonLimits json_limits{};
    /// Request and notification handlers running at once (count); a request over it is
    /// answered with `too_many_requests` (-32050), a notification over it is dropped.
    std::size_t max_requests_in_flight = 64;
    /// Time a request handler may run, in ms; zero (the default): no limit. On expiry the
    /// handler is cancelled and the client gets `request_timeout` (-32001).
    std::chrono::milliseconds request_handler_timeout{0};
};

/// MCP's stdio transport: one JSON-RPC message per line on an input and an output
/// descriptor (MCP basic/transports, stdio).
///
/// Each line read is parsed and dispatched; requests run concurrently, and each reply is
/// written as one whole line, so replies may interleave but never mix. Invalid JSON or
/// invalid UTF-8 is answered with `parse_error` (-32700) and reading goes on. End of
/// input ends the run after every running handler finished and all output is written;
/// server-to-client requests still waiting then fail with `connection_closed`. mcpsse
/// writes nothing but protocol messages to the output; hosts should log to stderr.
///
/// Pipes, sockets and terminals are served asynchronously; regular files and
/// `/dev/null` (e.g. `server < requests.jsonl`) work too, since reads and writes on
/// them never wait. When the run starts the transport ignores SIGPIPE if it is at its
/// default disposition (and leaves it so), so a vanished reader ends the run instead of
/// killing the process.
///
/// Thread-safety: `stop()` may be called from any thread; other members from one thread.
/// The transport and the dispatcher must outlive the run. Models `Transport`; its
/// session (`session()`) models `Session`.
template <class Executor = asio::any_io_executor>
class StdioTransport {
public:
    /// The executor type given at construction.
    using executor_type = Executor;
    /// The handle to its session (models `Session`); see `session()`.
    using session_type = StdioSession<>;

    /// Creates the transport on `executor`. Throws `std::system_error` when a descriptor
    /// cannot be duplicated.
    explicit StdioTransport(const executor_type& executor, StdioOptions options = {})
        : executor_(executor),
          strand_(asio::make_strand(asio::any_io_executor(executor))),
          options_(options),
          output_(std::make_shared<Output>(strand_, options.output_fd)),
          input_(strand_, detail::duplicate_descriptor(options.input_fd)),
          idle_(strand_),
          shared_(std::make_shared<detail::StdioSessionState>(strand_, output_)) {}

    /// The executor given at construction.
    [[nodiscard]] executor_type get_executor() const noexcept { return executor_; }

    /// Serves MCP with `dispatcher` until end of input or `stop()`.
    ///
    /// Completion signature `void(std::exception_ptr)`; null on a clean end. Start it at
    /// most once.
    template <class CompletionToken>
    auto async_run(Dispatcher& dispatcher, CompletionToken&& token) {
        return asio::co_spawn(strand_, run(dispatcher), std::forward<CompletionToken>(token));
    }

    /// The handle to the transport's one session (models `Session`): notifications and
    /// server-to-client requests unrelated to any client request. Valid for the
    /// transport's lifetime; its requests fail outside a run. Safe from any thread.
    [[nodiscard]] StdioSession<> session() const { return StdioSession<>(shared_); }

    /// Sends a notification unrelated to any request (e.g.
    /// `notifications/tools/list_changed`) to the client: `session().notify(method,
    /// params)`. Safe from any thread (the send runs on the transport's strand); dropped
    /// once the output has failed. Counts toward `max_pending_output_bytes` like any
    /// output.
    void notify(const std::string& method, const nlohmann::json& params = nullptr) { session().notify(method, params); }

    /// Graceful stop from any thread: reading stops at once; the run completes after
    /// running handlers finish and their output is written (as at end of input).
    void stop() {
        asio::post(strand_, [this] {
            stopping_ = true;
            input_.cancel();
        });
    }

private:
    using Strand = asio::strand<asio::any_io_executor>;

    // The output side: a queue of whole lines written by one writer coroutine.
    class Output final : public detail::MessageSink, public std::enable_shared_from_this<Output> {
    public:
        Output(const Strand& strand, int fd)
            : strand_(strand), stream_(strand, detail::duplicate_descriptor(fd)), drained_(strand) {}

        bool send(std::string message) override {
            if (failed_) return false;
            message.push_back('\n');
            pending_bytes_ += message.size();
            queue_.push_back(std::move(message));
            if (!writing_) {
                writing_ = true;
                asio::co_spawn(strand_, write_loop(this->shared_from_this()), asio::detached);
            }
            return true;
        }

        [[nodiscard]] std::size_t pending_bytes() const noexcept { return pending_bytes_; }
        [[nodiscard]] bool idle() const noexcept { return !writing_; }
        [[nodiscard]] bool failed() const noexcept { return failed_; }

        // Waits until `done()` holds; woken whenever the writer makes progress.
        template <class Predicate>
        asio::awaitable<void> wait_until(Predicate done) {
            while (!done()) {
                drained_.expires_at(asio::steady_timer::time_point::max());
                std::error_code ec;
                co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            }
        }

        void cancel() { stream_.cancel(); }

    private:
        static asio::awaitable<void> write_loop(std::shared_ptr<Output> self) {
            std::vector<asio::const_buffer> buffers;
            while (!self->queue_.empty()) {
                const std::size_t count = std::min<std::size_t>(self->queue_.size(), 64);
                buffers.clear();
                for (std::size_t i = 0; i < count; ++i) buffers.push_back(asio::buffer(self->queue_[i]));
                std::error_code ec;
                co_await asio::async_write(self->stream_, buffers, asio::redirect_error(asio::use_awaitable, ec));
                if (ec) {
                    self->failed_ = true;
                    self->queue_.clear();
                    self->pending_bytes_ = 0;
                    break;
                }
                for (std::size_t i = 0; i < count; ++i) {
                    self->pending_bytes_ -= self->queue_.front().size();
                    self->queue_.pop_front();
                }
                self->drained_.cancel();
            }
            self->writing_ = false;
            self->drained_.cancel();
        }

        Strand strand_;
        asio::posix::stream_descriptor stream_;
        asio::steady_timer drained_;
        std::deque<std::string> queue_;
        std::size_t pending_bytes_ = 0;
        bool writing_ = false;
        bool failed_ = false;
    };

    asio::awaitable<void> run(Dispatcher& dispatcher) {
        detail::ignore_sigpipe_if_default();
        auto session = std::make_shared<detail::RpcSession>(strand_, dispatcher, output_);
        session->set_limits({options_.max_requests_in_flight, options_.request_handler_timeout});
        shared_->set_rpc(session);
        std::vector<char> chunk(64 * 1024);
        std::string line;
        bool discarding = false;
        while (!stopping_) {
            if (output_->pending_bytes() > options_.max_pending_output_bytes)
                co_await output_->wait_until([this] {
                    return stopping_ || output_->failed() ||
                           output_->pending_bytes() <= options_.max_pending_output_bytes / 2;
                });
            std::error_code ec;
            const std::size_t n = co_await input_.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
            if (ec || n == 0) break;
            const char* data = chunk.data();
            const char* const end = data + n;
            while (data != end) {
                const char* newline = static_cast<const char*>(std::memchr(data, '\n', static_cast<std::size_t>(end - data)));
                const char* stop = newline ? newline : end;
                if (!discarding) {
                    line.append(data, stop);
                    if (line.size() > options_.max_message_bytes + 1) {  // +1: a trailing CR
                        discarding = true;
                        std::string{}.swap(line);
                    }
                }
                data = newline ? newline + 1 : end;
                if (!newline) break;
                if (discarding) {
                    discarding = false;
                    output_->send(json_rpc::serialize(ErrorResponse{
                        std::nullopt, error_code::invalid_request, "Invalid Request: message too large",
                        {{"max_bytes", options_.max_message_bytes}}}));
                } else {
                    handle_line(session, line);
                    line.clear();
                }
            }
        }
        if (!discarding && !line.empty()) handle_line(session, line);  // last line without newline
        // End of input: no answer to our own requests can arrive any more.
        session->close();
        while (active_ != 0) {
            idle_.expires_at(asio::steady_timer::time_point::max());
            std::error_code ec;
            co_await idle_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        co_await output_->wait_until([this] { return output_->idle(); });
        shared_->set_rpc(nullptr);
    }

    void handle_line(const std::shared_ptr<detail::RpcSession>& session, std::string& line) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) return;
        ParseResult parsed = json_rpc::parse_messages(line, session->parse_options(options_.json_limits));
        if (parsed.batch) {
            spawn(session, [session, out = output_, messages = std::move(parsed.messages),
                            errors = std::move(parsed.errors)]() mutable -> asio::awaitable<void> {
                if (auto reply = co_await session->async_handle_batch(std::move(messages), std::move(errors), out))
                    out->send(std::move(*reply));
            });
            return;
        }
        for (auto& error : parsed.errors) output_->send(json_rpc::serialize(error));
        for (auto& message : parsed.messages)
            spawn(session, [session, out = output_, m = std::move(message)]() mutable -> asio::awaitable<void> {
                if (auto reply = co_await session->async_handle(std::move(m), out)) out->send(std::move(*reply));
            });
    }

    template <class Work>
    void spawn(const std::shared_ptr<detail::RpcSession>& session, Work work) {
        ++active_;
        asio::co_spawn(session->get_executor(), std::move(work),
                       [this](std::exception_ptr) {
                           if (--active_ == 0) idle_.cancel();
                       });
    }

    executor_type executor_;
    Strand strand_;
    StdioOptions options_;
    std::shared_ptr<Output> output_;
    asio::posix::stream_descriptor input_;
    asio::steady_timer idle_;
    std::size_t active_ = 0;
    bool stopping_ = false;
    std::shared_ptr<detail::StdioSessionState> shared_;
};

}  // namespace mcpsse
