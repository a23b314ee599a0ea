// Socket-level tests of SseTransport: each protocol revision over real loopback sockets
// (legacy HTTP+SSE, Streamable HTTP with sessions, stateless 2026-07-28, options.sessionless).
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <set>
#include <string>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

bool visible_ascii(const std::string& s) {
    if (s.empty()) return false;
    for (const char ch : s)
        if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e) return false;
    return true;
}

}  // namespace

// ---- legacy HTTP+SSE (2024-11-05) ------------------------------------------------------

TEST_CASE("legacy HTTP+SSE: GET /sse sends the endpoint event, POST /messages -> 202, reply as event: message") {
    TestServer s;
    s.start();
    HttpClient stream = s.client();
    REQUIRE(stream.send_request("GET", "/sse", {{"Accept", "text/event-stream"}}));
    const auto head = stream.read_head();
    REQUIRE(head.status == 200);
    CHECK(head.header("content-type").value_or("").find("text/event-stream") == 0);
    const auto endpoint = stream.next_event();
    REQUIRE(endpoint);
    CHECK(endpoint->event == "endpoint");
    REQUIRE(endpoint->data.rfind("/messages?sessionId=", 0) == 0);
    const std::string session_id = endpoint->data.substr(std::string("/messages?sessionId=").size());
    CHECK(visible_ascii(session_id));
    CHECK(eventually([&] { return s.probe.opened.load() == 1; }));

    HttpClient poster = s.client();
    const Headers h{{"Content-Type", "application/json"}};
    auto r = poster.request("POST", endpoint->data, h, initialize_request("2024-11-05").dump());
    CHECK(r.status == 202);
    const auto reply = stream.next_event();
    REQUIRE(reply);
    CHECK(reply->event == "message");
    CHECK(!reply->id);
    CHECK(reply->json()["id"] == 1);
    CHECK(reply->json()["result"]["protocolVersion"] == "2024-11-05");

    r = poster.request("POST", endpoint->data, h, rpc_request(2, "echo", {{"x", 1}}).dump());
    CHECK(r.status == 202);
    const auto echo = stream.next_event();
    REQUIRE(echo);
    CHECK(echo->event == "message");
    CHECK(echo->json()["result"]["x"] == 1);

    SECTION("the Python spelling session_id is accepted too") {
        r = poster.request("POST", "/messages?session_id=" + session_id, h, rpc_request(3, "ping").dump());
        CHECK(r.status == 202);
        const auto pong = stream.next_event();
        REQUIRE(pong);
        CHECK(pong->json()["id"] == 3);
    }
    SECTION("closing the stream ends the session (then 404)") {
        stream.close();
        CHECK(eventually([&] { return s.transport->session_count() == 0; }));
        // The session leaves the table before on_session_close runs.
        CHECK(eventually([&] { return s.probe.closed.load() == 1; }));
        r = poster.request("POST", endpoint->data, h, rpc_request(3, "ping").dump());
        CHECK(r.status == 404);
    }
}

TEST_CASE("legacy HTTP+SSE: the GET /sse response head carries the endpoint event's session id as Mcp-Session-Id") {
    TestServer s;
    s.start();
    std::set<std::string> ids;
    for (int i = 0; i < 2; ++i) {
        HttpClient stream = s.client();
        REQUIRE(stream.send_request("GET", "/sse", {{"Accept", "text/event-stream"}}));
        const auto head = stream.read_head();
        REQUIRE(head.status == 200);
        const auto endpoint = stream.next_event();
        REQUIRE(endpoint);
        REQUIRE(endpoint->event == "endpoint");
        const std::string prefix = "/messages?sessionId=";
        REQUIRE(endpoint->data.rfind(prefix, 0) == 0);
        const std::string session_id = endpoint->data.substr(prefix.size());
        REQUIRE(visible_ascii(session_id));
        // What a balancer learns from the head is the id the POSTs will name.
        CHECK(head.header("mcp-session-id") == std::optional<std::string>(session_id));
        ids.insert(session_id);
        // The POST's 202 has no such header (the id is already in its URL).
        HttpClient poster = s.client();
        const auto r = poster.request("POST", endpoint->data, {{"Content-Type", "application/json"}},
                                      rpc_request(1, "ping").dump());
        CHECK(r.status == 202);
        CHECK_FALSE(r.header("mcp-session-id"));
    }
    CHECK(ids.size() == 2);  // each stream its own session, each head its own id
}

