// Socket-level tests of SseTransport's lifecycle: graceful stop, abandoned connections
// and sessions (no leaks), an io_context run by two threads, and share-nothing mode.
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <array>
#include <atomic>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace mcpsse_test;
using nlohmann::json;

TEST_CASE("stop: the in-flight response is delivered, new connections are refused, the run completes") {
    TestServer s;
    s.start();
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient idle = s.client();  // an idle keep-alive connection is closed by stop
    HttpClient g = s.client();     // the standalone stream ends at stop
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);

    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid), rpc_request(5, "slow", {{"steps", 4}, {"interval_ms", 100}}).dump()));
    REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
    s.transport->stop();
    REQUIRE(eventually([&] { return !HttpClient::connect(s.port(), 1s).has_value(); }));
    const auto r = c.read_response();
    REQUIRE(r.complete);
    CHECK(r.status == 200);
    CHECK(r.json()["result"]["done"] == 4);
    CHECK(idle.wait_closed(5s));
    CHECK(g.wait_closed(5s));
    CHECK(s.run_finished(5s));
    CHECK(!s.finished.get());
    CHECK(s.probe.aborted.load() == 0);
    CHECK(s.transport->connection_count() == 0);
    CHECK(s.transport->session_count() == 0);
    CHECK(s.probe.closed.load() == 1);
    CHECK(s.stop_and_join(5s));  // io_context::run() returns: nothing left behind
}

TEST_CASE("stop: a handler that never finishes is cancelled after stop_timeout") {
    mcpsse::SseTransportOptions o;
    o.stop_timeout = std::chrono::milliseconds(200);
    const bool stateless = GENERATE(false, true);
    CAPTURE(stateless);
    TestServer s;
    s.start(o);
    HttpClient c = s.client();
    if (stateless) {
        json params = {{"name", "block"}, {"arguments", json::object()}, {"_meta", stateless_meta()}};
        REQUIRE(c.send_request("POST", "/mcp", stateless_headers("tools/call", "block"), rpc_request(1, "tools/call", params).dump()));
    } else {
        const std::string sid = open_session(c);
        REQUIRE(!sid.empty());
        REQUIRE(c.send_request("POST", "/mcp", post_headers(sid), rpc_request(1, "block").dump()));
    }
    REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
    const auto t0 = std::chrono::steady_clock::now();
    s.transport->stop();
    CHECK(s.run_finished(5s));
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(150));
    CHECK(eventually([&] { return s.probe.aborted.load() == 1; }));
    CHECK(s.probe.completed.load() == 0);
    CHECK(c.wait_closed(5s));
    CHECK(s.stop_and_join(5s));
}

