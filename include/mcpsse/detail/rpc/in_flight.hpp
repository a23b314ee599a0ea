// mcpsse internal: the handlers one session runs, their limits and their cancellation.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/json_rpc.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/dispatch.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mcpsse::detail {

/// Bookkeeping of one request whose handler is running. `signal`, `done` and
/// `last_progress` belong to the handler's executor; `cancelled` may be set from any
/// thread.
struct InFlight {
    /// The executor the handler runs on (the session's, or the request's connection's).
    asio::any_io_executor executor;
    /// Emitted (terminal) on `executor` to cancel the handler's coroutine.
    asio::cancellation_signal signal;
    /// The method being served (`initialize` cannot be cancelled).
    std::string method;
    /// Set by `notifications/cancelled` or by the transport; suppresses the response.
    std::atomic<bool> cancelled{false};
    /// Set when the handler finished; no progress may follow.
    bool done = false;
    /// The last progress value sent (progress strictly increases).
    std::optional<double> last_progress;
    /// Ends the handler after `RpcLimits::handler_timeout` (absent when there is none).
    std::unique_ptr<asio::steady_timer> deadline;
    /// Set when `deadline` expired: the client gets `request_timeout`, not the handler's outcome.
    bool timed_out = false;
    /// When the handler started (set only when the session is observed).
    std::chrono::steady_clock::time_point started{};
    /// A `tools/call`'s tool name (set only when the session is observed).
    std::string tool;
    /// This record itself while its handler's coroutine exists (see RethrowFailure in
    /// detail/rpc/handler_run.hpp, which releases it).
    std::shared_ptr<InFlight> keep_alive;
};

/// Limits on the handlers one peer (session) runs; `SseTransportOptions` and
/// `StdioOptions` set them.
struct RpcLimits {
    /// Request and notification handlers running at once (count). A request over it is
    /// answered with `error_code::too_many_requests` (-32050); a notification over it is
    /// dropped (it cannot be answered). Cancellations are always handled.
    std::size_t max_in_flight = 64;
    /// Time a request handler may run, in ms; zero: no limit. On expiry the handler gets
    /// a terminal cancellation and the client `error_code::request_timeout` (-32001).
    std::chrono::milliseconds handler_timeout{0};
};

/// What `InFlightTable::admit` decided about a request.
enum class Admission {
    /// Recorded: its handler may run.
    admitted,
    /// Refused: `RpcLimits::max_in_flight` handlers run already.
    busy,
    /// Refused: a request with the same id is running.
    duplicate,
};

/// The requests of one session whose handlers run (by id), the number of running
/// notification handlers, and the limits both count against.
///
/// Thread-safety: a mutex guards the table and the notification count, so every member
/// except `set_limits` is safe from any thread; `set_limits` is called before the session
/// serves requests. `at_capacity` reads an atomic snapshot without the lock.
class InFlightTable {
public:
    /// Sets the limits (before the session serves requests).
    void set_limits(const RpcLimits& limits) noexcept { limits_ = limits; }
    /// The limits.
    [[nodiscard]] const RpcLimits& limits() const noexcept { return limits_; }

    /// True when as many handlers run as `RpcLimits::max_in_flight` allows. Lock-free (a
    /// transport asks once per request): a snapshot that may be stale by the time it is
    /// used; `admit` and `try_begin_notification` check again under the lock.
    [[nodiscard]] bool at_capacity() const noexcept {
        return running_.load(std::memory_order_relaxed) >= limits_.max_in_flight;
    }

