// mcpsse-bridge: routes MCP sessions of an mcpsse SseTransport to stdio MCP servers
// (child processes), message by message, through mcpsse's public message-level access:
// the Dispatcher's fallbacks receive every client request and notification, RequestContext
// carries messages related to one request, SseSession those unrelated to any.
//
// Routing (see examples/bridge/README.md for the whole picture):
//   * one child per session by default, started by the session's `initialize` (which is
//     forwarded; the child's answer is the client's answer) and ended with the session;
//   * `share_child`: one child for every session, initialized once;
//   * stateless (2026-07-28) requests: a small pool of long-lived children, round-robin.
// The bridge numbers the requests it sends a child itself (per child), so ids of several
// clients never clash; progress tokens are renamed the same way.
//
// Single-threaded: every member runs on the one thread that runs the io_context (the
// transport is built with `SseTransportOptions::single_threaded`); the transport's
// session callbacks are posted there.
#pragma once

#include "child_process.hpp"

#include <mcpsse/dispatcher.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/logging_level.hpp>
#include <mcpsse/meta_key.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/sse_session.hpp>
#include <mcpsse/detail/util/resume_slot.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mcpsse_bridge {

/// The JSON-RPC error code of every failure of the upstream (child) side reaching a client:
/// the child could not be started, exited, wrote something that is not JSON-RPC, or the
/// session's child is gone. MCP's "connection closed" (-32000).
inline constexpr int upstream_error = -32000;

/// Settings of a `Bridge`. Every member has a documented default and a command-line flag
/// of mcpsse-bridge (see examples/bridge/README.md).
struct BridgeOptions {
    /// The command of the stdio MCP server: program (looked up in PATH) and arguments.
    std::vector<std::string> command;
    /// The child's whole environment (`NAME=VALUE`); see `filter_environment`.
    std::vector<std::string> environment;
    /// Limits and timings of each child (line length, stderr rate, termination graces).
    ChildLimits child{};
    /// One child for every session (`--share-child`), for servers that keep no
    /// per-session state. Default false: one child per session.
    bool share_child = false;
    /// Children serving stateless (2026-07-28) requests (`--stateless-pool`, default 2),
    /// started on first use and reused round-robin; zero refuses stateless requests.
    std::size_t stateless_pool = 2;
    /// Children running at once, pool and terminating ones included (`--max-children`,
    /// default 64). An `initialize` that would start one more is answered with JSON-RPC
    /// `too_many_requests` (-32050, `data.limit` "max_children"); no session is created.
    std::size_t max_children = 64;
    /// How long a request a child sends to the client (sampling, elicitation, roots) may
    /// wait for the client's answer, in ms (default 60,000); then the child gets a
    /// JSON-RPC error (-32001).
    std::chrono::milliseconds client_request_timeout{60'000};
};

/// Routes sessions to children. Install it on a Dispatcher (`install`), and give the
/// transport's session callbacks to `session_opened`/`session_closed`.
///
/// Thread-safety: not thread-safe; use it on one thread (the io_context's only one). The
/// Dispatcher and the transport must not outlive it while they run.
class Bridge {
public:
    /// A log line's sink: severity, the session (or pool/shared child name; may be empty)
    /// and the message.
    using LogSink = std::function<void(mcpsse::LoggingLevel level, std::string_view session, std::string_view message)>;
    /// Ends a session from the server side (e.g. `SseTransport::end_session`); may be empty,
    /// then a session whose child ended stays open and its requests get JSON-RPC errors.
    using EndSession = std::function<void(const std::string& session_id)>;

    Bridge(asio::any_io_executor executor, BridgeOptions options, LogSink log = {}, EndSession end_session = {})
        : executor_(executor),
          options_(std::move(options)),
          log_(std::move(log)),
          end_session_(std::move(end_session)),
          reaper_(executor) {}

    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    ~Bridge() {
        for (auto& up : all_upstreams()) up->child->terminate();
    }

    /// Makes `dispatcher` forward every request and notification it has no handler of its
    /// own for (register none: `initialize` and `logging/setLevel` must reach the bridge).
    /// `ping` stays answered by mcpsse itself.
    void install(mcpsse::Dispatcher& dispatcher) {
        session_versions_ = dispatcher.options().protocol_versions;
        dispatcher.set_request_fallback([this](nlohmann::json params, mcpsse::RequestContext& ctx) {
            return on_request(std::move(params), ctx);
        });
        dispatcher.set_notification_fallback([this](nlohmann::json params, mcpsse::RequestContext& ctx) {
            return on_notification(std::move(params), ctx);
        });
    }

