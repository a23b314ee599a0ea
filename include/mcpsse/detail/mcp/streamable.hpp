// mcpsse: Streamable HTTP with sessions (MCP 2025-03-26 to 2025-11-25), and without them.
#pragma once

#include <mcpsse/async_event_store.hpp>
#include <mcpsse/failover_store.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/session_store.hpp>
#include <mcpsse/detail/http/media_type.hpp>
#include <mcpsse/detail/http/pipeline_io.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/writer.hpp>
#include <mcpsse/detail/mcp/context.hpp>
#include <mcpsse/detail/mcp/failover.hpp>
#include <mcpsse/detail/mcp/messages.hpp>
#include <mcpsse/detail/mcp/replies.hpp>
#include <mcpsse/detail/mcp/store_log.hpp>
#include <mcpsse/detail/mcp/stream_plan.hpp>
#include <mcpsse/detail/sse/event.hpp>
#include <mcpsse/detail/sse/event_id.hpp>
#include <mcpsse/detail/sse/stream_watch.hpp>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// The rules of session-based Streamable HTTP (2025-03-26, 2025-06-18, 2025-11-25) and
/// of its sessionless mode (`options.sessionless`). `initialize` creates a session
/// (`Mcp-Session-Id`, MCP N1-N6); a POST is answered as JSON or as an SSE stream (P1-P9);
/// GET opens the standalone stream (G1-G4, one per session, else 409) or resumes a
/// stream after `Last-Event-ID` (R1-R4); DELETE ends the session. What a revision
/// changes comes from `protocol_version::traits`: batches (2025-03-26), priming events
/// and polling (2025-11-25).
template <class Conn, class Store>
class StreamableHttp {
public:
    explicit StreamableHttp(EraContext<Conn, Store>& context) : ctx_(context) {}

    /// Answers a parsed POST body on `rpc` (MCP P2-P4): a batch as one JSON array (where
    /// the revision allows batches), notifications and responses with 202, a request as
    /// an exchange. With a session, the request's stream is registered for resumption
    /// and primed (where the revision says so), batch handlers notify on the standalone
    /// stream, and the exchange counts as session activity; without one (sessionless
    /// mode) the stream cannot carry server-to-client requests.
    asio::awaitable<bool> answer_post(const std::shared_ptr<Conn>& c, HttpRequest& req, std::shared_ptr<RpcSession> rpc,
                                      std::shared_ptr<SseSessionState> session, mcpsse::ParseResult parsed) {
        const auto& traits = protocol_version::traits(session ? session->protocol_version() : rpc->protocol_version());
        if (session) ctx_.renew_record(*session);
        if (parsed.batch) {
            if (!traits.batches)
                co_return co_await async_reply_error(*c, req, 400, std::nullopt, error_code::invalid_request,
                                                     "Invalid Request: batches are not supported by this protocol version");
            std::shared_ptr<MessageSink> sink;
            if (session) {
                sink = session->existing_standalone_stream();
                session->begin_activity();
            }
            sink = ctx_.scoped_sink(std::move(sink), req);
            std::optional<std::string> reply = co_await asio::co_spawn(
                rpc->get_executor(), rpc->async_handle_batch(std::move(parsed.messages), std::move(parsed.errors), sink),
                asio::use_awaitable);
            if (session) session->end_activity();
            if (!reply) co_return co_await async_write_simple(*c, 202, {}, c->response_headers);
            co_return co_await async_write_json(*c, req, 200, *reply, {});
        }
        Message& message = parsed.messages.front();
        if (ctx_.is_call(message) && rpc->at_capacity()) co_return co_await async_reply_busy(*c, req, *rpc, message);
        if (!std::holds_alternative<Request>(message)) {
            if (session) {
                session->touch();
                ctx_.spawn_on_session(rpc, std::move(message), ctx_.scoped_sink(nullptr, req));
            } else {
                // Sessionless: the state is this request's own, so no cap counts its
                // handlers; one at a time per connection bounds them.
                co_await ctx_.run_on_session(rpc, std::move(message), req);
            }
            co_return co_await async_write_simple(*c, 202, {}, c->response_headers);
        }
        SseStreamConfig config;
        config.lazy = true;
        config.accepts_requests = session != nullptr;
        config.max_queue_bytes = ctx_.options.max_stream_queue_bytes;
        auto stream = session ? session->open_stream(config) : std::make_shared<SseStream>(config, nullptr);
        if (session) session->begin_activity();
        ExchangeSpec spec{rpc, stream, session.get()};
        spec.priming = session && traits.priming_and_polling;
        // With a RelayStore, `logging/setLevel` is answered once the level reached the
        // store (the other instances read it from there): its writes were started while
        // it was handled, and `async_sync` waits for every earlier operation.
        std::function<asio::awaitable<void>(bool)> level_shared;
        if constexpr (RelayStore<Store>) {
            if (session && std::get<Request>(message).method == "logging/setLevel") {
                level_shared = [this](bool) { return async_sync_store(); };
                spec.hold_until_finished = true;
                spec.before_head = &level_shared;
            }
        }
        const bool keep = co_await ctx_.exchange(c, req, std::get<Request>(std::move(message)), std::move(spec));
        if (session) session->end_exchange(*stream);
        co_return keep;
    }