TEST_CASE("abandoned connections and sessions: counts return to 0 and the server still answers") {
    mcpsse::SseTransportOptions o;
    o.session_idle_timeout = std::chrono::milliseconds(300);
    o.request_timeout = std::chrono::milliseconds(2000);
    TestServer s;
    s.start(o);
    const std::string init = initialize_request("2025-11-25").dump();
    const std::vector<std::string> partials = {
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{\"jsonrpc\"",
        "GET /mcp HTTP/1.1\r\nHo",
        "",
        "GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
    };
    for (int i = 0; i < 3000; ++i) {
        HttpClient c = s.client();
        const auto& p = partials[static_cast<std::size_t>(i) % partials.size()];
        if (!p.empty()) REQUIRE(c.send_raw(p));
        if (i % 2 == 0) c.reset();
    }
    int sessions = 0;
    for (int i = 0; i < 1000; ++i) {
        HttpClient c = s.client();
        if (i % 2 == 0) {
            // Initialize, then vanish without DELETE.
            const auto r = c.request("POST", "/mcp", post_headers(), init);
            REQUIRE(r.status == 200);
            ++sessions;
        } else {
            // Initialize sent, connection dropped before the answer is read.
            REQUIRE(c.send_request("POST", "/mcp", post_headers(), init));
            c.reset();
        }
    }
    CHECK(eventually([&] { return s.transport->connection_count() == 0; }, 20s));
    CHECK(eventually([&] { return s.transport->session_count() == 0; }, 20s));
    CHECK(s.probe.opened.load() >= sessions);
    CHECK(eventually([&] { return s.probe.closed.load() == s.probe.opened.load(); }));
    CHECK(s.transport->event_store().session_count() == 0);
    HttpClient c = s.client();
    CHECK(!open_session(c).empty());
    CHECK(c.request("GET", "/nowhere").status == 404);
}

TEST_CASE("two I/O threads: concurrent sessions, streams and stateless requests") {
    TestServer s;
    s.start({}, 2);
    std::atomic<int> failures{0};
    std::array<std::atomic<int>, 16> failed_at{};
    auto fail = [&](int where) {
        ++failures;
        ++failed_at[static_cast<std::size_t>(where)];
    };
    std::atomic<int> ok{0};
    std::mutex labels_mutex;
    std::map<std::uint16_t, std::string> labels;  // client port -> what it did (diagnostics)
    auto label = [&](const HttpClient& client, std::string what) {
        std::lock_guard lock(labels_mutex);
        labels[client.local_port()] = std::move(what);
    };
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&, t] {
            try {
                for (int round = 0; round < 10; ++round) {
                    HttpClient c = s.client();
                    label(c, "c t" + std::to_string(t) + " r" + std::to_string(round));
                    const std::string sid = open_session(c);
                    if (sid.empty()) {
                        fail(1);
                        continue;
                    }
                    HttpClient g = s.client();
                    label(g, "g t" + std::to_string(t) + " r" + std::to_string(round));
                    g.send_request("GET", "/mcp", get_headers(sid));
                    if (g.read_head().status != 200) fail(2);
                    for (int i = 0; i < 5; ++i) {
                        const auto r = c.request("POST", "/mcp", post_headers(sid), rpc_request(i, "echo", {{"t", t}, {"i", i}}).dump());
                        if (r.status != 200 || r.json()["result"]["i"] != i) fail(3);
                    }
                    c.send_request("POST", "/mcp", post_headers(sid),
                                   rpc_request(100, "slow", {{"steps", 3}, {"interval_ms", 1}, {"_meta", {{"progressToken", t}}}}).dump());
                    if (c.read_head().status != 200) fail(4);
                    const auto events = read_events_until_response(c, 100);
                    if (events.empty() || events.back().json()["result"]["done"] != 3) fail(5);
                    json params = {{"name", "echo"}, {"arguments", {{"r", round}}}, {"_meta", stateless_meta()}};
                    const auto sr = c.request("POST", "/mcp", stateless_headers("tools/call", "echo"),
                                              rpc_request(101, "tools/call", params).dump());
                    if (sr.status != 200) fail(6);
                    if (c.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status != 200) fail(7);
                    while (g.next_event(3s)) {
                    }
                    if (g.timed_out() || g.body_pending()) fail(8);
                    ++ok;
                }
            } catch (...) {
                fail(9);
            }
        });
    }
    std::thread broadcaster([&] {
        for (int i = 0; i < 200; ++i) {
            s.transport->broadcast("notifications/tools/list_changed");
            std::this_thread::sleep_for(1ms);
        }
    });
    for (auto& t : clients) t.join();
    broadcaster.join();
    for (std::size_t i = 0; i < failed_at.size(); ++i) {
        CAPTURE(i);
        CHECK(failed_at[i].load() == 0);
    }
    CHECK(failures.load() == 0);
    CHECK(ok.load() == 40);
    const bool drained = eventually([&] { return s.transport->connection_count() == 0; });
    if (!drained) {
        // Which client's connection does the server still hold? (ss: CLOSE-WAIT on the server side)
        const std::string command = "ss -tn state close-wait sport = :" + std::to_string(s.port());
        if (FILE* ss = ::popen(command.c_str(), "r")) {
            char line[512];
            while (std::fgets(line, sizeof line, ss)) {
                const std::string text = line;
                for (const auto& entry : labels)
                    if (text.find(":" + std::to_string(entry.first) + " ") != std::string::npos) {
                        INFO("server holds: " << entry.second << " | " << text);
                        CHECK(false);
                    }
            }
            ::pclose(ss);
        }
        // A lost wake would be recovered by the next keep-alive tick (15 s by default).
        const bool late = eventually([&] { return s.transport->connection_count() == 0; }, 20s);
        INFO("drained within another 20 s: " << late);
        CHECK(false);
    }
    CHECK(drained);
    CHECK(s.transport->session_count() == 0);
    CHECK(s.probe.opened.load() == 40);
    CHECK(s.probe.closed.load() == 40);
    CHECK(s.stop_and_join(5s));
}

