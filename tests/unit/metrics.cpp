// Tests of include/mcpsse/metrics.hpp and its detail/ops parts: the exposition writer
// (text 0.0.4, OpenMetrics 1.0.0), Accept negotiation, the histogram, bounded labels and
// the counts Metrics keeps from observer events.
#include <mcpsse/metrics.hpp>

#include "support/catch.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using mcpsse::ExpositionFormat;
using mcpsse::Metrics;
using mcpsse::MetricsOptions;
using namespace std::chrono_literals;

namespace {

// The lines of `text` that start with `prefix` (e.g. a sample name), in order.
std::vector<std::string> lines_with(const std::string& text, std::string_view prefix) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(prefix)) out.push_back(line);
    return out;
}

bool has_line(const std::string& text, std::string_view line) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l == line) return true;
    return false;
}

mcpsse::ConnectionInfo connection{};

mcpsse::RequestInfo request(std::string_view method, std::string_view route, int status,
                            std::chrono::steady_clock::duration duration = 1ms) {
    mcpsse::RequestInfo r{connection, method, "/x"};
    r.status = status;
    r.route = route;
    r.duration = duration;
    return r;
}

mcpsse::RpcRequestInfo rpc(std::string_view method, mcpsse::RpcOutcome outcome, std::string_view tool = {},
                           int error_code = 0) {
    mcpsse::RpcRequestInfo r;
    r.method = method;
    r.tool = tool;
    r.outcome = outcome;
    r.error_code = error_code;
    r.duration = 2ms;
    return r;
}

MetricsOptions no_process() {
    MetricsOptions o;
    o.process_metrics = false;
    return o;
}

}  // namespace

