// Socket-level tests of SseTransport::end_session: the host ends a session from the
// server side (as mcpsse-bridge does when a session's upstream server exits).
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;

namespace {

// Records the reasons observers are given when sessions end.
struct EndReasons : mcpsse::TransportObserver {
    std::mutex mutex;
    std::vector<mcpsse::SessionEndReason> reasons;
    void on_session_close(const mcpsse::SessionInfo&, mcpsse::SessionEndReason reason) override {
        std::lock_guard lock(mutex);
        reasons.push_back(reason);
    }
    std::vector<mcpsse::SessionEndReason> seen() {
        std::lock_guard lock(mutex);
        return reasons;
    }
};

}  // namespace

TEST_CASE("end_session: the session ends as after DELETE, with reason closed; later requests get 404") {
    TestServer s;
    auto reasons = std::make_shared<EndReasons>();
    mcpsse::SseTransportOptions options;
    options.observers.push_back(reasons);
    s.start(options);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);

    CHECK(s.transport->end_session(sid));
    // Its standalone stream ends (the priming event may come first).
    while (g.next_event(5s)) {
    }
    CHECK(!g.timed_out());
    CHECK(eventually([&] { return s.probe.closed.load() == 1; }));
    CHECK(reasons->seen() == std::vector<mcpsse::SessionEndReason>{mcpsse::SessionEndReason::closed});
    CHECK(s.transport->session_count() == 0);
    const auto r = c.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(2, "echo").dump());
    CHECK(r.status == 404);
    CHECK(!s.transport->end_session(sid));  // once only
    CHECK(!s.transport->end_session("no-such-session"));
    CHECK(reasons->seen().size() == 1);
}

TEST_CASE("end_session: a running request of the session is cancelled") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient b = s.client();
    REQUIRE(b.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(7, "block").dump()));
    REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
    CHECK(s.transport->end_session(sid));
    CHECK(eventually([&] { return s.probe.aborted.load() == 1; }));
    CHECK(s.probe.completed.load() == 0);
    // A cancelled handler's result is discarded: no result reaches the client.
    const auto r = b.read_response();
    INFO(r.body);
    CHECK(r.body.find("\"result\"") == std::string::npos);
}

TEST_CASE("end_session: a legacy HTTP+SSE session's stream ends") {
    TestServer s;
    s.start();
    LegacySession legacy = open_legacy_session(s);
    REQUIRE(!legacy.endpoint.empty());
    const std::string id = legacy.endpoint.substr(legacy.endpoint.find('=') + 1);
    CHECK(s.transport->end_session(id));
    CHECK(legacy.stream.wait_closed(5s));
    CHECK(eventually([&] { return s.probe.closed.load() == 1; }));
    HttpClient poster = s.client();
    CHECK(poster.request("POST", legacy.endpoint, {{"Content-Type", "application/json"}}, rpc_request(2, "echo").dump())
              .status == 404);
}
