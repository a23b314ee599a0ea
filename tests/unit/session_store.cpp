// Tests of include/mcpsse/session_store.hpp: transports that share one SessionStore
// (tests/support/shared_session_store.hpp: every record operation suspends for 20 ms on
// a thread of the store's own) serve each other's Streamable HTTP sessions: a session
// initialized at one is saved before its id goes out, and restored at another from its
// record (MCP Streamable HTTP "Session Management": N1, N4, N5).
#include <mcpsse/session_store.hpp>
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/static_token_verifier.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"
#include "support/shared_session_store.hpp"
#include "support/suspending_event_store.hpp"

#include <asio/io_context.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using namespace mcpsse_test;
using namespace std::chrono_literals;

static_assert(mcpsse::SessionStore<SharedSessionStore>);
static_assert(mcpsse::RenewableSessionStore<SharedSessionStore>);
static_assert(mcpsse::EventStore<SharedSessionStore>);
static_assert(!mcpsse::SessionStore<mcpsse::InMemoryEventStore>);
static_assert(!mcpsse::SessionStore<SuspendingEventStore>);

namespace {

using SharingTransport = mcpsse::SseTransport<asio::any_io_executor, SharedSessionStore>;

// One transport over the shared store, served by a thread of its own. Its `whoami`
// method answers what the session knows of its client.
struct Instance {
    mcpsse::Dispatcher dispatcher;
    asio::io_context io;
    std::optional<SharingTransport> transport;
    std::promise<std::exception_ptr> done;
    std::thread thread;

    Instance(const SharedSessionStore& store, std::size_t max_sessions = 100,
             std::optional<mcpsse::AuthorizationOptions> authorization = std::nullopt) {
        dispatcher.on_request("whoami", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
            co_return json{{"session", std::string(ctx.session_id())},
                           {"protocolVersion", std::string(ctx.protocol_version())},
                           {"capabilities", ctx.client_capabilities()},
                           {"clientInfo", ctx.client_info()}};
        });
        mcpsse::SseTransportOptions options;
        options.port = 0;
        options.max_sessions = max_sessions;
        options.authorization = std::move(authorization);
        transport.emplace(io.get_executor(), std::move(options), store);
        transport->async_run(dispatcher, [this](std::exception_ptr e) { done.set_value(e); });
        thread = std::thread([this] { io.run(); });
    }
    ~Instance() {
        transport->stop();
        if (done.get_future().wait_for(10s) != std::future_status::ready) io.stop();
        thread.join();
    }

    HttpClient client() const { return HttpClient(transport->local_port(), 5s); }
};

// A store whose completions run on `io` when the caller names no executor.
struct Fixture {
    asio::io_context store_io;
    SharedSessionStore store{store_io.get_executor(), 20ms};
    ~Fixture() { store.join(); }
};

// Two transports over one store, and a session initialized at the first.
struct SharedPair : Fixture {
    Instance a{store};
    Instance b{store};
    std::string sid;
    SharedPair() {
        HttpClient ca = a.client();
        sid = open_session(ca);
        REQUIRE(!sid.empty());
    }
};

json initialize_with_roots(const std::string& version) {
    json init = initialize_request(version);
    init["params"]["capabilities"] = {{"roots", {{"listChanged", true}}}};
    init["params"]["clientInfo"] = {{"name", "shared-store-test"}, {"version", "2"}};
    return init;
}

}  // namespace