TEST_CASE("legacy HTTP+SSE: 400 without sessionId, 404 unknown, 415 wrong Content-Type, 413 too large, 405") {
    mcpsse::SseTransportOptions o;
    o.http_limits.max_body_bytes = 1024;
    TestServer s;
    s.start(o);
    HttpClient stream = s.client();
    REQUIRE(stream.send_request("GET", "/sse", {{"Accept", "text/event-stream"}}));
    REQUIRE(stream.read_head().status == 200);
    const auto endpoint = stream.next_event();
    REQUIRE(endpoint);

    HttpClient c = s.client();
    const Headers json_type{{"Content-Type", "application/json"}};
    const std::string ping = rpc_request(1, "ping").dump();
    auto r = c.request("POST", "/messages", json_type, ping);
    CHECK(r.status == 400);
    r = c.request("POST", "/messages?sessionId=", json_type, ping);
    CHECK(r.status == 400);
    r = c.request("POST", "/messages?sessionId=nope", json_type, ping);
    CHECK(r.status == 404);
    r = c.request("POST", endpoint->data, {{"Content-Type", "text/plain"}}, ping);
    CHECK(r.status == 415);
    r = c.request("POST", endpoint->data, json_type, "{not json");
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == -32700);
    r = c.request("GET", "/messages");
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");

    HttpClient big = s.client();
    r = big.request("POST", endpoint->data, json_type, std::string(2048, ' '));
    CHECK(r.status == 413);
}

// ---- Streamable HTTP with sessions ---------------------------------------------------------

TEST_CASE("sessions N1 N2: initialize issues a visible-ASCII Mcp-Session-Id, distinct per session; callbacks fire") {
    TestServer s;
    s.start();
    std::set<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        HttpClient c = s.client();
        const auto r = c.request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump());
        REQUIRE(r.status == 200);
        CHECK(r.header("content-type") == "application/json");
        CHECK(r.json()["result"]["protocolVersion"] == "2025-11-25");
        const auto id = r.header("mcp-session-id");
        REQUIRE(id);
        CHECK(visible_ascii(*id));
        CHECK(id->size() >= 16);
        ids.insert(*id);
    }
    CHECK(ids.size() == 20);
    CHECK(s.transport->session_count() == 20);
    CHECK(s.probe.opened.load() == 20);
    std::size_t visited = 0;
    s.transport->for_each_session([&](const mcpsse::SseSession<>& session) {
        CHECK(ids.count(session.id()) == 1);
        CHECK(!session.legacy());
        ++visited;
    });
    CHECK(visited == 20);
    HttpClient c = s.client();
    for (const auto& id : ids) CHECK(c.request("DELETE", "/mcp", {{"Mcp-Session-Id", id}}).status == 200);
    CHECK(s.probe.closed.load() == 20);
    CHECK(s.transport->session_count() == 0);
}

TEST_CASE("sessions P3 P4 N3 N4 N5 V3: 202 for notifications, JSON replies, 400/404, DELETE 200 then 404") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());

    // P3: notifications and responses -> 202, no body.
    auto r = c.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_notification("notifications/whatever").dump());
    CHECK(r.status == 202);
    CHECK(r.body.empty());
    r = c.request("POST", "/mcp", post_headers(sid, "2025-11-25"),
                  json{{"jsonrpc", "2.0"}, {"id", 99}, {"result", json::object()}}.dump());
    CHECK(r.status == 202);

    // P4: a request -> application/json with one response.
    r = c.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(2, "echo", {{"a", "b"}}).dump());
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.json()["id"] == 2);
    CHECK(r.json()["result"]["a"] == "b");

    // N3: no session id -> 400; N4: unknown -> 404.
    r = c.request("POST", "/mcp", post_headers(std::nullopt, "2025-11-25"), rpc_request(3, "ping").dump());
    CHECK(r.status == 400);
    r = c.request("POST", "/mcp", post_headers(std::string("unknown-session"), "2025-11-25"), rpc_request(3, "ping").dump());
    CHECK(r.status == 404);
    r = c.request("GET", "/mcp", {{"Accept", "text/event-stream"}});
    CHECK(r.status == 400);

    // V3: unsupported MCP-Protocol-Version -> 400; V2: missing is fine.
    r = c.request("POST", "/mcp", post_headers(sid, "1999-01-01"), rpc_request(4, "ping").dump());
    CHECK(r.status == 400);
    r = c.request("POST", "/mcp", post_headers(sid), rpc_request(5, "ping").dump());
    CHECK(r.status == 200);
    // V3 holds for GET and DELETE too; the rejected DELETE leaves the session alive.
    r = c.request("GET", "/mcp", {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}, {"MCP-Protocol-Version", "1999-01-01"}});
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["message"] == "Bad Request: unsupported MCP-Protocol-Version");
    r = c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}, {"MCP-Protocol-Version", "1999-01-01"}});
    CHECK(r.status == 400);
    CHECK(s.probe.closed.load() == 0);

    // N5: DELETE ends the session, then 404.
    r = c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}});
    CHECK(r.status == 200);
    CHECK(s.probe.closed.load() == 1);
    r = c.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(6, "ping").dump());
    CHECK(r.status == 404);
    r = c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}});
    CHECK(r.status == 404);
    r = c.request("DELETE", "/mcp");
    CHECK(r.status == 400);
}

