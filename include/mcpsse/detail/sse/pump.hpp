// mcpsse: the pump that writes one SSE stream (or its plain JSON answer) to a connection.
#pragma once

#include <mcpsse/detail/http/io.hpp>
#include <mcpsse/detail/http/peer_watch.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/response.hpp>
#include <mcpsse/detail/http/writer.hpp>
#include <mcpsse/detail/rpc/reply_shape.hpp>
#include <mcpsse/detail/sse/connection.hpp>
#include <mcpsse/detail/sse/event.hpp>
#include <mcpsse/detail/sse/event_id.hpp>
#include <mcpsse/detail/sse/stream.hpp>
#include <mcpsse/detail/sse/stream_watch.hpp>
#include <mcpsse/detail/util/iso8601.hpp>

#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// The SSE layer's settings, taken from `SseTransportOptions` once.
struct PumpSettings {
    std::chrono::milliseconds keep_alive_interval{15'000};  // a comment when idle this long (0: never)
    std::optional<std::chrono::milliseconds> retry;          // the SSE `retry:` field of priming events
    const std::atomic<bool>* stopping = nullptr;
    const Observers* observers = nullptr;  // told of streams when someone wants them
    std::string heartbeat_event;           // a named event instead of the keep-alive comment (GET streams)
};

/// Called once when a stream's SSE head has gone out (e.g. to make it resumable).
struct OnStreamVisible {
    void (*call)(void* context, const std::shared_ptr<SseStream>& stream) = nullptr;
    void* context = nullptr;
};

/// One stream to pump, built by the protocol layer above.
struct PumpJob {
    std::shared_ptr<SseStream> stream;
    std::uint64_t generation = 0;  // from SseStream::attach
    bool hold_until_finished = false;  // write nothing before the stream finishes (initialize)
    bool ends_on_stop = false;         // a standalone stream: ends when the server stops
    bool closes_connection = false;    // the connection ends with the stream (legacy)
    bool priming = false;              // start with an empty event carrying the first id
    std::string prefix;                // bytes sent before the stream's events
    std::uint64_t prefix_events = 0;   // events of `prefix` replayed from a store (another instance's stream)
    // Extra response headers once the reply's success is known (empty: none).
    const std::function<std::string(bool)>* headers = nullptr;
    // Awaited once before the head is written, with the same success flag as `headers`
    // (e.g. to store a new session's record before its id goes out); null: none.
    const std::function<asio::awaitable<void>(bool)>* before_head = nullptr;
    // When the stream ends as plain JSON: the HTTP status of an error reply (null: 200).
    int (*error_status)(std::string_view reply) = nullptr;
    std::function<void()> on_peer_closed;  // the peer left before the stream finished
    OnStreamVisible on_visible;
    // For observers: the stream's kind, whether it resumes one, and its session's id.
    StreamKind kind = StreamKind::response;
    bool resumed = false;
    const std::string* session_id = nullptr;
};

/// The idle stream's keep-alive: a comment, or (standalone and legacy streams, when
/// configured) a named event with the time, and no id.
inline void append_keep_alive(std::string& out, const PumpSettings& settings, StreamKind kind) {
    if (settings.heartbeat_event.empty() || kind == StreamKind::response) {
        append_sse_comment(out, "keep-alive");
        return;
    }
    const std::string data = "{\"time\":\"" + iso8601_utc(std::chrono::system_clock::now()) + "\"}";
    append_sse_event(out, SseEvent{settings.heartbeat_event, {}, data, std::nullopt});
}

/// Writes what `job.stream` produces until it finishes, the peer leaves, or the server
/// stops; true when the connection may go on. A lazy stream that finishes without
/// streaming is answered as plain JSON. Polling (`SseStream` drop) ends the response and
/// leaves the stream for `Last-Event-ID`. Keep-alive comments every
/// `keep_alive_interval`. While it waits, the waker may write events directly.
template <class Conn>
asio::awaitable<bool> pump_stream(const std::shared_ptr<Conn>& c, HttpRequest& req, const PumpSettings& settings,
                                  PumpJob job) {
    SseStream& stream = *job.stream;
    const std::uint64_t generation = job.generation;
    const bool chunked = req.version_minor >= 1;
    bool head_written = false;
    std::string held;  // an initialize stream's events, taken before its handler finished
    std::uint64_t held_events = 0;
    bool keep = true;
    c->peer_closed = false;
    c->unsent.clear();
    // The first take below sees everything produced so far, so an earlier wake (such as
    // the reply of a handler that finished before the pump started) is spent.
    c->notified = false;
    bool waited = false;  // for the exchange's reply, or yielded before writing it
    std::string out;
    for (;;) {
        if (!c->unsent.empty()) {  // events write_directly took but could not finish
            out.swap(c->unsent);
            c->unsent.clear();
            if (!co_await async_send_pair(*c, out, {})) break;
        }
        auto batch = stream.take(generation);
        if (batch.superseded) break;  // a resumption took the stream over
        if (!head_written) {
            if (batch.finished && !waited) {
                // The handler finished before the pump started. Let the other ready
                // completions of this reactor turn run first, so that their replies go out
                // together: a client sharing the machine then wakes once per batch of
                // replies, not once per reply (measured on a 2-core guest: half the load
                // generator's context switches, and a p99 at 32 connections of 0.9 ms
                // instead of 4 ms in share-nothing mode).
                waited = true;
                co_await asio::post(c->socket().get_executor(), asio::use_awaitable);
            }
            if ((!batch.opened || job.hold_until_finished) && !batch.finished) {
                held += batch.bytes;
                held_events += batch.events;
                co_await async_wait_for_wake(c, std::nullopt);
                waited = true;
                if (c->closing) break;
                continue;
            }
            if (!batch.opened) {  // a lazy POST finished without streaming: plain JSON
                stream.detach(generation);
                // The extra header lines are built in `out` first: GCC 12 destroys a
                // temporary of a conditional expression inside a co_await twice.
                if (!batch.json_reply) {
                    // Cancelled: no response exists; end the exchange with an empty stream.
                    out = "Content-Type: text/event-stream\r\n";
                    out += c->response_headers;
                    co_return co_await async_write_simple(*c, 200, {}, out);
                }
                const bool ok = is_success_reply(*batch.json_reply);
                const int status = job.error_status && !ok ? job.error_status(*batch.json_reply) : 200;
                if (job.before_head) co_await (*job.before_head)(ok);
                out.clear();
                if (job.headers) out = (*job.headers)(ok);
                co_return co_await async_write_json(*c, req, status, *batch.json_reply, out);
            }
            held += batch.bytes;
            held_events += batch.events;
            // (Only the hooks need it: unhooked streams skip the scan.)
            const bool ok = !(job.headers || job.before_head) || !batch.finished || is_success_events(held);
            if (job.before_head) co_await (*job.before_head)(ok);
            out.clear();
            append_status_line(out, 200, req.version_minor);
            out += "Content-Type: text/event-stream\r\nCache-Control: no-cache, no-transform\r\n"
                   "X-Accel-Buffering: no\r\n";
            if (chunked) out += "Transfer-Encoding: chunked\r\n";
            else keep = false, out += "Connection: close\r\n";
            if (job.headers) out += (*job.headers)(ok);
            out += c->response_headers;
            end_head(out);
            c->response_status = 200;
            if (!job.prefix.empty()) ++held_events;  // legacy: the endpoint event
            std::string body = std::move(job.prefix);
            if (job.priming && stream.number() != 0) {
                const EventIdText id_text(EventId{stream.number(), 0});
                append_sse_event(body, SseEvent{{}, id_text.view(), {}, settings.retry});
                ++held_events;
            }
            body += held;
            std::string{}.swap(held);
            if (!body.empty()) {
                if (chunked) append_chunk(out, body);
                else out += body;
            }
            head_written = true;
            // A stream may last hours: it keeps no copy of the body it answers.
            std::string{}.swap(req.body);
            if (job.on_visible.call) job.on_visible.call(job.on_visible.context, job.stream);
            if (c->watch) {
                c->watch->open();
                c->watch->wrote(held_events, body.size());
            }
            if (!co_await async_send_pair(*c, out, {})) break;
            PeerWatch<Conn>::start(c);
        } else if (!batch.bytes.empty()) {
            if (c->watch) c->watch->wrote(batch.events, batch.bytes.size());
            out.clear();
            if (chunked) append_chunk(out, batch.bytes);
            else out += batch.bytes;
            if (!co_await async_send_pair(*c, out, {})) break;
        }
        if (batch.overflowed) {
            if (!c->closing) c->report_limit("max_stream_queue_bytes");  // else the waker reported it
            keep = false;
            break;
        }
        if (batch.drop && !batch.finished) {
            // SSE polling: end this response; the stream lives on for Last-Event-ID.
            out.clear();
            if (batch.retry) {
                std::string retry_field = "retry: " + std::to_string(batch.retry->count()) + "\n\n";
                if (chunked) append_chunk(out, retry_field);
                else out += retry_field;
            }
            if (chunked) out += last_chunk;
            else keep = false;
            const bool written = co_await async_send_pair(*c, out, {});
            co_await PeerWatch<Conn>::async_stop(c);
            stream.detach(generation);
            co_return written && keep && !c->peer_closed;
        }
        if (batch.finished || (job.ends_on_stop && settings.stopping->load()) || c->closing) {
            if (chunked) {
                out.assign(last_chunk);
                if (!co_await async_send_pair(*c, out, {})) break;
            }
            if (c->closing) keep = false;
            co_await PeerWatch<Conn>::async_stop(c);
            stream.detach(generation);
            co_return keep && !c->peer_closed && !job.closes_connection;
        }
        if (c->peer_closed) break;
        c->parked = true;
        c->parked_chunked = chunked;
        c->parked_generation = generation;
        c->parked_stream = &stream;
        const bool keep_alive_due = co_await async_wait_for_wake(c, settings.keep_alive_interval);
        c->parked = false;
        c->parked_stream = nullptr;
        // Not while write_directly left part of a chunk unsent: that goes out first (the
        // keep-alive timer may have fired just before the write).
        if (keep_alive_due && !c->peer_closed && c->unsent.empty()) {
            out.clear();
            std::string comment;
            append_keep_alive(comment, settings, job.kind);
            if (c->watch) c->watch->wrote(0, comment.size(), true);
            if (chunked) append_chunk(out, comment);
            else out += comment;
            if (!co_await async_send_pair(*c, out, {})) break;
        }
    }
    // The peer left (or the connection failed): the stream lives on for resumption.
    stream.detach(generation);
    if (job.on_peer_closed) job.on_peer_closed();
    co_await PeerWatch<Conn>::async_stop(c);
    co_return false;
}

/// Writes what `job.stream` produces until it finishes, the peer leaves, or the server
/// stops; true when the connection may go on (see `pump_stream`). When observers want
/// streams, the connection gets a `StreamWatch` for it (`on_stream_open`,
/// `on_stream_write`); the connection's loop ends it once the request is answered
/// (`end_stream_watch`). A plain function: the pump is the only frame.
template <class Conn>
asio::awaitable<bool> async_pump(const std::shared_ptr<Conn>& c, HttpRequest& req, const PumpSettings& settings,
                                 PumpJob job) {
    if (settings.observers && settings.observers->observes_streams()) {
        const std::string_view session_id = job.session_id ? std::string_view(*job.session_id) : std::string_view();
        end_stream_watch(*c);  // a request has one stream; no earlier watch is left
        const std::uint64_t replayed = (job.resumed ? job.stream->replayed_events() : 0) + job.prefix_events;
        c->watch = std::make_unique<StreamWatch>(*settings.observers, c->info(), job.kind, session_id,
                                                 job.resumed || job.prefix_events > 0, replayed);
    }
    return pump_stream(c, req, settings, std::move(job));
}

}  // namespace mcpsse::detail
