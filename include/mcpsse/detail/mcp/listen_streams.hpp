// mcpsse internal: the open 2026-07-28 `subscriptions/listen` exchanges, which a drain ends.
#pragma once

#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/rpc/session.hpp>
#include <mcpsse/detail/sse/stream.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// The `subscriptions/listen` requests being answered (each a stateless request whose
/// stream lasts until the client leaves), so that a drain can end them with a `retry:`
/// hint. Thread-safe: a mutex guards the table (taken once at each listen's start and
/// end, never per event).
class ListenStreams {
public:
    /// Records a listen request; returns the handle for `remove`.
    std::uint64_t add(const std::shared_ptr<RpcSession>& rpc, RequestId id, const std::shared_ptr<SseStream>& stream) {
        std::lock_guard lock(mutex_);
        const std::uint64_t handle = ++next_;
        entries_.emplace(handle, Entry{rpc, std::move(id), stream});
        return handle;
    }

    /// Forgets the listen request of `handle` (its exchange ended).
    void remove(std::uint64_t handle) {
        std::lock_guard lock(mutex_);
        entries_.erase(handle);
    }

    /// Ends every listen stream: the client is told to reconnect after `retry` (ms),
    /// and the handler is cancelled.
    void close_all(std::chrono::milliseconds retry) {
        std::vector<Entry> all;
        {
            std::lock_guard lock(mutex_);
            for (auto& [handle, entry] : entries_) all.push_back(entry);
        }
        for (auto& entry : all) {
            if (auto stream = entry.stream.lock()) stream->close_with_retry(retry);
            if (auto rpc = entry.rpc.lock()) rpc->cancel_request(entry.id);
        }
    }

private:
    struct Entry {
        std::weak_ptr<RpcSession> rpc;
        RequestId id;
        std::weak_ptr<SseStream> stream;
    };
    std::mutex mutex_;
    std::uint64_t next_ = 0;
    std::map<std::uint64_t, Entry> entries_;
};

}  // namespace mcpsse::detail
