// mcpsse: the host's transport observers, called where the transport does the work.
#pragma once

#include <mcpsse/transport_observer.hpp>

#include <memory>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// The observers of one transport; empty costs one branch per event. Filled before the
/// transport runs (`add`), then read-only: safe from any thread.
class Observers {
public:
    Observers() = default;
    explicit Observers(std::vector<std::shared_ptr<TransportObserver>> list) {
        for (auto& observer : list) add(std::move(observer));
    }

    /// Adds one (null is ignored). Not thread-safe: before the transport runs.
    void add(std::shared_ptr<TransportObserver> observer) {
        if (!observer) return;
        const ObserverInterests wants = observer->interests();
        if (wants.requests) requests_.push_back(observer.get());
        if (wants.streams) streams_.push_back(observer.get());
        if (wants.rpc_requests) rpc_.push_back(observer.get());
        list_.push_back(std::move(observer));
    }

    /// True when nobody observes (events need not even be built).
    [[nodiscard]] bool empty() const noexcept { return list_.empty(); }
    /// True when someone wants `on_request`.
    [[nodiscard]] bool observes_requests() const noexcept { return !requests_.empty(); }
    /// True when someone wants the SSE stream events.
    [[nodiscard]] bool observes_streams() const noexcept { return !streams_.empty(); }
    /// True when someone wants the JSON-RPC request events.
    [[nodiscard]] bool observes_rpc() const noexcept { return !rpc_.empty(); }

    /// Calls `f(observer)` for each.
    template <class F>
    void each(F&& f) const {
        for (const auto& observer : list_) f(*observer);
    }
    /// Calls `f(observer)` for each that wants `on_request`.
    template <class F>
    void each_request(F&& f) const {
        for (auto* observer : requests_) f(*observer);
    }
    /// Calls `f(observer)` for each that wants the stream events.
    template <class F>
    void each_stream(F&& f) const {
        for (auto* observer : streams_) f(*observer);
    }
    /// Calls `f(observer)` for each that wants the JSON-RPC request events.
    template <class F>
    void each_rpc(F&& f) const {
        for (auto* observer : rpc_) f(*observer);
    }

private:
    std::vector<std::shared_ptr<TransportObserver>> list_;
    std::vector<TransportObserver*> requests_, streams_, rpc_;  // views into list_ by interest
};

}  // namespace mcpsse::detail
