// mcpsse: ClientLimits applied by an SseTransport: keys, slots and 429 answers.
#pragma once

#include <mcpsse/client_limits.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/http_message.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/http/request.hpp>
#include <mcpsse/detail/limits/client_key.hpp>
#include <mcpsse/detail/limits/client_table.hpp>

#include <asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mcpsse::detail {

/// One session, stream or connection a client holds, given back when released or
/// destroyed (whichever comes first). An empty slot holds nothing (an unlimited client).
/// Not thread-safe: one owner.
class ClientSlot {
public:
    ClientSlot() = default;
    ClientSlot(std::shared_ptr<ClientTable> table, ClientResource what, ClientTable::Entry* entry)
        : table_(std::move(table)), entry_(entry), what_(what) {}
    ClientSlot(ClientSlot&& o) noexcept
        : table_(std::move(o.table_)), entry_(std::exchange(o.entry_, nullptr)), what_(o.what_) {}
    ClientSlot& operator=(ClientSlot&& o) noexcept {
        if (this != &o) {
            release();
            table_ = std::move(o.table_);
            entry_ = std::exchange(o.entry_, nullptr);
            what_ = o.what_;
        }
        return *this;
    }
    ClientSlot(const ClientSlot&) = delete;
    ClientSlot& operator=(const ClientSlot&) = delete;
    ~ClientSlot() { release(); }

    /// Gives the slot back (once).
    void release() noexcept {
        if (table_ && entry_) table_->release(what_, entry_);
        entry_ = nullptr;
        table_.reset();
    }

private:
    std::shared_ptr<ClientTable> table_;  // shared: a session's slot may outlive the transport
    ClientTable::Entry* entry_ = nullptr;
    ClientResource what_ = ClientResource::session;
};

/// A refusal by `ClientLimits`: the limit's name and when to retry.
struct ClientRefusal {
    std::string_view limit;  // e.g. "client_limits.max_sessions"
    std::chrono::milliseconds retry_after{1'000};
    std::string key;
};

/// The transport's `ClientLimits`: the key of a request, its rate, and the slots of
/// sessions, streams and connections. Thread-safe.
class ClientLimiter {
public:
    /// Throws `std::invalid_argument` for a malformed trusted proxy.
    explicit ClientLimiter(const ClientLimits& limits)
        : limits_(limits), proxies_(limits.trusted_proxies), table_(std::make_shared<ClientTable>(limits_)) {}

    /// The key of `req` from `peer` (empty: not limited).
    [[nodiscard]] std::string key(const HttpRequest& req, const asio::ip::address& peer) const {
        return client_key(req, peer, proxies_, limits_.exempt_loopback);
    }

    /// True when requests from `peer` without a token are never limited: a loopback
    /// address under `exempt_loopback` that is not a trusted proxy (whose forwarding
    /// fields would name the client).
    [[nodiscard]] bool exempt_address(const asio::ip::address& peer) const {
        asio::ip::address a = peer;
        if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
        return limits_.exempt_loopback && a.is_loopback() && !proxies_.contains(a);
    }

    /// The key a new connection from `peer` counts under (empty: not limited).
    [[nodiscard]] std::string connection_key(const asio::ip::address& peer) const {
        asio::ip::address a = peer;
        if (a.is_v6() && a.to_v6().is_v4_mapped()) a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
        if ((limits_.exempt_loopback && a.is_loopback()) || proxies_.contains(a)) return {};
        return "ip:" + a.to_string();
    }

    /// True when a request rate is configured.
    [[nodiscard]] bool limits_rate() const noexcept { return limits_.requests_per_second > 0; }

    /// Takes a request token for `key`; the refusal when its bucket is empty.
    [[nodiscard]] std::optional<ClientRefusal> take_request(std::string_view key) {
        if (key.empty()) return std::nullopt;
        if (const auto wait = table_->take_request(key))
            return ClientRefusal{"client_limits.requests_per_second", std::max(*wait, std::chrono::milliseconds(1)),
                                 std::string(key)};
        return std::nullopt;
    }

    /// Puts a slot of `what` for `key` in `slot` (an empty one for an unlimited key);
    /// false, `slot` untouched, when `key` is at its limit.
    [[nodiscard]] bool acquire(ClientResource what, std::string_view key, ClientSlot& slot) {
        if (key.empty()) return true;
        bool refused = false;
        ClientTable::Entry* entry = table_->hold(what, key, refused);
        if (refused) return false;
        if (entry) slot = ClientSlot{table_, what, entry};
        return true;
    }

    /// The 429 answer to a client at its limit of `what` (`Retry-After: 5`).
    [[nodiscard]] static HttpResponse too_many_requests(ClientResource what) {
        return too_many_requests(ClientRefusal{name_of(what), std::chrono::seconds(5), {}});
    }

    /// The name of the limit on `what`, e.g. "client_limits.max_sessions".
    [[nodiscard]] static std::string_view name_of(ClientResource what) noexcept {
        switch (what) {
        case ClientResource::session: return "client_limits.max_sessions";
        case ClientResource::stream: return "client_limits.max_streams";
        case ClientResource::connection: break;
        }
        return "client_limits.max_connections";
    }

    /// The 429 answer to `refusal`: `Retry-After` in whole seconds (at least 1), a
    /// JSON-RPC `too_many_requests` (-32050) error with `data.limit`.
    [[nodiscard]] static HttpResponse too_many_requests(const ClientRefusal& refusal) {
        HttpResponse r;
        r.status = 429;
        r.content_type = "application/json";
        const auto seconds = std::max<long long>(1, (refusal.retry_after.count() + 999) / 1000);
        r.headers.emplace_back("Retry-After", std::to_string(seconds));
        r.body = json_rpc::serialize(ErrorResponse{std::nullopt, error_code::too_many_requests,
                                                   "Too Many Requests: per-client limit reached",
                                                   nlohmann::json{{"limit", refusal.limit}}});
        return r;
    }

    /// The counters (for tests and statistics).
    [[nodiscard]] const ClientTable& table() const noexcept { return *table_; }

private:
    const ClientLimits& limits_;
    TrustedProxies proxies_;
    std::shared_ptr<ClientTable> table_;
};

}  // namespace mcpsse::detail
