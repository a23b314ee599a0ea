// mcpsse: Prometheus metrics of an HTTP transport, counted from its observer events and
// served in the Prometheus text format 0.0.4 or OpenMetrics 1.0.0.
#pragma once

#include <mcpsse/detail/ops/bounded_labels.hpp>
#include <mcpsse/detail/ops/exposition.hpp>
#include <mcpsse/detail/ops/histogram.hpp>
#include <mcpsse/detail/ops/process_metrics.hpp>
#include <mcpsse/event_store.hpp>
#include <mcpsse/http_message.hpp>
#include <mcpsse/http_route.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/relay_store.hpp>
#include <mcpsse/transport_observer.hpp>

#include <asio/awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse {

/// A metrics exposition format: `ExpositionFormat::text` (Prometheus text format 0.0.4)
/// or `ExpositionFormat::openmetrics` (OpenMetrics 1.0.0).
using ExpositionFormat = detail::ops::ExpositionFormat;

/// The format to answer a scrape with, from its `Accept` field: OpenMetrics 1.0.0 when
/// `application/openmetrics-text` is listed with q > 0 and no `version` or
/// `version=1.0.0`, else the text format 0.0.4.
[[nodiscard]] constexpr ExpositionFormat negotiate_exposition(std::string_view accept) noexcept {
    return detail::ops::negotiate_exposition(accept);
}

/// The `Content-Type` of an exposition in `format`: "text/plain; version=0.0.4;
/// charset=utf-8" or "application/openmetrics-text; version=1.0.0; charset=utf-8".
[[nodiscard]] constexpr std::string_view exposition_content_type(ExpositionFormat format) noexcept {
    return detail::ops::content_type(format);
}

/// Settings of a `Metrics`: the caps that keep label cardinality bounded whatever
/// clients send (values past a cap are counted under the label value "other").
struct MetricsOptions {
    /// Distinct `tool` values of `mcpsse_tool_calls_total` (count). A tool name is only
    /// given a label of its own by a call that was not refused as unknown (-32601 or
    /// -32602), so clients calling made-up names cannot use up the cap.
    std::size_t max_tool_labels = 100;
    /// Distinct `route` values of the HTTP metrics (count).
    std::size_t max_route_labels = 64;
    /// Distinct `method` values of the JSON-RPC metrics (count), the MCP methods and
    /// `method_labels` included. Only those two kinds of names get a label of their own.
    std::size_t max_method_labels = 128;
    /// JSON-RPC methods of the host's own (e.g. "acme/reindex") to count under their
    /// own name rather than "other" (see also `Metrics::add_method_label`).
    std::vector<std::string> method_labels{};
    /// Export the `process_*` metrics (Linux only; absent elsewhere).
    bool process_metrics = true;
};