    /// For `SseTransportOptions::on_session_open` (any thread: the work is posted).
    void session_opened(const mcpsse::SseSession<>& session) {
        asio::post(executor_, [this, session] { sessions_[session.id()].handle = session; });
    }

    /// For `SseTransportOptions::on_session_close` (any thread: the work is posted): the
    /// session's child is terminated (per-session mode) or the session detached (shared).
    void session_closed(const mcpsse::SseSession<>& session) {
        asio::post(executor_, [this, id = session.id()] { close_session(id, "session ended"); });
    }

    /// Children alive now (running or terminating).
    [[nodiscard]] std::size_t child_count() const noexcept { return live_children_; }

    /// Sessions that have a child (or the shared child) attached.
    [[nodiscard]] std::size_t attached_sessions() const {
        std::size_t n = 0;
        for (auto& [id, s] : sessions_) n += s.upstream ? 1 : 0;
        return n;
    }

    /// The pid of the child serving `session_id`, or -1.
    [[nodiscard]] pid_t child_pid(const std::string& session_id) const {
        const auto it = sessions_.find(session_id);
        if (it == sessions_.end() || !it->second.upstream) return -1;
        return it->second.upstream->child->pid();
    }

    /// Terminates every child (stdin closed, then SIGTERM, then SIGKILL per the graces).
    void terminate_all() {
        for (auto& up : all_upstreams()) up->child->terminate();
    }

    /// Terminates every child and, once all were reaped, stops waiting for SIGCHLD, so
    /// that the io_context runs out of work. Start no child afterwards.
    void shutdown() {
        shutting_down_ = true;
        for (const auto& timer : timers_) timer->cancel();
        terminate_all();
        if (live_children_ == 0) reaper_.stop();
    }

private:
    using json = nlohmann::json;

