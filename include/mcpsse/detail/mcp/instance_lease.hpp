// mcpsse internal: the lease a transport instance holds in a FailoverStore while it runs.
#pragma once

#include <mcpsse/failover_store.hpp>
#include <mcpsse/lease.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <system_error>

namespace mcpsse::detail {

/// The name of the instance whose stream numbers carry `tag` in their high half, in
/// lease names, relayed messages and server-to-client request ids: 8 lower-case hex
/// digits.
[[nodiscard]] inline std::string instance_name(std::uint32_t tag) {
    char text[9];
    std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(tag));
    return text;
}

/// The name of the lease of the instance with tag `tag`: `instance:<instance_name>`.
[[nodiscard]] inline std::string instance_lease_name(std::uint32_t tag) { return "instance:" + instance_name(tag); }

/// The instance tag of stream number `stream` (its high half; see `make_stream_base`).
[[nodiscard]] inline std::uint32_t stream_instance_tag(std::uint64_t stream) noexcept {
    return static_cast<std::uint32_t>(stream >> 32);
}

/// Holds the lease `instance:<tag>` in `Store` while `run()` runs (`FailoverStore`):
/// takes it, renews it every third of `instance_lease_ttl()`, takes it again if it was
/// lost (e.g. Redis was down for longer than the lease), and gives it up in
/// `release()`. A failed renewal is retried at the next period; while the lease is not
/// held, taking it is retried every 50 ms (at most). Used from one
/// strand only (the transport's listener).
/// (Unconstrained, so that a transport can name it for any store; only a
/// `FailoverStore` instantiates it.)
template <class Store>
class InstanceLease {
public:
    /// `held` mirrors whether the lease is held, for readers on other threads (it must
    /// outlive this object).
    InstanceLease(Store& store, const asio::any_io_executor& executor, std::uint32_t tag, std::atomic<bool>& held)
        : store_(store), timer_(executor), name_(instance_lease_name(tag)), held_(held) {}

    /// Takes and renews the lease until `stop()`.
    asio::awaitable<void> run() {
        const std::chrono::milliseconds ttl = store_.instance_lease_ttl();
        while (!stopped_) {
            std::error_code ec;
            if (lease_) {
                const bool held = co_await store_.async_renew_lease(name_, *lease_, ttl, asio::redirect_error(asio::use_awaitable, ec));
                if (!ec && !held) lease_.reset();
                held_.store(lease_.has_value(), std::memory_order_relaxed);
            }
            if (!lease_ && !stopped_) {
                auto got = co_await store_.async_acquire_lease(name_, name_, ttl, asio::redirect_error(asio::use_awaitable, ec));
                if (!ec) lease_ = std::move(got);
                held_.store(lease_.has_value(), std::memory_order_relaxed);
            }
            if (stopped_) break;
            // Held: renew at a third of its life. Not held (the store was not reachable,
            // e.g. still connecting): try again soon.
            timer_.expires_after(lease_ ? ttl / 3 : std::min(ttl / 3, retry_interval));
            co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
    }

    /// Ends `run()` (at its next step).
    void stop() {
        stopped_ = true;
        timer_.cancel();
    }

    /// Gives the lease up, if held, so that other instances see at once that this one is
    /// gone.
    asio::awaitable<void> release() {
        if (!lease_) co_return;
        const Lease lease = *lease_;
        lease_.reset();
        held_.store(false, std::memory_order_relaxed);
        std::error_code ec;
        co_await store_.async_release_lease(name_, lease, asio::redirect_error(asio::use_awaitable, ec));
    }

private:
    static constexpr std::chrono::milliseconds retry_interval{50};
    Store& store_;
    asio::steady_timer timer_;
    std::string name_;
    std::optional<Lease> lease_;
    std::atomic<bool>& held_;  // lease_.has_value(), for other threads
    bool stopped_ = false;
};

}  // namespace mcpsse::detail