TEST_CASE("session store N1: the record is saved before initialize's reply; another transport serves the session") {
    Fixture f;
    Instance a(f.store);
    Instance b(f.store);
    HttpClient ca = a.client();
    const auto init = ca.request("POST", "/mcp", post_headers(), initialize_with_roots("2025-06-18").dump());
    REQUIRE(init.status == 200);
    const auto sid = init.header("mcp-session-id");
    REQUIRE(sid);
    // Saved before the id went out: no waiting here.
    const auto record = f.store.record(*sid);
    REQUIRE(record);
    CHECK(record->protocol_version == "2025-06-18");
    CHECK(record->client_capabilities == json{{"roots", {{"listChanged", true}}}});
    CHECK(record->client_info["name"] == "shared-store-test");

    // The next request goes to the other transport, which restores the session.
    HttpClient cb = b.client();
    CHECK(b.transport->session_count() == 0);
    const auto note = cb.request("POST", "/mcp", post_headers(*sid, "2025-06-18"),
                                 rpc_notification("notifications/initialized").dump());
    CHECK(note.status == 202);
    CHECK(b.transport->session_count() == 1);
    const auto who = cb.request("POST", "/mcp", post_headers(*sid, "2025-06-18"), rpc_request(2, "whoami").dump());
    REQUIRE(who.status == 200);
    const json result = json::parse(who.body)["result"];
    CHECK(result["session"] == *sid);
    CHECK(result["protocolVersion"] == "2025-06-18");
    CHECK(result["capabilities"]["roots"]["listChanged"] == true);
    CHECK(result["clientInfo"]["version"] == "2");
    // Restored once: later requests find it in the table.
    CHECK(f.store.loads() == 1);

    // The GET stream opens at the transport that restored it, and at one that did not.
    HttpClient g = b.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(*sid)));
    CHECK(g.read_head().status == 200);
    Instance c(f.store);
    HttpClient gc = c.client();
    REQUIRE(gc.send_request("GET", "/mcp", get_headers(*sid)));
    CHECK(gc.read_head().status == 200);
    CHECK(f.store.loads() == 2);
}

TEST_CASE("session store: requests renew the record at most once per touch interval, at every transport that serves them") {
    Fixture f;
    f.store.set_touch_interval(400ms);
    Instance a(f.store);
    Instance b(f.store);
    HttpClient ca = a.client();
    const std::string sid = open_session(ca);
    REQUIRE(!sid.empty());
    HttpClient cb = b.client();
    const auto burst = [&](HttpClient& client, int first) {
        for (int n = first; n < first + 5; ++n)
            REQUIRE(client.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(n, "whoami").dump()).status == 200);
    };
    const auto started = std::chrono::steady_clock::now();
    burst(ca, 10);  // a saved the record just now: no renewal due
    burst(cb, 20);  // b restored it: its first request renews
    REQUIRE(std::chrono::steady_clock::now() - started < 400ms);  // else the counts below mean nothing
    CHECK(eventually([&] { return f.store.touches(sid) == 1; }));
    // A GET naming the session counts as use too, once the interval has passed.
    std::this_thread::sleep_until(started + 900ms);
    HttpClient g = a.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    CHECK(g.read_head().status == 200);
    burst(ca, 30);
    burst(cb, 40);
    CHECK(eventually([&] { return f.store.touches(sid) == 3; }));
    std::this_thread::sleep_for(100ms);  // no late extra renewal
    CHECK(f.store.touches(sid) == 3);
}

TEST_CASE("session store N4: an id the store does not know is 404 at every transport; V3 still applies") {
    Fixture f;
    Instance a(f.store);
    HttpClient c = a.client();
    const auto unknown = c.request("POST", "/mcp", post_headers(std::string("no-such-session")), rpc_request(1, "whoami").dump());
    CHECK(unknown.status == 404);
    CHECK(json::parse(unknown.body)["error"]["code"] == mcpsse::error_code::invalid_request);
    HttpClient g = a.client();
    CHECK(g.request("GET", "/mcp", get_headers("no-such-session")).status == 404);
    CHECK(c.request("DELETE", "/mcp", {{"Mcp-Session-Id", "no-such-session"}}).status == 404);
    CHECK(f.store.loads() == 3);
    CHECK(a.transport->session_count() == 0);

    // A stored session named with an unsupported revision: 400, and not taken over.
    Instance b(f.store);
    HttpClient cb = b.client();
    const std::string sid = open_session(cb);
    REQUIRE(!sid.empty());
    const auto bad = c.request("POST", "/mcp", post_headers(sid, "1999-01-01"), rpc_request(2, "whoami").dump());
    CHECK(bad.status == 400);
    CHECK(a.transport->session_count() == 0);
}