TEST_CASE("sessions P5 P7 P8: a streaming handler answers SSE; priming event under 2025-11-25 only") {
    const std::string version = GENERATE(std::string("2025-11-25"), std::string("2025-06-18"), std::string("2025-03-26"));
    CAPTURE(version);
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c, version);
    REQUIRE(!sid.empty());
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid, version),
                           rpc_request(7, "slow", {{"steps", 3}, {"interval_ms", 5}, {"_meta", {{"progressToken", "t"}}}}).dump()));
    const auto head = c.read_head();
    REQUIRE(head.status == 200);
    CHECK(head.header("content-type") == "text/event-stream");
    CHECK(head.header("cache-control").value_or("").find("no-cache") != std::string::npos);
    CHECK(!head.has_header("mcp-session-id"));
    auto events = read_events_until_response(c, 7);
    REQUIRE(!events.empty());
    std::size_t first = 0;
    if (version == "2025-11-25") {
        // P5: id and empty data first.
        REQUIRE(events.size() == 5);
        CHECK(events[0].id);
        CHECK(events[0].data.empty());
        first = 1;
    } else {
        REQUIRE(events.size() == 4);
        CHECK(!events[0].data.empty());
    }
    for (int i = 0; i < 3; ++i) {
        const json m = events[first + static_cast<std::size_t>(i)].json();
        CHECK(m["method"] == "notifications/progress");
        CHECK(m["params"]["progressToken"] == "t");
        CHECK(m["params"]["progress"] == i + 1);
    }
    CHECK(events.back().json()["result"]["done"] == 3);
    // P8: the stream ends after the response; the connection is reusable.
    CHECK(!c.next_event(2s));
    CHECK(!c.timed_out());
    CHECK(c.request("POST", "/mcp", post_headers(sid, version), rpc_request(8, "ping").dump()).status == 200);
}

TEST_CASE("sessions G1 G2 M1: the GET stream receives notify() and broadcast(); a second GET -> 409") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient other = s.client();
    const std::string other_sid = open_session(other);
    REQUIRE(!other_sid.empty());

    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    const auto head = g.read_head();
    REQUIRE(head.status == 200);
    CHECK(head.header("content-type") == "text/event-stream");
    const auto priming = g.next_event();
    REQUIRE(priming);
    CHECK(priming->id);
    CHECK(priming->data.empty());

    s.transport->for_each_session([&](const mcpsse::SseSession<>& session) {
        if (session.id() == sid) session.notify("notifications/resources/list_changed");
    });
    auto e = g.next_event();
    REQUIRE(e);
    CHECK(e->json()["method"] == "notifications/resources/list_changed");
    REQUIRE(e->id);

    // Counted: sessions with a standalone stream (the other session never opened one).
    CHECK(s.transport->broadcast("notifications/tools/list_changed", json::object()) == 1);
    e = g.next_event();
    REQUIRE(e);
    CHECK(e->json()["method"] == "notifications/tools/list_changed");

    const std::size_t filtered =
        s.transport->broadcast("notifications/prompts/list_changed", nullptr,
                               [&](const mcpsse::SseSession<>& session) { return session.id() == sid; });
    CHECK(filtered == 1);
    e = g.next_event();
    REQUIRE(e);
    CHECK(e->json()["method"] == "notifications/prompts/list_changed");

    // The filter may call back into the transport: the session table is not locked.
    std::size_t seen = 0;
    CHECK(s.transport->broadcast("notifications/resources/list_changed", nullptr,
                                 [&](const mcpsse::SseSession<>& session) {
                                     seen = s.transport->session_count();
                                     return session.id() == sid;
                                 }) == 1);
    CHECK(seen == 2);
    e = g.next_event();
    REQUIRE(e);
    CHECK(e->json()["method"] == "notifications/resources/list_changed");

    // Status map: one GET stream per session.
    HttpClient g2 = s.client();
    auto r = g2.request("GET", "/mcp", get_headers(sid));
    CHECK(r.status == 409);
    // 406 without text/event-stream.
    r = g2.request("GET", "/mcp", {{"Accept", "application/json"}, {"Mcp-Session-Id", sid}});
    CHECK(r.status == 406);
    // DELETE ends the session and its GET stream.
    r = g2.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}});
    CHECK(r.status == 200);
    CHECK(!g.next_event(3s));
    CHECK(!g.timed_out());
}