TEST_CASE("metrics: negotiate_exposition picks OpenMetrics 1.0.0 only when Accept asks for it") {
    using F = ExpositionFormat;
    CHECK(mcpsse::negotiate_exposition("") == F::text);
    CHECK(mcpsse::negotiate_exposition("*/*") == F::text);
    CHECK(mcpsse::negotiate_exposition("text/plain;version=0.0.4") == F::text);
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text") == F::openmetrics);
    CHECK(mcpsse::negotiate_exposition("Application/OpenMetrics-Text; Version=1.0.0") == F::openmetrics);
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text;version=\"1.0.0\";q=0.5") == F::openmetrics);
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text;version=0.0.1") == F::text);
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text;q=0") == F::text);
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text;q=0.000") == F::text);
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text;q=0.001") == F::openmetrics);
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text;q=bogus") == F::text);
    // What Prometheus sends.
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                                       "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1") ==
          F::openmetrics);
    CHECK(mcpsse::negotiate_exposition("application/openmetrics-text;version=0.0.1;q=0.75, "
                                       "application/openmetrics-text ; q=0.2") == F::openmetrics);
    CHECK(mcpsse::exposition_content_type(F::text) == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(mcpsse::exposition_content_type(F::openmetrics) ==
          "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

TEST_CASE("metrics: the writer names counter families per format, writes UNIT, escapes and formats numbers") {
    using mcpsse::detail::ops::ExpositionWriter;
    using mcpsse::detail::ops::Label;
    using mcpsse::detail::ops::MetricType;
    const auto write = [](ExpositionFormat format) {
        ExpositionWriter w(format);
        w.family("x_sent_bytes_total", MetricType::counter, "Help with \\ and \"quote\"\nand a line.");
        const Label labels[] = {{"v", "a\\b\"c\nd"}};
        w.sample(labels, std::uint64_t{7});
        w.family("x_ratio", MetricType::gauge, "g");
        w.sample(0.25);
        w.sample(std::span<const Label>(), 3.0);
        w.sample(std::span<const Label>(), 1e21);
        w.sample(std::span<const Label>(), std::numeric_limits<double>::infinity());
        w.sample(std::span<const Label>(), -std::numeric_limits<double>::infinity());
        w.sample(std::span<const Label>(), std::numeric_limits<double>::quiet_NaN());
        return w.finish();
    };
    const std::string text = write(ExpositionFormat::text);
    CHECK(text ==
          "# HELP x_sent_bytes_total Help with \\\\ and \"quote\"\\nand a line.\n"
          "# TYPE x_sent_bytes_total counter\n"
          "x_sent_bytes_total{v=\"a\\\\b\\\"c\\nd\"} 7\n"
          "# HELP x_ratio g\n"
          "# TYPE x_ratio gauge\n"
          "x_ratio 0.25\nx_ratio 3\nx_ratio 1e+21\nx_ratio +Inf\nx_ratio -Inf\nx_ratio NaN\n");
    const std::string om = write(ExpositionFormat::openmetrics);
    CHECK(om.starts_with("# HELP x_sent_bytes Help with \\\\ and \\\"quote\\\"\\nand a line.\n"
                         "# TYPE x_sent_bytes counter\n"
                         "# UNIT x_sent_bytes bytes\n"
                         "x_sent_bytes_total{v=\"a\\\\b\\\"c\\nd\"} 7\n"));
    CHECK(om.ends_with("x_ratio NaN\n# EOF\n"));
}

TEST_CASE("metrics: histogram buckets are cumulative, with +Inf, _count and _sum") {
    mcpsse::detail::ops::Histogram h;
    h.observe(300us);   // <= 0.0005
    h.observe(500us);   // exactly on the bound: le="0.0005"
    h.observe(2ms);     // <= 0.0025
    h.observe(61s);     // above every bound
    h.observe(-5ms);    // counts as 0
    const auto s = h.snapshot();
    CHECK(s.cumulative[0] == 3);
    CHECK(s.cumulative[1] == 3);
    CHECK(s.cumulative[2] == 4);
    CHECK(s.cumulative.back() == 4);
    CHECK(s.count == 5);
    CHECK(s.sum_seconds == Approx(61.0028));

    using mcpsse::detail::ops::Label;
    mcpsse::detail::ops::ExpositionWriter w(ExpositionFormat::text);
    w.family("d_seconds", mcpsse::detail::ops::MetricType::histogram, "h");
    const Label labels[] = {{"route", "mcp"}};
    w.histogram(labels, h.bounds(), s.cumulative, s.count, s.sum_seconds);
    const std::string out = w.finish();
    CHECK(has_line(out, "d_seconds_bucket{route=\"mcp\",le=\"0.0005\"} 3"));
    CHECK(has_line(out, "d_seconds_bucket{route=\"mcp\",le=\"0.0025\"} 4"));
    CHECK(has_line(out, "d_seconds_bucket{route=\"mcp\",le=\"1.0\"} 4"));
    CHECK(has_line(out, "d_seconds_bucket{route=\"mcp\",le=\"60.0\"} 4"));
    CHECK(has_line(out, "d_seconds_bucket{route=\"mcp\",le=\"+Inf\"} 5"));
    CHECK(has_line(out, "d_seconds_count{route=\"mcp\"} 5"));
    CHECK(lines_with(out, "d_seconds_sum{route=\"mcp\"} 61.00").size() == 1);
    CHECK(lines_with(out, "d_seconds_bucket").size() == mcpsse::detail::ops::latency_bounds.size() + 1);
}

TEST_CASE("metrics: bounded labels give each value its cell up to the cap, then share \"other\"") {
    mcpsse::detail::ops::BoundedLabels<std::atomic<std::uint64_t>> labels(3);
    for (const char* v : {"a", "b", "c", "d", "e", "a", "other"}) labels.at(v).fetch_add(1);
    CHECK(labels.size() == 3);
    CHECK(labels.find("a")->load() == 2);
    CHECK(labels.find("d") == nullptr);
    CHECK(labels.other().load() == 3);  // d, e, and "other" itself
    std::vector<std::string> order;
    labels.for_each([&](std::string_view v, const std::atomic<std::uint64_t>&) { order.emplace_back(v); });
    CHECK(order == std::vector<std::string>{"a", "b", "c", "other"});

    // Concurrent first sightings of the same values make one cell each.
    mcpsse::detail::ops::BoundedLabels<std::atomic<std::uint64_t>> shared(100);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) shared.at("v" + std::to_string(i % 50)).fetch_add(1);
        });
    for (auto& t : threads) t.join();
    CHECK(shared.size() == 50);
    std::uint64_t total = 0;
    shared.for_each([&](std::string_view, const std::atomic<std::uint64_t>& c) { total += c.load(); });
    CHECK(total == 4000);
}

