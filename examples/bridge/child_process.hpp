// mcpsse-bridge: one child process speaking newline-delimited JSON-RPC (the MCP stdio
// transport) on its standard input and output, driven by Asio.
//
// POSIX only. The child is started with posix_spawnp (PATH lookup) in a process group of
// its own, so that termination reaches what it starts (npx starts node, node may start
// more). Its standard input, output and error are pipes (close-on-exec in the bridge),
// non-blocking on the bridge's side and read/written through
// asio::posix::stream_descriptor. Exits are collected by a ChildReaper (SIGCHLD +
// waitpid on the known pids), so no zombie is left behind.
//
// Self-contained (Asio and the C library only): tests/unit/bridge_child_process.cpp
// includes it directly.
#pragma once

#include <mcpsse/detail/util/posix_descriptor.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

extern char** environ;

namespace mcpsse_bridge {

// ---------------------------------------------------------------------------------------
// Environment allow-list
// ---------------------------------------------------------------------------------------

/// Variables a child inherits by default (exact names): enough to find programs, a home
/// directory, the locale and a temporary directory, and nothing else (no tokens, no cloud
/// credentials). `--env NAME` adds names.
inline const std::vector<std::string>& default_environment_names() {
    static const std::vector<std::string> names{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG",
                                                "LANGUAGE", "TERM", "TMPDIR", "TZ"};
    return names;
}

/// Name prefixes a child inherits by default: the locale categories (`LC_*`) and Node.js'
/// own settings (`NODE_*`, e.g. NODE_OPTIONS, NODE_EXTRA_CA_CERTS), since most stdio MCP
/// servers run on Node.
inline const std::vector<std::string>& default_environment_prefixes() {
    static const std::vector<std::string> prefixes{"LC_", "NODE_"};
    return prefixes;
}

/// The `NAME=VALUE` entries of `env` (a null-terminated array, as `environ`) whose name is
/// in the default allow-list (`default_environment_names`, `default_environment_prefixes`)
/// or in `extra_names` (exact names). Order follows `env`.
inline std::vector<std::string> filter_environment(char** env, const std::vector<std::string>& extra_names) {
    std::vector<std::string> kept;
    if (!env) return kept;
    for (char** entry = env; *entry; ++entry) {
        const std::string_view item(*entry);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        const std::string_view name = item.substr(0, eq);
        bool allowed = false;
        for (const auto& n : default_environment_names()) allowed = allowed || name == n;
        for (const auto& n : extra_names) allowed = allowed || name == n;
        for (const auto& p : default_environment_prefixes()) allowed = allowed || name.substr(0, p.size()) == p;
        if (allowed) kept.emplace_back(item);
    }
    return kept;
}

// ---------------------------------------------------------------------------------------
// Limits and timings
// ---------------------------------------------------------------------------------------

/// Limits and timings of one child process. Every member has a documented default and a
/// command-line flag of mcpsse-bridge.
struct ChildLimits {
    /// Longest line (one JSON-RPC message) accepted from the child's standard output, in
    /// bytes, newline excluded (`--max-line-bytes`, default 4 MiB, as mcpsse's
    /// StdioTransport). A longer line is a protocol failure: the child is ended and its
    /// pending requests fail.
    std::size_t max_line_bytes = 4 * 1024 * 1024;
    /// Bytes waiting to be written to the child's standard input above which the child
    /// counts as stuck (`--max-stdin-backlog`, default 16 MiB): it is ended and its
    /// pending requests fail.
    std::size_t max_stdin_backlog_bytes = 16 * 1024 * 1024;
    /// Longest standard-error line logged, in bytes (`--stderr-line-bytes`, default
    /// 2,048); the rest of the line is cut off (marked with "...").
    std::size_t max_stderr_line_bytes = 2048;
    /// Standard-error lines logged per second per child (`--stderr-rate`, default 20);
    /// further lines of that second are dropped and counted, and the count is logged
    /// when the next second begins (or when the child ends). Zero: no limit.
    std::size_t stderr_lines_per_second = 20;
    /// After closing the child's standard input (MCP stdio: the polite way to end a
    /// server), time it gets to exit before SIGTERM, in ms (`--stdin-grace`, default 2,000).
    std::chrono::milliseconds stdin_grace{2000};
    /// After SIGTERM, time before SIGKILL, in ms (`--term-grace`, default 3,000). Both
    /// signals go to the child's whole process group.
    std::chrono::milliseconds term_grace{3000};
};

/// "exit status N" or "killed by signal N" for a waitpid status.
inline std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
}