    /// `initialize` (MCP N1): a session whose id goes out with the reply, registered only
    /// when the handler succeeded; 503 when the session table is full.
    asio::awaitable<bool> initialize(const std::shared_ptr<Conn>& c, HttpRequest& req, Message message) {
        if (ctx_.sessions.draining()) co_return co_await async_reply_draining(*c, req);
        if (!ctx_.sessions.reserve()) co_return co_await async_reply_no_session_room(*c, req);
        ClientSlot slot;
        if (!ctx_.client_slot(*c, req, ClientResource::session, slot)) {
            ctx_.sessions.release();
            const HttpResponse answer = ClientLimiter::too_many_requests(ClientResource::session);
            co_return co_await async_send_response(*c, answer);
        }
        auto session = ctx_.create_session(*c, false, req.principal);
        session->hold(std::move(slot));
        SseStreamConfig config;
        config.lazy = true;
        config.max_queue_bytes = ctx_.options.max_stream_queue_bytes;
        auto stream = session->open_stream(config);
        bool registered = false;
        session->begin_activity();
        // Named, not a temporary: GCC 12 destroys lambda temporaries of a co_await twice.
        const std::function<std::string(bool)> session_header = [&](bool ok) {
            if (!ok) return std::string{};
            // The handler has finished (its stream's mutex orders this read after its
            // writes): record the negotiated revision before others can find the session.
            session->set_protocol_version(session->rpc()->protocol_version());
            registered = ctx_.sessions.add(session, true);
            return "Mcp-Session-Id: " + session->id() + "\r\n";
        };
        ExchangeSpec spec{session->rpc(), stream, session.get()};
        spec.hold_until_finished = true;
        spec.headers = &session_header;
        // A shared store gets the session's record before its id goes out.
        std::function<asio::awaitable<void>(bool)> save_record;
        if constexpr (SessionStore<Store>) {
            save_record = [this, &session](bool ok) { return async_save_record(ok, session); };
            spec.before_head = &save_record;
        }
        const bool keep = co_await ctx_.exchange(c, req, std::get<Request>(std::move(message)), std::move(spec));
        session->end_exchange(*stream);
        if (!registered) {
            ctx_.sessions.release();
            session->end();
        }
        co_return keep;
    }

    /// A POST naming a session this transport does not hold, with a `SessionStore`: the
    /// session restored from its record (404, 400, 503 as `EraContext::async_restore`
    /// says), then answered as any session's POST.
    asio::awaitable<bool> answer_restored(const std::shared_ptr<Conn>& c, HttpRequest& req, mcpsse::ParseResult parsed,
                                          std::optional<std::string_view> header_version)
        requires SessionStore<Store>
    {
        auto found = co_await ctx_.async_restore(*c, std::string(req.find("mcp-session-id").value_or("")), header_version, req);
        if (!found.session)
            co_return co_await async_reply_no_session(*c, req, found.status, found.message);
        auto rpc = found.session->rpc();
        co_return co_await answer_post(c, req, std::move(rpc), std::move(found.session), std::move(parsed));
    }

