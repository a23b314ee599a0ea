// mcpsse: RedisStore, sessions, events and tasks shared through Redis by several
// transports and processes (the mcpsse::redis component; links hiredis).
#pragma once

#include <mcpsse/async_event_store.hpp>
#include <mcpsse/detail/redis/redis_connection.hpp>
#include <mcpsse/detail/redis/redis_lease_scripts.hpp>
#include <mcpsse/detail/redis/redis_relay.hpp>
#include <mcpsse/detail/redis/redis_subscription_store.hpp>
#include <mcpsse/detail/redis/redis_task_store.hpp>
#include <mcpsse/detail/redis/redis_url.hpp>
#include <mcpsse/detail/redis/redis_value.hpp>
#include <mcpsse/event_id.hpp>
#include <mcpsse/failover_store.hpp>
#include <mcpsse/lease.hpp>
#include <mcpsse/redis_error.hpp>
#include <mcpsse/relay_store.hpp>
#include <mcpsse/session_store.hpp>
#include <mcpsse/subscription_store.hpp>
#include <mcpsse/task_store.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_executor.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse {

/// Settings of a `RedisStore`. Every limit here is in the README's limits table.
///
/// Thread-safety: a plain value.
struct RedisStoreOptions {
    /// Where Redis is: `redis://[[user]:password@]host[:port][/db]` (port 6379 and
    /// database 0 by default). With a password the store sends `AUTH password`, with a
    /// user too `AUTH user password` (Redis 6+ ACL); percent-encoding in them is
    /// decoded. Plain TCP only (hiredis 0.14 has no TLS). A bad URL makes the
    /// constructor throw `std::system_error` (`RedisErrc::bad_url`).
    std::string url = "redis://127.0.0.1:6379";
    /// Put before every key, so several deployments can share one Redis database
    /// (each sees only its own keys).
    std::string key_prefix = "mcpsse:";
    /// Events kept per stream (`XADD ... MAXLEN`, exact trimming): the oldest go
    /// first; a client resuming from before the oldest kept event gets a gap (410, or
    /// -32051 on a POST's stream). Must be at least 1.
    std::size_t max_stream_events = 1024;
    /// Life of a session's keys (record, event streams, index) in Redis, in ms,
    /// counted from the last save, append or renewal (`PX` / `PEXPIRE`). A transport
    /// renews a session's record and index on a request naming the session, at most once
    /// per `session_ttl / 4` (`session_touch_interval()`), so a session's keys outlive
    /// its last request by at least 3/4 of this; an event stream's keys by this after
    /// its last event. Keep it above `SseTransportOptions::session_idle_timeout`: a
    /// session idle for longer is forgotten by the other instances (404 there).
    std::chrono::milliseconds session_ttl{60 * 60'000};
    /// Life of a task state saved with a zero ttl (`TaskStore::async_save_task`), ms.
    std::chrono::milliseconds default_task_ttl{60 * 60'000};
    /// Time allowed to resolve the host, connect, `AUTH`, `SELECT` and `PING`, in ms;
    /// then the attempt fails (`RedisErrc::timed_out`) and another one follows after
    /// `reconnect_interval`.
    std::chrono::milliseconds connect_timeout{2'000};
    /// Time allowed for the replies of one operation, in ms. When it passes the
    /// operation fails with `RedisErrc::timed_out` and the connection is dropped and
    /// made again (whatever was in flight on it fails with `connection_lost`).
    std::chrono::milliseconds command_timeout{2'000};
    /// Pause between connection attempts after a failure or a drop, in ms.
    std::chrono::milliseconds reconnect_interval{250};
    /// Life of a transport instance's lease (`FailoverStore`), in ms: renewed every
    /// third of it; an instance that died without stopping counts as gone this long
    /// after its last renewal (then another instance answers its unfinished requests
    /// with an error when their clients resume). Must be at least 3 ms.
    std::chrono::milliseconds instance_lease_ttl{10'000};
    /// Messages kept per instance inbox and in the broadcasts (`RelayStore`; `XADD ...
    /// MAXLEN ~`, trimmed roughly): a receiver more than this many behind (e.g. an
    /// instance stalled for long) misses the oldest. Must be at least 1.
    std::size_t max_relay_backlog = 10'000;
    /// Longest wait of one read of the relayed messages (`XREAD ... BLOCK`), in ms; a
    /// transport's relay loop reads again at once, so this bounds nothing a client sees.
    /// Clamped under `command_timeout`.
    std::chrono::milliseconds relay_block{1'000};
};

/// A store in Redis shared by any number of transports and processes: it models
/// `AsyncEventStore` (the events of resumable SSE streams), `SessionStore` (the
/// records of Streamable HTTP sessions), `FailoverStore` (instance leases, and the
/// requests that POST streams answer) and `RelayStore` (messages handed between
/// instances); `task_store()` gives the `TaskStore` of the same connection (what
/// clients poll of tasks), and `subscription_store()` its `SubscriptionStore`. Use it as
/// `SseTransport<Executor, RedisStore>`; link `mcpsse::redis`.
///
/// Key layout (`P` = `key_prefix`; the braces are a Redis Cluster hash tag, so all
/// keys of one session share a slot):
/// - `P{<session>}:record`: the `SessionRecord` as JSON (`SET ... PX session_ttl`);
/// - `P{<session>}:events:<stream>`: a Redis Stream of the stream's events, entry id
///   `<sequence>-0`, field `m` = the serialized JSON-RPC message (`XADD ... MAXLEN
///   max_stream_events`);
/// - `P{<session>}:streams`: a set of the session's stream numbers (for erasing);
/// - `P{<session>}:requests`: a hash, POST stream number -> the JSON-RPC id of the
///   request it answers (`FailoverStore`);
/// - `Ptask:{<task id>}`: a task's `DetailedTask` object as JSON;
/// - `Please:{<name>}`, `Please:{<name>}:fence`: a lease (`async_acquire_lease`) and
///   the counter of its fencing tokens;
/// - `P{<session>}:holder`: the instance holding the session's standalone stream and
///   its number there, `<instance>:<stream>`, with `+` while a GET is attached there
///   (`async_attach_stream`, `async_detach_stream`, read by `async_relay_notification`);
///   `P{<session>}:logging`: the logging level its client set
///   (`async_save_logging_level`);
/// - `P{<session>}:subscriptions`, `Psubscribers:{<uri>}`: resource subscriptions
///   (`subscription_store()`);
/// - `Prelay:inbox:{<instance>}`: a Redis Stream of the messages relayed to an instance
///   (`async_relay`), `Prelay:broadcast`: those relayed to all (`async_relay_broadcast`);
///   fields `k` (kind), `o` (origin), `s` (session), `m` (message); trimmed to about
///   `max_relay_backlog` entries; an inbox expires `session_ttl` after its last message.
///   An instance removes the entries of its inbox it delivered (`async_remove_relayed`),
///   so what stays in a dead instance's inbox was never delivered; a session's
///   notifications among it are moved into its stream when its holder's lease is gone
///   (by `async_attach_stream` and `async_relay_notification`).
/// Every append renews the expiry (`PEXPIRE session_ttl`) of all keys of its session.
/// Bearer tokens are never stored: a record keeps only the principal's subject.
///
/// Event ids are allocated by the transport, not by the store: `EventId` holds the
/// stream (a random 32-bit tag of the transport instance in its high half) and the
/// sequence, so instances sharing a Redis never give two events one id. The
/// transport starts an event's append before (or while) it writes the event to the
/// client, and keeps its own copy until the append completes; appends of one stream
/// are sent in the order they were started, on one connection, pipelined (no wait for
/// earlier replies), so Redis applies them in that order.
///
/// It implements the server side of MCP Streamable HTTP "Session Management" and
/// "Resumability and Redelivery" (2025-03-26 to 2025-11-25) across instances.
///
/// Replay (`async_replay_after`) reads the stream with `XRANGE` from the client's
/// `Last-Event-ID`; it answers nullopt (a gap) when the events right after that id
/// were trimmed (`max_stream_events`), expired, or never stored, and when the id is
/// ahead of the stream.
///
/// Connection: one hiredis connection per store (copies share it), plus one per relay
/// receiver (`make_relay_receiver`, one per running transport), driven on a
/// strand of the executor given; made at construction, and again after it drops.
/// While it is down every operation fails at once with `RedisErrc::not_connected`
/// (the transport then treats the session as unknown to the store, and the events as
/// not replayable); `ready()` tells whether it is up. Errors: operations complete
/// with a `RedisErrc` (or an Asio/system error of the connection), never throw;
/// error replies of Redis are `RedisErrc::server_error`.
///
/// Thread-safety: every member function may be called from any thread; copies are
/// handles to one connection. Completions run on the handler's associated executor
/// (default: the store's strand). The connection closes when the last copy goes away
/// or at `close()`; destroy the store (every copy) before the execution context of the
/// executor it was given. Hostnames are resolved with Asio's resolver (not inside
/// hiredis), so connecting never blocks the executor.
class RedisStore {
public:
    /// A store connecting to `options.url`, driven on `executor`. Starts connecting at
    /// once (`async_wait_ready` waits for it). Throws `std::system_error`
    /// (`RedisErrc::bad_url`) for a bad URL, `std::invalid_argument` when
    /// `max_stream_events` is 0 or `instance_lease_ttl` under 3 ms.
    RedisStore(const asio::any_io_executor& executor, RedisStoreOptions options) {
        auto url = detail::RedisUrl::parse(options.url);
        if (!url) throw std::system_error(RedisErrc::bad_url, options.url);
        if (options.max_stream_events == 0) throw std::invalid_argument("RedisStoreOptions::max_stream_events must be >= 1");
        if (options.instance_lease_ttl < std::chrono::milliseconds(3))
            throw std::invalid_argument("RedisStoreOptions::instance_lease_ttl must be >= 3 ms");
        if (options.max_relay_backlog == 0) throw std::invalid_argument("RedisStoreOptions::max_relay_backlog must be >= 1");
        detail::RedisConnectionSettings settings;
        settings.url = std::move(*url);
        settings.connect_timeout = options.connect_timeout;
        settings.command_timeout = options.command_timeout;
        settings.reconnect_interval = options.reconnect_interval;
        state_ = std::make_shared<State>();
        state_->options = std::move(options);
        state_->executor = executor;
        state_->settings = settings;
        state_->connection = std::make_shared<detail::RedisConnection>(executor, std::move(settings));
        state_->connection->start();
    }

    // ---- AsyncEventStore ----------------------------------------------------------------

    /// Appends `message` as event `id` of session `session_id` (`XADD` with `MAXLEN`,
    /// and the expiry of the session's keys renewed): `void(std::error_code)`.
    /// Appends started one after another are applied in that order.
    template <class Token>
    auto async_append(const std::string& session_id, EventId id, std::string message, Token&& token) {
        const auto& o = state_->options;
        const std::string events = events_key(session_id, id.stream);
        const std::string streams = streams_key(session_id);
        const std::string ttl = std::to_string(o.session_ttl.count());
        std::vector<Command> cmds;
        cmds.push_back({"XADD", events, "MAXLEN", std::to_string(o.max_stream_events),
                        std::to_string(id.sequence) + "-0", "m", std::move(message)});
        cmds.push_back({"PEXPIRE", events, ttl});
        cmds.push_back({"SADD", streams, std::to_string(id.stream)});
        cmds.push_back({"PEXPIRE", streams, ttl});
        cmds.push_back({"PEXPIRE", record_key(session_id), ttl});
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// The kept events of stream `id.stream` of session `session_id` after
    /// `id.sequence`, in order: `void(std::error_code, ReplayResult)`; nullopt for a
    /// gap (see the class comment) or an error.
    template <class Token>
    auto async_replay_after(const std::string& session_id, EventId id, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"XRANGE", events_key(session_id, id.stream), std::to_string(id.sequence) + "-0", "+"});
        return run<void(std::error_code, ReplayResult)>(
            std::move(cmds), std::forward<Token>(token), [id](auto& handler, std::error_code ec, Replies replies) {
                if (!ec) ec = first_error(replies);
                if (ec) return std::move(handler)(ec, ReplayResult{});
                std::move(handler)(std::error_code{}, events_after(id, replies.front()));
            });
    }

    /// Deletes every key of session `session_id` (record, events, index):
    /// `void(std::error_code)`. Appends still in flight may create keys again; they
    /// expire after `session_ttl`.
    template <class Token>
    auto async_erase(const std::string& session_id, Token&& token) {
        return async_erase_keys(session_id, std::forward<Token>(token));
    }

    // ---- SessionStore -------------------------------------------------------------------

    /// Keeps `record` (as JSON, `SET ... PX session_ttl`), replacing an older one:
    /// `void(std::error_code)`.
    template <class Token>
    auto async_save_session(SessionRecord record, Token&& token) {
        nlohmann::json j = {{"id", record.id},
                            {"protocolVersion", record.protocol_version},
                            {"clientCapabilities", record.client_capabilities},
                            {"clientInfo", record.client_info},
                            {"subject", record.subject}};
        std::vector<Command> cmds;
        cmds.push_back({"SET", record_key(record.id), j.dump(), "PX", std::to_string(state_->options.session_ttl.count())});
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// The record kept under `id`, with the logging level kept for it
    /// (`async_save_logging_level`): `void(std::error_code, SessionLookup)`; nullopt when
    /// there is none (or it expired), or with the error (`RedisErrc::bad_reply` for a
    /// value that is not a record).
    template <class Token>
    auto async_load_session(const std::string& id, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"GET", record_key(id)});
        cmds.push_back({"GET", logging_key(id)});
        return run<void(std::error_code, SessionLookup)>(
            std::move(cmds), std::forward<Token>(token), [](auto& handler, std::error_code ec, Replies replies) {
                if (!ec) ec = first_error(replies);
                if (ec || replies.front().is_nil()) return std::move(handler)(ec, SessionLookup{});
                auto record = parse_record(replies.front().str);
                if (!record) return std::move(handler)(std::error_code(RedisErrc::bad_reply), SessionLookup{});
                if (replies[1].type == detail::RedisValue::Type::string) record->logging_level = std::move(replies[1].str);
                std::move(handler)(std::error_code{}, std::move(record));
            });
    }

    /// Forgets the session: every key of it, as `async_erase`: `void(std::error_code)`.
    template <class Token>
    auto async_erase_session(const std::string& id, Token&& token) {
        return async_erase_keys(id, std::forward<Token>(token));
    }

    /// Renews the expiry of the session's record and index (`PEXPIRE session_ttl`),
    /// e.g. for a session that is used but sends no events: `void(std::error_code)`.
    /// The transport calls it (`RenewableSessionStore`) as requests for the session
    /// arrive, at most once per `session_touch_interval()` per session.
    template <class Token>
    auto async_touch_session(const std::string& id, Token&& token) {
        const std::string ttl = std::to_string(state_->options.session_ttl.count());
        std::vector<Command> cmds;
        cmds.push_back({"PEXPIRE", record_key(id), ttl});
        cmds.push_back({"PEXPIRE", streams_key(id), ttl});
        cmds.push_back({"PEXPIRE", requests_key(id), ttl});
        cmds.push_back({"PEXPIRE", holder_key(id), ttl});
        cmds.push_back({"PEXPIRE", subscriptions_key(id), ttl});
        cmds.push_back({"PEXPIRE", logging_key(id), ttl});
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// The least time between two renewals of one session by one transport
    /// (`RenewableSessionStore`): `session_ttl / 4`, in ms (at least 1).
    [[nodiscard]] std::chrono::milliseconds session_touch_interval() const noexcept {
        return std::max(state_->options.session_ttl / 4, std::chrono::milliseconds(1));
    }

    // ---- leases ---------------------------------------------------------------------------

    /// Takes the lease `name` for `owner` for `ttl` ms: `void(std::error_code,
    /// std::optional<Lease>)`. When nobody holds it, a new grant with a fencing token
    /// larger than any earlier grant of `name` (`SET NX PX`); when `owner` holds it
    /// already, its grant, renewed for `ttl`; when another owner holds it, nullopt.
    /// Atomic in Redis (one script), so of concurrent callers one gets it. The tokens'
    /// counter lives `session_ttl` (at least `2 * ttl`) after the last grant.
    /// Keys: `<key_prefix>lease:{<name>}` (the value `<fence>:<owner>`) and
    /// `<key_prefix>lease:{<name>}:fence`; a session id as `name` puts them in the
    /// session's Redis Cluster slot. Errors as every operation (`RedisErrc`); a reply
    /// that is not a token is `RedisErrc::bad_reply`.
    template <class Token>
    auto async_acquire_lease(const std::string& name, std::string owner, std::chrono::milliseconds ttl, Token&& token) {
        const auto counter_life = std::max(state_->options.session_ttl, 2 * ttl);
        std::vector<Command> cmds;
        cmds.push_back({"EVAL", std::string(detail::RedisLeaseScripts::acquire), "2", lease_key(name),
                        lease_key(name) + ":fence", owner, std::to_string(ttl.count()),
                        std::to_string(counter_life.count())});
        return run<void(std::error_code, std::optional<Lease>)>(
            std::move(cmds), std::forward<Token>(token),
            [owner = std::move(owner)](auto& handler, std::error_code ec, Replies replies) mutable {
                if (!ec) ec = first_error(replies);
                if (ec || replies.front().is_nil()) return std::move(handler)(ec, std::optional<Lease>{});
                if (replies.front().type != detail::RedisValue::Type::integer || replies.front().integer <= 0)
                    return std::move(handler)(std::error_code(RedisErrc::bad_reply), std::optional<Lease>{});
                std::move(handler)(std::error_code{},
                                   std::optional<Lease>(Lease{std::move(owner), static_cast<std::uint64_t>(replies.front().integer)}));
            });
    }

    /// Renews `lease` (a grant of `name`) for `ttl` ms if it still holds: `void(std::error_code,
    /// bool)`, false when the lease expired or another grant holds it now.
    template <class Token>
    auto async_renew_lease(const std::string& name, const Lease& lease, std::chrono::milliseconds ttl, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"EVAL", std::string(detail::RedisLeaseScripts::renew), "1", lease_key(name),
                        detail::RedisLeaseScripts::value(lease), std::to_string(ttl.count())});
        return run<void(std::error_code, bool)>(std::move(cmds), std::forward<Token>(token),
                                                [](auto& handler, std::error_code ec, Replies replies) {
                                                    if (!ec) ec = first_error(replies);
                                                    std::move(handler)(ec, !ec && replies.front().integer == 1);
                                                });
    }

    /// Gives `lease` (a grant of `name`) up if it still holds, so another owner may take
    /// it at once: `void(std::error_code, bool)`, false when it no longer held.
    template <class Token>
    auto async_release_lease(const std::string& name, const Lease& lease, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"EVAL", std::string(detail::RedisLeaseScripts::release), "1", lease_key(name),
                        detail::RedisLeaseScripts::value(lease)});
        return run<void(std::error_code, bool)>(std::move(cmds), std::forward<Token>(token),
                                                [](auto& handler, std::error_code ec, Replies replies) {
                                                    if (!ec) ec = first_error(replies);
                                                    std::move(handler)(ec, !ec && replies.front().integer == 1);
                                                });
    }

    /// Who holds the lease `name` now: `void(std::error_code, std::optional<Lease>)`,
    /// nullopt when nobody does (never taken, expired or released).
    template <class Token>
    auto async_lease_holder(const std::string& name, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"GET", lease_key(name)});
        return run<void(std::error_code, std::optional<Lease>)>(
            std::move(cmds), std::forward<Token>(token), [](auto& handler, std::error_code ec, Replies replies) {
                if (!ec) ec = first_error(replies);
                if (ec || replies.front().is_nil()) return std::move(handler)(ec, std::optional<Lease>{});
                auto lease = detail::RedisLeaseScripts::parse(replies.front().str);
                if (!lease) return std::move(handler)(std::error_code(RedisErrc::bad_reply), std::optional<Lease>{});
                std::move(handler)(std::error_code{}, std::move(lease));
            });
    }

    /// Keeps `request_id` (JSON text) as the request that stream `stream` of the session
    /// answers (`HSET`, the key expiring with the session's): `void(std::error_code)`.
    template <class Token>
    auto async_note_stream_request(const std::string& session_id, std::uint64_t stream, std::string request_id,
                                   Token&& token) {
        const std::string key = requests_key(session_id);
        std::vector<Command> cmds;
        cmds.push_back({"HSET", key, std::to_string(stream), std::move(request_id)});
        cmds.push_back({"PEXPIRE", key, std::to_string(state_->options.session_ttl.count())});
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// The request id kept for stream `stream` of the session (`HGET`):
    /// `void(std::error_code, std::optional<std::string>)`, nullopt when none is.
    template <class Token>
    auto async_stream_request(const std::string& session_id, std::uint64_t stream, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"HGET", requests_key(session_id), std::to_string(stream)});
        return run<void(std::error_code, std::optional<std::string>)>(
            std::move(cmds), std::forward<Token>(token), finish_optional_string);
    }

    /// Life of a transport instance's lease (`RedisStoreOptions::instance_lease_ttl`).
    [[nodiscard]] std::chrono::milliseconds instance_lease_ttl() const noexcept {
        return state_->options.instance_lease_ttl;
    }

    // ---- RelayStore -----------------------------------------------------------------------

    /// Appends `message` to the inbox of `instance` (`XADD ... MAXLEN ~
    /// max_relay_backlog`, the inbox's expiry renewed to `session_ttl`) if that instance
    /// holds its lease `instance:<instance>`, else drops it (so a made-up name in a
    /// client's answer creates no key); one Lua script: `void(std::error_code)`.
    template <class Token>
    auto async_relay(const std::string& instance, RelayedMessage message, Token&& token) {
        Command eval{"EVAL", std::string(detail::RedisRelayFormat::relay_script), "2", lease_key("instance:" + instance),
                     inbox_key(instance), std::to_string(state_->options.max_relay_backlog),
                     std::to_string(state_->options.session_ttl.count())};
        detail::RedisRelayFormat::append_fields(eval, message);
        std::vector<Command> cmds;
        cmds.push_back(std::move(eval));
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// Appends `message` to the broadcasts every instance's receiver reads:
    /// `void(std::error_code)`.
    template <class Token>
    auto async_relay_broadcast(RelayedMessage message, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back(relay_command(broadcast_key(), message));
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// Removes `entries` (ids of `RelayedMessage::inbox_entry`) from the inbox of
    /// `instance` (`XDEL`), on the connection of every other operation of this store,
    /// so Redis applies it after those started before it (the append keeping a
    /// delivered notification's event, for one): `void(std::error_code)`. Nothing is
    /// sent for no entries. Errors as `async_attach_stream`. Thread-safety: any thread.
    /// An instance that dies between the append and this leaves the notification in
    /// its inbox, and a takeover moves it into the stream again (a duplicate, never a
    /// loss). Serves MCP Streamable HTTP "Resumability and Redelivery" across
    /// instances: what stays in a dead instance's inbox was never delivered.
    template <class Token>
    auto async_remove_relayed(const std::string& instance, std::vector<std::string> entries, Token&& token) {
        std::vector<Command> cmds;
        if (!entries.empty()) {
            Command del{"XDEL", inbox_key(instance)};
            for (auto& entry : entries) del.push_back(std::move(entry));
            cmds.push_back(std::move(del));
        }
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// Records that a GET is attached at `instance` to the session's standalone stream,
    /// numbered `stream` there, which makes `instance` its holder
    /// (`<instance>:<stream>+`, `PX session_ttl`, renewed with the session), and
    /// completes with the former holder when that is another instance holding its
    /// lease `instance:<name>`; when a GET is attached there and not `take_over`,
    /// writes nothing. When the former holder's lease is gone, the session's
    /// notifications left in that instance's inbox are first moved into its stream as
    /// its next events (`XRANGE`, `XADD`, `XDEL`), where a resumption taking the stream
    /// over reads them. One Lua script (Redis >= 6.0; the keys it reads are named by
    /// the holder key's value, so a single Redis, not a Cluster):
    /// `void(std::error_code, FormerStreamHolder)`. Errors: the connection's
    /// (`RedisErrc::not_connected`, `timeout`), `server_error` for a Redis error reply
    /// (then the former holder is empty). Thread-safety: any thread. Implements one
    /// standalone GET stream per session (MCP Streamable HTTP, "Listening for Messages
    /// from the Server") across instances.
    template <class Token>
    auto async_attach_stream(const std::string& session_id, const std::string& instance, std::uint64_t stream,
                             bool take_over, Token&& token) {
        std::vector<Command> cmds;
        const auto& o = state_->options;
        cmds.push_back({"EVAL", detail::RedisRelayFormat::attach_script, "1", holder_key(session_id), instance,
                        std::to_string(stream), std::to_string(o.session_ttl.count()), take_over ? "1" : "0",
                        o.key_prefix, session_id, std::to_string(o.max_stream_events)});
        return run<void(std::error_code, FormerStreamHolder)>(
            std::move(cmds), std::forward<Token>(token), [](auto& handler, std::error_code ec, Replies replies) {
                if (!ec) ec = first_error(replies);
                FormerStreamHolder former;
                const auto& r = replies.front();
                if (!ec && r.type == detail::RedisValue::Type::array && r.elements.size() == 2) {
                    former.instance = r.elements[0].str;
                    former.attached = r.elements[1].integer == 1;
                }
                std::move(handler)(ec, std::move(former));
            });
    }

    /// Routes a notification sent at `instance` for the session's standalone stream:
    /// to the inbox of the instance holding it while that holds its lease (`XADD ...
    /// MAXLEN ~ max_relay_backlog`), else as the next event of its stream (`XADD` with
    /// `MAXLEN max_stream_events`, the session's keys renewed, as `async_append`), after
    /// the session's notifications left in the gone holder's inbox (moved as by
    /// `async_attach_stream`). One
    /// Lua script, reading the holder key and the keys it names (a single Redis):
    /// `void(std::error_code, NotificationRelay)`. Errors as `async_attach_stream`
    /// (then `dropped`). Thread-safety: any thread. MCP Streamable HTTP "Resumability
    /// and Redelivery": a notification for a gone holder's stream is kept for the
    /// client's resumption.
    template <class Token>
    auto async_relay_notification(const std::string& session_id, const std::string& instance, std::string message,
                                  Token&& token) {
        const auto& o = state_->options;
        std::vector<Command> cmds;
        cmds.push_back({"EVAL", detail::RedisRelayFormat::notify_script, "1", holder_key(session_id), instance,
                        o.key_prefix, session_id, std::to_string(o.max_relay_backlog),
                        std::to_string(o.session_ttl.count()), std::to_string(o.max_stream_events), std::move(message)});
        return run<void(std::error_code, NotificationRelay)>(
            std::move(cmds), std::forward<Token>(token), [](auto& handler, std::error_code ec, Replies replies) {
                if (!ec) ec = first_error(replies);
                NotificationRelay outcome = NotificationRelay::dropped;
                if (!ec && replies.front().type == detail::RedisValue::Type::integer) {
                    switch (replies.front().integer) {
                    case 1: outcome = NotificationRelay::relayed; break;
                    case 2: outcome = NotificationRelay::stored; break;
                    case 3: outcome = NotificationRelay::holder_is_sender; break;
                    default: break;
                    }
                }
                std::move(handler)(ec, outcome);
            });
    }

    /// The GET attached at `instance` to the session's standalone stream ended:
    /// `instance` stays its holder (`SET ... KEEPTTL` dropping the `+` if the value is
    /// still `<instance>:<stream>+`; another instance's is kept). One Lua script:
    /// `void(std::error_code)`, errors as `async_attach_stream`. Thread-safety: any
    /// thread.
    template <class Token>
    auto async_detach_stream(const std::string& session_id, const std::string& instance, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"EVAL", std::string(detail::RedisRelayFormat::detach_script), "1", holder_key(session_id), instance});
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// Keeps the logging level the session's client set (its name; `SET ... PX
    /// session_ttl`, renewed with the session), for `SessionRecord::logging_level` of
    /// later loads: `void(std::error_code)`.
    template <class Token>
    auto async_save_logging_level(const std::string& session_id, const std::string& level, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"SET", logging_key(session_id), level, "PX", std::to_string(state_->options.session_ttl.count())});
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// The instance recorded as holding the session's standalone stream (whether or not
    /// a GET is attached there now): `void(std::error_code, std::optional<std::string>)`,
    /// nullopt when none is.
    template <class Token>
    auto async_stream_holder(const std::string& session_id, Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"GET", holder_key(session_id)});
        return run<void(std::error_code, std::optional<std::string>)>(
            std::move(cmds), std::forward<Token>(token), [](auto& handler, std::error_code ec, Replies replies) {
                auto instance_only = [&handler](std::error_code e, std::optional<std::string> holder) {
                    if (holder) holder->erase(std::min(holder->find(':'), holder->size()));  // `<instance>:<stream>[+]`
                    std::move(handler)(e, std::move(holder));
                };
                finish_optional_string(instance_only, ec, std::move(replies));
            });
    }

    /// Completes once every operation started on this store before it was applied by
    /// Redis (a `PING` on the same connection, whose commands Redis applies in order):
    /// `void(std::error_code)`.
    template <class Token>
    auto async_sync(Token&& token) {
        std::vector<Command> cmds;
        cmds.push_back({"PING"});
        return run_checked(std::move(cmds), std::forward<Token>(token));
    }

    /// A receiver of relayed messages on a connection of its own (connecting at once;
    /// `close()` it when done): each `async_receive` waits at most `relay_block` (under
    /// `command_timeout`).
    [[nodiscard]] std::shared_ptr<detail::RedisRelayReceiver> make_relay_receiver() const {
        const auto& o = state_->options;
        const auto block = std::max(std::chrono::milliseconds(1), std::min(o.relay_block, o.command_timeout / 2));
        return std::make_shared<detail::RedisRelayReceiver>(state_->executor, state_->settings,
                                                            o.key_prefix + "relay:inbox:", broadcast_key(), block);
    }

    // ---- tasks, health, lifetime --------------------------------------------------------

    /// A `TaskStore` on this store's connection, for `TaskOptions::store`: task states
    /// under `<key_prefix>task:{<task id>}`, kept for the task's ttl (zero:
    /// `default_task_ttl`). Its coroutines throw `std::system_error` on failure.
    [[nodiscard]] std::shared_ptr<TaskStore> task_store() const {
        return std::make_shared<detail::RedisTaskStore>(state_->connection, state_->options.key_prefix,
                                                        state_->options.default_task_ttl);
    }

    /// A `SubscriptionStore` on this store's connection, for
    /// `ServerOptions::subscription_store`: keys `<key_prefix>{<session>}:subscriptions`
    /// (renewed and erased with the session's other keys) and
    /// `<key_prefix>subscribers:{<uri>}` (expiring `session_ttl` after the URI's last
    /// subscription). Its coroutines throw `std::system_error` on failure.
    [[nodiscard]] std::shared_ptr<SubscriptionStore> subscription_store() const {
        return std::make_shared<detail::RedisSubscriptionStore>(state_->connection, state_->options.key_prefix,
                                                                state_->options.session_ttl);
    }

    /// True while the connection is up (connected, authenticated, answering); false
    /// before the first connection and while reconnecting. For readiness checks.
    /// Thread-safety: any thread.
    [[nodiscard]] bool ready() const noexcept { return state_->connection->ready(); }

    /// Why the last connection attempt failed or the connection dropped (empty while
    /// ready): e.g. `RedisErrc::auth_failed`, `timed_out`, a system error.
    [[nodiscard]] std::error_code last_error() const { return state_->connection->last_error(); }

    /// Completes with no error once the connection is up (at once when it is), or with
    /// the error of the next failed attempt: `void(std::error_code)`.
    template <class Token>
    auto async_wait_ready(Token&& token) {
        return state_->connection->async_wait_ready(std::forward<Token>(token));
    }

    /// Closes the connection for good (every copy): operations fail with
    /// `RedisErrc::closed` from then on.
    void close() { state_->connection->close(); }

    /// The options the store was made with.
    [[nodiscard]] const RedisStoreOptions& options() const noexcept { return state_->options; }

    /// Key of the session's record (see the class comment).
    [[nodiscard]] std::string record_key(const std::string& session_id) const { return session_key(session_id, "record"); }
    /// Key of the lease `name` (its tokens' counter: this + `:fence`).
    [[nodiscard]] std::string lease_key(const std::string& name) const {
        return state_->options.key_prefix + "lease:{" + name + "}";
    }
    /// Key of the hash of the request ids that the session's POST streams answer.
    [[nodiscard]] std::string requests_key(const std::string& session_id) const { return session_key(session_id, "requests"); }
    /// Key of the instance holding the session's standalone stream.
    [[nodiscard]] std::string holder_key(const std::string& session_id) const { return session_key(session_id, "holder"); }
    /// Key of the logging level the session's client set.
    [[nodiscard]] std::string logging_key(const std::string& session_id) const { return session_key(session_id, "logging"); }
    /// Key of the session's set of subscribed resource URIs (`subscription_store()`).
    [[nodiscard]] std::string subscriptions_key(const std::string& session_id) const { return session_key(session_id, "subscriptions"); }
    /// Key of the inbox of instance `instance` (a Redis Stream of relayed messages).
    [[nodiscard]] std::string inbox_key(const std::string& instance) const {
        return state_->options.key_prefix + "relay:inbox:{" + instance + "}";
    }
    /// Key of the broadcasts every instance reads (a Redis Stream).
    [[nodiscard]] std::string broadcast_key() const { return state_->options.key_prefix + "relay:broadcast"; }
    /// Key of the session's set of stream numbers.
    [[nodiscard]] std::string streams_key(const std::string& session_id) const { return session_key(session_id, "streams"); }
    /// Key of the Redis Stream holding the events of stream `stream` of the session.
    [[nodiscard]] std::string events_key(const std::string& session_id, std::uint64_t stream) const {
        return state_->options.key_prefix + "{" + session_id + "}:events:" + std::to_string(stream);
    }

