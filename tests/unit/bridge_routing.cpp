// Tests of examples/bridge/bridge.hpp over a real SseTransport: sessions routed to stdio
// children, ids and progress tokens renamed, a child's requests forwarded to the client,
// cancellation passed on once, a dying or garbling child failing its requests and ending
// its session, spawn failures, --max-children and --share-child, and legacy HTTP+SSE.
// The child is a small /bin/sh "MCP server" (FAKE_SERVER below) that answers by method.
#include "bridge.hpp"

#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;
using mcpsse_bridge::Bridge;
using mcpsse_bridge::BridgeOptions;

namespace {

// A stdio MCP server in /bin/sh. The bridge writes compact JSON with sorted keys, so a
// request line starts with {"id":N, and the method is found by substring. It answers:
// initialize; tools/list; test/pid (its pid); test/progress (one progress notification
// under the request's token, which the bridge renamed to the request's id, then a result);
// test/ask (asks the client roots/list and returns the answer line); test/hang (never
// answers; logs "hanging ID" to stderr); test/exit (exits 3); test/garbage (writes a line that is not JSON); test/log
// (a notifications/message, then a result); server/discover (2026-07-28) when DISCOVER is
// set, else "Method not found" as a session-era server. Notifications it receives are echoed to stderr
// ("got: LINE"), so the test sees what reached it through the bridge's log.
const char* const fake_server = R"SH(
while IFS= read -r line; do
  id=$(printf '%s\n' "$line" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
  case "$line" in
    *'"method":"initialize"'*)
      printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"fake","version":"1"}}}\n' "$id";;
    *'"method":"server/discover"'*)
      if [ -n "$DISCOVER" ]; then
        printf '{"jsonrpc":"2.0","id":%s,"result":{"supportedVersions":["2026-07-28"],"capabilities":{"tools":{}},"serverInfo":{"name":"fake","version":"1"}}}\n' "$id"
      else
        printf '{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"Method not found"}}\n' "$id"
      fi;;
    *'"method":"tools/list"'*) printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[]}}\n' "$id";;
    *'"method":"test/pid"'*) printf '{"jsonrpc":"2.0","id":%s,"result":{"pid":%s}}\n' "$id" "$$";;
    *'"method":"test/progress"'*)
      printf '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":%s,"progress":1,"total":2}}\n' "$id"
      printf '{"jsonrpc":"2.0","id":%s,"result":{"done":true}}\n' "$id";;
    *'"method":"test/ask"'*)
      printf '{"jsonrpc":"2.0","id":"ask-1","method":"roots/list","params":{}}\n'
      IFS= read -r answer
      printf '{"jsonrpc":"2.0","id":%s,"result":{"answer":%s}}\n' "$id" "$answer";;
    *'"method":"test/log"'*)
      printf '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"hello"}}\n'
      printf '{"jsonrpc":"2.0","id":%s,"result":{}}\n' "$id";;
    *'"method":"test/hang"'*) echo "hanging $id" >&2;;
    *'"method":"test/exit"'*) exit 3;;
    *'"method":"test/garbage"'*) echo 'this is not json';;
    '{"id":'*) printf '{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"no such method"}}\n' "$id";;
    *) echo "got: $line" >&2;;
  esac
done
)SH";

BridgeOptions fake_options() {
    BridgeOptions o;
    o.command = {"/bin/sh", "-c", fake_server};
    o.environment = {"PATH=/usr/bin:/bin"};
    o.child.stdin_grace = std::chrono::milliseconds(200);
    o.child.term_grace = std::chrono::milliseconds(200);
    o.child.stderr_lines_per_second = 0;
    return o;
}

// An SseTransport and a Bridge on one io_context run by one thread.
struct Harness {
    asio::io_context io{1};
    mcpsse::Dispatcher dispatcher;
    std::optional<mcpsse::SseTransport<asio::any_io_executor>> transport;
    std::unique_ptr<Bridge> bridge;
    std::mutex mutex;
    std::vector<std::string> logs;
    std::promise<void> ran;
    std::thread thread;
    std::uint16_t port = 0;

