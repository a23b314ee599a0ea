// Tests of include/mcpsse/access_log.hpp: the lines AccessLog writes for observer events
// (JSON lines and text), its level threshold, and what it leaves out (query strings,
// most of a session id, empty fields).
#include <mcpsse/access_log.hpp>

#include "support/catch.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// An AccessLog whose lines go to `lines`, at a fixed time (2026-07-28T09:15:02.517Z).
struct Capture {
    std::vector<std::string> lines;
    std::unique_ptr<mcpsse::AccessLog> log;

    explicit Capture(mcpsse::LogFormat format = mcpsse::LogFormat::json,
                     mcpsse::LoggingLevel level = mcpsse::LoggingLevel::debug) {
        mcpsse::AccessLogOptions options;
        options.format = format;
        options.level = level;
        options.sink = [this](std::string_view line) { lines.emplace_back(line); };
        options.clock = [] {
            using namespace std::chrono;
            return sys_days{year{2026} / 7 / 28} + 9h + 15min + 2s + 517ms;
        };
        log = std::make_unique<mcpsse::AccessLog>(std::move(options));
    }

    // The only line, parsed.
    json only() const {
        REQUIRE(lines.size() == 1);
        return json::parse(lines.front());
    }
};

mcpsse::ConnectionInfo connection_v4() {
    mcpsse::ConnectionInfo c;
    c.id = 7;
    c.remote_endpoint = {asio::ip::make_address("192.0.2.10"), 51234};
    return c;
}

}  // namespace

TEST_CASE("access log: a failed request is one JSON line with its fields; empty ones are left out") {
    Capture capture;
    const auto c = connection_v4();
    mcpsse::RequestInfo request{c, "POST", "/mcp", 503, 321, 12345us};
    request.subject = "alice";
    request.route = "mcp";
    request.session_id = "0123456789abcdef0123456789abcdef";
    request.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    capture.log->on_request(request);
    const json line = capture.only();
    CHECK(line["time"] == "2026-07-28T09:15:02.517Z");
    CHECK(line["level"] == "error");
    CHECK(line["event"] == "request");
    CHECK(line["peer"] == "192.0.2.10:51234");
    CHECK(line["subject"] == "alice");
    CHECK(line["session"] == "01234567");  // shortened
    CHECK(line["method"] == "POST");
    CHECK(line["path"] == "/mcp");
    CHECK(line["route"] == "mcp");
    CHECK(line["status"] == 503);
    CHECK(line["duration_ms"] == Approx(12.345));
    CHECK(line["bytes"] == 321);
    CHECK(line["traceparent"] == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    // time, level and event lead, in that order.
    CHECK(capture.lines.front().rfind(R"({"time":"2026-07-28T09:15:02.517Z","level":"error","event":"request",)", 0) == 0);

    Capture bare;
    bare.log->on_request(mcpsse::RequestInfo{c, "GET", "/nowhere", 404, 0, {}});
    const json minimal = bare.only();
    CHECK(minimal["level"] == "warning");
    for (const char* absent : {"subject", "session", "route", "traceparent"}) {
        INFO(absent);
        CHECK_FALSE(minimal.contains(absent));
    }
}

TEST_CASE("access log: the query string is dropped from paths; quotes, newlines and bad UTF-8 are escaped") {
    Capture capture;
    const auto c = connection_v4();
    capture.log->on_request(mcpsse::RequestInfo{c, "POST", "/messages?sessionId=secret-session-id", 400, 10, 1ms});
    CHECK(capture.only()["path"] == "/messages");
    CHECK(capture.lines.front().find("secret") == std::string::npos);

    Capture nasty;
    nasty.log->on_request(mcpsse::RequestInfo{c, "GET", "/a\"b\nc\\d\xff", 404, 0, {}});
    REQUIRE(nasty.lines.size() == 1);
    CHECK(nasty.lines.front().find('\n') == std::string::npos);
    CHECK(nasty.only()["path"] == "/a\"b\nc\\d\xef\xbf\xbd");  // U+FFFD for the bad byte

    Capture text{mcpsse::LogFormat::text};
    text.log->on_request(mcpsse::RequestInfo{c, "GET", "/a\"b\nc d=e?x=1", 404, 0, {}});
    REQUIRE(text.lines.size() == 1);
    CHECK(text.lines.front().find(R"( path="/a\"b\nc d=e" )") != std::string::npos);
}

TEST_CASE("access log: text lines are key=value pairs, quoted only when needed") {
    Capture capture{mcpsse::LogFormat::text};
    const auto c = connection_v4();
    mcpsse::RequestInfo request{c, "GET", "/mcp", 429, 99, 2500us};
    request.subject = "bob smith";
    capture.log->on_request(request);
    REQUIRE(capture.lines.size() == 1);
    CHECK(capture.lines.front() ==
          R"(time=2026-07-28T09:15:02.517Z level=warning event=request peer=192.0.2.10:51234 subject="bob smith" )"
          R"(method=GET path=/mcp status=429 duration_ms=2.5 bytes=99)");
}

TEST_CASE("access log: the threshold drops less severe events and writes nothing for them") {
    const auto c = connection_v4();
    Capture warning{mcpsse::LogFormat::json, mcpsse::LoggingLevel::warning};
    warning.log->on_connection_open(c);
    warning.log->on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 200, 10, 1ms});  // debug
    warning.log->on_session_open(mcpsse::SessionInfo{"abcdefghijkl", "2025-11-25", false, {}});  // info
    warning.log->on_session_close(mcpsse::SessionInfo{"abcdefghijkl", "2025-11-25", false, {}},
                                  mcpsse::SessionEndReason::deleted);
    warning.log->on_rpc_request(mcpsse::RpcRequestInfo{"tools/call", "echo", mcpsse::RpcOutcome::success, 0, 1ms, {}});
    warning.log->on_connection_close(c);
    CHECK(warning.lines.empty());
    warning.log->on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 404, 10, 1ms});
    warning.log->on_limit(mcpsse::LimitEvent{"max_sessions", {}, nullptr});
    CHECK(warning.lines.size() == 2);

    Capture error{mcpsse::LogFormat::json, mcpsse::LoggingLevel::error};
    error.log->on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 404, 10, 1ms});
    error.log->on_limit(mcpsse::LimitEvent{"max_sessions", {}, nullptr});
    CHECK(error.lines.empty());
    error.log->on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 500, 10, 1ms});
    CHECK(error.only()["level"] == "error");

    Capture debug;  // everything, each event one line
    debug.log->on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 200, 10, 1ms});
    CHECK(debug.only()["level"] == "debug");
}

