// mcpsse internal: relayed messages in Redis Streams (RedisStore's RelayStore side):
// their entry fields, and the receiver that reads an instance's inbox and the
// broadcasts with XREAD BLOCK on a connection of its own.
#pragma once

#include <mcpsse/redis_error.hpp>
#include <mcpsse/relay_store.hpp>
#include <mcpsse/detail/redis/redis_connection.hpp>
#include <mcpsse/detail/redis/redis_value.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_executor.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// How relayed messages are kept in Redis: one Redis Stream entry each, fields `k` (kind:
/// `r` response, `n` notification, `b` broadcast, `l` logging level, `c` cancellation),
/// `o` (origin), `s` (session), `m` (message).
struct RedisRelayFormat {
    /// The entry's field-value list, after `XADD key MAXLEN ~ n *`.
    static void append_fields(RedisConnection::Command& cmd, const RelayedMessage& m) {
        cmd.insert(cmd.end(), {"k", std::string(1, kind_letter(m.kind)), "o", m.origin, "s", m.session_id, "m", m.message});
    }

    /// Appends to an instance's inbox only while that instance holds its lease: KEYS the
    /// lease, the inbox; ARGV `max_relay_backlog`, the inbox's ttl (ms), then the
    /// entry's fields. 1: appended; 0: no such instance (nothing written).
    static constexpr std::string_view relay_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
)lua";

    // The holder of a session's standalone stream is kept as `<instance>:<stream>` (the
    // instance's name and the stream's number, decimal), with a `+` appended while a
    // GET is attached to the stream there.

    /// Lua functions the holder scripts share, on a session whose standalone stream is
    /// held by an instance whose lease is gone:
    /// - `store_event(prefix, sid, stream, message, ttl, maxlen)` keeps `message` as the
    ///   next event of the stream (as `RedisStore::async_append` keeps one: `XADD` with
    ///   `MAXLEN maxlen`, the session's keys renewed to `ttl` ms);
    /// - `claim_inbox(prefix, name, sid, stream, ttl, maxlen)` moves the notifications
    ///   for the session still in the gone instance's inbox (relayed to it before its
    ///   lease lapsed, never delivered, since a live instance removes what it delivered)
    ///   into the stream, in order, and removes them from the inbox; returns how many.
    static constexpr std::string_view holder_functions = R"lua(
local function store_event(prefix, sid, stream, message, ttl, maxlen)
  local session = prefix .. '{' .. sid .. '}:'
  local events = session .. 'events:' .. stream
  local newest = redis.call('XREVRANGE', events, '+', '-', 'COUNT', 1)
  local sequence = 1
  if #newest > 0 then sequence = tonumber(string.match(newest[1][1], '^(%d+)')) + 1 end
  redis.call('XADD', events, 'MAXLEN', maxlen, string.format('%d-0', sequence), 'm', message)
  redis.call('PEXPIRE', events, ttl)
  redis.call('SADD', session .. 'streams', stream)
  redis.call('PEXPIRE', session .. 'streams', ttl)
  redis.call('PEXPIRE', session .. 'record', ttl)
end
local function claim_inbox(prefix, name, sid, stream, ttl, maxlen)
  local inbox = prefix .. 'relay:inbox:{' .. name .. '}'
  local claimed = 0
  for _, entry in ipairs(redis.call('XRANGE', inbox, '-', '+')) do
    local fields = entry[2]
    local kind, session, message = nil, nil, nil
    for i = 1, #fields - 1, 2 do
      if fields[i] == 'k' then kind = fields[i + 1]
      elseif fields[i] == 's' then session = fields[i + 1]
      elseif fields[i] == 'm' then message = fields[i + 1] end
    end
    if kind == 'n' and session == sid and message then
      store_event(prefix, sid, stream, message, ttl, maxlen)
      redis.call('XDEL', inbox, entry[1])
      claimed = claimed + 1
    end
  end
  return claimed
end
)lua";

    /// Records a GET attached at an instance (`RelayStore::async_attach_stream`): KEYS
    /// the session's holder key; ARGV the instance, its stream's number, the key's ttl
    /// (ms), "1" to take the stream over (else "0"), the key prefix, the session id,
    /// `max_stream_events`. Returns `{name, attached}` (attached 1 or 0) for a former
    /// holder that is another instance holding its lease, else nil; when a GET is
    /// attached there and ARGV[4] is "0", nothing was written. When the former holder
    /// is another instance whose lease is gone, the session's notifications left in
    /// its inbox are first moved into its stream (`claim_inbox`), where a resumption
    /// that takes the stream over reads them.
    static inline const std::string attach_script = std::string(holder_functions) + R"lua(