/// Prometheus metrics of an HTTP transport: a `TransportObserver` that counts what the
/// transport reports and renders it for a scraper (the Prometheus text exposition
/// format 0.0.4 or OpenMetrics 1.0.0, chosen by the scraper's `Accept`).
///
/// Metric families (the `mcpsse_` ones come from observer events; durations in seconds,
/// sizes in bytes):
/// - connections: `mcpsse_connections_open`, `mcpsse_connections_accepted_total`,
///   `mcpsse_connections_refused_total{reason}` (`max_connections`,
///   `client_limits.max_connections`), `mcpsse_tls_handshakes_failed_total`;
/// - HTTP: `mcpsse_http_requests_total{method,route,status}`,
///   `mcpsse_http_request_duration_seconds{route}` (a histogram from 0.5 ms to 60 s;
///   a stream's request lasts as long as its stream);
/// - sessions: `mcpsse_sessions_open{protocol_version}`,
///   `mcpsse_sessions_opened_total{protocol_version}`,
///   `mcpsse_sessions_ended_total{protocol_version,reason}`;
/// - SSE: `mcpsse_sse_streams_open{kind}`, `mcpsse_sse_streams_opened_total{kind}`,
///   `mcpsse_sse_events_sent_total`, `mcpsse_sse_sent_bytes_total`,
///   `mcpsse_sse_keep_alives_total`, `mcpsse_sse_resumptions_total`,
///   `mcpsse_sse_replayed_events_total`, `mcpsse_sse_slow_consumers_total`;
/// - JSON-RPC: `mcpsse_rpc_requests_total{method,outcome}`,
///   `mcpsse_rpc_request_duration_seconds{method}`, `mcpsse_rpc_requests_in_flight`,
///   `mcpsse_tool_calls_total{tool,outcome}`;
/// - event store (with `set_event_store_source`): `mcpsse_event_store_events`,
///   `mcpsse_event_store_bytes`, `mcpsse_event_store_evictions_total`;
/// - relay between instances (with `set_relay_source`, a `RelayStore`):
///   `mcpsse_relay_messages_sent_total`, `mcpsse_relay_messages_delivered_total`;
/// - limits and authorization: `mcpsse_limits_hit_total{limit}`,
///   `mcpsse_rate_limited_requests_total`, `mcpsse_authorization_failures_total{reason}`;
/// - `mcpsse_draining` (0 or 1, `set_draining`), the host's `add_gauge` gauges, and the
///   `process_*` metrics of the Prometheus client libraries (Linux).
///
/// Thread-safety: the observer members run concurrently from the transport's threads;
/// each event is a few relaxed atomic additions, without a lock, except the first time
/// a bounded label value (a route, a method, a tool, a limit, a refusal reason) is seen.
/// `render` may run concurrently with them; it reads each counter once, so series of one
/// scrape need not be mutually consistent (e.g. a request may be in its counter and not
/// yet in its histogram). The `set_*` and `add_*` members are thread-safe too.
class Metrics : public TransportObserver {
public:
    /// Metrics with `options`' label caps, every counter at 0.
    explicit Metrics(MetricsOptions options = {})
        : options_(std::move(options)),
          routes_(options_.max_route_labels),
          methods_(options_.max_method_labels),
          tools_(options_.max_tool_labels),
          limits_(max_limit_labels),
          auth_failures_(max_reason_labels) {
        for (const std::string& method : options_.method_labels) add_method_label(method);
    }

    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    /// Counts `method` (a JSON-RPC method of the host's own) under its own label value
    /// rather than "other", while `max_method_labels` allows. Thread-safe (takes a lock).
    void add_method_label(std::string_view method) { (void)methods_.at(method); }

    /// Sets where the `mcpsse_event_store_*` metrics come from, called at each scrape
    /// (e.g. `[&store] { return store.stats(); }` for an `InMemoryEventStore`); it must
    /// be thread-safe and must not block for long. Empty (the default): those metrics are
    /// not exported. Thread-safe.
    void set_event_store_source(std::function<EventStoreStats()> source) {
        std::lock_guard lock(scrape_mutex_);
        event_store_source_ = std::move(source);
    }

    /// Sets where the `mcpsse_relay_*` counters come from, called at each scrape (the
    /// transport sets it when its store is a `RelayStore`); thread-safe and fast. Empty
    /// (the default): not exported. Thread-safe.
    void set_relay_source(std::function<RelayStats()> source) {
        std::lock_guard lock(scrape_mutex_);
        relay_source_ = std::move(source);
    }

    /// Adds a gauge of the host's own, read by `read` at each scrape (thread-safe, fast).
    /// Throws `std::invalid_argument` when `name` is not a Prometheus metric name
    /// (`[a-zA-Z_:][a-zA-Z0-9_:]*`) or is already exported by this object. `help` is one
    /// line of text. Thread-safe.
    void add_gauge(std::string name, std::string help, std::function<double()> read) {
        if (!valid_metric_name(name)) throw std::invalid_argument("mcpsse::Metrics: invalid metric name: " + name);
        std::lock_guard lock(scrape_mutex_);
        if (builtin_name(name)) throw std::invalid_argument("mcpsse::Metrics: metric name already exported: " + name);
        for (const Gauge& g : gauges_)
            if (g.name == name) throw std::invalid_argument("mcpsse::Metrics: metric name already exported: " + name);
        gauges_.push_back({std::move(name), std::move(help), std::move(read)});
    }

    /// Sets `mcpsse_draining` (1 while the transport drains, else 0). Thread-safe, no lock.
    void set_draining(bool draining) noexcept { draining_.store(draining, std::memory_order_relaxed); }

    /// The exposition of every metric in `format` (OpenMetrics: ended by `# EOF`).
    /// Thread-safe; reads /proc for the `process_*` metrics (Linux).
    [[nodiscard]] std::string render(ExpositionFormat format) const;