TEST_CASE("access log: sessions open and close at info with a shortened id, reason and duration") {
    Capture capture{mcpsse::LogFormat::json, mcpsse::LoggingLevel::info};
    const mcpsse::SessionInfo session{"f00dfeed-1234-5678-9abc-def012345678", "2024-11-05", true, "carol",
                                      std::chrono::steady_clock::now() - std::chrono::seconds(3)};
    capture.log->on_session_open(session);
    capture.log->on_session_close(session, mcpsse::SessionEndReason::stream_closed);
    REQUIRE(capture.lines.size() == 2);
    const json opened = json::parse(capture.lines[0]);
    const json closed = json::parse(capture.lines[1]);
    CHECK(opened["event"] == "session_opened");
    CHECK(opened["level"] == "info");
    CHECK(opened["session"] == "f00dfeed");
    CHECK(opened["subject"] == "carol");
    CHECK(opened["protocol_version"] == "2024-11-05");
    CHECK(opened["legacy"] == true);
    CHECK(closed["event"] == "session_closed");
    CHECK(closed["reason"] == "stream_closed");
    CHECK(closed["duration_ms"].get<double>() >= 3000.0);  // from SessionInfo::created
    CHECK(closed["session"] == "f00dfeed");
    for (const auto& line : capture.lines) CHECK(line.find("1234-5678") == std::string::npos);

    CHECK(mcpsse::AccessLog::short_session_id("abc") == "abc");
}

TEST_CASE("access log: connections at debug carry their duration, requests and bytes; IPv6 peers in brackets") {
    Capture capture;
    mcpsse::ConnectionInfo c;
    c.id = 3;
    c.remote_endpoint = {asio::ip::make_address("2001:db8::1"), 443};
    c.secure = true;
    capture.log->on_connection_open(c);
    capture.log->on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 200, 100, 1ms});
    capture.log->on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 202, 50, 1ms});
    capture.lines.clear();
    capture.log->on_connection_close(c);
    const json line = capture.only();
    CHECK(line["event"] == "connection_closed");
    CHECK(line["level"] == "debug");
    CHECK(line["peer"] == "[2001:db8::1]:443");
    CHECK(line["tls"] == true);
    CHECK(line["requests"] == 2);
    CHECK(line["bytes"] == 150);
    CHECK(line["duration_ms"].get<double>() >= 0.0);
}