TEST_CASE("metrics: connection, HTTP, session and stream counts move as the events say") {
    Metrics m(no_process());
    m.on_connection_open(connection);
    m.on_connection_open(connection);
    m.on_connection_open(connection);
    m.on_connection_close(connection);
    m.on_handshake_failed(connection, std::make_error_code(std::errc::connection_reset));
    m.on_limit({"max_connections", {}, &connection});
    m.on_limit({"client_limits.max_connections", "10.0.0.1", &connection});
    m.on_limit({"client_limits.max_connections", "10.0.0.1", &connection});
    m.on_request(request("POST", "mcp", 200, 3ms));
    m.on_request(request("POST", "mcp", 200, 70s));
    m.on_request(request("GET", "mcp", 405));
    m.on_request(request("BREW", "/healthz", 200));
    m.on_request(request("GET", "", 404));

    mcpsse::SessionInfo s1{"s1", "2025-11-25"};
    mcpsse::SessionInfo s2{"s2", "2024-11-05", true};
    mcpsse::SessionInfo s3{"s3", "1999-01-01"};
    m.on_session_open(s1);
    m.on_session_open(s2);
    m.on_session_open(s3);
    m.on_session_close(s2, mcpsse::SessionEndReason::stream_closed);

    mcpsse::StreamInfo standalone{connection, mcpsse::StreamKind::standalone};
    standalone.resumed = true;
    standalone.replayed_events = 4;
    mcpsse::StreamInfo response{connection, mcpsse::StreamKind::response};
    m.on_stream_open(standalone);
    m.on_stream_open(response);
    m.on_stream_write(response, {2, 300, false});
    m.on_stream_write(standalone, {0, 14, true});
    m.on_stream_close(response);
    m.on_limit({"max_stream_queue_bytes", {}, &connection});
    m.set_draining(true);

    const std::string text = m.render(ExpositionFormat::text);
    CAPTURE(text);
    CHECK(has_line(text, "mcpsse_connections_open 2"));
    CHECK(has_line(text, "mcpsse_connections_accepted_total 3"));
    CHECK(has_line(text, "mcpsse_connections_refused_total{reason=\"max_connections\"} 1"));
    CHECK(has_line(text, "mcpsse_connections_refused_total{reason=\"client_limits.max_connections\"} 2"));
    CHECK(has_line(text, "mcpsse_tls_handshakes_failed_total 1"));
    CHECK(lines_with(text, "mcpsse_http_requests_total{") ==
          std::vector<std::string>{
              "mcpsse_http_requests_total{method=\"other\",route=\"/healthz\",status=\"200\"} 1",
              "mcpsse_http_requests_total{method=\"GET\",route=\"mcp\",status=\"405\"} 1",
              "mcpsse_http_requests_total{method=\"POST\",route=\"mcp\",status=\"200\"} 2",
              "mcpsse_http_requests_total{method=\"GET\",route=\"other\",status=\"404\"} 1",
          });
    CHECK(has_line(text, "mcpsse_http_request_duration_seconds_bucket{route=\"mcp\",le=\"0.001\"} 1"));
    CHECK(has_line(text, "mcpsse_http_request_duration_seconds_bucket{route=\"mcp\",le=\"0.005\"} 2"));
    CHECK(has_line(text, "mcpsse_http_request_duration_seconds_bucket{route=\"mcp\",le=\"60.0\"} 2"));
    CHECK(has_line(text, "mcpsse_http_request_duration_seconds_bucket{route=\"mcp\",le=\"+Inf\"} 3"));
    CHECK(has_line(text, "mcpsse_http_request_duration_seconds_count{route=\"mcp\"} 3"));
    CHECK(has_line(text, "mcpsse_http_request_duration_seconds_sum{route=\"mcp\"} 70.004"));
    CHECK(has_line(text, "mcpsse_sessions_open{protocol_version=\"2025-11-25\"} 1"));
    CHECK(has_line(text, "mcpsse_sessions_open{protocol_version=\"2024-11-05\"} 0"));
    CHECK(has_line(text, "mcpsse_sessions_open{protocol_version=\"other\"} 1"));
    CHECK(has_line(text, "mcpsse_sessions_opened_total{protocol_version=\"2024-11-05\"} 1"));
    CHECK(has_line(text,
                   "mcpsse_sessions_ended_total{protocol_version=\"2024-11-05\",reason=\"stream_closed\"} 1"));
    CHECK(has_line(text, "mcpsse_sessions_ended_total{protocol_version=\"2025-11-25\",reason=\"deleted\"} 0"));
    CHECK(has_line(text, "mcpsse_sse_streams_open{kind=\"standalone\"} 1"));
    CHECK(has_line(text, "mcpsse_sse_streams_open{kind=\"response\"} 0"));
    CHECK(has_line(text, "mcpsse_sse_streams_opened_total{kind=\"response\"} 1"));
    CHECK(has_line(text, "mcpsse_sse_streams_opened_total{kind=\"legacy\"} 0"));
    CHECK(has_line(text, "mcpsse_sse_events_sent_total 2"));
    CHECK(has_line(text, "mcpsse_sse_sent_bytes_total 314"));
    CHECK(has_line(text, "mcpsse_sse_keep_alives_total 1"));
    CHECK(has_line(text, "mcpsse_sse_resumptions_total 1"));
    CHECK(has_line(text, "mcpsse_sse_replayed_events_total 4"));
    CHECK(has_line(text, "mcpsse_sse_slow_consumers_total 1"));
    CHECK(has_line(text, "mcpsse_limits_hit_total{limit=\"client_limits.max_connections\"} 2"));
    CHECK(has_line(text, "mcpsse_limits_hit_total{limit=\"max_stream_queue_bytes\"} 1"));
    CHECK(has_line(text, "mcpsse_draining 1"));
    CHECK(lines_with(text, "process_").empty());
    CHECK(lines_with(text, "mcpsse_event_store_").empty());  // no source set
    CHECK(!has_line(text, "# EOF"));
}