    /// A route answering `GET path` with `render` in the format `negotiate_exposition`
    /// picks from the request's `Accept`, with `Cache-Control: no-store` and
    /// `Vary: Accept` (for `SseTransportOptions::routes`, or another listener's). The
    /// route refers to this object, which must outlive every transport serving it.
    [[nodiscard]] HttpRoute route(std::string path = "/metrics") const {
        return HttpRoute{"GET", std::move(path), [this](const HttpRequestHead& request) {
                             const auto format = negotiate_exposition(request.find("Accept").value_or(""));
                             HttpResponse response;
                             response.content_type = std::string(exposition_content_type(format));
                             response.body = render(format);
                             response.headers = {{"Cache-Control", "no-store"}, {"Vary", "Accept"}};
                             return ready(std::move(response));
                         }};
    }

    /// Counts an accepted connection (`mcpsse_connections_accepted_total`, `_open`).
    void on_connection_open(const ConnectionInfo&) override { bump(connections_opened_); }
    /// Counts a closed connection (`mcpsse_connections_open`).
    void on_connection_close(const ConnectionInfo&) override { bump(connections_closed_); }
    /// Counts a failed TLS handshake (`mcpsse_tls_handshakes_failed_total`).
    void on_handshake_failed(const ConnectionInfo&, std::error_code) override { bump(tls_failures_); }

    /// Counts an answered request (`mcpsse_http_requests_total`) and its duration
    /// (`mcpsse_http_request_duration_seconds`). Methods other than GET, POST, DELETE,
    /// OPTIONS, HEAD, PUT and PATCH count as "other"; an empty route as "other"; a
    /// status outside 0..999 as 0.
    void on_request(const RequestInfo& request) override {
        RouteCell& cell = routes_.at(request.route.empty() ? std::string_view("other") : request.route);
        const int status = request.status >= 0 && request.status <= 999 ? request.status : 0;
        cell.statuses.add(static_cast<std::uint32_t>(http_method_index(request.method)), static_cast<std::uint32_t>(status));
        cell.duration.observe(request.duration);
    }

    /// Counts an opened session (`mcpsse_sessions_opened_total`, `_open`).
    void on_session_open(const SessionInfo& session) override {
        bump(sessions_[revision_index(session.protocol_version)].opened);
    }
    /// Counts an ended session (`mcpsse_sessions_ended_total`, `_open`).
    void on_session_close(const SessionInfo& session, SessionEndReason reason) override {
        const auto r = static_cast<std::size_t>(reason);
        if (r < session_end_reasons.size()) bump(sessions_[revision_index(session.protocol_version)].ended[r]);
    }

    /// Counts a limit hit (`mcpsse_limits_hit_total`), and by limit: refused connections
    /// ("max_connections", "client_limits.max_connections"), rate-limited requests
    /// ("client_limits.requests_per_second") and slow consumers ("max_stream_queue_bytes").
    void on_limit(const LimitEvent& event) override {
        bump(limits_.at(event.limit.empty() ? std::string_view("other") : event.limit));
        if (event.limit == "max_connections") bump(refused_[0]);
        else if (event.limit == "client_limits.max_connections") bump(refused_[1]);
        else if (event.limit == "client_limits.requests_per_second") bump(rate_limited_);
        else if (event.limit == "max_stream_queue_bytes") bump(slow_consumers_);
    }

    /// Counts an opened stream (`mcpsse_sse_streams_opened_total`, `_open`), a resumption
    /// (`mcpsse_sse_resumptions_total`) and its replayed events.
    void on_stream_open(const StreamInfo& stream) override {
        const auto k = static_cast<std::size_t>(stream.kind);
        if (k < stream_kinds.size()) bump(streams_[k].opened);
        if (stream.resumed) bump(resumptions_);
        if (stream.replayed_events) replayed_events_.fetch_add(stream.replayed_events, std::memory_order_relaxed);
    }
    /// Counts a stream write: its events and bytes (keep-alive heartbeat events
    /// included), and keep-alives (`mcpsse_sse_keep_alives_total`).
    void on_stream_write(const StreamInfo&, const StreamWrite& write) override {
        if (write.events) events_sent_.fetch_add(write.events, std::memory_order_relaxed);
        if (write.bytes) bytes_sent_.fetch_add(write.bytes, std::memory_order_relaxed);
        if (write.keep_alive) bump(keep_alives_);
    }
    /// Counts a closed stream (`mcpsse_sse_streams_open`).
    void on_stream_close(const StreamInfo& stream) override {
        const auto k = static_cast<std::size_t>(stream.kind);
        if (k < stream_kinds.size()) bump(streams_[k].closed);
    }

