// mcpsse: limits per client (per token subject, or per address) of an SseTransport.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace mcpsse {

/// Limits per client of an `SseTransport` (`SseTransportOptions::client_limits`), so that
/// no single client can take what all clients share (the session table, the threads).
///
/// A client is identified by its key: the subject of its bearer token when
/// `SseTransportOptions::authorization` accepted one, otherwise its address. The address
/// is the TCP peer's, or, when that peer is one of `trusted_proxies`, the client address
/// the proxy reports (`Forwarded: for=`, RFC 7239, else `X-Forwarded-For`; the last
/// address that is not itself a trusted proxy). Headers from any other peer are ignored,
/// so clients cannot choose their key.
///
/// Over a limit the request is answered 429 with `Retry-After` and a JSON-RPC error body
/// (`too_many_requests`, -32050, `data.limit` naming the limit), and observers get
/// `on_limit` with `limit` "client_limits.<member>" and `detail` the key. Zero disables a
/// limit. Every limit applies to the MCP endpoints only (not to the metadata document,
/// preflights or the host's routes).
struct ClientLimits {
    /// Sustained requests per second per client (token bucket refill rate, default 50);
    /// zero: no rate limit. Every HTTP request to an MCP endpoint takes one token.
    double requests_per_second = 50;
    /// Requests a client may send at once after being idle (the bucket's size, count).
    std::size_t request_burst = 100;
    /// Sessions one client may hold at once (count), well below
    /// `SseTransportOptions::max_sessions` so that no client can fill the table.
    std::size_t max_sessions = 1'000;
    /// SSE streams one client may hold open at once (GET streams of Streamable HTTP and
    /// legacy HTTP+SSE streams; count).
    std::size_t max_streams = 1'000;
    /// Connections one address may hold open at once (count); further connections get
    /// 429 and are closed. Counted by TCP peer address (a connection carries no token
    /// yet); trusted proxies and, with `exempt_loopback`, loopback peers are not limited.
    std::size_t max_connections = 256;
    /// Addresses or networks (CIDR, e.g. "10.0.0.0/8", "::1") of reverse proxies whose
    /// `Forwarded` / `X-Forwarded-For` fields are believed. Empty (the default): none.
    /// `SseTransport`'s constructor throws `std::invalid_argument` for a malformed entry.
    std::vector<std::string> trusted_proxies{};
    /// Clients keyed by a loopback address (no token subject) are not limited (default
    /// true): on loopback every local client, a reverse proxy in front included, shares
    /// one address until `trusted_proxies` names the proxy. Subjects are always limited.
    bool exempt_loopback = true;
    /// Clients tracked at most (count); the state of idle clients (no sessions, streams
    /// or connections, a full bucket) is dropped first. When every tracked client is
    /// busy, new keys are not limited until some are dropped.
    std::size_t max_clients = 100'000;
};

}  // namespace mcpsse