TEST_CASE("metrics: JSON-RPC and tool counts, bounded labels overflow into \"other\"") {
    MetricsOptions options = no_process();
    options.max_tool_labels = 2;
    options.method_labels = {"acme/reindex"};
    Metrics m(options);
    using O = mcpsse::RpcOutcome;
    m.on_rpc_request_start("tools/call");
    m.on_rpc_request_start("tools/call");
    m.on_rpc_request_start("acme/reindex");
    m.on_rpc_request(rpc("tools/call", O::success, "echo"));
    m.on_rpc_request(rpc("tools/call", O::error, "made-up", -32602));  // unknown tool: no label of its own
    m.on_rpc_request(rpc("tools/call", O::timed_out, "say \"hi\"\\\n"));
    m.on_rpc_request(rpc("tools/call", O::success, "third"));  // over max_tool_labels
    m.on_rpc_request(rpc("acme/reindex", O::cancelled));
    m.on_rpc_request(rpc("acme/other", O::success));  // undeclared host method

    const std::string text = m.render(ExpositionFormat::text);
    CAPTURE(text);
    CHECK(has_line(text, "mcpsse_rpc_requests_in_flight 0"));  // 3 started, 6 ended: never negative
    CHECK(has_line(text, "mcpsse_rpc_requests_total{method=\"tools/call\",outcome=\"success\"} 2"));
    CHECK(has_line(text, "mcpsse_rpc_requests_total{method=\"tools/call\",outcome=\"error\"} 1"));
    CHECK(has_line(text, "mcpsse_rpc_requests_total{method=\"tools/call\",outcome=\"timed_out\"} 1"));
    CHECK(has_line(text, "mcpsse_rpc_requests_total{method=\"acme/reindex\",outcome=\"cancelled\"} 1"));
    CHECK(has_line(text, "mcpsse_rpc_requests_total{method=\"other\",outcome=\"success\"} 1"));
    CHECK(lines_with(text, "mcpsse_rpc_requests_total{method=\"acme/other\"").empty());
    CHECK(has_line(text, "mcpsse_rpc_request_duration_seconds_bucket{method=\"tools/call\",le=\"0.0025\"} 4"));
    CHECK(has_line(text, "mcpsse_rpc_request_duration_seconds_count{method=\"acme/reindex\"} 1"));
    CHECK(lines_with(text, "mcpsse_tool_calls_total{") ==
          std::vector<std::string>{
              "mcpsse_tool_calls_total{tool=\"echo\",outcome=\"success\"} 1",
              "mcpsse_tool_calls_total{tool=\"echo\",outcome=\"error\"} 0",
              "mcpsse_tool_calls_total{tool=\"echo\",outcome=\"cancelled\"} 0",
              "mcpsse_tool_calls_total{tool=\"echo\",outcome=\"timed_out\"} 0",
              "mcpsse_tool_calls_total{tool=\"say \\\"hi\\\"\\\\\\n\",outcome=\"success\"} 0",
              "mcpsse_tool_calls_total{tool=\"say \\\"hi\\\"\\\\\\n\",outcome=\"error\"} 0",
              "mcpsse_tool_calls_total{tool=\"say \\\"hi\\\"\\\\\\n\",outcome=\"cancelled\"} 0",
              "mcpsse_tool_calls_total{tool=\"say \\\"hi\\\"\\\\\\n\",outcome=\"timed_out\"} 1",
              "mcpsse_tool_calls_total{tool=\"other\",outcome=\"success\"} 1",
              "mcpsse_tool_calls_total{tool=\"other\",outcome=\"error\"} 1",
              "mcpsse_tool_calls_total{tool=\"other\",outcome=\"cancelled\"} 0",
              "mcpsse_tool_calls_total{tool=\"other\",outcome=\"timed_out\"} 0",
          });
}