    explicit Harness(BridgeOptions options, mcpsse::SseTransportOptions http = {}) {
        bridge = std::make_unique<Bridge>(
            io.get_executor(), std::move(options),
            [this](mcpsse::LoggingLevel, std::string_view, std::string_view message) {
                std::lock_guard lock(mutex);
                logs.emplace_back(message);
            },
            [this](const std::string& id) { transport->end_session(id); });
        bridge->install(dispatcher);
        http.port = 0;
        http.single_threaded = true;
        http.on_session_open = [this](const mcpsse::SseSession<>& s) { bridge->session_opened(s); };
        http.on_session_close = [this](const mcpsse::SseSession<>& s) { bridge->session_closed(s); };
        transport.emplace(io.get_executor(), http);
        port = transport->local_port();
        transport->async_run(dispatcher, [this](std::exception_ptr) { bridge->shutdown(); });
        thread = std::thread([this] {
            io.run();
            ran.set_value();
        });
    }

    ~Harness() {
        transport->stop();
        // Every child ends on stdin EOF, so the context runs out of work.
        if (ran.get_future().wait_for(20s) != std::future_status::ready) io.stop();
        thread.join();
    }

    HttpClient client() const { return HttpClient(port, 10s); }

    // Runs `f` on the bridge's thread and returns its value.
    template <class F>
    auto on_io(F f) {
        std::promise<decltype(f())> p;
        asio::post(io, [&] { p.set_value(f()); });
        return p.get_future().get();
    }

    bool logged(const std::string& part) {
        std::lock_guard lock(mutex);
        for (const auto& l : logs)
            if (l.find(part) != std::string::npos) return true;
        return false;
    }
    std::size_t count_logged(const std::string& part) {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const auto& l : logs) n += l.find(part) != std::string::npos ? 1 : 0;
        return n;
    }
};

const std::string v = "2025-11-25";

json call(HttpClient& c, const std::string& sid, json id, const std::string& method, json params = json::object()) {
    const auto r = c.request("POST", "/mcp", post_headers(sid, v), rpc_request(std::move(id), method, std::move(params)).dump());
    if (r.status != 200) return json{{"http_status", r.status}};
    // A JSON body, or an SSE stream whose last event is the response.
    if (r.header("content-type").value_or("").find("json") != std::string::npos) return json::parse(r.body, nullptr, false);
    json last;
    std::size_t at = 0;
    while ((at = r.body.find("data: ", at)) != std::string::npos) {
        const auto end = r.body.find('\n', at);
        last = json::parse(r.body.substr(at + 6, end - at - 6), nullptr, false);
        at = end;
    }
    return last;
}

bool process_gone(pid_t pid) {
    return eventually([pid] { return ::kill(pid, 0) != 0; }, 10s);
}

}  // namespace

TEST_CASE("bridge: initialize starts a child; requests round-trip; DELETE ends the child") {
    Harness h(fake_options());
    HttpClient c = h.client();
    const auto init = c.request("POST", "/mcp", post_headers(), initialize_request(v).dump());
    REQUIRE(init.status == 200);
    CHECK(init.json()["result"]["serverInfo"]["name"] == "fake");
    const std::string sid = init.header("mcp-session-id").value_or("");
    REQUIRE(!sid.empty());
    CHECK(c.request("POST", "/mcp", post_headers(sid, v), rpc_notification("notifications/initialized").dump()).status ==
          202);
    CHECK(eventually([&] { return h.logged("got: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"); }));

    // The client's id 42 goes out under the bridge's own id and comes back as 42.
    const json tools = call(c, sid, 42, "tools/list");
    CHECK(tools["id"] == 42);
    CHECK(tools["result"]["tools"] == json::array());
    const json unknown = call(c, sid, "x", "nope/nothing");
    CHECK(unknown["id"] == "x");
    CHECK(unknown["error"]["code"] == -32601);

    const json pid_reply = call(c, sid, 3, "test/pid");
    const auto pid = static_cast<pid_t>(pid_reply["result"]["pid"].get<long>());
    CHECK(pid == h.on_io([&] { return h.bridge->child_pid(sid); }));
    CHECK(h.on_io([&] { return h.bridge->child_count(); }) == 1);

    // A second session gets a child of its own.
    HttpClient c2 = h.client();
    const std::string sid2 = open_session(c2, v);
    REQUIRE(!sid2.empty());
    const auto pid2 = static_cast<pid_t>(call(c2, sid2, 1, "test/pid")["result"]["pid"].get<long>());
    CHECK(pid2 != pid);

    CHECK(c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status == 200);
    CHECK(process_gone(pid));
    CHECK(eventually([&] { return h.on_io([&] { return h.bridge->child_count(); }) == 1; }));
    CHECK(::kill(pid2, 0) == 0);
}