    /// Counts a started handler (`mcpsse_rpc_requests_in_flight`).
    void on_rpc_request_start(std::string_view) override { bump(rpc_started_); }
    /// Counts an ended handler (`mcpsse_rpc_requests_total`, its duration, in flight) and,
    /// for `tools/call`, the tool's call (`mcpsse_tool_calls_total`).
    void on_rpc_request(const RpcRequestInfo& request) override {
        bump(rpc_ended_);
        const auto outcome = static_cast<std::size_t>(request.outcome);
        if (outcome >= rpc_outcomes.size()) return;
        RpcCell* cell = methods_.find(request.method);
        if (!cell) cell = known_mcp_method(request.method) ? &methods_.at(request.method) : &methods_.other();
        bump(cell->outcomes[outcome]);
        cell->duration.observe(request.duration);
        if (request.method != "tools/call") return;
        OutcomeCounts* tool = tools_.find(request.tool);
        if (!tool) {
            const bool refused_as_unknown = request.outcome == RpcOutcome::error &&
                                            (request.error_code == -32602 || request.error_code == -32601);
            tool = request.tool.empty() || refused_as_unknown ? &tools_.other() : &tools_.at(request.tool);
        }
        bump(tool->outcomes[outcome]);
    }

    /// Counts an authorization refusal (`status` not 0) by its reason
    /// (`mcpsse_authorization_failures_total`; an empty reason counts as "other").
    void on_authorization(const AuthorizationEvent& event) override {
        if (event.status == 0) return;
        bump(auth_failures_.at(event.reason.empty() ? std::string_view("other") : event.reason));
    }

    /// The JSON-RPC method names of MCP (requests a server receives, revisions
    /// 2024-11-05 to 2026-07-28) that count under their own label value.
    static constexpr std::array<std::string_view, 19> mcp_methods{
        "initialize",         "ping",          "tools/list",          "tools/call",     "resources/list",
        "resources/read",     "resources/templates/list",             "resources/subscribe",
        "resources/unsubscribe", "prompts/list", "prompts/get",       "completion/complete",
        "logging/setLevel",   "tasks/get",     "tasks/list",          "tasks/result",   "tasks/cancel",
        "server/discover",    "subscriptions/listen"};

private:
    using Counter = std::atomic<std::uint64_t>;

    static constexpr std::size_t max_limit_labels = 64;
    static constexpr std::size_t max_reason_labels = 32;
    static constexpr std::array<std::string_view, 7> http_methods{"GET", "POST", "DELETE", "OPTIONS",
                                                                  "HEAD", "PUT", "PATCH"};
    static constexpr std::array<std::string_view, 4> rpc_outcomes{"success", "error", "cancelled", "timed_out"};
    static constexpr std::array<std::string_view, 6> session_end_reasons{"deleted", "idle", "stream_closed",
                                                                         "stopped", "limit", "closed"};
    static constexpr std::array<std::string_view, 3> stream_kinds{"response", "standalone", "legacy"};
    static constexpr std::array<std::string_view, 2> refusal_reasons{"max_connections",
                                                                     "client_limits.max_connections"};
    static constexpr std::size_t revision_count = std::size(protocol_version::revisions);