TEST_CASE("share-nothing: requests of one session run at once, each on its connection's thread") {
    CHECK_THROWS_AS(Transport(std::vector<asio::any_io_executor>{}), std::invalid_argument);

    asio::io_context io1{1};
    asio::io_context io2{1};
    mcpsse::Dispatcher dispatcher;
    std::mutex seen_mutex;
    std::set<std::thread::id> seen;  // threads that ran `meet`
    std::atomic<int> running{0};
    // Waits (up to 2 s) until the other `meet` is in progress too; each records the
    // thread it runs on (share-nothing: its connection's, so two threads).
    dispatcher.on_request("meet", [&](json, mcpsse::RequestContext&) -> asio::awaitable<json> {
        {
            std::lock_guard lock(seen_mutex);
            seen.insert(std::this_thread::get_id());
        }
        ++running;
        asio::steady_timer tick(co_await asio::this_coro::executor);
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (running.load() < 2 && std::chrono::steady_clock::now() < deadline) {
            tick.expires_after(1ms);
            co_await tick.async_wait(asio::use_awaitable);
        }
        const bool met = running.load() >= 2;
        co_return json{{"met", met}};
    });
    mcpsse::SseTransportOptions options;
    options.port = 0;
    Transport transport(std::vector<asio::any_io_executor>{io1.get_executor(), io2.get_executor()}, options);
    CHECK(transport.options().single_threaded);  // implied
    const auto port = transport.local_port();
    std::promise<std::exception_ptr> done;
    transport.async_run(dispatcher, [&](std::exception_ptr e) { done.set_value(e); });
    // Each thread's run() returns only when the transport's run has completed.
    std::thread t1([&] { io1.run(); });
    std::thread t2([&] { io2.run(); });

    HttpClient a(port, 5s);  // the first connection (io1), which also creates the session
    const std::string sid = open_session(a);
    REQUIRE(!sid.empty());
    HttpClient b(port, 5s);  // the second connection (io2)
    HttpResponse ra;
    std::thread other([&] { ra = a.request("POST", "/mcp", post_headers(sid), rpc_request(1, "meet").dump()); });
    const auto rb = b.request("POST", "/mcp", post_headers(sid), rpc_request(2, "meet").dump());
    other.join();
    CHECK(ra.status == 200);
    CHECK(rb.status == 200);
    CHECK(ra.json()["result"]["met"] == true);
    CHECK(rb.json()["result"]["met"] == true);
    {
        std::lock_guard lock(seen_mutex);
        CHECK(seen.size() == 2);
    }
    // The session is one and the same on both threads: DELETE through the second connection.
    CHECK(b.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status == 200);
    CHECK(a.request("POST", "/mcp", post_headers(sid), rpc_request(3, "meet").dump()).status == 404);

    transport.stop();
    auto finished = done.get_future();
    REQUIRE(finished.wait_for(10s) == std::future_status::ready);
    CHECK(finished.get() == nullptr);
    t1.join();
    t2.join();
    CHECK(transport.connection_count() == 0);
}

TEST_CASE("single_threaded: events from another thread and from handlers arrive complete and in order") {
    TestServer s;
    mcpsse::SseTransportOptions options;
    options.single_threaded = true;  // one io thread: no strands; wakers write parked streams directly
    s.start(options, 1);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    HttpClient g = s.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    REQUIRE(g.next_event());  // priming

    // From the test thread (not the io thread): the transport hops to the io thread.
    for (int i = 0; i < 100; ++i) CHECK(s.transport->broadcast("notifications/message", {{"i", i}}) == 1);
    for (int i = 0; i < 100; ++i) {
        const auto e = g.next_event();
        REQUIRE(e);
        CHECK(e->json()["params"]["i"] == i);
    }

    // From a handler on the io thread: progress goes straight to the parked POST stream.
    c.send_request("POST", "/mcp", post_headers(sid),
                   rpc_request(7, "slow", {{"steps", 20}, {"interval_ms", 1}, {"_meta", {{"progressToken", "p"}}}}).dump());
    REQUIRE(c.read_head().status == 200);
    const auto events = read_events_until_response(c, 7);
    std::vector<int> progress;
    for (const auto& e : events)
        if (!e.data.empty() && e.json().value("method", "") == "notifications/progress")
            progress.push_back(e.json()["params"]["progress"].get<int>());
    std::vector<int> expected(20);
    for (int i = 0; i < 20; ++i) expected[static_cast<std::size_t>(i)] = i + 1;
    CHECK(progress == expected);
    REQUIRE(!events.empty());
    CHECK(events.back().json()["result"]["done"] == 20);
    CHECK(c.request("POST", "/mcp", post_headers(sid), rpc_request(8, "ping").dump()).status == 200);
}

