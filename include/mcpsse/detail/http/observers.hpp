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
    explicit Observers(std::vector<std::shared_ptr<TransportObserver>> list) : list_(std::move(list)) {
        std::erase(list_, nullptr);
    }

    /// Adds one (null is ignored). Not thread-safe: before the transport runs.
    void add(std::shared_ptr<TransportObserver> observer) {
        if (observer) list_.push_back(std::move(observer));
    }

    /// True when nobody observes (events need not even be built).
    [[nodiscard]] bool empty() const noexcept { return list_.empty(); }

    /// Calls `f(observer)` for each.
    template <class F>
    void each(F&& f) const {
        for (const auto& observer : list_) f(*observer);
    }

private:
    std::vector<std::shared_ptr<TransportObserver>> list_;
};

}  // namespace mcpsse::detail