TEST_CASE("sessions P2: batches are accepted under 2025-03-26 only") {
    TestServer s;
    s.start();
    const json batch = json::array({rpc_request(1, "ping"), rpc_request(2, "echo", {{"k", 1}}),
                                    rpc_notification("notifications/x")});
    {
        HttpClient c = s.client();
        const std::string sid = open_session(c, "2025-03-26");
        REQUIRE(!sid.empty());
        const auto r = c.request("POST", "/mcp", post_headers(sid, "2025-03-26"), batch.dump());
        CHECK(r.status == 200);
        const json replies = r.json();
        REQUIRE(replies.is_array());
        CHECK(replies.size() == 2);
        const auto only_notes = c.request("POST", "/mcp", post_headers(sid, "2025-03-26"),
                                          json::array({rpc_notification("notifications/x")}).dump());
        CHECK(only_notes.status == 202);
    }
    for (const std::string version : {"2025-06-18", "2025-11-25"}) {
        CAPTURE(version);
        HttpClient c = s.client();
        const std::string sid = open_session(c, version);
        REQUIRE(!sid.empty());
        const auto r = c.request("POST", "/mcp", post_headers(sid, version), batch.dump());
        CHECK(r.status == 400);
        CHECK(r.json()["error"]["code"] == -32600);
    }
}

// ---- stateless 2026-07-28 ------------------------------------------------------------------

TEST_CASE("stateless 2026-07-28: a request with matching headers succeeds without a session") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    json params = {{"name", "echo"}, {"arguments", {{"text", "hi"}}}, {"_meta", stateless_meta()}};
    auto r = c.request("POST", "/mcp", stateless_headers("tools/call", "echo"), rpc_request(1, "tools/call", params).dump());
    CHECK(r.status == 200);
    CHECK(r.json()["id"] == 1);
    CHECK(r.json()["result"]["content"][0]["text"] == R"({"text":"hi"})");
    CHECK(!r.has_header("mcp-session-id"));
    CHECK(s.transport->session_count() == 0);

    SECTION("Mcp-Session-Id is ignored and never echoed") {
        Headers h = stateless_headers("echo");
        h.emplace_back("Mcp-Session-Id", "made-up");
        r = c.request("POST", "/mcp", h, rpc_request(2, "echo", {{"v", 1}, {"_meta", stateless_meta()}}).dump());
        CHECK(r.status == 200);
        CHECK(r.json()["result"]["v"] == 1);
        // ping is gone in 2026-07-28.
        r = c.request("POST", "/mcp", stateless_headers("ping"), rpc_request(3, "ping", {{"_meta", stateless_meta()}}).dump());
        CHECK(r.status == 404);
        CHECK(r.json()["error"]["code"] == -32601);
        CHECK(!r.has_header("mcp-session-id"));
    }
    SECTION("an SSE response when the handler streams; no priming id, no session") {
        json p = {{"name", "slow"},
                  {"arguments", {{"steps", 2}, {"interval_ms", 5}}},
                  {"_meta", stateless_meta()}};
        p["_meta"]["progressToken"] = 5;
        REQUIRE(c.send_request("POST", "/mcp", stateless_headers("tools/call", "slow"), rpc_request(3, "tools/call", p).dump()));
        const auto head = c.read_head();
        REQUIRE(head.status == 200);
        CHECK(head.header("content-type") == "text/event-stream");
        CHECK(!head.has_header("mcp-session-id"));
        const auto events = read_events_until_response(c, 3);
        REQUIRE(events.size() == 3);
        for (const auto& e : events) CHECK(!e.id);
        CHECK(events[0].json()["method"] == "notifications/progress");
        CHECK(events[2].json()["result"]["done"] == 2);
    }
    SECTION("a notification -> 202") {
        r = c.request("POST", "/mcp", stateless_headers("notifications/x"),
                      rpc_notification("notifications/x", {{"_meta", stateless_meta()}}).dump());
        CHECK(r.status == 202);
    }
    SECTION("a notification without Mcp-Method -> 202 (the header is required on requests only)") {
        r = c.request("POST", "/mcp", post_headers(std::nullopt, "2026-07-28"),
                      rpc_notification("notifications/cancelled", {{"requestId", "x"}, {"_meta", stateless_meta()}}).dump());
        CHECK(r.status == 202);
    }
    SECTION("a notification with a mismatched Mcp-Method -> 400 -32020") {
        r = c.request("POST", "/mcp", stateless_headers("notifications/other"),
                      rpc_notification("notifications/cancelled", {{"requestId", "x"}, {"_meta", stateless_meta()}}).dump());
        CHECK(r.status == 400);
        CHECK(json::parse(r.body)["error"]["code"] == -32020);
    }
}

