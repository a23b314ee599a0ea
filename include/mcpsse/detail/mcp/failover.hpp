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
#include <asio/use_awaitable.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace mcpsse::detail {

/// What a resumption found about a stream of another instance.
enum class OrphanStream {
    /// Its instance holds its lease (or the store could not tell): replay only, as
    /// before; a request already answered in the replay counts here too.
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

/// A client resumes stream `last.stream` of session `session`, which another instance
/// numbered, and `stored` are its events after `last` (gapless). When that instance's
/// lease (`instance:<tag>`) is gone: a stream that answered a request with no response
/// among `stored` gets an error response to it (-32603, `data.reason` =
/// "instance_lost"), stored as its next event and appended to `sse` (the replay's SSE
/// text); a stream that answered no request is a standalone stream to go on here.
/// Store errors count as "alive" (replay only). Two round trips to the store.
template <class Store>
    requires FailoverStore<Store>
asio::awaitable<OrphanStream> async_check_orphan(Store& store, SseSessionState& session, EventId last,
                                                 const std::vector<StoredEvent>& stored, std::string& sse) {
    std::error_code ec;
    const std::optional<Lease> holder = co_await store.async_lease_holder(
        instance_lease_name(stream_instance_tag(last.stream)), asio::redirect_error(asio::use_awaitable, ec));
    if (ec || holder) co_return OrphanStream::none;
    const std::optional<std::string> request =
        co_await store.async_stream_request(session.id(), last.stream, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return OrphanStream::none;
    if (!request) co_return OrphanStream::standalone;
    const auto id_value = nlohmann::json::parse(*request, nullptr, false);
    const auto id = json_rpc::id_from_json(id_value);
    if (!id || answers(stored, *id)) co_return OrphanStream::none;
    const std::string message = lost_request_error(*id);
    const EventId next{last.stream, (stored.empty() ? last.sequence : stored.back().id.sequence) + 1};
    if (session.event_log()) session.event_log()->append(next, message);
    const EventIdText id_text(next);
    append_sse_event(sse, SseEvent{{}, id_text.view(), message, std::nullopt});
    co_return OrphanStream::request_failed;
}

}  // namespace mcpsse::detail
