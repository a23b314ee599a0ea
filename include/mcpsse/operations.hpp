// mcpsse: what operators of a service need from a transport: health, readiness, metrics,
// draining and heartbeats browsers can see.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace mcpsse {

/// Operations settings of an `SseTransport` (`SseTransportOptions::operations`). Every
/// path is off (empty) by default; paths must differ from the MCP paths and the host's
/// routes. Their answers carry `Cache-Control: no-store` and small JSON bodies.
struct OperationsOptions {
    /// Liveness, e.g. "/healthz": 200 `{"status":"ok"}` whenever the event loop answers
    /// (also while draining). Empty: not served.
    std::string health_path{};
    /// Readiness, e.g. "/readyz": 503 `{"status":"draining"}` while draining (`drain()`,
    /// `stop()`), 503 `{"status":"full"}` while the session table is at `max_sessions`,
    /// 503 `{"status":"not_ready"}` when `ready` returns false or, with a
    /// `FailoverStore`, while the instance does not hold its lease (the other instances
    /// would count it as gone), else 200 `{"status":"ready"}`. Empty: not served.
    std::string readiness_path{};
    /// The host's own readiness (e.g. its database answers); called on the I/O thread
    /// for each readiness request, must not block. Empty: always ready.
    std::function<bool()> ready{};
    /// Prometheus metrics of this transport, e.g. "/metrics" (text format 0.0.4, or
    /// OpenMetrics 1.0 when the scraper's `Accept` asks for it). Empty: not served here;
    /// counting still happens when `metrics` is true (serve them on another listener
    /// with `SseTransport::metrics()`).
    std::string metrics_path{};
    /// Count metrics (implied by a `metrics_path`). Off, nothing is counted.
    bool metrics = false;
    /// Distinct `tool` label values of `mcpsse_tool_calls_total` (count); calls of
    /// further tools count under `tool="other"`.
    std::size_t max_tool_labels = 100;
    /// Require authorization (`SseTransportOptions::authorization`) on these paths too.
    /// Default false: load balancers and scrapers carry no token.
    bool protect = false;
    /// Time `drain()` lets open sessions' requests finish, in ms, before stopping as
    /// `stop()` does. Idle sessions do not extend it.
    std::chrono::milliseconds drain_timeout{30'000};
    /// The SSE `retry:` hint (ms) sent on standalone and legacy streams closed by
    /// `drain()`, so clients reconnect (to another instance) after it.
    std::chrono::milliseconds drain_retry{1'000};
    /// An SSE event name (e.g. "heartbeat") sent, with `data: {"time":"<RFC 3339>"}` and
    /// no `id:`, instead of the `: keep-alive` comment on legacy and standalone GET
    /// streams every `keep_alive_interval` (browsers' EventSource never surfaces
    /// comments). Empty (the default): comments only.
    std::string heartbeat_event{};
};

}  // namespace mcpsse