TEST_CASE("metrics: authorization failures, rate limiting, the event store and host gauges") {
    Metrics m(no_process());
    const auto auth = [&](int status, std::string_view reason) {
        m.on_authorization({connection, "POST", "/mcp", status, {}, reason});
    };
    auth(0, "");
    auth(401, "missing_token");
    auth(401, "missing_token");
    auth(403, "insufficient_scope");
    auth(401, "");
    m.on_limit({"client_limits.requests_per_second", "10.0.0.1", &connection});

    mcpsse::InMemoryEventStoreLimits limits;
    limits.max_events = 2;
    mcpsse::InMemoryEventStore store(limits);
    for (std::uint64_t i = 1; i <= 5; ++i) store.append("s", {1, i}, "abc");
    m.set_event_store_source([&store] { return store.stats(); });
    m.set_relay_source([] {
        mcpsse::RelayStats relayed;
        relayed.sent = 4;
        relayed.delivered = 9;
        return relayed;
    });
    m.add_gauge("acme_queue_depth", "Jobs waiting.", [] { return 12.5; });
    CHECK_THROWS_AS(m.add_gauge("acme_queue_depth", "again", [] { return 0.0; }), std::invalid_argument);
    CHECK_THROWS_AS(m.add_gauge("mcpsse_draining", "clash", [] { return 0.0; }), std::invalid_argument);
    CHECK_THROWS_AS(m.add_gauge("mcpsse_tool_calls", "clash", [] { return 0.0; }), std::invalid_argument);
    CHECK_THROWS_AS(m.add_gauge("1bad-name", "bad", [] { return 0.0; }), std::invalid_argument);

    const std::string text = m.render(ExpositionFormat::text);
    CAPTURE(text);
    CHECK(lines_with(text, "mcpsse_authorization_failures_total{") ==
          std::vector<std::string>{
              "mcpsse_authorization_failures_total{reason=\"insufficient_scope\"} 1",
              "mcpsse_authorization_failures_total{reason=\"missing_token\"} 2",
              "mcpsse_authorization_failures_total{reason=\"other\"} 1",
          });
    CHECK(has_line(text, "mcpsse_rate_limited_requests_total 1"));
    CHECK(has_line(text, "mcpsse_event_store_events 2"));
    CHECK(has_line(text, "mcpsse_event_store_bytes 6"));
    CHECK(has_line(text, "mcpsse_event_store_evictions_total 3"));
    CHECK(has_line(text, "# TYPE mcpsse_relay_messages_sent_total counter"));
    CHECK(has_line(text, "mcpsse_relay_messages_sent_total 4"));
    CHECK(has_line(text, "mcpsse_relay_messages_delivered_total 9"));
    CHECK(has_line(text, "# TYPE acme_queue_depth gauge"));
    CHECK(has_line(text, "acme_queue_depth 12.5"));
    CHECK(has_line(text, "mcpsse_draining 0"));

    const std::string om = m.render(ExpositionFormat::openmetrics);
    CHECK(has_line(om, "# TYPE mcpsse_event_store_evictions counter"));
    CHECK(has_line(om, "mcpsse_event_store_evictions_total 3"));
    CHECK(has_line(om, "# UNIT mcpsse_event_store_bytes bytes"));
    CHECK(om.ends_with("\n# EOF\n"));
    CHECK(lines_with(om, "# EOF").size() == 1);
}