TEST_CASE("a handler that sends after DELETE leaves nothing in the event store") {
    // Strands (two threads): the DELETE runs on one thread while the handler blocks the
    // session's strand on the other, so the cancellation queues behind the handler, which
    // then sends an event on its POST stream (not yet open: it would have answered as JSON).
    TestServer s;
    s.dispatcher.on_request("stall", [&s](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        ++s.probe.started;
        std::this_thread::sleep_for(300ms);  // blocks on purpose; the session ends meanwhile
        json late = {{"level", "info"}, {"data", "late"}};  // named: GCC 12 and braced lists in co_await
        co_await ctx.async_notify("notifications/message", std::move(late));
        ++s.probe.completed;
        co_return json::object();
    });
    s.start({}, 2);
    HttpClient c = s.client();
    const std::string sid = open_session(c);
    REQUIRE(!sid.empty());
    REQUIRE(c.send_request("POST", "/mcp", post_headers(sid), rpc_request(1, "stall").dump()));
    REQUIRE(eventually([&] { return s.probe.started.load() == 1; }));
    HttpClient d = s.client();
    CHECK(d.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status == 200);
    REQUIRE(eventually([&] { return s.probe.completed.load() == 1; }));
    // The POST ends (its request was cancelled: no response), and the late event was
    // not stored for the ended session.
    const auto head = c.read_head();
    CHECK(head.status == 200);
    while (c.next_event(2s)) {
    }
    CHECK(eventually([&] { return s.transport->connection_count() <= 2; }));
    CHECK(s.transport->event_store().session_count() == 0);
    CHECK(s.transport->session_count() == 0);
}

TEST_CASE("an initialize handler that streams publishes its session only when it has finished") {
    TestServer s;
    std::atomic<bool> finished{false};
    std::atomic<bool> header_before_finish{false};
    s.dispatcher.on_request("initialize", [&](json params, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
        json note = "initializing";
        co_await ctx.async_log(mcpsse::LoggingLevel::info, std::move(note));
        asio::steady_timer wait(co_await asio::this_coro::executor, 100ms);
        co_await wait.async_wait(asio::use_awaitable);
        finished = true;
        co_return json{{"protocolVersion", params.value("protocolVersion", "")},
                       {"capabilities", json::object()},
                       {"serverInfo", {{"name", "t"}, {"version", "1"}}}};
    });
    s.start();
    HttpClient c = s.client();
    REQUIRE(c.send_request("POST", "/mcp", post_headers(), initialize_request("2025-11-25").dump()));
    const auto head = c.read_head();
    header_before_finish = !finished.load();
    REQUIRE(head.status == 200);
    CHECK(head.header("content-type") == "text/event-stream");
    const auto sid = head.header("mcp-session-id");
    REQUIRE(sid.has_value());
    CHECK_FALSE(header_before_finish.load());  // the head (and Mcp-Session-Id) came after the handler ended
    const auto events = read_events_until_response(c, 1);
    for (const auto& e : events) UNSCOPED_INFO("event: " << e.data);
    REQUIRE(events.size() == 2);
    CHECK(events[0].json()["method"] == "notifications/message");
    CHECK(events[1].json()["result"]["protocolVersion"] == "2025-11-25");
    // The session recorded the negotiated revision: a streaming answer is primed (P5).
    REQUIRE(c.send_request("POST", "/mcp", post_headers(*sid, "2025-11-25"),
                           rpc_request(2, "slow", {{"steps", 1}, {"interval_ms", 1}, {"_meta", {{"progressToken", "t"}}}}).dump()));
    REQUIRE(c.read_head().status == 200);
    const auto streamed = read_events_until_response(c, 2);
    REQUIRE(streamed.size() == 3);
    CHECK(streamed[0].id);
    CHECK(streamed[0].data.empty());
}