    // (method, status) -> count without a lock: slots claimed by compare-exchange of their
    // key; when all are taken further pairs count in `overflow` (method and status "other").
    class StatusCounts {
    public:
        void add(std::uint32_t method, std::uint32_t status) noexcept {
            const std::uint32_t key = ((method + 1) << 16) | status;
            std::size_t i = (key * 2654435761u) % slots_.size();
            for (std::size_t n = 0; n < slots_.size(); ++n, i = (i + 1) % slots_.size()) {
                std::uint32_t seen = slots_[i].key.load(std::memory_order_acquire);
                if (seen == 0 && slots_[i].key.compare_exchange_strong(seen, key, std::memory_order_acq_rel))
                    seen = key;
                if (seen == key) {
                    slots_[i].count.fetch_add(1, std::memory_order_relaxed);
                    return;
                }
            }
            overflow_.fetch_add(1, std::memory_order_relaxed);
        }
        // Calls visit(method index, status, count) for each pair seen.
        template <class Visit>
        void for_each(Visit&& visit) const {
            for (const Slot& slot : slots_) {
                const std::uint32_t key = slot.key.load(std::memory_order_acquire);
                if (key) visit(static_cast<std::size_t>((key >> 16) - 1), key & 0xFFFF, slot.count.load(std::memory_order_relaxed));
            }
        }
        std::uint64_t overflow() const noexcept { return overflow_.load(std::memory_order_relaxed); }

    private:
        struct Slot {
            std::atomic<std::uint32_t> key{0};
            Counter count{0};
        };
        std::array<Slot, 64> slots_{};
        Counter overflow_{0};
    };
    struct RouteCell {
        StatusCounts statuses;
        detail::ops::Histogram duration;
    };
    struct OutcomeCounts {
        std::array<Counter, 4> outcomes{};
    };
    struct RpcCell {
        std::array<Counter, 4> outcomes{};
        detail::ops::Histogram duration;
    };
    struct SessionCounts {
        Counter opened{0};
        std::array<Counter, session_end_reasons.size()> ended{};
    };
    struct StreamCounts {
        Counter opened{0};
        Counter closed{0};
    };
    struct Gauge {
        std::string name;
        std::string help;
        std::function<double()> read;
    };

    static void bump(Counter& counter) noexcept { counter.fetch_add(1, std::memory_order_relaxed); }
    static std::uint64_t load(const Counter& counter) noexcept { return counter.load(std::memory_order_relaxed); }
    // opened - closed, read closed first so a concurrent pair never shows as negative.
    static std::uint64_t open_count(const Counter& opened, const Counter& closed) noexcept {
        const std::uint64_t c = load(closed);
        const std::uint64_t o = load(opened);
        return o > c ? o - c : 0;
    }

    static asio::awaitable<HttpResponse> ready(HttpResponse response) { co_return response; }