    /// Sessionless mode: a JSON-RPC state of this request's own at the revision the
    /// header names (2025-03-26 when none), answered like a session's POST.
    asio::awaitable<bool> answer_sessionless(const std::shared_ptr<Conn>& c, HttpRequest& req, mcpsse::ParseResult parsed,
                                             std::optional<std::string_view> header_version) {
        if (header_version && !ctx_.dispatcher->supports_protocol_version(*header_version))
            co_return co_await async_reply_error(*c, req, 400, std::nullopt, error_code::invalid_request,
                                                 "Bad Request: unsupported MCP-Protocol-Version");
        auto rpc = ctx_.new_rpc(*c);
        rpc->set_protocol_version(header_version ? std::string(*header_version)
                                                 : std::string(protocol_version::v2025_03_26));
        co_return co_await answer_post(c, req, std::move(rpc), nullptr, std::move(parsed));
    }

    /// GET: the session's standalone stream (409 when one is already attached), or a
    /// resumption after `Last-Event-ID` (R3, R4): the live stream it names, else a replay
    /// of a finished stream's stored events, else 410 when those were evicted.
    asio::awaitable<GetOutcome> open_get(const std::shared_ptr<Conn>& c, HttpRequest& req) {
        const auto header_version = req.find("mcp-protocol-version");
        if (ctx_.options.sessionless || (header_version && protocol_version::is_stateless(*header_version)))
            co_return co_await async_reply_405(*c, req, "POST");
        const auto accept = req.find("accept");
        if (!accept || !accepts(*accept, "text/event-stream"))
            co_return co_await async_reply_error(*c, req, 406, std::nullopt, error_code::invalid_request,
                                                 "Not Acceptable: Accept must list text/event-stream");
        auto found = ctx_.sessions.lookup(req, header_version, *ctx_.dispatcher);
        if constexpr (SessionStore<Store>)
            if (found.status == 404)
                found = co_await ctx_.async_restore(*c, std::string(*req.find("mcp-session-id")), header_version, req);
        if (!found.session)
            co_return co_await async_reply_no_session(*c, req, found.status, found.message);
        auto session = std::move(found.session);
        session->touch();
        ctx_.renew_record(*session);
        const bool priming = protocol_version::traits(session->protocol_version()).priming_and_polling;

        std::optional<EventId> last;
        if (const auto value = req.find("last-event-id")) last = parse_event_id(*value);
        if (last) {
            auto stream = session->find_stream(last->stream);
            if (stream && ctx_.sessions.draining() && stream == session->existing_standalone_stream())
                co_return co_await async_reply_draining(*c, req);
            if (stream) {
                // A resumption takes the standalone stream over from another instance
                // that has it attached (the client's GET is here now).
                if constexpr (RelayStore<Store>)
                    if (stream == session->existing_standalone_stream()) {
                        auto attach = co_await ctx_.sessions.async_attach_standalone(*session, *stream, true);
                        ctx_.sessions.tell_stream_moved(std::move(attach.former), *session, std::nullopt);
                    }
                session->begin_activity();
                co_return StreamPlan{std::move(stream), last, priming, false, {}, session};
            }
            if (session->event_log()) {
                std::string events;
                auto format = [&](EventId id, std::string_view m) {
                    const EventIdText id_text(id);
                    append_sse_event(events, SseEvent{{}, id_text.view(), m, std::nullopt});
                };
                bool ok = false;
                OrphanStream orphan = OrphanStream::none;
                EventId read_up_to = *last;  // the last event the replay read
                if constexpr (AsyncEventStore<Store>) {
                    // A store that may suspend: its answer is checked for gaps here.
                    const ReplayResult stored = co_await session->event_log()->async_replay_after(*last);
                    ok = stored && gapless_after(*stored, *last);
                    if (ok && !stored->empty()) read_up_to = stored->back().id;
                    if (ok)
                        for (const auto& event : *stored) format(event.id, event.message);
                    // Another instance's stream: is that instance gone?
                    if constexpr (FailoverStore<Store>)
                        if (ok && stream_instance_tag(last->stream) != ctx_.sessions.instance_tag())
                            orphan = co_await async_resume_foreign(
                                ctx_.sessions.store(), *session, *last, *stored, events, ctx_.pump.stopping,
                                ForeignResumeWait{ctx_.options.failover_resume_wait, ctx_.options.failover_resume_poll},
                                priming, ctx_.pump.retry);
                } else {
                    ok = session->event_log()->replay_after(*last, format);
                }
                // Another instance's standalone stream goes on here: taken over, after its
                // replay and what that instance stored after `read_up_to` meanwhile.
                if (ok && orphan == OrphanStream::standalone && !ctx_.sessions.draining())
                    co_return co_await open_standalone(c, req, session, std::nullopt, std::move(events), read_up_to);
                if (ok) co_return co_await write_replay(c, req, events, *session);
                // A finished stream whose events are gone: a client holding one of its ids
                // would miss what followed.
                if (last->stream != 0 && !(session->existing_standalone_stream() &&
                                           session->existing_standalone_stream()->number() == last->stream))
                    co_return co_await async_reply_evicted(*c, req);
            }
            // Unknown: serve a fresh standalone stream.
        }
        if (ctx_.sessions.draining()) co_return co_await async_reply_draining(*c, req);
        co_return co_await open_standalone(c, req, session, last, {}, std::nullopt);
    }