TEST_CASE("bridge: progress reaches the request's stream under the client's token") {
    Harness h(fake_options());
    HttpClient c = h.client();
    const std::string sid = open_session(c, v);
    REQUIRE(!sid.empty());
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid, v),
                           rpc_request(5, "test/progress", {{"_meta", {{"progressToken", "tok"}}}}).dump()));
    REQUIRE(c.read_head().status == 200);
    const auto events = read_events_until_response(c, 5);
    REQUIRE(events.size() >= 2);
    bool saw_progress = false;
    for (const auto& e : events) {
        const json m = e.json();
        if (m.is_object() && m.value("method", "") == "notifications/progress") {
            saw_progress = true;
            CHECK(m["params"]["progressToken"] == "tok");
            CHECK(m["params"]["progress"] == 1);
        }
    }
    CHECK(saw_progress);
    CHECK(events.back().json()["result"]["done"] == true);
}

TEST_CASE("bridge: a child's request goes to the client on the request's stream; the answer goes back") {
    Harness h(fake_options());
    HttpClient c = h.client();
    const std::string sid = open_session(c, v);
    REQUIRE(!sid.empty());
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid, v), rpc_request(9, "test/ask").dump()));
    REQUIRE(c.read_head().status == 200);
    const auto ask = c.next_event(10s);
    REQUIRE(ask);
    json asked = ask->json();
    if (!asked.is_object()) {  // the priming event (no data) first
        const auto next = c.next_event(10s);
        REQUIRE(next);
        asked = next->json();
    }
    REQUIRE(asked["method"] == "roots/list");
    REQUIRE(asked.contains("id"));
    HttpClient answerer = h.client();
    CHECK(answerer
              .request("POST", "/mcp", post_headers(sid, v),
                       json{{"jsonrpc", "2.0"}, {"id", asked["id"]}, {"result", {{"roots", json::array()}}}}.dump())
              .status == 202);
    const auto events = read_events_until_response(c, 9);
    REQUIRE(!events.empty());
    const json answer = events.back().json()["result"]["answer"];
    CHECK(answer["id"] == "ask-1");  // the child's own id came back
    CHECK(answer["result"]["roots"] == json::array());
}

TEST_CASE("bridge: a cancelled request is cancelled at the child exactly once") {
    Harness h(fake_options());
    HttpClient c = h.client();
    const std::string sid = open_session(c, v);
    REQUIRE(!sid.empty());
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid, v), rpc_request(11, "test/hang").dump()));
    // Once the child has the request, cancel it.
    REQUIRE(eventually([&] { return h.logged("hanging "); }));
    HttpClient other = h.client();
    CHECK(other
              .request("POST", "/mcp", post_headers(sid, v),
                       rpc_notification("notifications/cancelled", {{"requestId", 11}, {"reason", "test"}}).dump())
              .status == 202);
    CHECK(eventually([&] { return h.logged("got: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\""); }));
    // The session goes on.
    CHECK(call(other, sid, 12, "tools/list")["result"]["tools"] == json::array());
    CHECK(h.count_logged("notifications/cancelled") == 1);
}