// ---------------------------------------------------------------------------------------
// ChildReaper
// ---------------------------------------------------------------------------------------

/// Collects the exit status of the children it watches: on every SIGCHLD (an
/// asio::signal_set) it calls waitpid(pid, WNOHANG) for each watched pid (never
/// waitpid(-1), so children of other parts of the program are left alone), and calls that
/// pid's callback with the status.
///
/// Create it before spawning (SIGCHLD must be handled when the child exits). One per
/// io_context is enough. Thread-safety: use it only on its executor's thread.
class ChildReaper {
public:
    /// Starts waiting for SIGCHLD on `executor`.
    explicit ChildReaper(asio::any_io_executor executor) : signals_(executor, SIGCHLD) { arm(); }

    ChildReaper(const ChildReaper&) = delete;
    ChildReaper& operator=(const ChildReaper&) = delete;

    /// Stops listening. Children still watched are killed (SIGKILL to their process
    /// group) and reaped, blocking, so none outlives the reaper as a zombie.
    ~ChildReaper() {
        std::error_code ignored;
        signals_.cancel(ignored);
        for (auto& [pid, callback] : watched_) {
            ::kill(-pid, SIGKILL);
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
        }
    }

    /// Watches `pid`: `on_exit(status)` runs once on the reaper's executor after the child
    /// exited. Checks at once too, for a child that exited before this call.
    void watch(pid_t pid, std::function<void(int)> on_exit) {
        watched_[pid] = std::move(on_exit);
        reap();
    }

    /// Stops listening for SIGCHLD (so an io_context with nothing else to do returns);
    /// call it once no watched child is left.
    void stop() {
        stopped_ = true;  // a stop from inside an exit callback must not be undone by arm()
        std::error_code ignored;
        signals_.cancel(ignored);
    }

    /// Children watched and not yet reaped.
    [[nodiscard]] std::size_t size() const noexcept { return watched_.size(); }

private:
    void arm() {
        if (stopped_) return;
        signals_.async_wait([this](std::error_code ec, int) {
            if (ec) return;
            reap();
            arm();
        });
    }

    void reap() {
        for (auto it = watched_.begin(); it != watched_.end();) {
            int status = 0;
            const pid_t r = ::waitpid(it->first, &status, WNOHANG);
            if (r == it->first || (r < 0 && errno == ECHILD)) {
                auto callback = std::move(it->second);
                it = watched_.erase(it);
                if (callback) callback(r < 0 ? 0 : status);
            } else {
                ++it;
            }
        }
    }

    asio::signal_set signals_;
    std::map<pid_t, std::function<void(int)>> watched_;
    bool stopped_ = false;
};

// ---------------------------------------------------------------------------------------
// ChildProcess
// ---------------------------------------------------------------------------------------

/// One running child: its pid (also its process group id), its pipes, and the escalation
/// that ends it.
///
/// Standard output is split into lines (a trailing CR is removed); each complete line goes
/// to `Callbacks::on_line`. Standard error is split into lines that go, bounded by
/// `ChildLimits`, to `Callbacks::on_stderr`. `Callbacks::on_exit` runs once, after the
/// process was reaped and its standard output reached end-of-file (so every line it wrote
/// was delivered first), with the waitpid status and a description of what ended it.
///
/// Lifetime: created by `spawn` as a shared_ptr; its coroutines keep it alive until it
/// exited. Thread-safety: use it only on its executor's thread.
class ChildProcess : public std::enable_shared_from_this<ChildProcess> {
public:
    /// What the owner hears from the child. All run on the executor.
    struct Callbacks {
        /// One complete line of standard output (one JSON-RPC message, unparsed).
        std::function<void(std::string line)> on_line;
        /// One standard-error line (already cut to `max_stderr_line_bytes`), or a note that
        /// `dropped` lines were dropped by the rate limit (then `line` is empty).
        std::function<void(std::string_view line, std::size_t dropped)> on_stderr;
        /// A protocol failure the owner should act on: a line over `max_line_bytes`, or a
        /// standard-input backlog over `max_stdin_backlog_bytes`. The child is already being
        /// terminated when this runs.
        std::function<void(std::string reason)> on_failure;
        /// The child has ended (reaped, output drained): waitpid status and a description
        /// ("exit status 0", "killed by signal 9").
        std::function<void(int status, std::string description)> on_exit;
    };