    /// The session's standalone stream for this GET (409 when one is already attached,
    /// here or, with a `RelayStore`, at another live instance), resumed after `last`
    /// when that names it. `taken_after`: set when the GET resumes another instance's
    /// standalone stream, whose replay up to that event is `prefix` (SSE events sent
    /// first): the stream is taken over even when attached there, what that instance
    /// stored after `taken_after` is read and sent too, and then that instance is told
    /// the stream moved, with the last event read: it passes on what it stored after
    /// that event (until it learned of the move) as relayed notifications.
    asio::awaitable<GetOutcome> open_standalone(const std::shared_ptr<Conn>& c, HttpRequest& req,
                                                std::shared_ptr<SseSessionState> session, std::optional<EventId> last,
                                                std::string prefix, std::optional<EventId> taken_after) {
        const bool priming = protocol_version::traits(session->protocol_version()).priming_and_polling;
        auto standalone = session->standalone_stream(ctx_.options.max_stream_queue_bytes);
        if (standalone->attached())
            co_return co_await async_reply_error(*c, req, 409, std::nullopt, error_code::invalid_request,
                                                 "Conflict: this session already has an open GET stream");
        std::uint64_t prefix_events = 0;
        if constexpr (AsyncEventStore<Store>) {  // (RelayStore and FailoverStore are such stores)
            std::string former_holder;
            if constexpr (RelayStore<Store>) {
                auto attach = co_await ctx_.sessions.async_attach_standalone(*session, *standalone, taken_after.has_value());
                if (!attach.attached)
                    co_return co_await async_reply_error(
                        *c, req, 409, std::nullopt, error_code::invalid_request,
                        "Conflict: this session already has an open GET stream (at another server instance)");
                former_holder = std::move(attach.former);
            }
            std::optional<EventId> read_up_to = taken_after;
            if (taken_after && session->event_log()) {
                prefix_events = count_sse_events(prefix);
                const ReplayResult more = co_await session->event_log()->async_replay_after(*taken_after);
                if (more && gapless_after(*more, *taken_after))
                    read_up_to = append_taken_over(*more, prefix, prefix_events).value_or(*taken_after);
            }
            // Told once what is taken over of its stream was read.
            if constexpr (RelayStore<Store>)
                ctx_.sessions.tell_stream_moved(std::move(former_holder), *session, read_up_to);
        }
        session->rpc()->set_default_sink(standalone);
        session->begin_activity();
        auto resume_after = last && last->stream == standalone->number() ? last : std::nullopt;
        co_return StreamPlan{std::move(standalone), resume_after, priming, false, std::move(prefix), session, prefix_events};
    }