TEST_CASE("bridge: a child that exits fails its pending requests with -32000 and its session ends") {
    Harness h(fake_options());
    HttpClient c = h.client();
    const std::string sid = open_session(c, v);
    REQUIRE(!sid.empty());
    const json reply = call(c, sid, 4, "test/exit");
    CHECK(reply["id"] == 4);
    CHECK(reply["error"]["code"] == mcpsse_bridge::upstream_error);
    CHECK(reply["error"]["message"].get<std::string>().find("exited (exit status 3)") != std::string::npos);
    // The session ends: the client gets 404 and would initialize again.
    CHECK(eventually([&] {
        return c.request("POST", "/mcp", post_headers(sid, v), rpc_request(5, "tools/list").dump()).status == 404;
    }));
    CHECK(h.on_io([&] { return h.bridge->child_count(); }) == 0);
}

TEST_CASE("bridge: a child writing something that is not JSON fails its requests and is ended") {
    Harness h(fake_options());
    HttpClient c = h.client();
    const std::string sid = open_session(c, v);
    REQUIRE(!sid.empty());
    const auto pid = static_cast<pid_t>(call(c, sid, 1, "test/pid")["result"]["pid"].get<long>());
    HttpClient hanging = h.client();
    REQUIRE(hanging.send_request("POST", "/mcp", post_headers(sid, v), rpc_request(2, "test/hang").dump()));
    REQUIRE(eventually([&] { return h.logged("hanging "); }));
    const json reply = call(c, sid, 3, "test/garbage");
    CHECK(reply["error"]["code"] == mcpsse_bridge::upstream_error);
    CHECK(reply["error"]["message"] == "upstream server wrote invalid JSON");
    const auto head = hanging.read_head();
    REQUIRE(head.status == 200);
    const auto body = hanging.read_body();
    REQUIRE(body);
    CHECK(body->find("upstream server wrote invalid JSON") != std::string::npos);
    CHECK(process_gone(pid));
}

TEST_CASE("bridge: a command that cannot start answers initialize with an error; no session") {
    BridgeOptions o = fake_options();
    o.command = {"mcpsse-test-no-such-command"};
    Harness h(o);
    HttpClient c = h.client();
    const auto init = c.request("POST", "/mcp", post_headers(), initialize_request(v).dump());
    REQUIRE(init.status == 200);
    CHECK(!init.header("mcp-session-id"));
    CHECK(init.json()["error"]["code"] == mcpsse_bridge::upstream_error);
    CHECK(init.json()["error"]["message"].get<std::string>().find("cannot start upstream server") != std::string::npos);
    CHECK(h.logged("cannot start upstream server"));
    CHECK(h.transport->session_count() == 0);
}

TEST_CASE("bridge: --max-children refuses initialize with -32050 beyond the limit") {
    BridgeOptions o = fake_options();
    o.max_children = 1;
    Harness h(o);
    HttpClient c = h.client();
    const std::string sid = open_session(c, v);
    REQUIRE(!sid.empty());
    HttpClient c2 = h.client();
    const auto init = c2.request("POST", "/mcp", post_headers(), initialize_request(v).dump());
    REQUIRE(init.status == 200);
    CHECK(!init.header("mcp-session-id"));
    CHECK(init.json()["error"]["code"] == mcpsse::error_code::too_many_requests);
    CHECK(init.json()["error"]["data"]["limit"] == "max_children");
}

TEST_CASE("bridge: --share-child serves every session from one child, initialized once") {
    BridgeOptions o = fake_options();
    o.share_child = true;
    Harness h(o);
    HttpClient c = h.client();
    const std::string sid = open_session(c, v);
    HttpClient c2 = h.client();
    const std::string sid2 = open_session(c2, v);
    REQUIRE(!sid.empty());
    REQUIRE(!sid2.empty());
    const json a = call(c, sid, 1, "test/pid");
    const json b = call(c2, sid2, 1, "test/pid");  // the same client id from two sessions
    CHECK(a["id"] == 1);
    CHECK(b["id"] == 1);
    CHECK(a["result"]["pid"] == b["result"]["pid"]);
    CHECK(h.count_logged("notifications/initialized") == 1);
    CHECK(h.on_io([&] { return h.bridge->child_count(); }) == 1);
    // Ending one session keeps the child.
    CHECK(c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status == 200);
    CHECK(call(c2, sid2, 2, "test/pid")["result"]["pid"] == a["result"]["pid"]);
}