    /// Starts `argv[0]` (looked up in PATH) with `argv` and exactly `environment`
    /// (`NAME=VALUE` entries) in a new process group, standard input/output/error on pipes.
    /// Sets SIGPIPE to ignored in this process when it is at its default disposition (as
    /// `StdioTransport` does), so writing to a child that exited or closed its standard
    /// input fails with EPIPE (then `on_failure`) instead of ending the process; signals
    /// the bridge ignores are reset to their defaults in the child.
    /// Throws `std::system_error` with the errno of pipe2/posix_spawnp (ENOENT: command not
    /// found, EACCES: not executable) and `std::invalid_argument` for an empty `argv`.
    static std::shared_ptr<ChildProcess> spawn(asio::any_io_executor executor, ChildReaper& reaper,
                                               const std::vector<std::string>& argv,
                                               const std::vector<std::string>& environment, ChildLimits limits,
                                               Callbacks callbacks) {
        if (argv.empty()) throw std::invalid_argument("mcpsse-bridge: empty command");
        mcpsse::detail::ignore_sigpipe_if_default();
        Pipe in, out, err;
        open_pipe(in);
        open_pipe(out);
        open_pipe(err);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in.read, STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);

        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t defaults;
        sigemptyset(&defaults);
        for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGQUIT}) sigaddset(&defaults, s);
        sigset_t mask;
        sigemptyset(&mask);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setsigmask(&attr, &mask);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        std::vector<char*> envp;
        for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);

        pid_t pid = -1;
        const int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        close_fd(in.read);
        close_fd(out.write);
        close_fd(err.write);
        if (rc != 0) {
            close_fd(in.write);
            close_fd(out.read);
            close_fd(err.read);
            throw std::system_error(rc, std::generic_category(), "cannot start " + argv[0]);
        }
        for (int fd : {in.write, out.read, err.read}) set_nonblocking(fd);

        auto child = std::shared_ptr<ChildProcess>(new ChildProcess(executor, pid, limits, std::move(callbacks)));
        child->stdin_.assign(std::exchange(in.write, -1));
        child->stdout_.assign(std::exchange(out.read, -1));
        child->stderr_.assign(std::exchange(err.read, -1));
        std::weak_ptr<ChildProcess> weak = child;
        reaper.watch(pid, [weak](int status) {
            if (auto self = weak.lock()) self->reaped(status);
        });
        asio::co_spawn(executor, child->read_stdout(child), asio::detached);
        asio::co_spawn(executor, child->read_stderr(child), asio::detached);
        return child;
    }

    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    ~ChildProcess() {
        // A child dropped while running is killed; the reaper still collects it.
        if (!reaped_) ::kill(-pid_, SIGKILL);
    }

    /// The child's pid, which is also its process group id.
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    /// True once the process was reaped (it may still be delivering its last output).
    [[nodiscard]] bool exited() const noexcept { return reaped_; }

    /// True once `on_exit` ran.
    [[nodiscard]] bool finished() const noexcept { return finished_; }

    /// True once `terminate` was called (or a failure started it).
    [[nodiscard]] bool terminating() const noexcept { return terminating_; }

    /// Bytes queued for standard input and not yet written.
    [[nodiscard]] std::size_t stdin_backlog() const noexcept { return backlog_; }

    /// Queues `message` plus a newline for standard input. Ignored once standard input is
    /// closed. Over `max_stdin_backlog_bytes` the child is terminated and `on_failure`
    /// runs.
    void write_line(std::string message) {
        if (stdin_closed_) return;
        message.push_back('\n');
        if (!writing_ && queue_.empty()) {
            // Nothing waiting: write now (the descriptor is non-blocking). A line that fits
            // the pipe, the usual case, then costs one write(2) and no coroutine.
            ssize_t n = 0;
            do n = ::write(stdin_.native_handle(), message.data(), message.size());
            while (n < 0 && errno == EINTR);
            if (n == static_cast<ssize_t>(message.size())) return;
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {  // EPIPE: the child is gone
                close_stdin_now();
                return;
            }
            if (n > 0) message.erase(0, static_cast<std::size_t>(n));  // the rest is queued below
        }
        backlog_ += message.size();
        queue_.push_back(std::move(message));
        if (backlog_ > limits_.max_stdin_backlog_bytes) {
            fail("upstream server does not read its input (" + std::to_string(backlog_) +
                 " bytes waiting, limit " + std::to_string(limits_.max_stdin_backlog_bytes) + ")");
            return;
        }
        if (!writing_) {
            writing_ = true;
            asio::co_spawn(stdin_.get_executor(), write_queue(shared_from_this()), asio::detached);
        }
    }

    /// Closes standard input once what is queued has been written (EOF tells an MCP stdio
    /// server to exit).
    void close_stdin() {
        close_requested_ = true;
        if (!writing_) close_stdin_now();
    }

    /// Sends `signal` to the child's whole process group (ignored once nothing is left).
    void signal_group(int signal) const noexcept { ::kill(-pid_, signal); }

    /// Ends the child politely, then firmly: closes standard input; after
    /// `stdin_grace` sends SIGTERM to the process group; after `term_grace` more,
    /// SIGKILL. Stops escalating as soon as the child was reaped. Idempotent.
    void terminate() {
        if (terminating_) return;
        terminating_ = true;
        close_stdin();
        if (reaped_) return;
        escalation_.expires_after(limits_.stdin_grace);
        escalation_.async_wait([self = shared_from_this()](std::error_code ec) {
            if (ec || self->reaped_) return;
            self->signal_group(SIGTERM);
            self->escalation_.expires_after(self->limits_.term_grace);
            self->escalation_.async_wait([self](std::error_code ec2) {
                if (ec2 || self->reaped_) return;
                self->signal_group(SIGKILL);
            });
        });
    }