TEST_CASE("stateless 2026-07-28: header mismatches -> 400 -32020, unsupported version -> 400 -32022, unknown method -> 404 -32601") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const json params = {{"name", "echo"}, {"arguments", json::object()}, {"_meta", stateless_meta()}};
    const std::string body = rpc_request(1, "tools/call", params).dump();

    auto expect_error = [&](const Headers& h, const std::string& b, int status, int code) {
        const auto r = c.request("POST", "/mcp", h, b);
        CHECK(r.status == status);
        CHECK(r.json()["error"]["code"] == code);
        return r;
    };
    // MCP-Protocol-Version missing or different from _meta.
    Headers h{{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"},
              {"Mcp-Method", "tools/call"}, {"Mcp-Name", "echo"}};
    expect_error(h, body, 400, -32020);
    expect_error(stateless_headers("tools/call", "echo", "2025-11-25"), body, 400, -32020);
    // Mcp-Method missing or wrong; Mcp-Name missing or wrong.
    h = post_headers(std::nullopt, "2026-07-28");
    expect_error(h, body, 400, -32020);
    expect_error(stateless_headers("tools/list", "echo"), body, 400, -32020);
    expect_error(stateless_headers("tools/call"), body, 400, -32020);
    expect_error(stateless_headers("tools/call", "other"), body, 400, -32020);
    // base64-encoded Mcp-Name matches.
    auto ok = c.request("POST", "/mcp", stateless_headers("tools/call", "=?base64?ZWNobw==?="), body);
    CHECK(ok.status == 200);

    // Unsupported version in both places.
    json future = params;
    future["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2099-01-01";
    const auto r = expect_error(stateless_headers("tools/call", "echo", "2099-01-01"),
                                rpc_request(2, "tools/call", future).dump(), 400, -32022);
    const json data = r.json()["error"]["data"];
    REQUIRE(data["supported"].is_array());
    CHECK(data["supported"][0] == "2026-07-28");
    CHECK(data["requested"] == "2099-01-01");

    // Unknown method -> 404 + -32601.
    expect_error(stateless_headers("nope/nothing"), rpc_request(3, "nope/nothing", {{"_meta", stateless_meta()}}).dump(), 404,
                 -32601);
}

TEST_CASE("stateless 2026-07-28: GET and DELETE -> 405 Allow: POST") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);  // even with a real session id
    REQUIRE(!sid.empty());
    auto r = c.request("GET", "/mcp",
                       {{"Accept", "text/event-stream"}, {"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Session-Id", sid}});
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");
    r = c.request("DELETE", "/mcp", {{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Session-Id", sid}});
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");
    CHECK(s.transport->session_count() == 1);
}

TEST_CASE("options.sessionless: initialize answered without a session id; GET/DELETE 405; every request fresh") {
    mcpsse::SseTransportOptions o;
    o.sessionless = true;
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    auto r = c.request("POST", "/mcp", post_headers(), initialize_request("2025-06-18").dump());
    CHECK(r.status == 200);
    CHECK(r.json()["result"]["protocolVersion"] == "2025-06-18");
    CHECK(!r.has_header("mcp-session-id"));
    CHECK(s.transport->session_count() == 0);
    CHECK(s.probe.opened.load() == 0);

    r = c.request("POST", "/mcp", post_headers(std::nullopt, "2025-06-18"), rpc_request(2, "echo", {{"v", 2}}).dump());
    CHECK(r.status == 200);
    CHECK(r.json()["result"]["v"] == 2);
    r = c.request("POST", "/mcp", post_headers(std::nullopt, "1999-01-01"), rpc_request(3, "ping").dump());
    CHECK(r.status == 400);
    r = c.request("POST", "/mcp", post_headers(), rpc_notification("notifications/initialized").dump());
    CHECK(r.status == 202);
    // Batches: the default version (2025-03-26) allows them.
    r = c.request("POST", "/mcp", post_headers(), json::array({rpc_request(4, "ping"), rpc_request(5, "ping")}).dump());
    CHECK(r.status == 200);
    CHECK(r.json().size() == 2);

    r = c.request("GET", "/mcp", {{"Accept", "text/event-stream"}});
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");
    r = c.request("DELETE", "/mcp", {{"Mcp-Session-Id", "x"}});
    CHECK(r.status == 405);
    r = c.request("PUT", "/mcp");
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");
}