TEST_CASE("session store N5: DELETE at another transport erases the record; a new transport then answers 404") {
    SharedPair f;
    const std::string& sid = f.sid;
    HttpClient cb = f.b.client();
    CHECK(cb.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status == 200);
    REQUIRE(eventually([&] { return !f.store.record(sid); }));
    CHECK(f.b.transport->session_count() == 0);
    Instance c(f.store);
    HttpClient cc = c.client();
    CHECK(cc.request("POST", "/mcp", post_headers(sid), rpc_request(3, "whoami").dump()).status == 404);
}

TEST_CASE("session store: a stopped transport leaves record and events; another resumes the stream (R3)") {
    Fixture f;
    std::string sid;
    std::string last_seen;
    {
        Instance a(f.store);
        HttpClient ca = a.client();
        sid = open_session(ca);
        REQUIRE(!sid.empty());
        HttpClient g = a.client();
        REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
        REQUIRE(g.read_head().status == 200);
        const auto priming = g.next_event();
        REQUIRE(priming);
        for (int n = 1; n <= 4; ++n) CHECK(a.transport->broadcast("notifications/message", {{"level", "info"}, {"data", n}}) == 1);
        const auto first = g.next_event(5s);
        REQUIRE(first);
        REQUIRE(first->id);
        CHECK(first->json()["params"]["data"] == 1);
        last_seen = *first->id;
    }  // a stops: its copy of the session ends there, the record and the events stay
    REQUIRE(f.store.record(sid));
    Instance b(f.store);
    HttpClient r = b.client();
    REQUIRE(r.send_request("GET", "/mcp", get_headers(sid, last_seen)));
    REQUIRE(r.read_head().status == 200);
    std::vector<int> replayed;
    while (auto e = r.next_event(3s)) {
        if (e->data.empty()) continue;
        replayed.push_back(e->json()["params"]["data"].get<int>());
        if (replayed.back() == 4) break;
    }
    CHECK(replayed == std::vector<int>{2, 3, 4});
    HttpClient cb = b.client();
    const auto who = cb.request("POST", "/mcp", post_headers(sid), rpc_request(2, "whoami").dump());
    REQUIRE(who.status == 200);
    CHECK(json::parse(who.body)["result"]["session"] == sid);
}

TEST_CASE("session store: restoring counts toward max_sessions (503 when full); a failed save keeps the session local") {
    Fixture f;
    Instance a(f.store);
    Instance b(f.store, 1);
    HttpClient ca = a.client();
    const std::string first = open_session(ca);
    HttpClient ca2 = a.client();
    const std::string second = open_session(ca2);
    REQUIRE(!first.empty());
    REQUIRE(!second.empty());
    HttpClient cb = b.client();
    CHECK(cb.request("POST", "/mcp", post_headers(first), rpc_request(1, "whoami").dump()).status == 200);
    const auto full = cb.request("POST", "/mcp", post_headers(second), rpc_request(2, "whoami").dump());
    CHECK(full.status == 503);
    CHECK(full.header("retry-after") == "1");
    CHECK(b.transport->session_count() == 1);

    // The store fails: initialize still succeeds, and only its own transport knows it.
    f.store.fail_saves(true);
    HttpClient ca3 = a.client();
    const std::string local = open_session(ca3);
    REQUIRE(!local.empty());
    CHECK(!f.store.record(local));
    CHECK(ca3.request("POST", "/mcp", post_headers(local), rpc_request(3, "whoami").dump()).status == 200);
    Instance c(f.store);
    HttpClient cc = c.client();
    CHECK(cc.request("POST", "/mcp", post_headers(local), rpc_request(4, "whoami").dump()).status == 404);
}