    /// Number of request handlers running now.
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return requests_.size();
    }

    /// True when a request with `id` is running.
    [[nodiscard]] bool contains(const RequestId& id) const {
        std::lock_guard lock(mutex_);
        return requests_.contains(id);
    }

    /// Records `flight` as the running request `id` unless the limit is reached or the
    /// id is taken; checks both and records under one lock.
    [[nodiscard]] Admission admit(const RequestId& id, const std::shared_ptr<InFlight>& flight) {
        std::lock_guard lock(mutex_);
        if (requests_.size() + notifications_ >= limits_.max_in_flight) return Admission::busy;
        if (!requests_.emplace(id, flight).second) return Admission::duplicate;
        publish_running();
        return Admission::admitted;
    }

    /// Ends the run of request `id` (its record `flight`): no progress may follow, its
    /// deadline stops, and its id may be used again. On the handler's executor.
    void retire(const RequestId& id, InFlight& flight) {
        flight.done = true;
        if (flight.deadline) flight.deadline->cancel();
        std::lock_guard lock(mutex_);
        requests_.erase(id);
        publish_running();
    }

    /// Starts `RpcLimits::handler_timeout` for `flight` on `executor` (nothing when there
    /// is no limit): on expiry the handler gets a terminal cancellation and
    /// `InFlight::timed_out` is set.
    void arm_deadline(const std::shared_ptr<InFlight>& flight, const asio::any_io_executor& executor) const {
        if (limits_.handler_timeout.count() <= 0) return;
        flight->deadline = std::make_unique<asio::steady_timer>(executor, limits_.handler_timeout);
        flight->deadline->async_wait([weak = std::weak_ptr<InFlight>(flight)](std::error_code ec) {
            // On the handler's executor: `done` and the signal belong to it.
            const auto f = weak.lock();
            if (ec || !f || f->done) return;
            f->timed_out = true;
            f->signal.emit(asio::cancellation_type::terminal);
        });
    }

    /// Cancels the running request `id`: marks it cancelled (its response is suppressed)
    /// and emits a terminal cancellation on the handler's executor (at once when called
    /// there). Unknown or finished ids, ids cancelled before and `initialize` are ignored.
    /// Returns true when a handler was cancelled.
    bool cancel(const RequestId& id) {
        std::shared_ptr<InFlight> flight;
        {
            std::lock_guard lock(mutex_);
            const auto it = requests_.find(id);
            if (it == requests_.end() || it->second->method == "initialize" || it->second->cancelled.exchange(true))
                return false;
            flight = it->second;
        }
        const auto executor = flight->executor;
        asio::dispatch(executor, [flight = std::move(flight)] { flight->signal.emit(asio::cancellation_type::terminal); });
        return true;
    }

    /// Cancels every running request (see `cancel`).
    void cancel_all() {
        std::vector<RequestId> ids;
        {
            std::lock_guard lock(mutex_);
            for (const auto& entry : requests_) ids.push_back(entry.first);
        }
        for (const auto& id : ids) cancel(id);
    }

    /// Counts a notification handler as running, unless the limit is reached (then the
    /// notification is dropped). A true result must be paired with `end_notification`.
    [[nodiscard]] bool try_begin_notification() {
        std::lock_guard lock(mutex_);
        if (requests_.size() + notifications_ >= limits_.max_in_flight) return false;
        ++notifications_;
        publish_running();
        return true;
    }
    /// A notification handler counted by `try_begin_notification` ended.
    void end_notification() {
        std::lock_guard lock(mutex_);
        --notifications_;
        publish_running();
    }

    /// The answer to a request (or, without id, a notification) over
    /// `RpcLimits::max_in_flight`: `too_many_requests` (-32050), `data.max_in_flight`.
    [[nodiscard]] ErrorResponse too_many_requests(std::optional<RequestId> id) const {
        return ErrorResponse{std::move(id), error_code::too_many_requests,
                             "Too many requests in flight: at most " + std::to_string(limits_.max_in_flight) +
                                 " per session",
                             {{"max_in_flight", limits_.max_in_flight}}};
    }

private:
    // Under mutex_: stores the count `at_capacity` reads without it.
    void publish_running() noexcept {
        running_.store(requests_.size() + notifications_, std::memory_order_relaxed);
    }

    mutable std::mutex mutex_;  // guards requests_ and notifications_
    std::map<RequestId, std::shared_ptr<InFlight>> requests_;
    std::size_t notifications_ = 0;
    // requests_.size() + notifications_, stored under mutex_ whenever either changes,
    // read without it by at_capacity.
    std::atomic<std::size_t> running_{0};
    RpcLimits limits_;
};

}  // namespace mcpsse::detail