TEST_CASE("metrics: event store stats follow appends, evictions and erase") {
    mcpsse::InMemoryEventStoreLimits limits;
    limits.max_events = 3;
    mcpsse::InMemoryEventStore store(limits);
    for (std::uint64_t i = 1; i <= 4; ++i) store.append("a", {1, i}, "12345");
    store.append("b", {1, 1}, "xy");
    auto s = store.stats();
    CHECK(s.events == 4);
    CHECK(s.bytes == 17);
    CHECK(s.evictions == 1);
    store.erase("a");
    s = store.stats();
    CHECK(s.events == 1);
    CHECK(s.bytes == 2);
    CHECK(s.evictions == 1);
}

TEST_CASE("metrics: the OpenMetrics rendering names counter families without _total and writes UNIT") {
    Metrics m;
    m.on_request(request("POST", "mcp", 200));
    const std::string om = m.render(ExpositionFormat::openmetrics);
    CAPTURE(om);
    CHECK(has_line(om, "# TYPE mcpsse_http_requests counter"));
    CHECK(has_line(om, "mcpsse_http_requests_total{method=\"POST\",route=\"mcp\",status=\"200\"} 1"));
    CHECK(has_line(om, "# TYPE mcpsse_http_request_duration_seconds histogram"));
    CHECK(has_line(om, "# UNIT mcpsse_http_request_duration_seconds seconds"));
    CHECK(has_line(om, "# TYPE mcpsse_sse_sent_bytes counter"));
    CHECK(has_line(om, "# UNIT mcpsse_sse_sent_bytes bytes"));
    CHECK(lines_with(om, "# TYPE mcpsse_connections_accepted_total").empty());
    CHECK(om.ends_with("# EOF\n"));
#if defined(__linux__)
    CHECK(has_line(om, "# TYPE process_cpu_seconds counter"));
    CHECK(has_line(om, "# UNIT process_cpu_seconds seconds"));
    CHECK(lines_with(om, "process_open_fds ").size() == 1);
    CHECK(lines_with(om, "process_resident_memory_bytes ").size() == 1);
    const auto p = mcpsse::detail::ops::read_process_stats();
    REQUIRE(p);
    CHECK(p->open_fds >= 3);
    CHECK(p->resident_memory_bytes > 0);
    CHECK(p->virtual_memory_bytes >= p->resident_memory_bytes);
    CHECK(p->start_time_seconds > 1.5e9);
#endif
    const std::string text = m.render(ExpositionFormat::text);
    CHECK(has_line(text, "# TYPE mcpsse_http_requests_total counter"));
    CHECK(lines_with(text, "# UNIT").empty());
}