private:
    using Command = detail::RedisConnection::Command;
    using Replies = detail::RedisConnection::Replies;

    struct State {
        RedisStoreOptions options;
        asio::any_io_executor executor;
        detail::RedisConnectionSettings settings;  // for the relay receivers' connections
        std::shared_ptr<detail::RedisConnection> connection;
        ~State() {
            if (connection) connection->close();
        }
    };

    // Runs `cmds` as one pipeline; `finish(handler, ec, replies)` completes `handler`
    // (on its associated executor).
    template <class Signature, class Token, class Finish>
    auto run(std::vector<Command> cmds, Token&& token, Finish finish) {
        return asio::async_initiate<Token, Signature>(
            [connection = state_->connection](auto handler, std::vector<Command> commands, Finish f) {
                auto ex = asio::get_associated_executor(handler, connection->get_executor());
                connection->async_pipeline(
                    std::move(commands),
                    asio::bind_executor(ex, [handler = std::move(handler), f = std::move(f)](std::error_code ec,
                                                                                            Replies replies) mutable {
                        f(handler, ec, std::move(replies));
                    }));
            },
            token, std::move(cmds), std::move(finish));
    }

    Command relay_command(const std::string& key, const RelayedMessage& message) const {
        Command cmd{"XADD", key, "MAXLEN", "~", std::to_string(state_->options.max_relay_backlog), "*"};
        detail::RedisRelayFormat::append_fields(cmd, message);
        return cmd;
    }

    // Key `<prefix>{<session>}:<suffix>` of a session (all in the session's Cluster slot).
    std::string session_key(const std::string& session_id, std::string_view suffix) const {
        std::string key = state_->options.key_prefix + "{" + session_id + "}:";
        key += suffix;
        return key;
    }

    // Runs `cmds` as one pipeline, completing `void(std::error_code)`: the connection's
    // error, or server_error when a reply is an error.
    template <class Token>
    auto run_checked(std::vector<Command> cmds, Token&& token) {
        return run<void(std::error_code)>(std::move(cmds), std::forward<Token>(token),
                                          [](auto& handler, std::error_code ec, Replies replies) {
                                              std::move(handler)(ec ? ec : first_error(replies));
                                          });
    }

    template <class Token>
    auto async_erase_keys(const std::string& session_id, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [connection = state_->connection, record = record_key(session_id), streams = streams_key(session_id),
             requests = requests_key(session_id), holder = holder_key(session_id),
             subscriptions = subscriptions_key(session_id), logging = logging_key(session_id), events_prefix = events_key(session_id, 0)](auto handler) {
                auto ex = asio::get_associated_executor(handler, connection->get_executor());
                std::vector<Command> first;
                first.push_back({"SMEMBERS", streams});
                connection->async_pipeline(
                    std::move(first),
                    asio::bind_executor(ex, [connection, record, streams, requests, holder, subscriptions, logging,
                                             events_prefix, ex,
                                             handler = std::move(handler)](std::error_code ec, Replies replies) mutable {
                        if (!ec) ec = first_error(replies);
                        if (ec) return std::move(handler)(ec);
                        Command del{"DEL", record, streams, requests, holder, subscriptions, logging};
                        const std::string base = events_prefix.substr(0, events_prefix.size() - 1);  // drop the "0"
                        for (const auto& member : replies.front().elements)
                            if (member.type == detail::RedisValue::Type::string) del.push_back(base + member.str);
                        std::vector<Command> second;
                        second.push_back(std::move(del));
                        connection->async_pipeline(
                            std::move(second),
                            asio::bind_executor(ex, [handler = std::move(handler)](std::error_code e, Replies r) mutable {
                                std::move(handler)(e ? e : first_error(r));
                            }));
                    }));
            },
            token);
    }

    static std::error_code first_error(const Replies& replies) {
        for (const auto& r : replies)
            if (r.is_error()) return RedisErrc::server_error;
        return {};
    }

    // Completes `void(std::error_code, std::optional<std::string>)` with one string reply
    // (nullopt for nil or an error).
    static constexpr auto finish_optional_string = [](auto& handler, std::error_code ec, Replies replies) {
        if (!ec) ec = first_error(replies);
        if (ec || replies.front().type != detail::RedisValue::Type::string)
            return std::move(handler)(ec, std::optional<std::string>{});
        std::move(handler)(std::error_code{}, std::optional<std::string>(std::move(replies.front().str)));
    };

    static std::optional<std::uint64_t> entry_sequence(const std::string& entry_id) {
        std::uint64_t seq = 0;
        const auto dash = entry_id.find('-');
        const auto [end, ec] = std::from_chars(entry_id.data(), entry_id.data() + (dash == std::string::npos ? entry_id.size() : dash), seq);
        if (ec != std::errc{} || dash == std::string::npos || end != entry_id.data() + dash) return std::nullopt;
        return seq;
    }

    // The XRANGE reply from `after.sequence` (inclusive) -> the events after it, or
    // nullopt when they do not follow on from it.
    static ReplayResult events_after(EventId after, const detail::RedisValue& range) {
        std::vector<StoredEvent> out;
        bool seen_after = after.sequence == 0;
        std::uint64_t expected = after.sequence + 1;
        for (const auto& entry : range.elements) {
            if (entry.elements.size() != 2) return std::nullopt;
            const auto seq = entry_sequence(entry.elements[0].str);
            if (!seq) return std::nullopt;
            if (*seq == after.sequence) {
                seen_after = true;
                continue;
            }
            if (*seq != expected) return std::nullopt;  // trimmed or missing: a gap
            ++expected;
            const auto& fields = entry.elements[1].elements;
            const std::string* message = nullptr;
            for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
                if (fields[i].str == "m") message = &fields[i + 1].str;
            if (!message) return std::nullopt;
            StoredEvent e;
            e.id = EventId{after.stream, *seq};
            e.message = *message;
            out.push_back(std::move(e));
        }
        // Nothing after the id: fine only when the id itself is known to the stream.
        if (out.empty() && !seen_after) return std::nullopt;
        return out;
    }

    static std::optional<SessionRecord> parse_record(const std::string& text) {
        const auto j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_object()) return std::nullopt;
        try {
            SessionRecord r;
            r.id = j.at("id").get<std::string>();
            r.protocol_version = j.at("protocolVersion").get<std::string>();
            r.client_capabilities = j.value("clientCapabilities", nlohmann::json::object());
            r.client_info = j.value("clientInfo", nlohmann::json());
            r.subject = j.value("subject", std::string());
            return r;
        } catch (const nlohmann::json::exception&) {
            return std::nullopt;
        }
    }

    std::shared_ptr<State> state_;
};

static_assert(AsyncEventStore<RedisStore>);
static_assert(SessionStore<RedisStore>);
static_assert(RenewableSessionStore<RedisStore>);
static_assert(FailoverStore<RedisStore>);
static_assert(RelayStore<RedisStore>);

}  // namespace mcpsse
