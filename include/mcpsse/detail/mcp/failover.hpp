// mcpsse internal: resuming at this instance a stream of an instance that died
// (FailoverStore): its unfinished request is answered with an error, its standalone
// stream goes on here.
#pragma once

#include <mcpsse/async_event_store.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/failover_store.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/mcp/instance_lease.hpp>
#include <mcpsse/detail/mcp/session_state.hpp>
#include <mcpsse/detail/sse/event.hpp>
#include <mcpsse/detail/sse/event_id.hpp>

#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace mcpsse::detail {

/// What a resumption found about a stream of another instance.
enum class OrphanStream {
    /// Nothing more than the replay (and what `async_resume_foreign` added to it):
    /// its instance lives, or its request was answered.
    none,
    /// Its instance is gone and its request had no response: the error response was
    /// added to the replay (and stored).
    request_failed,
    /// Its instance is gone and it answered no request (a standalone stream): the
    /// resumption goes on as this instance's standalone stream.
    standalone,
};

/// The message telling a client that the instance answering its request `id` died.
[[nodiscard]] inline std::string lost_request_error(const RequestId& id) {
    ErrorResponse e;
    e.id = id;
    e.code = error_code::internal_error;
    e.message = "Internal error: the server instance answering this request stopped before it finished";
    e.data = {{"reason", "instance_lost"}};
    return json_rpc::serialize(Message(std::move(e)));
}

/// True when one of `events` is a response (result or error) to request `id`.
[[nodiscard]] inline bool answers(const std::vector<StoredEvent>& events, const RequestId& id) {
    for (const auto& event : events) {
        const auto j = nlohmann::json::parse(event.message, nullptr, false);
        if (!j.is_object() || !(j.contains("result") || j.contains("error"))) continue;
        const auto it = j.find("id");
        if (it == j.end()) continue;
        const auto other = json_rpc::id_from_json(*it);
        if (other && *other == id) return true;
    }
    return false;
}

/// How a resumption of another instance's running request waits for its next events
/// (`SseTransportOptions::failover_resume_wait` and `failover_resume_poll`).
struct ForeignResumeWait {
    std::chrono::milliseconds limit{25'000};
    std::chrono::milliseconds poll{100};
};

/// A client resumes stream `last.stream` of session `session`, which another instance
/// numbered; `stored` are its events after `last` (gapless, already formatted into
/// `sse`, the replay's SSE text). Decides what else the replay says (`FailoverStore`):
/// - the stream answers no request (a standalone stream): `standalone`, to go on here,
///   whether its instance is gone or lives (the client's GET is here now; with a
///   `RelayStore` this instance becomes the stream's holder, and the session's
///   notifications follow it);
/// - its request has a response among all its stored events: `none` (replay only);
/// - its request has none and the lease is gone: an error response to it (-32603,
///   `data.reason` = "instance_lost") is stored as the stream's next event and added
///   to `sse`: `request_failed`;
/// - its request has none, the lease holds and `stored` is empty: the instance still
///   works on it, so this waits, asking the store every `wait.poll`, until events
///   follow (added to `sse`), the lease lapses (the error as above), the transport
///   stops (`*stopping`) or `wait.limit` passes; with nothing to
///   send, `sse` gets an event with the id `last` and no data when `priming` (the
///   revision's priming events), so the client keeps its `Last-Event-ID`.
/// Store errors count as "its instance lives, nothing more stored".
template <class Store>
    requires FailoverStore<Store>
asio::awaitable<OrphanStream> async_resume_foreign(Store& store, SseSessionState& session, EventId last,
                                                   std::vector<StoredEvent> stored, std::string& sse,
                                                   const std::atomic<bool>* stopping, ForeignResumeWait wait,
                                                   bool priming, std::optional<std::chrono::milliseconds> retry) {
    const std::string lease_name = instance_lease_name(stream_instance_tag(last.stream));
    const std::string session_id = session.id();
    std::error_code ec;
    std::optional<Lease> holder = co_await store.async_lease_holder(lease_name, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return OrphanStream::none;
    const std::optional<std::string> request =
        co_await store.async_stream_request(session_id, last.stream, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return OrphanStream::none;
    if (!request) co_return OrphanStream::standalone;
    const auto id_value = nlohmann::json::parse(*request, nullptr, false);
    const auto id = json_rpc::id_from_json(id_value);
    if (!id || answers(stored, *id)) co_return OrphanStream::none;
    // Answered before `last` (the client resumes after the response, e.g. after an
    // error response): nothing to add.
    const ReplayResult whole = co_await store.async_replay_after(session_id, EventId{last.stream, 0},
                                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && whole && answers(*whole, *id)) co_return OrphanStream::none;

    EventId at = stored.empty() ? last : stored.back().id;
    if (holder && stored.empty()) {
        // The request runs at its instance: wait for what it sends next.
        asio::steady_timer timer(co_await asio::this_coro::executor);
        const auto deadline = std::chrono::steady_clock::now() + wait.limit;
        while (holder && !(stopping && stopping->load()) && std::chrono::steady_clock::now() < deadline) {
            timer.expires_after(std::max(wait.poll, std::chrono::milliseconds(1)));
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            ReplayResult more = co_await store.async_replay_after(session_id, at, asio::redirect_error(asio::use_awaitable, ec));
            if (!ec && more && !more->empty()) {
                for (const auto& event : *more) {
                    const EventIdText id_text(event.id);
                    append_sse_event(sse, SseEvent{{}, id_text.view(), event.message, std::nullopt});
                }
                co_return OrphanStream::none;
            }
            holder = co_await store.async_lease_holder(lease_name, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) holder = Lease{};  // unknown: as alive
        }
        if (holder) {
            if (priming) {
                const EventIdText id_text(at);
                append_sse_event(sse, SseEvent{{}, id_text.view(), {}, retry});
            }
            co_return OrphanStream::none;
        }
    }
    if (holder) co_return OrphanStream::none;
    const std::string message = lost_request_error(*id);
    const EventId next{last.stream, at.sequence + 1};
    if (session.event_log()) session.event_log()->append(next, message);
    const EventIdText id_text(next);
    append_sse_event(sse, SseEvent{{}, id_text.view(), message, std::nullopt});
    co_return OrphanStream::request_failed;
}

}  // namespace mcpsse::detail