    static std::size_t http_method_index(std::string_view method) noexcept {
        for (std::size_t i = 0; i < http_methods.size(); ++i)
            if (http_methods[i] == method) return i;
        return http_methods.size();
    }
    static std::string_view http_method_name(std::size_t index) noexcept {
        return index < http_methods.size() ? http_methods[index] : std::string_view("other");
    }
    static std::size_t revision_index(std::string_view version) noexcept {
        for (std::size_t i = 0; i < revision_count; ++i)
            if (protocol_version::revisions[i].version == version) return i;
        return revision_count;  // "other"
    }
    static bool known_mcp_method(std::string_view method) noexcept {
        for (const std::string_view m : mcp_methods)
            if (m == method) return true;
        return false;
    }
    static bool valid_metric_name(std::string_view name) noexcept {
        if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
        for (const char c : name)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':'))
                return false;
        return true;
    }
    static bool builtin_name(std::string_view name) noexcept {
        // Every sample name this class may write, so a host gauge cannot clash with one.
        static constexpr std::string_view builtin[] = {
            "mcpsse_connections_open", "mcpsse_connections_accepted_total", "mcpsse_connections_refused_total",
            "mcpsse_tls_handshakes_failed_total", "mcpsse_http_requests_total",
            "mcpsse_http_request_duration_seconds", "mcpsse_sessions_open", "mcpsse_sessions_opened_total",
            "mcpsse_sessions_ended_total", "mcpsse_sse_streams_open", "mcpsse_sse_streams_opened_total",
            "mcpsse_sse_events_sent_total", "mcpsse_sse_sent_bytes_total", "mcpsse_sse_keep_alives_total",
            "mcpsse_sse_resumptions_total", "mcpsse_sse_replayed_events_total", "mcpsse_sse_slow_consumers_total",
            "mcpsse_rpc_requests_total", "mcpsse_rpc_request_duration_seconds", "mcpsse_rpc_requests_in_flight",
            "mcpsse_tool_calls_total", "mcpsse_event_store_events", "mcpsse_event_store_bytes",
            "mcpsse_event_store_evictions_total", "mcpsse_limits_hit_total", "mcpsse_rate_limited_requests_total",
            "mcpsse_authorization_failures_total", "mcpsse_draining", "process_cpu_seconds_total",
            "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
            "process_max_fds", "process_start_time_seconds"};
        for (std::string_view b : builtin) {
            // Also the family name (without _total) and a histogram's sample names.
            if (name == b) return true;
            if (b.ends_with("_total") && name == b.substr(0, b.size() - 6)) return true;
            if (b.ends_with("_seconds") && name.starts_with(b) &&
                (name.substr(b.size()) == "_bucket" || name.substr(b.size()) == "_count" ||
                 name.substr(b.size()) == "_sum"))
                return true;
        }
        return false;
    }

    MetricsOptions options_;

    Counter connections_opened_{0};
    Counter connections_closed_{0};
    std::array<Counter, 2> refused_{};
    Counter tls_failures_{0};

    detail::ops::BoundedLabels<RouteCell> routes_;

    std::array<SessionCounts, revision_count + 1> sessions_{};  // the last one: "other"

    std::array<StreamCounts, 3> streams_{};
    Counter events_sent_{0};
    Counter bytes_sent_{0};
    Counter keep_alives_{0};
    Counter resumptions_{0};
    Counter replayed_events_{0};
    Counter slow_consumers_{0};

    Counter rpc_started_{0};
    Counter rpc_ended_{0};
    detail::ops::BoundedLabels<RpcCell> methods_;
    detail::ops::BoundedLabels<OutcomeCounts> tools_;

    detail::ops::BoundedLabels<Counter> limits_;
    Counter rate_limited_{0};
    detail::ops::BoundedLabels<Counter> auth_failures_;

    std::atomic<bool> draining_{false};

    mutable std::mutex scrape_mutex_;  // guards the two below (never taken by events)
    std::function<EventStoreStats()> event_store_source_;
    std::function<RelayStats()> relay_source_;
    std::vector<Gauge> gauges_;
};