    // Time between the last answer to a dead child's pending requests and the end of its
    // sessions (see `schedule_end`).
    static constexpr std::chrono::milliseconds end_session_delay{100};
    // See `watch_registration`.
    static constexpr std::chrono::milliseconds registration_grace{30'000};

    // A client request forwarded to a child, waiting for its response.
    struct Pending {
        explicit Pending(const asio::any_io_executor& ex) : wake(ex) {}
        std::string session_id;
        std::optional<mcpsse::RequestContext> ctx;
        json progress_token;  // the client's token; null when none
        std::optional<json> result;
        std::optional<mcpsse::RpcError> error;
        bool done = false;
        // The forwarding coroutine waits here; `complete` resumes it inline (the child's
        // answer goes on to the client without a trip through the scheduler).
        mcpsse::detail::ResumeSlot wake;
    };

    // A request a child sent, forwarded to the client.
    struct ChildRequest {
        asio::cancellation_signal cancel;
        bool cancelled = false;
    };

    enum class Kind { session, shared, pool };

    // One child and the bridge's bookkeeping for it.
    struct Upstream {
        Kind kind = Kind::session;
        std::string name;  // a session id, "shared" or "pool-N"
        std::shared_ptr<ChildProcess> child;
        std::int64_t next_id = 1;
        std::map<std::int64_t, std::shared_ptr<Pending>> pending;
        std::map<std::string, std::shared_ptr<ChildRequest>> child_requests;  // by the child's id, dumped
        bool dead = false;
        std::string dead_reason;
        bool initializing = false;
        bool initialized_sent = false;
        std::optional<json> init_result;
        std::optional<std::string> incompatible;  // pool: why stateless requests are refused
        std::unique_ptr<asio::steady_timer> init_wait;
        std::set<std::string> sessions;  // attached session ids
        std::size_t handlers = 0;         // `forward` coroutines running for this child
        bool end_scheduled = false;       // its sessions are about to be ended
    };

    // Counts a `forward` coroutine; the last one to leave a dead child's bookkeeping lets
    // its sessions end.
    struct HandlerCount {
        Bridge* bridge;
        std::shared_ptr<Upstream> up;
        HandlerCount(Bridge* b, std::shared_ptr<Upstream> u) : bridge(b), up(std::move(u)) { ++up->handlers; }
        HandlerCount(const HandlerCount&) = delete;
        HandlerCount& operator=(const HandlerCount&) = delete;
        ~HandlerCount() {
            if (--up->handlers == 0 && up->dead) bridge->schedule_end(up);
        }
    };

    struct SessionEntry {
        std::optional<mcpsse::SseSession<>> handle;
        std::shared_ptr<Upstream> upstream;
    };

    // ---- logging -------------------------------------------------------------------------

    void log(mcpsse::LoggingLevel level, std::string_view session, std::string_view message) const {
        if (log_) log_(level, session, message);
    }

    // ---- children ------------------------------------------------------------------------

    std::vector<std::shared_ptr<Upstream>> all_upstreams() const {
        std::vector<std::shared_ptr<Upstream>> all;
        std::set<Upstream*> seen;
        auto add = [&](const std::shared_ptr<Upstream>& up) {
            if (up && up->child && seen.insert(up.get()).second) all.push_back(up);
        };
        for (auto& [id, s] : sessions_) add(s.upstream);
        add(shared_);
        for (auto& up : pool_) add(up);
        return all;
    }

    std::shared_ptr<Upstream> start_child(Kind kind, std::string name) {
        if (shutting_down_) throw mcpsse::RpcError(upstream_error, "mcpsse-bridge is shutting down");
        if (live_children_ >= options_.max_children)
            throw mcpsse::RpcError(mcpsse::error_code::too_many_requests,
                                   "too many upstream servers running (limit " + std::to_string(options_.max_children) +
                                       ")",
                                   json{{"limit", "max_children"}});
        auto up = std::make_shared<Upstream>();
        up->kind = kind;
        up->name = std::move(name);
        up->init_wait = std::make_unique<asio::steady_timer>(executor_, std::chrono::steady_clock::time_point::max());
        std::weak_ptr<Upstream> weak = up;
        ChildProcess::Callbacks callbacks;
        callbacks.on_line = [this, weak](std::string line) {
            if (auto u = weak.lock()) on_child_line(u, std::move(line));
        };
        callbacks.on_stderr = [this, name = up->name](std::string_view line, std::size_t dropped) {
            if (dropped)
                log(mcpsse::LoggingLevel::warning, name,
                    "upstream stderr: " + std::to_string(dropped) + " lines dropped (rate limit)");
            else
                log(mcpsse::LoggingLevel::info, name, std::string("upstream stderr: ").append(line));
        };
        callbacks.on_failure = [this, weak](std::string reason) {
            if (auto u = weak.lock()) upstream_failed(u, std::move(reason));
        };
        // A strong reference: the bookkeeping lives until the child has ended, even once its
        // session is gone (the child drops its callbacks when it has ended).
        callbacks.on_exit = [this, up](int, std::string description) {
            --live_children_;
            if (shutting_down_ && live_children_ == 0) reaper_.stop();
            upstream_failed(up, "upstream server exited (" + description + ")");
        };
        try {
            up->child = ChildProcess::spawn(executor_, reaper_, options_.command, options_.environment, options_.child,
                                            std::move(callbacks));
        } catch (const std::exception& e) {
            log(mcpsse::LoggingLevel::error, up->name, std::string("cannot start upstream server: ") + e.what());
            throw mcpsse::RpcError(upstream_error, std::string("cannot start upstream server: ") + e.what());
        }
        ++live_children_;
        log(mcpsse::LoggingLevel::info, up->name, "upstream server started (pid " + std::to_string(up->child->pid()) + ")");
        return up;
    }

    // The child is gone or unusable: every pending request fails, its sessions end.
    void upstream_failed(const std::shared_ptr<Upstream>& up, std::string reason) {
        if (!up->dead) {
            up->dead = true;
            up->dead_reason = reason;
            log(up->child && up->child->terminating() && reason.find("exited") != std::string::npos
                    ? mcpsse::LoggingLevel::info
                    : mcpsse::LoggingLevel::warning,
                up->name, reason);
        }
        if (up->child) up->child->terminate();
        auto pending = std::exchange(up->pending, {});
        for (auto& [id, p] : pending) complete_error(*p, mcpsse::RpcError(upstream_error, up->dead_reason));
        for (auto& [id, r] : up->child_requests) {
            r->cancelled = true;
            r->cancel.emit(asio::cancellation_type::terminal);
        }
        up->child_requests.clear();
        up->init_wait->cancel();
        if (shared_ == up) shared_.reset();
        for (auto& slot : pool_)
            if (slot == up) slot.reset();
        // Sessions served by this child end once the errors of their pending requests
        // are on their way (or, without a way to end them, answer later requests with
        // dead_reason).
        if (up->handlers == 0) schedule_end(up);
    }

    // Ends the sessions of a dead child, `end_session_delay` after its last forwarded
    // request was answered, so that those answers (JSON-RPC errors) reach the clients
    // before the session's streams close.
    void schedule_end(const std::shared_ptr<Upstream>& up) {
        if (up->end_scheduled || !end_session_ || up->sessions.empty()) return;
        up->end_scheduled = true;
        auto timer = std::make_shared<asio::steady_timer>(executor_, end_session_delay);
        timers_.insert(timer);
        timer->async_wait([this, timer, up](std::error_code) {
            timers_.erase(timer);
            for (const auto& id : up->sessions) {
                const auto it = sessions_.find(id);
                if (it != sessions_.end() && it->second.upstream == up) {
                    log(mcpsse::LoggingLevel::info, id, "ending the session: " + up->dead_reason);
                    end_session_(id);
                }
            }
        });
    }

    static void complete(Pending& p, json result) {
        if (p.done) return;
        p.done = true;
        p.result = std::move(result);
        p.wake.resume();
    }
    static void complete_error(Pending& p, mcpsse::RpcError error) {
        if (p.done) return;
        p.done = true;
        p.error = std::move(error);
        p.wake.resume();
    }

    // ---- client -> child -----------------------------------------------------------------

    // The line sent to a child for a request (`id`) or a notification (no id): written as
    // text around the client's params, serialized once, byte for byte what dumping the
    // JSON object would give (members in nlohmann's order: id, jsonrpc, method, params).
    static std::string message_line(std::optional<std::int64_t> id, std::string_view method, const json* params) {
        std::string line = "{";
        if (id) {
            line += "\"id\":";
            line += std::to_string(*id);
            line += ',';
        }
        line += R"("jsonrpc":"2.0","method":)";
        line += json(method).dump();
        if (params) {
            line += R"(,"params":)";
            line += params->dump(-1, ' ', false, json::error_handler_t::replace);
        }
        line += '}';
        return line;
    }

    asio::awaitable<json> on_request(json params, mcpsse::RequestContext& ctx) {
        if (ctx.method() == "initialize") co_return co_await initialize(std::move(params), ctx);
        auto up = upstream_for(ctx);
        co_return co_await forward(up, std::move(params), ctx);
    }

    asio::awaitable<void> on_notification(json params, mcpsse::RequestContext& ctx) {
        // Cancellation reaches the child through the cancelled handler (see `forward`),
        // exactly once; the notification itself is not passed on.
        if (ctx.method() == "notifications/cancelled") co_return;
        const std::string sid(ctx.session_id());
        if (sid.empty()) co_return;  // stateless: nothing to relate it to
        const auto it = sessions_.find(sid);
        if (it == sessions_.end() || !it->second.upstream) co_return;
        auto& up = it->second.upstream;
        if (up->dead) co_return;
        if (ctx.method() == "notifications/initialized") {
            if (up->initialized_sent) co_return;  // shared child: initialized once
            up->initialized_sent = true;
        }
        const bool with_params = !params.is_null() && !(params.is_object() && params.empty());
        up->child->write_line(message_line(std::nullopt, ctx.method(), with_params ? &params : nullptr));
        co_return;
    }

    // The child serving a request of an initialized session, or the pool for stateless
    // requests. Throws RpcError when there is none.
    std::shared_ptr<Upstream> upstream_for(const mcpsse::RequestContext& ctx) {
        const std::string sid(ctx.session_id());
        if (sid.empty()) {
            if (mcpsse::protocol_version::is_stateless(ctx.protocol_version())) return pool_child(ctx);
            throw mcpsse::RpcError(mcpsse::error_code::invalid_request,
                                   "mcpsse-bridge serves session-based revisions with sessions only");
        }
        const auto it = sessions_.find(sid);
        if (it == sessions_.end() || !it->second.upstream)
            throw mcpsse::RpcError(upstream_error, "no upstream server for this session (send initialize first)");
        auto& up = it->second.upstream;
        if (up->dead) throw mcpsse::RpcError(upstream_error, up->dead_reason);
        return up;
    }

    asio::awaitable<json> initialize(json params, mcpsse::RequestContext& ctx) {
        const std::string sid(ctx.session_id());
        if (sid.empty())
            throw mcpsse::RpcError(mcpsse::error_code::invalid_request,
                                   "mcpsse-bridge serves initialize only with sessions");
        const auto found = sessions_.find(sid);
        if (found != sessions_.end() && found->second.upstream && !found->second.upstream->dead)
            throw mcpsse::RpcError(mcpsse::error_code::invalid_request, "session already initialized");

        if (options_.share_child) co_return co_await initialize_shared(std::move(params), ctx, sid);

        auto up = start_child(Kind::session, sid);  // throws before any bookkeeping is made
        up->sessions.insert(sid);
        sessions_[sid].upstream = up;
        try {
            json result = co_await forward(up, std::move(params), ctx);
            up->init_result = result;
            watch_registration(sid, up);
            co_return result;
        } catch (...) {
            // No session is created: the child goes at once.
            up->sessions.erase(sid);
            auto it = sessions_.find(sid);
            if (it != sessions_.end() && it->second.upstream == up) {
                it->second.upstream.reset();
                if (!it->second.handle) sessions_.erase(it);
            }
            up->child->terminate();
            throw;
        }
    }

    asio::awaitable<json> initialize_shared(json params, mcpsse::RequestContext& ctx, std::string sid) {
        if (!shared_ || shared_->dead) {
            shared_ = start_child(Kind::shared, "shared");
            auto up = shared_;
            up->initializing = true;
            try {
                json result = co_await forward(up, std::move(params), ctx);
                up->init_result = result;
                up->initializing = false;
                up->init_wait->cancel();
            } catch (...) {
                up->initializing = false;
                up->init_wait->cancel();
                up->child->terminate();
                if (shared_ == up) shared_.reset();
                throw;
            }
        } else {
            while (shared_ && shared_->initializing) {
                auto up = shared_;
                std::error_code ec;
                co_await up->init_wait->async_wait(asio::redirect_error(asio::use_awaitable, ec));
                if (ctx.is_cancelled()) throw std::system_error(asio::error::operation_aborted);
            }
            if (!shared_ || shared_->dead || !shared_->init_result)
                throw mcpsse::RpcError(upstream_error, "the shared upstream server failed to initialize");
        }
        shared_->sessions.insert(sid);
        sessions_[sid].upstream = shared_;
        co_return *shared_->init_result;
    }

    // A pool child for a stateless request (started and initialized on first use).
    std::shared_ptr<Upstream> pool_child(const mcpsse::RequestContext&) {
        if (options_.stateless_pool == 0)
            throw mcpsse::RpcError(upstream_error, "mcpsse-bridge serves no stateless requests (--stateless-pool 0)");
        if (stateless_unsupported_) throw stateless_refusal(*stateless_unsupported_);
        pool_.resize(options_.stateless_pool);
        const std::size_t index = next_pool_++ % pool_.size();
        auto& slot = pool_[index];
        if (!slot || slot->dead) {
            slot = start_child(Kind::pool, "pool-" + std::to_string(index));
            initialize_pool_child(slot);
        }
        if (slot->incompatible) throw stateless_refusal(*slot->incompatible);
        return slot;
    }

    // A 2026-07-28 server has no `initialize`: its first message decides its era. The
    // bridge asks a pool child `server/discover` (with the 2026-07-28 `_meta` envelope)
    // itself; a child whose answer does not list 2026-07-28 in `supportedVersions` (or
    // that does not know the method: a server of the session era) cannot serve stateless
    // requests, which then get `unsupported_protocol_version` (-32022, HTTP 400) naming
    // the session revisions, so that the client falls back to `initialize`.
    void initialize_pool_child(const std::shared_ptr<Upstream>& up) {
        up->initializing = true;
        auto p = std::make_shared<Pending>(executor_);
        const std::int64_t id = up->next_id++;
        up->pending[id] = p;
        const std::string v2026(mcpsse::protocol_version::v2026_07_28);
        json meta{{std::string(mcpsse::meta_key::protocol_version), v2026},
                  {std::string(mcpsse::meta_key::client_info), {{"name", "mcpsse-bridge"}, {"version", "0.1.0"}}},
                  {std::string(mcpsse::meta_key::client_capabilities), json::object()}};
        up->child->write_line(
            json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "server/discover"}, {"params", {{"_meta", std::move(meta)}}}}
                .dump());
        asio::co_spawn(
            executor_,
            [this, up, p, v2026]() -> asio::awaitable<void> {
                std::error_code ec;
                if (!p->done) co_await p->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                up->initializing = false;
                bool supported = false;
                if (p->result && p->result->contains("supportedVersions") && (*p->result)["supportedVersions"].is_array())
                    for (const auto& version : (*p->result)["supportedVersions"]) supported = supported || version == v2026;
                if (supported) {
                    up->init_result = *p->result;
                } else if (!up->dead) {  // a child that died meanwhile says nothing about the command
                    std::string why = p->error ? std::string("server/discover: ") + p->error->what()
                                      : p->result ? "its server/discover does not list it"
                                                  : "no answer to server/discover";
                    up->incompatible = "the upstream server does not support protocol revision 2026-07-28 (" + why +
                                       "); initialize a session instead";
                    // Remembered for good: the command is the same for every pool child.
                    stateless_unsupported_ = up->incompatible;
                    log(mcpsse::LoggingLevel::warning, up->name, *up->incompatible);
                    up->child->terminate();
                }
                up->init_wait->cancel();
            },
            asio::detached);
    }