TEST_CASE("metrics: the route answers GET with the negotiated format and no-store") {
    Metrics m(no_process());
    m.on_connection_open(connection);
    const mcpsse::HttpRoute route = m.route("/metrics");
    CHECK(route.method == "GET");
    CHECK(route.path == "/metrics");
    const auto get = [&](std::optional<std::string_view> accept) {
        std::vector<mcpsse::HttpField> fields{{"Host", "localhost"}};
        if (accept) fields.push_back({"accept", *accept});
        mcpsse::HttpRequestHead::Parts parts;
        parts.method = "GET";
        parts.target = "/metrics";
        parts.fields = fields;
        const mcpsse::HttpRequestHead head(parts);
        asio::io_context io;
        mcpsse::HttpResponse response;
        auto pending = route.handler(head);  // the head may go away once the handler returned
        fields.clear();
        asio::co_spawn(io, std::move(pending), [&](std::exception_ptr e, mcpsse::HttpResponse r) {
            if (e) std::rethrow_exception(e);
            response = std::move(r);
        });
        io.run();
        return response;
    };
    const auto text = get(std::nullopt);
    CHECK(text.status == 200);
    CHECK(text.content_type == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(has_line(text.body, "mcpsse_connections_accepted_total 1"));
    CHECK(std::find(text.headers.begin(), text.headers.end(),
                    std::pair<std::string, std::string>{"Cache-Control", "no-store"}) != text.headers.end());
    const auto om = get("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
    CHECK(om.content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8");
    CHECK(om.body.ends_with("# EOF\n"));
}

// Not run by default: writes a realistic exposition in both formats for the
// ctest metrics.exposition (tests/interop/metrics_exposition.sh), which validates them
// with promtool and prometheus_client. MCPSSE_METRICS_OUT names the output directory.
TEST_CASE("metrics: write a realistic exposition for external validation", "[.][exposition]") {
    const char* dir = std::getenv("MCPSSE_METRICS_OUT");
    REQUIRE(dir != nullptr);
    MetricsOptions options;
    options.max_tool_labels = 3;
    Metrics m(options);
    for (int i = 0; i < 5; ++i) m.on_connection_open(connection);
    m.on_connection_close(connection);
    m.on_handshake_failed(connection, std::make_error_code(std::errc::connection_reset));
    m.on_limit({"max_connections", {}, &connection});
    for (int i = 0; i < 10; ++i) m.on_request(request("POST", "mcp", 200, std::chrono::microseconds(300 * i * i)));
    m.on_request(request("GET", "mcp", 200, 12s));
    m.on_request(request("DELETE", "mcp", 204));
    m.on_request(request("GET", "sse", 200, 90s));
    m.on_request(request("POST", "messages", 202));
    m.on_request(request("GET", "/healthz", 200));
    m.on_request(request("PROPFIND", "other", 404));
    m.on_request(request("GET", "", 403));
    m.on_session_open({"a", "2025-11-25"});
    m.on_session_open({"b", "2025-03-26"});
    m.on_session_open({"c", "2024-11-05", true});
    m.on_session_open({"d", "bogus"});
    m.on_session_close({"b", "2025-03-26"}, mcpsse::SessionEndReason::idle);
    m.on_session_close({"c", "2024-11-05", true}, mcpsse::SessionEndReason::stream_closed);
    mcpsse::StreamInfo resumed{connection, mcpsse::StreamKind::standalone};
    resumed.resumed = true;
    resumed.replayed_events = 3;
    m.on_stream_open(resumed);
    m.on_stream_open({connection, mcpsse::StreamKind::legacy});
    m.on_stream_open({connection, mcpsse::StreamKind::response});
    m.on_stream_write(resumed, {3, 900, false});
    m.on_stream_write(resumed, {0, 14, true});
    m.on_stream_close({connection, mcpsse::StreamKind::response});
    m.on_limit({"max_stream_queue_bytes", {}, &connection});
    m.on_limit({"client_limits.requests_per_second", "10.0.0.7", &connection});
    m.on_limit({"http_limits", "max_body_bytes", &connection});
    using O = mcpsse::RpcOutcome;
    for (const char* tool : {"echo", "add", "weird \"name\"\\\n", "fourth", "fifth"}) {
        m.on_rpc_request_start("tools/call");
        m.on_rpc_request(rpc("tools/call", O::success, tool));
    }
    m.on_rpc_request_start("tools/call");
    m.on_rpc_request(rpc("tools/call", O::error, "nope", -32602));
    m.on_rpc_request_start("tools/list");
    m.on_rpc_request(rpc("tools/list", O::success));
    m.on_rpc_request_start("initialize");
    m.on_rpc_request(rpc("initialize", O::success));
    m.on_rpc_request_start("resources/read");
    m.on_rpc_request(rpc("resources/read", O::cancelled));
    m.on_rpc_request_start("vendor/thing");
    m.on_rpc_request(rpc("vendor/thing", O::timed_out));
    m.on_rpc_request_start("tools/call");  // still running
    m.on_authorization({connection, "POST", "/mcp", 401, {}, "token expired"});
    m.on_authorization({connection, "POST", "/mcp", 403, "alice", "insufficient_scope"});
    mcpsse::InMemoryEventStore store;
    store.append("a", {1, 1}, "{\"jsonrpc\":\"2.0\"}");
    m.set_event_store_source([&store] { return store.stats(); });
    m.add_gauge("acme_jobs_waiting", "Jobs waiting in the host's queue.", [] { return 7.0; });
    m.set_draining(true);
    for (const auto& [format, name] : {std::pair{ExpositionFormat::text, "metrics.txt"},
                                       std::pair{ExpositionFormat::openmetrics, "metrics.om"}}) {
        std::ofstream out(std::string(dir) + "/" + name, std::ios::binary);
        out << m.render(format);
        REQUIRE(out.good());
    }
}

TEST_CASE("metrics: events from several threads at once are all counted") {
    MetricsOptions options = no_process();
    options.max_tool_labels = 8;
    Metrics m(options);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&m, t] {
            for (int i = 0; i < 2000; ++i) {
                m.on_request(request(i % 2 ? "GET" : "POST", "r" + std::to_string(i % 5), 200 + (i % 3)));
                const std::string tool = "tool" + std::to_string((i + t) % 12);
                m.on_rpc_request_start("tools/call");
                m.on_rpc_request(rpc("tools/call", mcpsse::RpcOutcome::success, tool));
            }
        });
    std::string during;
    for (int i = 0; i < 20; ++i) during = m.render(ExpositionFormat::openmetrics);  // scrapes while counting
    for (auto& t : threads) t.join();
    const std::string text = m.render(ExpositionFormat::text);
    CAPTURE(text);
    CHECK(has_line(text, "mcpsse_rpc_requests_total{method=\"tools/call\",outcome=\"success\"} 8000"));
    CHECK(has_line(text, "mcpsse_rpc_requests_in_flight 0"));
    std::uint64_t http = 0, tools = 0;
    for (const std::string& line : lines_with(text, "mcpsse_http_requests_total{"))
        http += std::stoull(line.substr(line.rfind(' ') + 1));
    for (const std::string& line : lines_with(text, "mcpsse_tool_calls_total{"))
        tools += std::stoull(line.substr(line.rfind(' ') + 1));
    CHECK(http == 8000);
    CHECK(tools == 8000);
    CHECK(lines_with(text, "mcpsse_tool_calls_total{tool=\"other\",outcome=\"success\"").size() == 1);
    CHECK(lines_with(text, "mcpsse_http_requests_total{").size() == 5 * 6);  // 5 routes x (2 methods x 3 statuses)
    CHECK(during.ends_with("# EOF\n"));
}
