// mcpsse internal: one hiredis connection on an Asio strand, with AUTH/SELECT,
// timeouts and reconnection.
#pragma once

#include <mcpsse/detail/redis/asio_redis_adapter.hpp>
#include <mcpsse/detail/redis/redis_url.hpp>
#include <mcpsse/detail/redis/redis_value.hpp>
#include <mcpsse/redis_error.hpp>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/bind_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/prefer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// Settings of a `RedisConnection`.
struct RedisConnectionSettings {
    RedisUrl url;
    std::chrono::milliseconds connect_timeout{2'000};
    std::chrono::milliseconds command_timeout{2'000};
    std::chrono::milliseconds reconnect_interval{250};
};

/// One connection to Redis through hiredis's asynchronous API, driven on a strand of
/// the given executor (`AsioRedisAdapter`). Connects at `start()`: resolves the host,
/// connects, pipelines `AUTH` (when the URL has a password), `SELECT` (database != 0)
/// and `PING`, and is ready when all three succeeded. When the connection drops (or
/// a command or the connection attempt times out) it fails what is in flight with
/// `RedisErrc::connection_lost` / `timed_out` and tries again every
/// `reconnect_interval`; commands started while it is not ready fail at once with
/// `RedisErrc::not_connected`.
///
/// Commands are sent in the order `async_pipeline` was called (one strand, one
/// socket; Redis applies one connection's commands in order), without waiting for
/// earlier replies. Thread-safety: every member function may be called from any
/// thread; the work happens on the strand; completions run on the handler's
/// associated executor (default: the strand).
class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
public:
    using Replies = std::vector<RedisValue>;
    using Command = std::vector<std::string>;

    RedisConnection(const asio::any_io_executor& executor, RedisConnectionSettings settings)
        : strand_(asio::make_strand(executor)), settings_(std::move(settings)), resolver_(strand_),
          connect_timer_(strand_), retry_timer_(strand_) {}

    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    ~RedisConnection() {
        // Only reached when no operation is pending any more (they hold shared_from_this),
        // or when the executor was destroyed with handlers still queued.
        closed_ = true;
        free_context();
    }

    /// The strand every hiredis call runs on.
    [[nodiscard]] const asio::strand<asio::any_io_executor>& get_executor() const noexcept { return strand_; }

    /// Starts connecting (once).
    void start() {
        asio::post(strand_, [self = shared_from_this()] { self->connect(); });
    }

    /// Closes the connection for good: what is in flight and every later command fails
    /// with `RedisErrc::closed`; no reconnection.
    void close() {
        asio::post(strand_, [self = shared_from_this()] {
            if (self->closed_) return;
            self->closed_ = true;
            self->resolver_.cancel();
            self->connect_timer_.cancel();
            self->retry_timer_.cancel();
            self->free_context();
            self->fail_waiters(RedisErrc::closed);
        });
    }

    /// True while connected, authenticated and answering. Thread-safety: any thread.
    [[nodiscard]] bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

    /// The error of the last failed connection attempt or dropped connection (empty
    /// while ready). Thread-safety: any thread.
    [[nodiscard]] std::error_code last_error() const {
        std::lock_guard lock(error_mutex_);
        return last_error_;
    }

    /// Completes with no error once ready (at once when it is), or with the error of
    /// the next failed connection attempt.
    template <class Token>
    auto async_wait_ready(Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [self = shared_from_this()](auto handler) {
                auto ex = asio::get_associated_executor(handler, self->strand_);
                auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                std::function<void(std::error_code)> done = [shared, ex](std::error_code ec) {
                    asio::post(ex, [shared, ec] { (*shared)(ec); });
                };
                asio::post(self->strand_, [self, done = std::move(done)]() mutable {
                    if (self->closed_) return done(RedisErrc::closed);
                    if (self->ready()) return done({});
                    self->waiters_.push_back(std::move(done));
                });
            },
            token);
    }

    /// Sends `commands` back to back (nothing of another call comes between them) and
    /// completes once with every reply, in order: `void(std::error_code, Replies)`.
    /// The error is the connection's (not_connected, connection_lost, timed_out,
    /// closed); error replies of Redis come back as `RedisValue`s of type error.
    template <class Token>
    auto async_pipeline(std::vector<Command> commands, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, Replies)>(
            [self = shared_from_this()](auto handler, std::vector<Command> cmds) {
                auto ex = asio::get_associated_executor(handler, self->strand_);
                auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                // Counts as outstanding work of the handler's executor until it completes.
                auto tracked = asio::prefer(ex, asio::execution::outstanding_work.tracked);
                std::function<void(std::error_code, Replies)> done =
                    [shared, tracked](std::error_code ec, Replies replies) mutable {
                        asio::post(tracked, [shared, ec, replies = std::move(replies)]() mutable {
                            (*shared)(ec, std::move(replies));
                        });
                    };
                asio::post(self->strand_, [self, cmds = std::move(cmds), done = std::move(done)]() mutable {
                    self->send(std::move(cmds), std::move(done));
                });
            },
            token, std::move(commands));
    }

    /// One command: `void(std::error_code, RedisValue)`.
    template <class Token>
    auto async_command(Command command, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, RedisValue)>(
            [self = shared_from_this()](auto handler, Command cmd) {
                std::vector<Command> one;
                one.push_back(std::move(cmd));
                auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                auto ex = asio::get_associated_executor(*shared, self->strand_);
                self->async_pipeline(std::move(one),
                                     asio::bind_executor(ex, [shared](std::error_code ec, Replies replies) {
                                         RedisValue v;
                                         if (!replies.empty()) v = std::move(replies.front());
                                         (*shared)(ec, std::move(v));
                                     }));
            },
            token, std::move(command));
    }

