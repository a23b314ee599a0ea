// mcpsse: serving a long-lived GET stream (standalone, resumed, legacy) on its connection.
#pragma once

#include <mcpsse/async_event_store.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/http/writer.hpp>
#include <mcpsse/detail/mcp/context.hpp>
#include <mcpsse/detail/mcp/replies.hpp>
#include <mcpsse/detail/mcp/session_state.hpp>
#include <mcpsse/detail/mcp/stream_plan.hpp>
#include <mcpsse/detail/sse/connection.hpp>
#include <mcpsse/detail/sse/event.hpp>
#include <mcpsse/detail/sse/pump.hpp>
#include <mcpsse/detail/sse/stream.hpp>

#include <asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// Serves the stream a GET handler planned (`StreamPlan`), for every era: attaches the
/// connection as its consumer, replays after `Last-Event-ID` (MCP Streamable HTTP R1-R4:
/// from the stream's own buffer, or, with an `AsyncEventStore`, from the store while the
/// new consumer is held), refuses a resumption whose events were evicted rather than
/// serve a gap, and pumps the stream until it ends.
template <class Conn, class Store>
class StreamServer {
public:
    explicit StreamServer(EraContext<Conn, Store>& context) : ctx_(context) {}

    /// Attaches a GET's stream and pumps it: 409 when another consumer holds it, the gap
    /// refusal when a resumption's events were evicted; true when the connection may go
    /// on. A plain function (the PumpJob goes straight into the pump's frame); `plan`
    /// lives in the connection loop's frame.
    asio::awaitable<bool> serve(const std::shared_ptr<Conn>& c, HttpRequest& req, StreamPlan& plan) {
        if constexpr (AsyncEventStore<Store>) {
            if (plan.resume_after && plan.session->event_log()) return serve_resumed(c, req, plan);
        }
        const bool resume = plan.resume_after.has_value();
        bool replayed = true;
        const std::uint64_t generation =
            plan.stream->attach(make_waker(c, plan.stream), plan.resume_after, &replayed, resume);
        if (generation == 0)
            return async_reply_error(*c, req, 409, std::nullopt, error_code::invalid_request,
                                     "Conflict: this stream is already being received");
        if (!replayed) {
            // Events after Last-Event-ID were evicted: never resume with a gap.
            plan.stream->detach(generation);
            return refuse_gap(*c, req, *plan.session, *plan.stream);
        }
        return async_pump(c, req, ctx_.pump, job_for(plan, generation, resume));
    }

private:
    // serve's resumption of a live stream when the store may suspend: the new
    // consumer is held while the store replays, then gets the replay before what came
    // meanwhile (a gap refuses the resumption, as in serve).
    asio::awaitable<bool> serve_resumed(const std::shared_ptr<Conn>& c, HttpRequest& req, StreamPlan& plan) {
        const EventId after = *plan.resume_after;
        const auto held = plan.stream->attach_held(make_waker(c, plan.stream));
        ReplayResult replayed = std::vector<StoredEvent>{};
        if (held.up_to > after.sequence) replayed = co_await plan.session->event_log()->async_replay_after(after);
        if (!plan.stream->release_held(held.generation, after, held.up_to, replayed)) {
            plan.stream->detach(held.generation);
            co_return co_await refuse_gap(*c, req, *plan.session, *plan.stream);
        }
        PumpJob job = job_for(plan, held.generation, true);
        co_return co_await async_pump(c, req, ctx_.pump, std::move(job));
    }

    // The pump's job for `plan`'s stream, attached as `generation`.
    static PumpJob job_for(StreamPlan& plan, std::uint64_t generation, bool resume) {
        PumpJob job;
        job.stream = plan.stream;
        job.generation = generation;
        job.ends_on_stop = true;
        job.closes_connection = plan.legacy;
        job.priming = plan.priming && !resume;
        job.prefix = std::move(plan.prefix);
        job.prefix_events = plan.prefix_events;
        job.kind = plan.legacy                        ? StreamKind::legacy
                   : plan.stream->request_id() ? StreamKind::response
                                                      : StreamKind::standalone;
        job.resumed = resume;
        if (plan.session) job.session_id = &plan.session->id();
        return job;
    }

    // A resumption whose events were evicted. A POST's stream gets its request answered
    // with -32051 (and the handler cancelled): the client stops waiting instead of
    // missing part of the exchange. The standalone stream's GET gets 410, so the client
    // re-syncs.
    asio::awaitable<bool> refuse_gap(Conn& c, const HttpRequest& req, SseSessionState& session, const SseStream& stream) {
        if (const auto& id = stream.request_id()) {
            session.rpc()->cancel_request(*id);
            std::string events;
            append_sse_event(events, SseEvent{{}, {},
                                              json_rpc::serialize(ErrorResponse{
                                                  *id, error_code::events_evicted,
                                                  "Events after Last-Event-ID were evicted; the request cannot be resumed",
                                                  nullptr}),
                                              std::nullopt});
            co_return co_await async_write_events(c, req, events);
        }
        co_return co_await async_reply_evicted(c, req);
    }

    EraContext<Conn, Store>& ctx_;
};

}  // namespace mcpsse::detail