TEST_CASE("session store: a load that fails is 503, not 404; the session is served once the store answers") {
    Fixture f;
    Instance a(f.store);
    Instance b(f.store);
    HttpClient ca = a.client();
    const std::string sid = open_session(ca);
    REQUIRE(!sid.empty());
    // The store cannot answer (e.g. b's connection to it is not up yet): the session may
    // well exist, so b must not say it is gone (MCP N4: a 404 makes the client drop it).
    f.store.fail_loads(true);
    HttpClient cb = b.client();
    const auto down = cb.request("POST", "/mcp", post_headers(sid), rpc_request(1, "whoami").dump());
    CHECK(down.status == 503);
    CHECK(down.header("retry-after") == "1");  // try again soon (here, or at another instance)
    CHECK(json::parse(down.body)["error"]["code"] == mcpsse::error_code::invalid_request);
    const auto get_down = cb.request("GET", "/mcp", get_headers(sid));
    CHECK(get_down.status == 503);
    CHECK(get_down.header("retry-after") == "1");
    CHECK(b.transport->session_count() == 0);
    f.store.fail_loads(false);
    const auto up = cb.request("POST", "/mcp", post_headers(sid), rpc_request(2, "whoami").dump());
    REQUIRE(up.status == 200);
    CHECK(json::parse(up.body)["result"]["session"] == sid);
}

TEST_CASE("session store: a request waiting for 100 Continue is not refused for a session held elsewhere") {
    SharedPair f;
    const std::string& sid = f.sid;
    HttpClient cb = f.b.client();
    const std::string body = rpc_request(5, "whoami").dump();
    Headers headers = post_headers(sid);
    headers.emplace_back("Expect", "100-continue");
    headers.emplace_back("Content-Length", std::to_string(body.size()));
    REQUIRE(cb.send_raw(cb.format_request("POST", "/mcp", headers, {})));
    const auto interim = cb.read_head(true);
    REQUIRE(interim.complete);
    CHECK(interim.status == 100);
    REQUIRE(cb.send_raw(body));
    const auto who = cb.read_response();
    REQUIRE(who.status == 200);
    CHECK(json::parse(who.body)["result"]["session"] == sid);
}

TEST_CASE("session store: the record names the session's subject; another subject's token gets 404 elsewhere") {
    Fixture f;
    auto tokens = std::make_shared<mcpsse::StaticTokenVerifier>();
    tokens->add("alice-token");
    tokens->add("bob-token");
    mcpsse::AuthorizationOptions auth;
    auth.resource = "http://127.0.0.1/mcp";
    auth.verifier = tokens;
    Instance a(f.store, 100, auth);
    Instance b(f.store, 100, auth);
    const auto as = [](Headers h, const char* token) {
        h.emplace_back("Authorization", std::string("Bearer ") + token);
        return h;
    };
    HttpClient ca = a.client();
    const auto init = ca.request("POST", "/mcp", as(post_headers(), "alice-token"), initialize_request("2025-11-25").dump());
    REQUIRE(init.status == 200);
    const std::string sid = init.header("mcp-session-id").value_or("");
    const auto record = f.store.record(sid);
    REQUIRE(record);
    CHECK(record->subject == mcpsse::StaticTokenVerifier::subject_of("alice-token"));
    HttpClient cb = b.client();
    const std::string ping = rpc_request(2, "ping").dump();
    CHECK(cb.request("POST", "/mcp", as(post_headers(sid, "2025-11-25"), "bob-token"), ping).status == 404);
    CHECK(cb.request("GET", "/mcp", as(get_headers(sid), "bob-token")).status == 404);
    CHECK(cb.request("POST", "/mcp", as(post_headers(sid, "2025-11-25"), "alice-token"), ping).status == 200);
}