private:
    // One call of async_pipeline: its replies so far, and how it completes.
    struct Batch {
        std::size_t expected = 0;
        Replies replies;
        std::function<void(std::error_code, Replies)> done;
        bool finished = false;
        std::uint64_t generation = 0;  // of the connection it was sent on
        std::shared_ptr<asio::steady_timer> timer;  // command_timeout

        void finish(std::error_code ec) {
            if (finished) return;
            finished = true;
            if (timer) timer->cancel();
            auto d = std::move(done);
            d(ec, ec ? Replies{} : std::move(replies));
        }
    };
    // hiredis privdata of one command.
    struct Pending {
        std::shared_ptr<RedisConnection> self;
        std::shared_ptr<Batch> batch;
    };

    void send(std::vector<Command> cmds, std::function<void(std::error_code, Replies)> done) {
        auto batch = std::make_shared<Batch>();
        batch->done = std::move(done);
        batch->expected = cmds.size();
        if (closed_) return batch->finish(RedisErrc::closed);
        if (!ready() || !context_) return batch->finish(RedisErrc::not_connected);
        if (cmds.empty()) return batch->finish({});
        batch->generation = generation_;
        for (auto& cmd : cmds) {
            if (!issue(cmd, batch, &RedisConnection::on_reply)) return;
        }
        arm_timeout(batch);
    }

    // Sends one command on the current context; false when hiredis refused it (the
    // batch is then finished).
    bool issue(const Command& cmd, const std::shared_ptr<Batch>& batch,
               void (*callback)(redisAsyncContext*, void*, void*)) {
        std::vector<const char*> argv;
        std::vector<std::size_t> argvlen;
        argv.reserve(cmd.size());
        argvlen.reserve(cmd.size());
        for (const auto& a : cmd) {
            argv.push_back(a.data());
            argvlen.push_back(a.size());
        }
        auto* pending = new Pending{shared_from_this(), batch};
        if (redisAsyncCommandArgv(context_, callback, pending, static_cast<int>(argv.size()), argv.data(),
                                  argvlen.data()) != REDIS_OK) {
            delete pending;
            batch->finish(RedisErrc::connection_lost);
            return false;
        }
        return true;
    }

    // Times the oldest outstanding batch: when it has not completed after
    // command_timeout, the connection is dropped (everything behind it is stuck too).
    void arm_timeout(const std::shared_ptr<Batch>& batch) {
        if (batch->finished) return;
        batch->timer = std::make_shared<asio::steady_timer>(strand_, settings_.command_timeout);
        batch->timer->async_wait([self = shared_from_this(), batch](const std::error_code& ec) {
            auto timer = std::move(batch->timer);  // breaks the batch <-> timer cycle
            if (ec || batch->finished) return;
            batch->finish(RedisErrc::timed_out);
            if (batch->generation == self->generation_) self->drop(RedisErrc::timed_out);
        });
    }

    static void on_reply(redisAsyncContext*, void* reply, void* privdata) {
        std::unique_ptr<Pending> pending(static_cast<Pending*>(privdata));
        auto& batch = *pending->batch;
        if (batch.finished) return;
        if (!reply) {
            // hiredis fails what is in flight with a null reply when the context goes.
            batch.finish(pending->self->closed_ ? std::error_code(RedisErrc::closed)
                                                : std::error_code(RedisErrc::connection_lost));
            return;
        }
        batch.replies.push_back(RedisValue::from(static_cast<redisReply*>(reply)));
        if (batch.replies.size() == batch.expected) batch.finish({});
    }

    // ---- connecting ------------------------------------------------------------------

    void connect() {
        if (closed_ || context_ || connecting_) return;
        connecting_ = true;
        connect_timer_.expires_after(settings_.connect_timeout);
        connect_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
            if (ec || !self->connecting_) return;
            self->resolver_.cancel();
            self->attempt_failed(RedisErrc::timed_out);
        });
        resolver_.async_resolve(settings_.url.host, std::to_string(settings_.url.port),
                                [self = shared_from_this()](const std::error_code& ec,
                                                            asio::ip::tcp::resolver::results_type results) {
                                    if (!self->connecting_ || self->closed_) return;
                                    if (ec || results.empty()) return self->attempt_failed(ec ? ec : RedisErrc::not_connected);
                                    self->open(results.begin()->endpoint());
                                });
    }

    void open(const asio::ip::tcp::endpoint& endpoint) {
        redisAsyncContext* ac = redisAsyncConnect(endpoint.address().to_string().c_str(), endpoint.port());
        if (!ac) return attempt_failed(std::make_error_code(std::errc::not_enough_memory));
        if (ac->err) {
            redisAsyncFree(ac);
            return attempt_failed(std::make_error_code(std::errc::connection_refused));
        }
        context_ = ac;
        ++generation_;
        ac->data = this;
        adapter_ = AsioRedisAdapter::attach(strand_, ac);
        redisAsyncSetConnectCallback(ac, [](const redisAsyncContext* c, int status) {
            auto* self = static_cast<RedisConnection*>(c->data);
            if (status != REDIS_OK && self) self->on_gone(std::make_error_code(std::errc::connection_refused));
        });
        redisAsyncSetDisconnectCallback(ac, [](const redisAsyncContext* c, int) {
            auto* self = static_cast<RedisConnection*>(c->data);
            if (self) self->on_gone(RedisErrc::connection_lost);
        });
        // AUTH, SELECT and PING, pipelined; ready when all succeeded.
        auto setup = std::make_shared<Batch>();
        setup->generation = generation_;
        std::vector<Command> cmds;
        const auto& url = settings_.url;
        if (url.has_password) {
            if (url.user.empty())
                cmds.push_back({"AUTH", url.password});
            else
                cmds.push_back({"AUTH", url.user, url.password});
        }
        if (url.database != 0) cmds.push_back({"SELECT", std::to_string(url.database)});
        cmds.push_back({"PING"});
        setup->expected = cmds.size();
        setup->done = [self = shared_from_this(), gen = generation_](std::error_code ec, Replies replies) {
            if (gen != self->generation_ || self->closed_) return;
            if (!ec)
                for (const auto& r : replies)
                    if (r.is_error()) ec = RedisErrc::auth_failed;
            if (ec) {
                self->set_error(ec);
                return self->drop(ec);
            }
            self->connecting_ = false;
            self->connect_timer_.cancel();
            self->set_error({});
            self->ready_.store(true, std::memory_order_release);
            auto waiters = std::move(self->waiters_);
            self->waiters_.clear();
            for (auto& w : waiters) w({});
        };
        for (auto& cmd : cmds)
            if (!issue(cmd, setup, &RedisConnection::on_reply)) return;
    }

    // The context is being freed by hiredis (disconnect, failed connect); it must not
    // be used after this returns.
    void on_gone(std::error_code ec) {
        if (context_) context_->data = nullptr;
        context_ = nullptr;
        if (adapter_) adapter_->detach();
        adapter_.reset();
        lost(ec);
    }

    // Drops the current connection on purpose (timeout, failed AUTH).
    void drop(std::error_code ec) {
        free_context();
        lost(ec);
    }

    void free_context() {
        ready_.store(false, std::memory_order_release);
        if (!context_) return;
        redisAsyncContext* ac = context_;
        ac->data = nullptr;  // the disconnect callback must not call on_gone
        context_ = nullptr;
        redisAsyncFree(ac);  // fails pending commands with a null reply (their callbacks run now)
        if (adapter_) adapter_->detach();
        adapter_.reset();
    }

    void lost(std::error_code ec) {
        ready_.store(false, std::memory_order_release);
        if (closed_) return;
        const bool was_connecting = connecting_;
        if (was_connecting) return attempt_failed(ec);
        set_error(ec);
        schedule_retry();
    }

    void attempt_failed(std::error_code ec) {
        connecting_ = false;
        connect_timer_.cancel();
        free_context();
        set_error(ec);
        fail_waiters(ec);
        schedule_retry();
    }

    void schedule_retry() {
        if (closed_ || retry_pending_) return;
        retry_pending_ = true;
        retry_timer_.expires_after(settings_.reconnect_interval);
        retry_timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
            self->retry_pending_ = false;
            if (ec || self->closed_) return;
            self->connect();
        });
    }

    void fail_waiters(std::error_code ec) {
        auto waiters = std::move(waiters_);
        waiters_.clear();
        for (auto& w : waiters) w(ec);
    }

    void set_error(std::error_code ec) {
        std::lock_guard lock(error_mutex_);
        last_error_ = ec;
    }

    asio::strand<asio::any_io_executor> strand_;
    RedisConnectionSettings settings_;
    asio::ip::tcp::resolver resolver_;
    asio::steady_timer connect_timer_;
    asio::steady_timer retry_timer_;
    redisAsyncContext* context_ = nullptr;
    std::shared_ptr<AsioRedisAdapter> adapter_;
    std::uint64_t generation_ = 0;
    bool connecting_ = false;
    bool retry_pending_ = false;
    bool closed_ = false;
    std::atomic<bool> ready_{false};
    std::vector<std::function<void(std::error_code)>> waiters_;
    mutable std::mutex error_mutex_;
    std::error_code last_error_;
};

}  // namespace mcpsse::detail