local current = redis.call('GET', KEYS[1])
local former = false
if current then
  local attached = 0
  if string.sub(current, -1) == '+' then
    attached = 1
    current = string.sub(current, 1, -2)
  end
  local name, stream = string.match(current, '^([^:]*):?(.*)$')
  if name ~= ARGV[1] then
    if redis.call('EXISTS', ARGV[5] .. 'lease:{instance:' .. name .. '}') == 1 then
      former = {name, attached}
    elseif stream ~= '' then
      claim_inbox(ARGV[5], name, ARGV[6], stream, ARGV[3], ARGV[7])
    end
  end
end
if former and former[2] == 1 and ARGV[4] ~= '1' then return former end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2] .. '+', 'PX', ARGV[3])
return former
)lua";

    /// Ends an instance's attached mark (`RelayStore::async_detach_stream`): KEYS the
    /// holder key; ARGV the instance. The instance stays the holder; another
    /// instance's value is left alone. Returns 1 when the mark was removed.
    static constexpr std::string_view detach_script = R"lua(
local current = redis.call('GET', KEYS[1])
if not current or string.sub(current, -1) ~= '+' or string.match(current, '^[^:]*') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], string.sub(current, 1, -2), 'KEEPTTL')
return 1
)lua";

    /// Routes a notification for a session's standalone stream
    /// (`RelayStore::async_relay_notification`): KEYS the session's holder key; ARGV
    /// the sending instance, the key prefix, the session id, `max_relay_backlog`, the
    /// keys' ttl (ms), `max_stream_events`, the message. Returns 0: no holder recorded
    /// (dropped); 1: appended to the live holder's inbox (an entry of kind `n`); 2: the
    /// holder's lease is gone, so stored as the next event of its standalone stream
    /// (after the session's notifications left in its inbox, `claim_inbox`), which a
    /// client resuming that stream elsewhere gets; 3: the sender is the holder (nothing
    /// written). One script, so a takeover (`attach_script`) comes wholly before or
    /// after it.
    static inline const std::string notify_script = std::string(holder_functions) + R"lua(
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if string.sub(current, -1) == '+' then current = string.sub(current, 1, -2) end
local name, stream = string.match(current, '^([^:]*):?(.*)$')
if name == ARGV[1] then return 3 end
local prefix = ARGV[2]
if redis.call('EXISTS', prefix .. 'lease:{instance:' .. name .. '}') == 1 then
  local inbox = prefix .. 'relay:inbox:{' .. name .. '}'
  redis.call('XADD', inbox, 'MAXLEN', '~', ARGV[4], '*', 'k', 'n', 'o', ARGV[1], 's', ARGV[3], 'm', ARGV[7])
  redis.call('PEXPIRE', inbox, ARGV[5])
  return 1
end
if stream == '' then return 0 end
claim_inbox(prefix, name, ARGV[3], stream, ARGV[5], ARGV[6])
store_event(prefix, ARGV[3], stream, ARGV[7], ARGV[5], ARGV[6])
return 2
)lua";

    /// The message of one XREAD/XRANGE entry (`[id, [field, value, ...]]`); nullopt
    /// when it is not one (a foreign entry in the key: skipped).
    static std::optional<RelayedMessage> parse_entry(const RedisValue& entry) {
        if (entry.elements.size() != 2) return std::nullopt;
        RelayedMessage m;
        bool has_kind = false, has_message = false;
        const auto& fields = entry.elements[1].elements;
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            const std::string& name = fields[i].str;
            const std::string& value = fields[i + 1].str;
            if (name == "k" && value.size() == 1) {
                const auto kind = kind_of(value[0]);
                if (!kind) return std::nullopt;
                m.kind = *kind;
                has_kind = true;
            } else if (name == "o") {
                m.origin = value;
            } else if (name == "s") {
                m.session_id = value;
            } else if (name == "m") {
                m.message = value;
                has_message = true;
            }
        }
        if (!has_kind || !has_message) return std::nullopt;
        return m;
    }

private:
    static char kind_letter(RelayedMessage::Kind kind) noexcept {
        switch (kind) {
        case RelayedMessage::Kind::response: return 'r';
        case RelayedMessage::Kind::notification: return 'n';
        case RelayedMessage::Kind::broadcast: return 'b';
        case RelayedMessage::Kind::logging_level: return 'l';
        case RelayedMessage::Kind::cancellation: return 'c';
        case RelayedMessage::Kind::stream_moved: return 'm';
        }
        return 'n';
    }
    static std::optional<RelayedMessage::Kind> kind_of(char letter) noexcept {
        switch (letter) {
        case 'r': return RelayedMessage::Kind::response;
        case 'n': return RelayedMessage::Kind::notification;
        case 'b': return RelayedMessage::Kind::broadcast;
        case 'l': return RelayedMessage::Kind::logging_level;
        case 'c': return RelayedMessage::Kind::cancellation;
        case 'm': return RelayedMessage::Kind::stream_moved;
        default: return std::nullopt;
        }
    }
};