    // The refusal of a stateless request when the pool cannot serve 2026-07-28.
    mcpsse::RpcError stateless_refusal(const std::string& why) const {
        json supported = json::array();
        for (const auto& version : session_versions_) supported.push_back(version);
        return mcpsse::RpcError(mcpsse::error_code::unsupported_protocol_version, why,
                                json{{"supported", std::move(supported)},
                                     {"requested", std::string(mcpsse::protocol_version::v2026_07_28)}});
    }

    // Sends a client request to `up` under a bridge id and waits for the child's answer.
    asio::awaitable<json> forward(std::shared_ptr<Upstream> up, json params, mcpsse::RequestContext& ctx) {
        // A pool child may still be initializing.
        while (up->initializing && ctx.method() != "initialize") {
            std::error_code ec;
            co_await up->init_wait->async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (ctx.is_cancelled()) throw std::system_error(asio::error::operation_aborted);
        }
        if (up->dead) throw mcpsse::RpcError(upstream_error, up->dead_reason);
        if (up->incompatible) throw stateless_refusal(*up->incompatible);

        const HandlerCount counted(this, up);
        auto p = std::make_shared<Pending>(executor_);
        p->session_id = std::string(ctx.session_id());
        p->ctx = ctx;
        const std::int64_t id = up->next_id++;
        if (params.is_object() && params.contains("_meta") && params["_meta"].is_object() &&
            params["_meta"].contains("progressToken")) {
            p->progress_token = params["_meta"]["progressToken"];
            params["_meta"]["progressToken"] = id;  // the child reports progress under the bridge's id
        }
        up->pending[id] = p;
        up->child->write_line(message_line(id, ctx.method(), params.is_null() ? nullptr : &params));

        std::error_code ec;
        if (!p->done) co_await p->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!p->done) {
            // Cancelled (client's notifications/cancelled, a closed stateless stream, stop):
            // tell the child, once.
            up->pending.erase(id);
            if (!up->dead)
                up->child->write_line(json{{"jsonrpc", "2.0"},
                                           {"method", "notifications/cancelled"},
                                           {"params", {{"requestId", id}, {"reason", "cancelled by the client"}}}}
                                          .dump());
            throw std::system_error(asio::error::operation_aborted);
        }
        if (p->error) throw *p->error;
        co_return std::move(*p->result);
    }

    // ---- child -> client -----------------------------------------------------------------

    void on_child_line(const std::shared_ptr<Upstream>& up, std::string line) {
        json message = json::parse(line, nullptr, false);
        if (message.is_discarded()) {
            upstream_failed(up, "upstream server wrote invalid JSON");
            return;
        }
        if (message.is_array()) {  // a batch (2025-03-26)
            for (auto& m : message) on_child_message(up, m, {});
            return;
        }
        on_child_message(up, message, line);
    }

    void on_child_message(const std::shared_ptr<Upstream>& up, json& message, std::string_view raw) {
        if (!message.is_object()) {
            log(mcpsse::LoggingLevel::warning, up->name, "upstream server wrote a JSON value that is not a message");
            return;
        }
        const auto method = message.find("method");
        const auto id = message.find("id");
        if (method != message.end() && method->is_string()) {
            if (id != message.end() && !id->is_null())
                on_child_request(up, message);
            else
                on_child_notification(up, message, raw);
            return;
        }
        if (id != message.end() && (message.contains("result") || message.contains("error"))) {
            on_child_response(up, message);
            return;
        }
        log(mcpsse::LoggingLevel::warning, up->name, "upstream server wrote a message that is not JSON-RPC");
    }

    void on_child_response(const std::shared_ptr<Upstream>& up, json& message) {
        const json& id = message["id"];
        if (!id.is_number_integer()) {
            log(mcpsse::LoggingLevel::debug, up->name, "upstream response to an unknown id: " + id.dump());
            return;
        }
        const auto it = up->pending.find(id.get<std::int64_t>());
        if (it == up->pending.end()) {
            log(mcpsse::LoggingLevel::debug, up->name, "upstream response to an unknown id: " + id.dump());
            return;
        }
        auto p = it->second;
        up->pending.erase(it);
        if (message.contains("result")) {
            complete(*p, std::move(message["result"]));
        } else {
            const json& e = message["error"];
            const int code = e.is_object() ? e.value("code", mcpsse::error_code::internal_error)
                                           : mcpsse::error_code::internal_error;
            const std::string text = e.is_object() ? e.value("message", std::string("upstream error")) : "upstream error";
            complete_error(*p, mcpsse::RpcError(code, text, e.is_object() && e.contains("data") ? e["data"] : json()));
        }
    }

    // The one pending client request of `up` that has a context, or null.
    std::shared_ptr<Pending> only_pending(const std::shared_ptr<Upstream>& up) const {
        std::shared_ptr<Pending> found;
        for (auto& [id, p] : up->pending) {
            if (!p->ctx) continue;
            if (found) return nullptr;
            found = p;
        }
        return found;
    }

    void on_child_notification(const std::shared_ptr<Upstream>& up, json& message, std::string_view raw) {
        const std::string method = message["method"].get<std::string>();
        json params = message.contains("params") ? message["params"] : json();
        if (method == "notifications/progress" && params.is_object()) {
            const json token = params.value("progressToken", json());
            if (token.is_number_integer()) {
                const auto it = up->pending.find(token.get<std::int64_t>());
                if (it != up->pending.end() && it->second->ctx && !it->second->progress_token.is_null()) {
                    params["progressToken"] = it->second->progress_token;
                    send_notification(*it->second->ctx, method, std::move(params));
                    return;
                }
            }
            log(mcpsse::LoggingLevel::debug, up->name, "upstream progress for no pending request dropped");
            return;
        }
        if (method == "notifications/cancelled" && params.is_object()) {
            const auto it = up->child_requests.find(params.value("requestId", json()).dump());
            if (it != up->child_requests.end()) {
                it->second->cancelled = true;
                it->second->cancel.emit(asio::cancellation_type::terminal);
            }
            return;
        }
        // Unrelated to a request: the session's standalone stream (GET, or the legacy
        // stream), passed through as written; else, with exactly one request in flight,
        // that request's stream.
        std::string serialized = raw.empty() ? message.dump() : std::string(raw);
        bool sent = false;
        for (const auto& sid : up->sessions) {
            const auto it = sessions_.find(sid);
            if (it != sessions_.end() && it->second.handle) sent = it->second.handle->send_serialized(serialized) || sent;
        }
        if (sent) return;
        if (auto p = only_pending(up)) {
            send_notification(*p->ctx, method, std::move(params));
            return;
        }
        log(mcpsse::LoggingLevel::debug, up->name, "upstream notification " + method + " dropped (no stream)");
    }

    void send_notification(mcpsse::RequestContext ctx, std::string method, json params) {
        asio::co_spawn(
            executor_,
            [ctx, method = std::move(method), params = std::move(params)]() mutable -> asio::awaitable<void> {
                co_await ctx.async_notify(std::move(method), std::move(params));
            },
            asio::detached);
    }

    void on_child_request(const std::shared_ptr<Upstream>& up, json& message) {
        const json child_id = message["id"];
        const std::string method = message["method"].get<std::string>();
        json params = message.contains("params") ? message["params"] : json::object();
        auto request = std::make_shared<ChildRequest>();
        const std::string key = child_id.dump();
        up->child_requests[key] = request;

        std::optional<mcpsse::RequestContext> via_ctx;
        std::optional<mcpsse::SseSession<>> via_session;
        if (auto p = only_pending(up)) {
            via_ctx = *p->ctx;
        } else if (up->sessions.size() == 1) {
            const auto it = sessions_.find(*up->sessions.begin());
            if (it != sessions_.end()) via_session = it->second.handle;
        }
        const auto timeout = options_.client_request_timeout;
        std::weak_ptr<Upstream> weak = up;
        asio::co_spawn(
            executor_,
            [via_ctx, via_session, method, params, timeout]() mutable -> asio::awaitable<json> {
                if (via_ctx) co_return co_await via_ctx->async_request(method, std::move(params), timeout);
                if (via_session)
                    co_return co_await via_session->async_request(method, std::move(params), timeout, asio::use_awaitable);
                throw mcpsse::RpcError(upstream_error,
                                       "mcpsse-bridge cannot tell which client this request is for (no request in "
                                       "flight and no single session)");
            },
            asio::bind_cancellation_slot(
                request->cancel.slot(),
                [weak, request, key, child_id](std::exception_ptr error, json result) {
                    auto u = weak.lock();
                    if (!u) return;
                    u->child_requests.erase(key);
                    if (request->cancelled || u->dead) return;  // the child withdrew it: no answer
                    json reply{{"jsonrpc", "2.0"}, {"id", child_id}};
                    if (!error) {
                        reply["result"] = std::move(result);
                    } else {
                        try {
                            std::rethrow_exception(error);
                        } catch (const mcpsse::RpcError& e) {
                            reply["error"] = {{"code", e.code()}, {"message", e.what()}};
                            if (!e.data().is_null()) reply["error"]["data"] = e.data();
                        } catch (const std::exception& e) {
                            reply["error"] = {{"code", mcpsse::error_code::internal_error}, {"message", e.what()}};
                        }
                    }
                    u->child->write_line(reply.dump());
                }));
    }

    // ---- sessions ------------------------------------------------------------------------

    // A session whose `initialize` succeeded is registered by the transport right after
    // (on_session_open follows). Should that not happen (the transport refused to keep it),
    // nothing would ever end its child: after `registration_grace` a child whose session
    // never opened is ended.
    void watch_registration(const std::string& sid, const std::shared_ptr<Upstream>& up) {
        auto timer = std::make_shared<asio::steady_timer>(executor_, registration_grace);
        timers_.insert(timer);
        std::weak_ptr<Upstream> weak = up;
        timer->async_wait([this, timer, sid, weak](std::error_code ec) {
            timers_.erase(timer);
            if (ec) return;
            auto u = weak.lock();
            if (!u || u->dead) return;
            const auto it = sessions_.find(sid);
            if (it != sessions_.end() && it->second.upstream == u && !it->second.handle)
                close_session(sid, "its session was never opened");
        });
    }

    void close_session(const std::string& id, std::string_view why) {
        const auto it = sessions_.find(id);
        if (it == sessions_.end()) return;
        auto up = std::move(it->second.upstream);
        sessions_.erase(it);
        if (!up) return;
        up->sessions.erase(id);
        if (up->kind == Kind::session) {
            log(mcpsse::LoggingLevel::debug, up->name, std::string("ending upstream server: ").append(why));
            up->child->terminate();
        }
    }

    asio::any_io_executor executor_;
    BridgeOptions options_;
    LogSink log_;
    EndSession end_session_;
    ChildReaper reaper_;
    std::unordered_map<std::string, SessionEntry> sessions_;
    std::shared_ptr<Upstream> shared_;
    std::vector<std::shared_ptr<Upstream>> pool_;
    std::size_t next_pool_ = 0;
    std::size_t live_children_ = 0;
    bool shutting_down_ = false;
    std::set<std::shared_ptr<asio::steady_timer>> timers_;  // the bridge's own timers, cancelled by shutdown
    std::vector<std::string> session_versions_;  // the dispatcher's session revisions
    std::optional<std::string> stateless_unsupported_;  // set once a pool child refused 2026-07-28
};

}  // namespace mcpsse_bridge