    /// DELETE: ends the session (MCP N5); 405 in sessionless mode and for 2026-07-28.
    asio::awaitable<bool> remove(Conn& c, HttpRequest& req) {
        const auto header_version = req.find("mcp-protocol-version");
        if (ctx_.options.sessionless || (header_version && protocol_version::is_stateless(*header_version)))
            co_return co_await async_reply_405(c, req, "POST");
        auto found = ctx_.sessions.lookup(req, header_version, *ctx_.dispatcher);
        if constexpr (SessionStore<Store>)
            if (found.status == 404)
                found = co_await ctx_.async_restore(c, std::string(*req.find("mcp-session-id")), header_version, req);
        if (!found.session)
            co_return co_await async_reply_no_session(c, req, found.status, found.message);
        ctx_.sessions.end(found.session, SessionEndReason::deleted);
        co_return co_await async_write_simple(c, 200, {}, c.response_headers);
    }

private:
    // Appends `events` (read from a stream taken over) to `prefix` as SSE events,
    // counted in `count`; the last one's id (nullopt: none).
    static std::optional<EventId> append_taken_over(const std::vector<StoredEvent>& events, std::string& prefix,
                                                    std::uint64_t& count) {
        std::optional<EventId> last;
        for (const auto& event : events) {
            const EventIdText id_text(event.id);
            append_sse_event(prefix, SseEvent{{}, id_text.view(), event.message, std::nullopt});
            ++count;
            last = event.id;
        }
        return last;
    }

    // Saves a new session's record in the shared store once its `initialize` succeeded
    // (`ok`); the reply waits for it. The handler has finished, so its writes are seen
    // (as by `initialize`'s header callback). A failed save leaves the session to this
    // transport alone.
    asio::awaitable<void> async_save_record(bool ok, const std::shared_ptr<SseSessionState>& session)
        requires SessionStore<Store>
    {
        if (!ok) co_return;
        const auto& rpc = session->rpc();
        SessionRecord record;
        record.id = session->id();
        record.protocol_version = rpc->protocol_version();
        record.client_capabilities = rpc->client_capabilities();
        record.client_info = rpc->client_info();
        record.subject = std::string(session->subject());
        std::error_code ec;
        co_await ctx_.sessions.store().async_save_session(std::move(record), asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) session->record_renewed();
    }

    // 200 with a replay of a finished stream's stored events (a resumption that ends
    // there), reported to the stream observers (`mcpsse_sse_resumptions_total`).
    asio::awaitable<bool> write_replay(const std::shared_ptr<Conn>& c, const HttpRequest& req, const std::string& events,
                                       const SseSessionState& session) {
        const bool observed = ctx_.pump.observers && ctx_.pump.observers->observes_streams();
        const std::uint64_t count = observed ? count_sse_events(events) : 0;
        if (observed) {
            end_stream_watch(*c);
            c->watch = std::make_unique<StreamWatch>(*ctx_.pump.observers, c->info(), StreamKind::response, session.id(),
                                                     true, count);
        }
        const bool keep = co_await async_write_events(*c, req, events);
        if (observed && c->watch) {
            c->watch->open();
            c->watch->wrote(count, events.size());
        }
        co_return keep;
    }

    // The events in `sse` (SSE text of whole events, each ending with a blank line).
    static std::uint64_t count_sse_events(std::string_view sse) {
        std::uint64_t n = 0;
        for (std::size_t at = sse.find("\n\n"); at != std::string_view::npos; at = sse.find("\n\n", at + 2)) ++n;
        return n;
    }

    // Waits until the store applied every operation started before (a failure: as done).
    asio::awaitable<void> async_sync_store()
        requires RelayStore<Store>
    {
        std::error_code ec;
        co_await ctx_.sessions.store().async_sync(asio::redirect_error(asio::use_awaitable, ec));
    }

    EraContext<Conn, Store>& ctx_;
};

}  // namespace mcpsse::detail