TEST_CASE("bridge: legacy HTTP+SSE sessions start their child on initialize and get replies on the stream") {
    Harness h(fake_options());
    HttpClient stream = h.client();
    REQUIRE(stream.send_request("GET", "/sse", {{"Accept", "text/event-stream"}}));
    REQUIRE(stream.read_head().status == 200);
    const auto endpoint = stream.next_event();
    REQUIRE(endpoint);
    REQUIRE(endpoint->event == "endpoint");
    HttpClient poster = h.client();
    CHECK(poster.request("POST", endpoint->data, {{"Content-Type", "application/json"}},
                         initialize_request("2024-11-05").dump())
              .status == 202);
    const auto init = stream.next_event(10s);
    REQUIRE(init);
    CHECK(init->json()["result"]["serverInfo"]["name"] == "fake");
    CHECK(poster.request("POST", endpoint->data, {{"Content-Type", "application/json"}},
                         rpc_request(2, "test/log").dump())
              .status == 202);
    // The child's notification goes to the legacy stream, then the reply.
    const auto note = stream.next_event(10s);
    REQUIRE(note);
    CHECK(note->json()["method"] == "notifications/message");
    const auto reply = stream.next_event(10s);
    REQUIRE(reply);
    CHECK(reply->json()["id"] == 2);
    CHECK(h.on_io([&] { return h.bridge->child_count(); }) == 1);
    stream.close();  // the legacy session ends with its stream, and its child with it
    CHECK(eventually([&] { return h.on_io([&] { return h.bridge->child_count(); }) == 0; }, 10s));
}

TEST_CASE("bridge: stateless 2026-07-28 requests go to a pool of children, round-robin") {
    BridgeOptions o = fake_options();
    o.command = {"/bin/sh", "-c", std::string("DISCOVER=1\n") + fake_server};
    o.stateless_pool = 2;
    Harness h(o);
    HttpClient c = h.client();
    std::vector<long> pids;
    for (int i = 0; i < 3; ++i) {
        json params = {{"_meta", stateless_meta()}};
        const auto r = c.request("POST", "/mcp", stateless_headers("test/pid"), rpc_request(i, "test/pid", params).dump());
        REQUIRE(r.status == 200);
        const json reply = r.json();
        REQUIRE(reply.contains("result"));
        CHECK(reply["id"] == i);
        pids.push_back(reply["result"]["pid"].get<long>());
    }
    CHECK(pids[0] != pids[1]);
    CHECK(pids[2] == pids[0]);
    CHECK(h.transport->session_count() == 0);
    CHECK(h.on_io([&] { return h.bridge->child_count(); }) == 2);
}

TEST_CASE("bridge: a child without 2026-07-28 refuses stateless requests with -32022 naming the session revisions") {
    Harness h(fake_options());
    HttpClient c = h.client();
    json params = {{"_meta", stateless_meta()}};
    const auto r = c.request("POST", "/mcp", stateless_headers("tools/list"), rpc_request(1, "tools/list", params).dump());
    CHECK(r.status == 400);
    const json reply = r.json();
    CHECK(reply["error"]["code"] == mcpsse::error_code::unsupported_protocol_version);
    CHECK(reply["error"]["message"].get<std::string>().find("2026-07-28") != std::string::npos);
    CHECK(std::find(reply["error"]["data"]["supported"].begin(), reply["error"]["data"]["supported"].end(),
                    json("2025-11-25")) != reply["error"]["data"]["supported"].end());
    // Remembered: no more children are started for stateless requests, and the one asked is ended.
    const auto again = c.request("POST", "/mcp", stateless_headers("tools/list"), rpc_request(2, "tools/list", params).dump());
    CHECK(again.status == 400);
    CHECK(eventually([&] { return h.on_io([&] { return h.bridge->child_count(); }) == 0; }, 10s));
    // Sessions still work.
    HttpClient s = h.client();
    CHECK(!open_session(s, v).empty());
}