inline std::string Metrics::render(ExpositionFormat format) const {
    using detail::ops::Label;
    using detail::ops::MetricType;
    detail::ops::ExpositionWriter w(format);

    w.family("mcpsse_connections_open", MetricType::gauge, "Open connections.");
    w.sample(open_count(connections_opened_, connections_closed_));
    w.family("mcpsse_connections_accepted_total", MetricType::counter, "Accepted connections.");
    w.sample(load(connections_opened_));
    w.family("mcpsse_connections_refused_total", MetricType::counter,
             "Connections refused over a connection limit, by limit.");
    for (std::size_t i = 0; i < refusal_reasons.size(); ++i) {
        const Label labels[] = {{"reason", refusal_reasons[i]}};
        w.sample(labels, load(refused_[i]));
    }
    w.family("mcpsse_tls_handshakes_failed_total", MetricType::counter, "Failed TLS handshakes.");
    w.sample(load(tls_failures_));

    w.family("mcpsse_http_requests_total", MetricType::counter,
             "Answered HTTP requests (a stream's when it ends), by method, route and status.");
    routes_.for_each([&](std::string_view route, const RouteCell& cell) {
        struct Row {
            std::string_view method;
            std::uint32_t status;
            std::uint64_t count;
        };
        std::vector<Row> rows;
        cell.statuses.for_each([&](std::size_t method, std::uint32_t status, std::uint64_t count) {
            rows.push_back({http_method_name(method), status, count});
        });
        std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
            return a.method != b.method ? a.method < b.method : a.status < b.status;
        });
        for (const Row& row : rows) {
            const std::string status = std::to_string(row.status);
            const Label labels[] = {{"method", row.method}, {"route", route}, {"status", status}};
            w.sample(labels, row.count);
        }
        if (const std::uint64_t n = cell.statuses.overflow()) {
            const Label labels[] = {{"method", "other"}, {"route", route}, {"status", "other"}};
            w.sample(labels, n);
        }
    });
    w.family("mcpsse_http_request_duration_seconds", MetricType::histogram,
             "Time from a request's arrival to its response's end (a stream's whole life), by route.");
    routes_.for_each([&](std::string_view route, const RouteCell& cell) {
        const auto s = cell.duration.snapshot();
        if (route == "other" && s.count == 0) return;
        const Label labels[] = {{"route", route}};
        w.histogram(labels, cell.duration.bounds(), s.cumulative, s.count, s.sum_seconds);
    });

    w.family("mcpsse_sessions_open", MetricType::gauge, "Open MCP sessions, by protocol revision.");
    const auto version_name = [](std::size_t i) {
        return i < revision_count ? protocol_version::revisions[i].version : std::string_view("other");
    };
    for (std::size_t i = 0; i <= revision_count; ++i) {
        std::uint64_t ended = 0;
        for (const Counter& c : sessions_[i].ended) ended += load(c);
        const std::uint64_t opened = load(sessions_[i].opened);
        const Label labels[] = {{"protocol_version", version_name(i)}};
        w.sample(labels, opened > ended ? opened - ended : 0);
    }
    w.family("mcpsse_sessions_opened_total", MetricType::counter, "Opened MCP sessions, by protocol revision.");
    for (std::size_t i = 0; i <= revision_count; ++i) {
        const Label labels[] = {{"protocol_version", version_name(i)}};
        w.sample(labels, load(sessions_[i].opened));
    }
    w.family("mcpsse_sessions_ended_total", MetricType::counter,
             "Ended MCP sessions, by protocol revision and reason.");
    for (std::size_t i = 0; i <= revision_count; ++i) {
        for (std::size_t r = 0; r < session_end_reasons.size(); ++r) {
            const Label labels[] = {{"protocol_version", version_name(i)}, {"reason", session_end_reasons[r]}};
            w.sample(labels, load(sessions_[i].ended[r]));
        }
    }

    w.family("mcpsse_sse_streams_open", MetricType::gauge, "Open SSE streams, by kind.");
    for (std::size_t k = 0; k < stream_kinds.size(); ++k) {
        const Label labels[] = {{"kind", stream_kinds[k]}};
        w.sample(labels, open_count(streams_[k].opened, streams_[k].closed));
    }
    w.family("mcpsse_sse_streams_opened_total", MetricType::counter, "Opened SSE streams, by kind.");
    for (std::size_t k = 0; k < stream_kinds.size(); ++k) {
        const Label labels[] = {{"kind", stream_kinds[k]}};
        w.sample(labels, load(streams_[k].opened));
    }
    w.family("mcpsse_sse_events_sent_total", MetricType::counter, "SSE events written (with data).");
    w.sample(load(events_sent_));
    w.family("mcpsse_sse_sent_bytes_total", MetricType::counter, "Bytes of SSE text written.");
    w.sample(load(bytes_sent_));
    w.family("mcpsse_sse_keep_alives_total", MetricType::counter, "Keep-alives written on idle SSE streams.");
    w.sample(load(keep_alives_));
    w.family("mcpsse_sse_resumptions_total", MetricType::counter, "SSE streams resumed after Last-Event-ID (live, or replayed from the event store).");
    w.sample(load(resumptions_));
    w.family("mcpsse_sse_replayed_events_total", MetricType::counter, "SSE events replayed to resumed streams.");
    w.sample(load(replayed_events_));
    w.family("mcpsse_sse_slow_consumers_total", MetricType::counter,
             "SSE streams ended because their queue passed max_stream_queue_bytes.");
    w.sample(load(slow_consumers_));

    w.family("mcpsse_rpc_requests_total", MetricType::counter,
             "JSON-RPC requests whose handler ran, by method and outcome.");
    methods_.for_each([&](std::string_view method, const RpcCell& cell) {
        std::uint64_t total = 0;
        for (const Counter& c : cell.outcomes) total += load(c);
        if (method == "other" && total == 0) return;
        for (std::size_t o = 0; o < rpc_outcomes.size(); ++o) {
            const Label labels[] = {{"method", method}, {"outcome", rpc_outcomes[o]}};
            w.sample(labels, load(cell.outcomes[o]));
        }
    });
    w.family("mcpsse_rpc_request_duration_seconds", MetricType::histogram,
             "Time from a JSON-RPC handler's start to its end, by method.");
    methods_.for_each([&](std::string_view method, const RpcCell& cell) {
        const auto s = cell.duration.snapshot();
        if (method == "other" && s.count == 0) return;
        const Label labels[] = {{"method", method}};
        w.histogram(labels, cell.duration.bounds(), s.cumulative, s.count, s.sum_seconds);
    });
    w.family("mcpsse_rpc_requests_in_flight", MetricType::gauge, "JSON-RPC handlers running.");
    w.sample(open_count(rpc_started_, rpc_ended_));
    w.family("mcpsse_tool_calls_total", MetricType::counter, "tools/call requests, by tool and outcome.");
    tools_.for_each([&](std::string_view tool, const OutcomeCounts& cell) {
        std::uint64_t total = 0;
        for (const Counter& c : cell.outcomes) total += load(c);
        if (tool == "other" && total == 0) return;
        for (std::size_t o = 0; o < rpc_outcomes.size(); ++o) {
            const Label labels[] = {{"tool", tool}, {"outcome", rpc_outcomes[o]}};
            w.sample(labels, load(cell.outcomes[o]));
        }
    });

    w.family("mcpsse_limits_hit_total", MetricType::counter, "Times a configured limit refused or ended something, by limit.");
    limits_.for_each([&](std::string_view limit, const Counter& c) {
        if (limit == "other" && load(c) == 0) return;
        const Label labels[] = {{"limit", limit}};
        w.sample(labels, load(c));
    });
    w.family("mcpsse_rate_limited_requests_total", MetricType::counter,
             "Requests refused by client_limits.requests_per_second.");
    w.sample(load(rate_limited_));
    w.family("mcpsse_authorization_failures_total", MetricType::counter,
             "Requests refused by authorization (401, 403, 503), by reason.");
    auth_failures_.for_each([&](std::string_view reason, const Counter& c) {
        if (reason == "other" && load(c) == 0) return;
        const Label labels[] = {{"reason", reason}};
        w.sample(labels, load(c));
    });

    w.family("mcpsse_draining", MetricType::gauge, "1 while the transport drains, else 0.");
    w.sample(std::uint64_t{draining_.load(std::memory_order_relaxed) ? 1u : 0u});

    {
        std::lock_guard lock(scrape_mutex_);
        if (event_store_source_) {
            const EventStoreStats stats = event_store_source_();
            w.family("mcpsse_event_store_events", MetricType::gauge, "Events kept for replay.");
            w.sample(stats.events);
            w.family("mcpsse_event_store_bytes", MetricType::gauge, "Bytes of message text kept for replay.");
            w.sample(stats.bytes);
            w.family("mcpsse_event_store_evictions_total", MetricType::counter,
                     "Events evicted from the replay store over its limits.");
            w.sample(stats.evictions);
        }
        if (relay_source_) {
            const RelayStats relayed = relay_source_();
            w.family("mcpsse_relay_messages_sent_total", MetricType::counter,
                     "Messages relayed to other instances through the shared store.");
            w.sample(relayed.sent);
            w.family("mcpsse_relay_messages_delivered_total", MetricType::counter,
                     "Messages relayed from other instances and delivered here.");
            w.sample(relayed.delivered);
        }
        for (const Gauge& g : gauges_) {
            w.family(g.name, MetricType::gauge, g.help);
            w.sample(g.read ? g.read() : 0.0);
        }
    }

    if (options_.process_metrics) {
        if (const auto p = detail::ops::read_process_stats()) {
            w.family("process_cpu_seconds_total", MetricType::counter, "Total user and system CPU time spent in seconds.");
            w.sample(p->cpu_seconds);
            w.family("process_resident_memory_bytes", MetricType::gauge, "Resident memory size in bytes.");
            w.sample(p->resident_memory_bytes);
            w.family("process_virtual_memory_bytes", MetricType::gauge, "Virtual memory size in bytes.");
            w.sample(p->virtual_memory_bytes);
            w.family("process_open_fds", MetricType::gauge, "Number of open file descriptors.");
            w.sample(p->open_fds);
            if (p->max_fds) {
                w.family("process_max_fds", MetricType::gauge, "Maximum number of open file descriptors.");
                w.sample(*p->max_fds);
            }
            w.family("process_start_time_seconds", MetricType::gauge,
                     "Start time of the process since the Unix epoch in seconds.");
            w.sample(p->start_time_seconds);
        }
    }
    return w.finish();
}

}  // namespace mcpsse