/// Reads one instance's inbox and the broadcasts (`RelayStore::make_relay_receiver`):
/// `XREAD COUNT <batch> BLOCK <block> STREAMS <inbox> <broadcasts> <cursor...>` on a
/// connection of its own (a blocked read would hold up every command behind it on a
/// shared one). The first read of a cursor without a broadcast position starts it at
/// the newest broadcast (`XREVRANGE ... COUNT 1`).
///
/// Errors: the connection's (`RedisErrc::not_connected` while it is down, `closed` after
/// `close()`). Thread-safety: `async_receive` one at a time; `close()` from any thread.
class RedisRelayReceiver {
public:
    /// Most entries read per stream and call.
    static constexpr std::size_t batch = 256;

    /// A receiver with a connection made from `settings`; `inbox_key(instance)` names an
    /// instance's inbox, `broadcast_key` the broadcasts. Each read waits at most `block`
    /// (keep it under `settings.command_timeout`).
    RedisRelayReceiver(const asio::any_io_executor& executor, RedisConnectionSettings settings,
                       std::string inbox_prefix, std::string broadcast_key, std::chrono::milliseconds block)
        : connection_(std::make_shared<RedisConnection>(executor, std::move(settings))),
          inbox_prefix_(std::move(inbox_prefix)), broadcast_key_(std::move(broadcast_key)), block_(block) {
        connection_->start();
    }

    ~RedisRelayReceiver() { connection_->close(); }
    RedisRelayReceiver(const RedisRelayReceiver&) = delete;
    RedisRelayReceiver& operator=(const RedisRelayReceiver&) = delete;

    /// Waits up to `block` for messages after `cursor` (advanced past them):
    /// `void(std::error_code, std::vector<RelayedMessage>)`. While the connection is
    /// not up yet it waits for it (or for its next failed attempt) first.
    template <class Token>
    auto async_receive(const std::string& instance, RelayCursor& cursor, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::vector<RelayedMessage>)>(
            [this, inbox = inbox_prefix_ + "{" + instance + "}", &cursor](auto handler) {
                auto ex = asio::get_associated_executor(handler, connection_->get_executor());
                auto shared = std::make_shared<decltype(handler)>(std::move(handler));
                auto finish = [shared](std::error_code ec, std::vector<RelayedMessage> out) { (*shared)(ec, std::move(out)); };
                auto read = [this, inbox, &cursor, ex, finish]() {
                    connection_->async_pipeline(
                        {read_command(inbox, cursor)},
                        asio::bind_executor(ex, [this, inbox, &cursor, finish](std::error_code ec,
                                                                               RedisConnection::Replies replies) {
                            if (!ec && replies.front().is_error()) ec = RedisErrc::server_error;
                            if (ec) return finish(ec, {});
                            finish({}, take(inbox, cursor, replies.front()));
                        }));
                };
                connection_->async_wait_ready(asio::bind_executor(ex, [this, &cursor, ex, read, finish](std::error_code ec) {
                    if (ec) return finish(ec, {});
                    if (!cursor.broadcast.empty()) return read();
                    connection_->async_pipeline(
                        {{"XREVRANGE", broadcast_key_, "+", "-", "COUNT", "1"}},
                        asio::bind_executor(ex, [&cursor, read, finish](std::error_code e, RedisConnection::Replies r) {
                            if (!e && r.front().is_error()) e = RedisErrc::server_error;
                            if (e) return finish(e, {});
                            const auto& newest = r.front().elements;
                            cursor.broadcast = newest.empty() || newest.front().elements.empty()
                                                   ? "0-0"
                                                   : newest.front().elements.front().str;
                            read();
                        }));
                }));
            },
            token);
    }

    /// Ends a waiting `async_receive` (`RedisErrc::closed`) and fails later ones.
    /// Thread-safety: any thread.
    void close() { connection_->close(); }

private:
    RedisConnection::Command read_command(const std::string& inbox, const RelayCursor& cursor) const {
        return {"XREAD", "COUNT", std::to_string(batch), "BLOCK", std::to_string(block_.count()), "STREAMS",
                inbox, broadcast_key_, cursor.inbox.empty() ? "0-0" : cursor.inbox, cursor.broadcast};
    }

    // The messages of an XREAD reply (nil: none came), the cursor moved past them.
    std::vector<RelayedMessage> take(const std::string& inbox, RelayCursor& cursor, const RedisValue& reply) const {
        std::vector<RelayedMessage> out;
        for (const auto& stream : reply.elements) {
            if (stream.elements.size() != 2) continue;
            std::string& position = stream.elements[0].str == inbox ? cursor.inbox : cursor.broadcast;
            for (const auto& entry : stream.elements[1].elements) {
                if (entry.elements.empty()) continue;
                position = entry.elements[0].str;
                if (auto m = RedisRelayFormat::parse_entry(entry)) {
                    if (&position == &cursor.inbox) m->inbox_entry = position;
                    out.push_back(std::move(*m));
                }
            }
        }
        return out;
    }

    std::shared_ptr<RedisConnection> connection_;
    std::string inbox_prefix_;
    std::string broadcast_key_;
    std::chrono::milliseconds block_;
};

}  // namespace mcpsse::detail