TEST_CASE("access log: authorization refusals carry the reason, accepted tokens the subject; limits and TLS failures") {
    Capture capture;
    const auto c = connection_v4();
    capture.log->on_authorization(mcpsse::AuthorizationEvent{c, "POST", "/mcp?x=1", 401, {}, "token expired"});
    capture.log->on_authorization(mcpsse::AuthorizationEvent{c, "POST", "/mcp", 0, "dave", {}});
    capture.log->on_limit(mcpsse::LimitEvent{"http_limits", "header too large", &c});
    capture.log->on_handshake_failed(c, std::make_error_code(std::errc::connection_reset));
    REQUIRE(capture.lines.size() == 4);
    const json refused = json::parse(capture.lines[0]);
    CHECK(refused["event"] == "authorization_refused");
    CHECK(refused["level"] == "warning");
    CHECK(refused["status"] == 401);
    CHECK(refused["reason"] == "token expired");
    CHECK(refused["path"] == "/mcp");
    const json accepted = json::parse(capture.lines[1]);
    CHECK(accepted["event"] == "token_accepted");
    CHECK(accepted["level"] == "info");
    CHECK(accepted["subject"] == "dave");
    CHECK_FALSE(accepted.contains("status"));
    const json limit = json::parse(capture.lines[2]);
    CHECK(limit["event"] == "limit");
    CHECK(limit["limit"] == "http_limits");
    CHECK(limit["detail"] == "header too large");
    CHECK(limit["peer"] == "192.0.2.10:51234");
    const json tls = json::parse(capture.lines[3]);
    CHECK(tls["event"] == "tls_handshake_failed");
    CHECK(tls["level"] == "warning");
    CHECK_FALSE(tls["detail"].get<std::string>().empty());
}

TEST_CASE("access log: JSON-RPC requests: failures at warning with their code, the rest at debug") {
    Capture capture{mcpsse::LogFormat::json, mcpsse::LoggingLevel::warning};
    capture.log->on_rpc_request(mcpsse::RpcRequestInfo{"tools/call", "echo", mcpsse::RpcOutcome::success, 0, 1ms, {}});
    capture.log->on_rpc_request(
        mcpsse::RpcRequestInfo{"tools/call", "slow", mcpsse::RpcOutcome::timed_out, -32001, 5s, "0123456789"});
    const json line = capture.only();
    CHECK(line["event"] == "rpc");
    CHECK(line["rpc_method"] == "tools/call");
    CHECK(line["tool"] == "slow");
    CHECK(line["outcome"] == "timed_out");
    CHECK(line["error_code"] == -32001);
    CHECK(line["duration_ms"] == Approx(5000.0));
    CHECK(line["session"] == "01234567");
}

TEST_CASE("access log: the default clock writes RFC 3339 UTC with milliseconds; formats and levels parse") {
    std::vector<std::string> lines;
    mcpsse::AccessLogOptions options;
    options.sink = [&](std::string_view line) { lines.emplace_back(line); };
    mcpsse::AccessLog log{options};
    CHECK(log.options().level == mcpsse::LoggingLevel::info);
    log.on_limit(mcpsse::LimitEvent{"max_connections", {}, nullptr});
    REQUIRE(lines.size() == 1);
    const std::string time = json::parse(lines.front())["time"];
    CHECK(std::regex_match(time, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")));
    CHECK(mcpsse::AccessLog::format_time(std::chrono::system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");

    CHECK(mcpsse::parse_log_format("json") == mcpsse::LogFormat::json);
    CHECK(mcpsse::parse_log_format("text") == mcpsse::LogFormat::text);
    CHECK_FALSE(mcpsse::parse_log_format("JSON").has_value());
    CHECK_FALSE(mcpsse::parse_log_format("").has_value());
    CHECK(mcpsse::logging_level_from_string("warning") == mcpsse::LoggingLevel::warning);
    CHECK_FALSE(mcpsse::logging_level_from_string("warn").has_value());
}

TEST_CASE("access log: lines from many threads arrive whole, one sink call at a time") {
    std::vector<std::string> lines;
    int inside = 0;
    bool overlapped = false;
    mcpsse::AccessLogOptions options;
    options.level = mcpsse::LoggingLevel::debug;
    options.sink = [&](std::string_view line) {  // not thread-safe on purpose
        if (++inside != 1) overlapped = true;
        lines.emplace_back(line);
        --inside;
    };
    mcpsse::AccessLog log{options};
    const auto c = connection_v4();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 250; ++i) log.on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 200, 1, 1ms});
        });
    for (auto& thread : threads) thread.join();
    CHECK_FALSE(overlapped);
    REQUIRE(lines.size() == 1000);
    for (const auto& line : lines) REQUIRE(json::parse(line)["status"] == 200);
}

TEST_CASE("access log: a throwing sink loses the line, not the transport") {
    mcpsse::AccessLogOptions options;
    options.sink = [](std::string_view) { throw std::runtime_error("disk full"); };
    mcpsse::AccessLog log{options};
    const auto c = connection_v4();
    CHECK_NOTHROW(log.on_request(mcpsse::RequestInfo{c, "POST", "/mcp", 500, 1, 1ms}));
}