private:
    struct Pipe {
        int read = -1;
        int write = -1;
        ~Pipe() {
            close_fd(read);
            close_fd(write);
        }
    };

    static void open_pipe(Pipe& p) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        p.read = fds[0];
        p.write = fds[1];
    }
    static void close_fd(int& fd) noexcept {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    static void set_nonblocking(int fd) {
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
            throw std::system_error(errno, std::generic_category(), "fcntl(O_NONBLOCK)");
    }

    ChildProcess(asio::any_io_executor executor, pid_t pid, ChildLimits limits, Callbacks callbacks)
        : pid_(pid),
          limits_(limits),
          callbacks_(std::move(callbacks)),
          stdin_(executor),
          stdout_(executor),
          stderr_(executor),
          escalation_(executor),
          stderr_window_(std::chrono::steady_clock::now()) {}

    void close_stdin_now() {
        if (stdin_closed_) return;
        stdin_closed_ = true;
        queue_.clear();
        backlog_ = 0;
        std::error_code ignored;
        stdin_.close(ignored);
    }

    void fail(std::string reason) {
        const bool first = !failed_;
        failed_ = true;
        terminate();
        if (first && callbacks_.on_failure) callbacks_.on_failure(std::move(reason));
    }

    static asio::awaitable<void> write_queue(std::shared_ptr<ChildProcess> self) {
        while (!self->queue_.empty() && !self->stdin_closed_) {
            std::error_code ec;
            const std::string& front = self->queue_.front();
            co_await asio::async_write(self->stdin_, asio::buffer(front), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {  // EPIPE: the child closed its input or exited; nothing more can go
                self->close_stdin_now();
                break;
            }
            if (self->queue_.empty()) break;  // closed meanwhile
            self->backlog_ -= self->queue_.front().size();
            self->queue_.pop_front();
        }
        self->writing_ = false;
        if (self->close_requested_) self->close_stdin_now();
    }

    // `self` keeps the child alive while the coroutine runs.
    asio::awaitable<void> read_stdout([[maybe_unused]] std::shared_ptr<ChildProcess> self) {
        std::string line;
        bool discarding = false;
        char buffer[65536];
        for (;;) {
            std::error_code ec;
            const std::size_t n =
                co_await stdout_.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
            const char* data = buffer;
            const char* end = buffer + n;
            while (data < end) {
                const void* found = std::memchr(data, '\n', static_cast<std::size_t>(end - data));
                const char* stop = found ? static_cast<const char*>(found) : end;
                if (!discarding) {
                    line.append(data, stop);
                    if (line.size() > limits_.max_line_bytes + 1) {  // +1: a trailing CR
                        discarding = true;
                        std::string{}.swap(line);
                        fail("upstream server wrote a line over " + std::to_string(limits_.max_line_bytes) + " bytes");
                    }
                }
                data = found ? stop + 1 : end;
                if (!found) break;
                if (!discarding) {
                    if (!line.empty() && line.back() == '\r') line.pop_back();
                    if (!line.empty() && callbacks_.on_line) callbacks_.on_line(std::move(line));
                    line.clear();
                }
                discarding = false;
            }
        }
        if (!discarding && !line.empty() && callbacks_.on_line) callbacks_.on_line(std::move(line));
        stdout_eof_ = true;
        maybe_finish();
    }

    asio::awaitable<void> read_stderr([[maybe_unused]] std::shared_ptr<ChildProcess> self) {
        std::string line;
        bool cut = false;
        char buffer[8192];
        for (;;) {
            std::error_code ec;
            const std::size_t n =
                co_await stderr_.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
            const char* data = buffer;
            const char* end = buffer + n;
            while (data < end) {
                const void* found = std::memchr(data, '\n', static_cast<std::size_t>(end - data));
                const char* stop = found ? static_cast<const char*>(found) : end;
                const std::size_t room = limits_.max_stderr_line_bytes - std::min(line.size(), limits_.max_stderr_line_bytes);
                const std::size_t take = std::min(room, static_cast<std::size_t>(stop - data));
                line.append(data, take);
                if (take < static_cast<std::size_t>(stop - data)) cut = true;
                data = found ? stop + 1 : end;
                if (!found) break;
                emit_stderr(line, cut);
                line.clear();
                cut = false;
            }
        }
        if (!line.empty()) emit_stderr(line, cut);
        flush_stderr_drops();
    }

    void emit_stderr(std::string& line, bool cut) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (cut) line += "...";
        const auto now = std::chrono::steady_clock::now();
        if (now - stderr_window_ >= std::chrono::seconds(1)) {
            flush_stderr_drops();
            stderr_window_ = now;
            stderr_lines_ = 0;
        }
        if (limits_.stderr_lines_per_second != 0 && stderr_lines_ >= limits_.stderr_lines_per_second) {
            ++stderr_dropped_;
            return;
        }
        ++stderr_lines_;
        if (callbacks_.on_stderr) callbacks_.on_stderr(line, 0);
    }

    void flush_stderr_drops() {
        if (stderr_dropped_ == 0) return;
        if (callbacks_.on_stderr) callbacks_.on_stderr({}, stderr_dropped_);
        stderr_dropped_ = 0;
    }

    void reaped(int status) {
        reaped_ = true;
        status_ = status;
        escalation_.cancel();
        // Whatever the leader left behind in its group (grandchildren) goes with it.
        signal_group(SIGKILL);
        close_stdin_now();
        maybe_finish();
    }

    void maybe_finish() {
        if (finished_ || !reaped_ || !stdout_eof_) return;
        finished_ = true;
        auto on_exit = std::move(callbacks_.on_exit);
        // The owner's callbacks may hold the owner; drop them now that nothing follows
        // (on_stderr stays: the stderr reader may still flush a last line).
        callbacks_.on_line = nullptr;
        callbacks_.on_failure = nullptr;
        if (on_exit) on_exit(status_, describe_wait_status(status_));
    }

    pid_t pid_;
    ChildLimits limits_;
    Callbacks callbacks_;
    asio::posix::stream_descriptor stdin_;
    asio::posix::stream_descriptor stdout_;
    asio::posix::stream_descriptor stderr_;
    asio::steady_timer escalation_;
    std::deque<std::string> queue_;
    std::size_t backlog_ = 0;
    bool writing_ = false;
    bool close_requested_ = false;
    bool stdin_closed_ = false;
    bool stdout_eof_ = false;
    bool reaped_ = false;
    bool finished_ = false;
    bool terminating_ = false;
    bool failed_ = false;
    int status_ = 0;
    std::chrono::steady_clock::time_point stderr_window_;
    std::size_t stderr_lines_ = 0;
    std::size_t stderr_dropped_ = 0;
};

}  // namespace mcpsse_bridge
