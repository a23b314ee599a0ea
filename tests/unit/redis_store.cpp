// Tests of include/mcpsse/redis_store.hpp (mcpsse::redis) against a real Redis: each
// test case starts its own `redis-server` on a free loopback port, without persistence,
// in a temporary directory. The suite exits 77 (ctest: skipped), saying why, when
// redis-server is not installed (Debian: redis-server; cmake/scripts/setup-debian.sh).
#include <mcpsse/redis_store.hpp>
#include <mcpsse/serve.hpp>
#include <mcpsse/server.hpp>
#include <mcpsse/sse_transport.hpp>

#include "support/catch.hpp"
#include "support/http_client.hpp"
#include "support/sse_test_server.hpp"

#include <asio/redirect_error.hpp>
#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

using nlohmann::json;
using namespace std::chrono_literals;
using mcpsse::EventId;
using mcpsse::RedisErrc;
using mcpsse::RedisStore;
using mcpsse::RedisStoreOptions;
using mcpsse_test::eventually;

namespace {

std::string find_redis_server() {
    // MCPSSE_REDIS_SERVER names the binary (an empty or missing file: skipped).
    if (const char* env = std::getenv("MCPSSE_REDIS_SERVER")) return ::access(env, X_OK) == 0 ? env : "";
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/usr/local/bin";
    dirs += ":/usr/sbin:/usr/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const auto end = dirs.find(':', start);
        const std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
        const std::string candidate = dir + "/redis-server";
        if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return {};
}

std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

bool port_accepts(std::uint16_t port) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    std::error_code ec;
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    return !ec;
}

// One redis-server process of the test's own.
class RedisServer {
public:
    explicit RedisServer(std::string password = {}) : password_(std::move(password)) {
        binary_ = find_redis_server();
        if (binary_.empty()) {
            std::printf("SKIP: redis-server is not installed (Debian package redis-server; "
                        "cmake/scripts/setup-debian.sh installs it)\n");
            std::fflush(stdout);
            std::_Exit(77);
        }
        char tmpl[] = "/tmp/mcpsse-redis-XXXXXX";
        const char* made = ::mkdtemp(tmpl);
        REQUIRE(made);
        dir_ = made;
        port_ = free_port();
        start();
    }
    ~RedisServer() {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    void start() {
        std::vector<std::string> args{binary_, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", dir_, "--daemonize", "no",
                                      "--logfile", dir_ + "/redis.log"};
        if (!password_.empty()) {
            args.push_back("--requirepass");
            args.push_back(password_);
        }
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(binary_.c_str(), argv.data());
            std::_Exit(127);
        }
        REQUIRE(eventually([&] { return port_accepts(port_); }, 10s));
    }

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGCONT);
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }

    // SIGSTOP / SIGCONT: a server that accepts connections but never answers.
    void pause() { ::kill(pid_, SIGSTOP); }
    void resume() { ::kill(pid_, SIGCONT); }

    [[nodiscard]] std::string url(const std::string& userinfo = {}) const {
        return "redis://" + (userinfo.empty() ? std::string() : userinfo + "@") + "127.0.0.1:" + std::to_string(port_);
    }

private:
    std::string binary_;
    std::string password_;
    std::string dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

// An io_context run by a thread of its own, and a way to run a coroutine on it.
struct Loop {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
    std::thread thread{[this] { io.run(); }};
    ~Loop() {
        work.reset();
        io.stop();
        thread.join();
    }
    template <class F>
    auto run(F f) {
        return asio::co_spawn(io, std::move(f), asio::use_future).get();
    }
};

RedisStoreOptions options_for(const std::string& url) {
    RedisStoreOptions o;
    o.url = url;
    o.connect_timeout = 1s;
    o.command_timeout = 1s;
    o.reconnect_interval = 50ms;
    return o;
}

std::error_code wait_ready(Loop& loop, RedisStore& store) {
    return loop.run([&]() -> asio::awaitable<std::error_code> {
        std::error_code ec;
        co_await store.async_wait_ready(asio::redirect_error(asio::use_awaitable, ec));
        co_return ec;
    });
}

std::error_code append(Loop& loop, RedisStore& store, const std::string& sid, EventId id, std::string message) {
    return loop.run([&]() -> asio::awaitable<std::error_code> {
        std::error_code ec;
        co_await store.async_append(sid, id, std::move(message), asio::redirect_error(asio::use_awaitable, ec));
        co_return ec;
    });
}

// Opens session `sid`'s standalone stream on `g` (GET without Last-Event-ID, 200):
// the id of its priming event.
std::string open_standalone_get(mcpsse_test::HttpClient& g, const std::string& sid) {
    REQUIRE(g.send_request("GET", "/mcp", mcpsse_test::get_headers(sid)));
    REQUIRE(g.read_head().status == 200);
    const auto priming = g.next_event(5s);
    REQUIRE(priming);
    REQUIRE(priming->id);
    return *priming->id;
}

mcpsse::ReplayResult replay(Loop& loop, RedisStore& store, const std::string& sid, EventId after) {
    return loop.run([&]() -> asio::awaitable<mcpsse::ReplayResult> {
        co_return co_await store.async_replay_after(sid, after, asio::use_awaitable);
    });
}

std::vector<std::uint64_t> sequences(const mcpsse::ReplayResult& r) {
    std::vector<std::uint64_t> out;
    if (r)
        for (const auto& e : *r) out.push_back(e.id.sequence);
    return out;
}

}  // namespace

TEST_CASE("redis store: appends replay in order after an id; trimmed history is a gap; erase forgets") {
    RedisServer server;
    Loop loop;
    auto options = options_for(server.url());
    options.max_stream_events = 5;
    RedisStore store(loop.io.get_executor(), options);
    REQUIRE(!wait_ready(loop, store));
    CHECK(store.ready());

    const std::string sid = "session-a";
    const std::uint64_t stream = (std::uint64_t{0xabcdef01} << 32) | 1;
    // Appends started back to back, without waiting: applied in order.
    std::vector<std::string> messages;
    for (int n = 1; n <= 4; ++n) messages.push_back(json{{"n", n}}.dump());
    loop.run([&]() -> asio::awaitable<void> {
        for (std::uint64_t seq = 1; seq <= 3; ++seq)
            store.async_append(sid, EventId{stream, seq}, messages[seq - 1], [](std::error_code ec) { CHECK(!ec); });
        std::error_code ec;
        const EventId last{stream, 4};
        co_await store.async_append(sid, last, messages[3], asio::redirect_error(asio::use_awaitable, ec));
        CHECK(!ec);
    });
    auto all = replay(loop, store, sid, EventId{stream, 0});
    REQUIRE(all);
    CHECK(sequences(all) == std::vector<std::uint64_t>{1, 2, 3, 4});
    CHECK(json::parse((*all)[2].message)["n"] == 3);
    CHECK((*all)[0].id == EventId{stream, 1});

    CHECK(sequences(replay(loop, store, sid, EventId{stream, 2})) == std::vector<std::uint64_t>{3, 4});
    const auto none = replay(loop, store, sid, EventId{stream, 4});
    REQUIRE(none);  // the last event: nothing after it, not a gap
    CHECK(none->empty());
    CHECK(!replay(loop, store, sid, EventId{stream, 9}));          // ahead of the stream
    CHECK(!replay(loop, store, sid, EventId{stream + 1, 3}));      // unknown stream
    CHECK(!replay(loop, store, "no-such-session", EventId{stream, 1}));

    // Out of order: Redis refuses an id not above the last one.
    CHECK(append(loop, store, sid, EventId{stream, 2}, "{}") == std::error_code(RedisErrc::server_error));

    // MAXLEN 5: after 8 events, 4..8 are kept.
    for (std::uint64_t seq = 5; seq <= 8; ++seq) REQUIRE(!append(loop, store, sid, EventId{stream, seq}, "{}"));
    CHECK(!replay(loop, store, sid, EventId{stream, 0}));  // 1..3 trimmed
    CHECK(!replay(loop, store, sid, EventId{stream, 2}));  // 3 trimmed: gap
    CHECK(sequences(replay(loop, store, sid, EventId{stream, 3})) == std::vector<std::uint64_t>{4, 5, 6, 7, 8});
    CHECK(sequences(replay(loop, store, sid, EventId{stream, 6})) == std::vector<std::uint64_t>{7, 8});

    // A second stream of the session, then erase: every key goes.
    REQUIRE(!append(loop, store, sid, EventId{stream + 1, 1}, "{}"));
    CHECK(sequences(replay(loop, store, sid, EventId{stream + 1, 0})) == std::vector<std::uint64_t>{1});
    loop.run([&]() -> asio::awaitable<void> { co_await store.async_erase(sid, asio::use_awaitable); });
    CHECK(!replay(loop, store, sid, EventId{stream, 6}));
    CHECK(!replay(loop, store, sid, EventId{stream + 1, 1}));
    const auto empty = replay(loop, store, sid, EventId{stream + 1, 0});
    REQUIRE(empty);
    CHECK(empty->empty());
}

TEST_CASE("redis store: 2,000 appends over 20 streams started without waiting are all applied, each stream in order") {
    RedisServer server;
    Loop loop;
    RedisStore store(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, store));
    std::atomic<int> done{0};
    std::atomic<int> failed{0};
    const auto started = std::chrono::steady_clock::now();
    asio::post(loop.io, [&] {  // as a broadcast would: every append started at once
        for (std::uint64_t seq = 1; seq <= 100; ++seq)
            for (std::uint64_t stream = 1; stream <= 20; ++stream)
                store.async_append("bulk", EventId{stream, seq}, std::to_string(stream * 1000 + seq), [&](std::error_code ec) {
                    if (ec) ++failed;
                    ++done;
                });
    });
    REQUIRE(eventually([&] { return done == 2000; }, 10s));
    CHECK(failed == 0);
    INFO("2,000 pipelined appends took " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - started).count() << " ms");
    for (std::uint64_t stream = 1; stream <= 20; ++stream) {
        const auto events = replay(loop, store, "bulk", EventId{stream, 0});
        REQUIRE(events);
        REQUIRE(events->size() == 100);
        for (std::uint64_t seq = 1; seq <= 100; ++seq) {
            CHECK((*events)[seq - 1].id == EventId{stream, seq});
            CHECK((*events)[seq - 1].message == std::to_string(stream * 1000 + seq));
        }
    }
}

TEST_CASE("redis store: session records save, load and erase; key prefixes isolate deployments") {
    RedisServer server;
    Loop loop;
    RedisStore store(loop.io.get_executor(), options_for(server.url()));
    auto other_options = options_for(server.url());
    other_options.key_prefix = "other:";
    RedisStore other(loop.io.get_executor(), other_options);
    REQUIRE(!wait_ready(loop, store));
    REQUIRE(!wait_ready(loop, other));

    mcpsse::SessionRecord record;
    record.id = "s-1";
    record.protocol_version = "2025-11-25";
    record.client_capabilities = {{"roots", {{"listChanged", true}}}};
    record.client_info = {{"name", "redis-test"}, {"version", "1"}};
    record.subject = "alice";
    const auto load = [&](RedisStore& s, const std::string& id) {
        return loop.run([&]() -> asio::awaitable<mcpsse::SessionLookup> {
            co_return co_await s.async_load_session(id, asio::use_awaitable);
        });
    };
    loop.run([&]() -> asio::awaitable<void> { co_await store.async_save_session(record, asio::use_awaitable); });
    const auto loaded = load(store, "s-1");
    REQUIRE(loaded);
    CHECK(*loaded == record);
    CHECK(!load(store, "s-2"));
    CHECK(!load(other, "s-1"));  // another prefix sees nothing

    // A copy of the store is a handle to the same connection.
    RedisStore copy = store;
    CHECK(load(copy, "s-1"));
    loop.run([&]() -> asio::awaitable<void> { co_await copy.async_erase_session("s-1", asio::use_awaitable); });
    CHECK(!load(store, "s-1"));
}

TEST_CASE("redis store: session keys expire session_ttl after the last save, touch or append") {
    RedisServer server;
    Loop loop;
    auto options = options_for(server.url());
    options.session_ttl = 1000ms;
    RedisStore store(loop.io.get_executor(), options);
    REQUIRE(!wait_ready(loop, store));
    mcpsse::SessionRecord record;
    record.id = "ttl";
    record.protocol_version = "2025-11-25";
    const auto load = [&] {
        return loop.run([&]() -> asio::awaitable<mcpsse::SessionLookup> {
            co_return co_await store.async_load_session("ttl", asio::use_awaitable);
        });
    };
    const auto start = std::chrono::steady_clock::now();
    loop.run([&]() -> asio::awaitable<void> { co_await store.async_save_session(record, asio::use_awaitable); });
    std::this_thread::sleep_until(start + 600ms);
    loop.run([&]() -> asio::awaitable<void> { co_await store.async_touch_session("ttl", asio::use_awaitable); });
    std::this_thread::sleep_until(start + 1200ms);
    CHECK(load());  // renewed at ~600 ms: alive past the first second
    REQUIRE(!append(loop, store, "ttl", EventId{1, 1}, "{}"));  // an append renews it too
    std::this_thread::sleep_until(start + 1800ms);
    CHECK(load());
    CHECK(eventually([&] { return !load(); }, 5s));
    // The events expire with the record.
    CHECK(eventually([&] {
        const auto events = replay(loop, store, "ttl", EventId{1, 0});
        return events && events->empty();
    }, 5s));
}

TEST_CASE("redis store: task states save and load; a ttl expires them") {
    RedisServer server;
    Loop loop;
    RedisStore store(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, store));
    auto tasks = store.task_store();
    const json task = {{"taskId", "t-1"}, {"status", "working"}, {"ttlMs", 300}};
    loop.run([&]() -> asio::awaitable<void> {
        co_await tasks->async_save_task("t-1", task, 300ms);
        json done = {{"taskId", "t-2"}, {"status", "completed"}};
        co_await tasks->async_save_task("t-2", done, 0ms);
    });
    const auto load = [&](std::string id) {
        return loop.run([&]() -> asio::awaitable<std::optional<json>> { co_return co_await tasks->async_load_task(id); });
    };
    const auto first = load("t-1");
    REQUIRE(first);
    CHECK(*first == task);
    CHECK(!load("t-3"));
    CHECK(eventually([&] { return !load("t-1"); }, 5s));
    CHECK(load("t-2"));  // default_task_ttl: an hour
}

TEST_CASE("redis store: AUTH with requirepass; a wrong or missing password is auth_failed") {
    RedisServer server("s3cr%t");
    Loop loop;
    {
        RedisStore without(loop.io.get_executor(), options_for(server.url()));
        CHECK(wait_ready(loop, without) == std::error_code(RedisErrc::auth_failed));
        CHECK(!without.ready());
        CHECK(without.last_error() == std::error_code(RedisErrc::auth_failed));
        // Operations while not connected fail at once with a clear error.
        CHECK(append(loop, without, "s", EventId{1, 1}, "{}") == std::error_code(RedisErrc::not_connected));
    }
    {
        RedisStore wrong(loop.io.get_executor(), options_for(server.url(":nope")));
        CHECK(wait_ready(loop, wrong) == std::error_code(RedisErrc::auth_failed));
    }
    {
        RedisStore right(loop.io.get_executor(), options_for(server.url(":s3cr%25t")));
        CHECK(!wait_ready(loop, right));
        CHECK(!append(loop, right, "s", EventId{1, 1}, "{}"));
    }
    {
        // Redis 6+ ACL form: AUTH user password (the default user has requirepass's password).
        RedisStore acl(loop.io.get_executor(), options_for(server.url("default:s3cr%25t")));
        CHECK(!wait_ready(loop, acl));
    }
    CHECK_THROWS_AS(RedisStore(loop.io.get_executor(), options_for("http://127.0.0.1:1")), std::system_error);
    CHECK_THROWS_AS(RedisStore(loop.io.get_executor(), options_for("redis://127.0.0.1:99999")), std::system_error);
}

TEST_CASE("redis store: reconnects after redis-server restarts; operations fail while it is down") {
    RedisServer server;
    Loop loop;
    RedisStore store(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, store));
    REQUIRE(!append(loop, store, "s", EventId{7, 1}, "{}"));

    server.stop();
    // The next operation finds the connection gone (lost in flight, or already known down).
    const auto down = append(loop, store, "s", EventId{7, 2}, "{}");
    CHECK((down == std::error_code(RedisErrc::connection_lost) || down == std::error_code(RedisErrc::not_connected)));
    REQUIRE(eventually([&] { return !store.ready(); }, 5s));
    CHECK(append(loop, store, "s", EventId{7, 2}, "{}") == std::error_code(RedisErrc::not_connected));

    server.start();  // same port, empty data (no persistence)
    REQUIRE(eventually([&] { return store.ready(); }, 5s));
    CHECK(!append(loop, store, "s", EventId{7, 1}, "{}"));
    CHECK(sequences(replay(loop, store, "s", EventId{7, 0})) == std::vector<std::uint64_t>{1});
}

TEST_CASE("redis store: a server that stops answering times commands out; the store reconnects when it answers again") {
    RedisServer server;
    Loop loop;
    auto options = options_for(server.url());
    options.command_timeout = 300ms;
    options.connect_timeout = 300ms;
    RedisStore store(loop.io.get_executor(), options);
    REQUIRE(!wait_ready(loop, store));
    REQUIRE(!append(loop, store, "s", EventId{3, 1}, "{}"));

    server.pause();
    const auto started = std::chrono::steady_clock::now();
    CHECK(append(loop, store, "s", EventId{3, 2}, "{}") == std::error_code(RedisErrc::timed_out));
    CHECK(std::chrono::steady_clock::now() - started >= 300ms);
    CHECK(!store.ready());  // the connection was dropped
    // New attempts connect (the kernel accepts) but PING is never answered.
    CHECK(wait_ready(loop, store) == std::error_code(RedisErrc::timed_out));

    server.resume();
    REQUIRE(eventually([&] { return store.ready(); }, 5s));
    // The timed-out append may still have been applied (Redis executes what it had read
    // from the dropped connection once it runs again): only fresh stream ids here.
    CHECK(!append(loop, store, "s", EventId{4, 1}, "{}"));
    CHECK(sequences(replay(loop, store, "s", EventId{4, 0})) == std::vector<std::uint64_t>{1});
    const auto kept = sequences(replay(loop, store, "s", EventId{3, 0}));
    REQUIRE(!kept.empty());
    CHECK(kept.front() == 1);
}

namespace {

using RedisTransport = mcpsse::SseTransport<asio::any_io_executor, RedisStore>;

// One transport over its own connection to the shared Redis, on a thread of its own.
struct Instance {
    mcpsse::Dispatcher dispatcher;
    asio::io_context io;
    std::optional<RedisTransport> transport;
    std::promise<std::exception_ptr> done;
    std::thread thread;

    bool killed = false;
    std::atomic<int> cancelled_hangs{0};

    explicit Instance(const std::string& url, std::chrono::milliseconds session_ttl = 60min,
                      std::chrono::milliseconds instance_lease_ttl = 10s,
                      std::chrono::milliseconds failover_resume_wait = 25s) {
        dispatcher.on_request("whoami", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
            co_return json{{"session", std::string(ctx.session_id())},
                           {"protocolVersion", std::string(ctx.protocol_version())},
                           {"clientInfo", ctx.client_info()}};
        });
        // Sends notifications 1 to 5, 150 ms apart, then its result.
        dispatcher.on_request("tick", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
            const auto executor = co_await asio::this_coro::executor;
            asio::steady_timer wait(executor);
            for (int n = 1; n <= 5; ++n) {
                wait.expires_after(150ms);
                std::error_code ec;
                co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                std::string method = "notifications/message";
                json params = {{"level", "info"}, {"data", n}};
                co_await ctx.async_notify(std::move(method), std::move(params));
            }
            co_return json{{"done", true}};
        });
        // Sends one notification on its stream, then waits (30 s) for a result; counts
        // the waits cut short by a cancellation.
        dispatcher.on_request("hang", [this](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
            std::string method = "notifications/message";
            json params = {{"level", "info"}, {"data", "working"}};
            co_await ctx.async_notify(std::move(method), std::move(params));
            const auto executor = co_await asio::this_coro::executor;
            asio::steady_timer wait(executor, 30s);
            std::error_code ec;
            co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (ec == asio::error::operation_aborted) cancelled_hangs.fetch_add(1);
            co_return json{{"done", true}};
        });
        // Asks the client (a server-to-client request, 5 s to answer); its result is the
        // answer.
        dispatcher.on_request("ask", [](json params, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
            std::string method = "sampling/createMessage";
            json answer = co_await ctx.async_request(std::move(method), std::move(params), 5s);
            co_return json{{"answer", std::move(answer)}};
        });
        // Logs "low" at info and "high" at error (what the client's level lets through).
        dispatcher.on_request("log_two", [](json, mcpsse::RequestContext& ctx) -> asio::awaitable<json> {
            json low = "low";
            co_await ctx.async_log(mcpsse::LoggingLevel::info, std::move(low));
            json high = "high";
            co_await ctx.async_log(mcpsse::LoggingLevel::error, std::move(high));
            co_return json::object();
        });
        mcpsse::SseTransportOptions options;
        options.port = 0;
        options.failover_resume_wait = failover_resume_wait;
        options.operations.readiness_path = "/readyz";
        options.operations.metrics_path = "/metrics";
        auto store_options = options_for(url);
        store_options.session_ttl = session_ttl;
        store_options.instance_lease_ttl = instance_lease_ttl;
        RedisStore store(io.get_executor(), std::move(store_options));
        transport.emplace(io.get_executor(), std::move(options), std::move(store));
        transport->async_run(dispatcher, [this](std::exception_ptr e) { done.set_value(e); });
        thread = std::thread([this] { io.run(); });
    }
    // As if the process died: its threads stop at once (nothing is sent, closed or
    // released; its lease is no longer renewed).
    void kill() {
        io.stop();
        thread.join();
        killed = true;
    }
    // Back from a kill(), as if the process had only stalled (its lease may still hold):
    // its threads run again and it goes on where it stood.
    void revive() {
        io.restart();
        thread = std::thread([this] { io.run(); });
        killed = false;
    }
    ~Instance() {
        if (killed) {  // back to life, to be torn down normally
            io.restart();
            thread = std::thread([this] { io.run(); });
        }
        transport->stop();
        transport->event_store().close();
        if (done.get_future().wait_for(10s) != std::future_status::ready) io.stop();
        thread.join();
    }
    mcpsse_test::HttpClient client() const { return mcpsse_test::HttpClient(transport->local_port(), 5s); }
    // Ready (200 at /readyz): connected to Redis and holding its instance lease, as a
    // balancer's health check sees it.
    bool ready() const { return client().request("GET", "/readyz").status == 200; }
};

}  // namespace

TEST_CASE("redis store: two transports share sessions and events through one Redis") {
    using namespace mcpsse_test;
    RedisServer server;
    Instance a(server.url());
    Instance b(server.url());
    REQUIRE(eventually([&] { return a.transport->event_store().ready() && b.transport->event_store().ready(); }));

    HttpClient ca = a.client();
    const std::string sid = open_session(ca);
    REQUIRE(!sid.empty());

    // The session initialized at a is served by b.
    HttpClient cb = b.client();
    const auto who = cb.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(2, "whoami").dump());
    REQUIRE(who.status == 200);
    CHECK(json::parse(who.body)["result"]["session"] == sid);

    // Events sent on a's stream are replayed by b after the Last-Event-ID.
    std::string first_id;
    {
        HttpClient g = a.client();
        open_standalone_get(g, sid);
        for (int n = 1; n <= 3; ++n) CHECK(a.transport->broadcast("notifications/message", {{"level", "info"}, {"data", n}}) == 1);
        for (int n = 1; n <= 3; ++n) {
            const auto e = g.next_event(5s);
            REQUIRE(e);
            REQUIRE(e->id);
            if (n == 1) first_id = *e->id;
        }
    }
    HttpClient r = b.client();
    // b's copy of the session may still hold the GET stream's slot until a notices the
    // close; retry until b replays.
    std::vector<int> replayed;
    REQUIRE(eventually([&] {
        HttpClient g = b.client();
        if (!g.send_request("GET", "/mcp", get_headers(sid, first_id))) return false;
        if (g.read_head().status != 200) return false;
        replayed.clear();
        while (replayed.size() < 2) {
            const auto e = g.next_event(2s);
            if (!e) return false;
            if (e->data.empty()) continue;
            replayed.push_back(e->json()["params"]["data"].get<int>());
        }
        return true;
    }, 10s));
    CHECK(replayed == std::vector<int>{2, 3});

    // DELETE at b ends it everywhere: a third transport does not know it.
    HttpClient d = b.client();
    CHECK(d.request("DELETE", "/mcp", {{"Mcp-Session-Id", sid}}).status == 200);
    Instance c(server.url());
    REQUIRE(eventually([&] { return c.transport->event_store().ready(); }));
    HttpClient cc = c.client();
    REQUIRE(eventually([&] {
        return cc.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(3, "whoami").dump()).status == 404;
    }));
}

TEST_CASE("redis store: redis:// URLs") {
    using mcpsse::detail::RedisUrl;
    const auto plain = RedisUrl::parse("redis://cache.internal");
    REQUIRE(plain);
    CHECK(plain->host == "cache.internal");
    CHECK(plain->port == 6379);
    CHECK(plain->database == 0);
    CHECK(!plain->has_password);

    const auto full = RedisUrl::parse("redis://app:p%40ss%3Aword@10.0.0.5:6380/3");
    REQUIRE(full);
    CHECK(full->user == "app");
    CHECK(full->password == "p@ss:word");
    CHECK(full->has_password);
    CHECK(full->host == "10.0.0.5");
    CHECK(full->port == 6380);
    CHECK(full->database == 3);

    const auto password_only = RedisUrl::parse("redis://:secret@[::1]:7000");
    REQUIRE(password_only);
    CHECK(password_only->user.empty());
    CHECK(password_only->password == "secret");
    CHECK(password_only->host == "::1");
    CHECK(password_only->port == 7000);

    for (const char* bad : {"http://h:1", "redis://", "redis://h:0", "redis://h:65536", "redis://h:x", "redis://h/-1",
                            "redis://h/1x", "redis://u:%zz@h", "redis://u:%4@h", "redis://[::1", "redis://[::1]x"}) {
        INFO(bad);
        CHECK(!RedisUrl::parse(bad));
    }
}

TEST_CASE("redis store: requests renew a session's record, so a session answered only in JSON stays known elsewhere") {
    using namespace mcpsse_test;
    RedisServer server;
    // Keys live 800 ms; a request renews them at most every 200 ms.
    Instance a(server.url(), 800ms);
    Instance b(server.url(), 800ms);
    REQUIRE(eventually([&] { return a.transport->event_store().ready() && b.transport->event_store().ready(); }));
    HttpClient ca = a.client();
    const std::string sid = open_session(ca);
    REQUIRE(!sid.empty());

    // Requests answered as JSON (no event is stored) for three times the keys' life.
    const auto start = std::chrono::steady_clock::now();
    int n = 10;
    while (std::chrono::steady_clock::now() - start < 2400ms) {
        const auto r = ca.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(n++, "whoami").dump());
        REQUIRE(r.status == 200);
        std::this_thread::sleep_for(100ms);
    }
    // Another instance still finds the session's record.
    HttpClient cb = b.client();
    const auto who = cb.request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(n++, "whoami").dump());
    REQUIRE(who.status == 200);
    CHECK(json::parse(who.body)["result"]["session"] == sid);

    // Unused, it expires (a load does not renew it).
    Loop loop;
    RedisStore store(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, store));
    const auto load = [&] {
        return loop.run([&]() -> asio::awaitable<mcpsse::SessionLookup> {
            co_return co_await store.async_load_session(sid, asio::use_awaitable);
        });
    };
    CHECK(load());
    CHECK(eventually([&] { return !load(); }, 5s));
}

TEST_CASE("redis store: leases: one holder at a time, fencing tokens grow, renew and release only by the holder's grant, expiry frees") {
    RedisServer server;
    Loop loop;
    RedisStore store(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, store));
    using mcpsse::Lease;
    const auto acquire = [&](const std::string& owner, std::chrono::milliseconds ttl) {
        return loop.run([&]() -> asio::awaitable<std::optional<Lease>> {
            co_return co_await store.async_acquire_lease("s1", owner, ttl, asio::use_awaitable);
        });
    };
    const auto holder = [&] {
        return loop.run([&]() -> asio::awaitable<std::optional<Lease>> {
            co_return co_await store.async_lease_holder("s1", asio::use_awaitable);
        });
    };
    const auto renew = [&](const Lease& lease, std::chrono::milliseconds ttl) {
        return loop.run([&]() -> asio::awaitable<bool> {
            co_return co_await store.async_renew_lease("s1", lease, ttl, asio::use_awaitable);
        });
    };
    const auto release = [&](const Lease& lease) {
        return loop.run([&]() -> asio::awaitable<bool> {
            co_return co_await store.async_release_lease("s1", lease, asio::use_awaitable);
        });
    };

    CHECK(!holder());
    const auto a = acquire("instance-a", 10s);
    REQUIRE(a);
    CHECK(a->owner == "instance-a");
    CHECK(holder() == a);
    CHECK(!acquire("instance-b", 10s));        // held by another
    CHECK(acquire("instance-a", 10s) == a);    // the holder again: the same grant
    CHECK(!release(Lease{"instance-b", a->fence}));  // not b's
    CHECK(!renew(Lease{"instance-a", a->fence + 1}, 10s));  // not this grant
    CHECK(release(*a));
    CHECK(!holder());
    CHECK(!renew(*a, 10s));  // released: gone for good

    // The next grant has a larger token; an expired one frees the lease for another.
    const auto b = acquire("instance-b", 300ms);
    REQUIRE(b);
    CHECK(b->fence > a->fence);
    CHECK(renew(*b, 300ms));
    CHECK(eventually([&] { return !holder(); }, 5s));
    CHECK(!renew(*b, 300ms));
    const auto c = acquire("instance-a", 10s);
    REQUIRE(c);
    CHECK(c->fence > b->fence);

    // Of many concurrent acquisitions of a free lease exactly one wins.
    std::atomic<int> won{0};
    std::vector<std::future<void>> all;
    for (int i = 0; i < 20; ++i)
        all.push_back(asio::co_spawn(loop.io, [&, i]() -> asio::awaitable<void> {
            const auto got = co_await store.async_acquire_lease("race", "owner-" + std::to_string(i), 10s, asio::use_awaitable);
            if (got) ++won;
        }, asio::use_future));
    for (auto& f : all) f.get();
    CHECK(won == 1);

    // The keys carry the store's prefix and the name as a hash tag.
    CHECK(store.lease_key("s1") == "mcpsse:lease:{s1}");
}

namespace {

// Two instances whose leases live `lease_ttl` (300 ms unless told), and a session
// initialized at the first.
struct FailoverPair {
    RedisServer server;
    Instance a;
    Instance b;
    std::string sid;
    explicit FailoverPair(std::chrono::milliseconds lease_ttl = 300ms)
        : a{server.url(), 60min, lease_ttl}, b{server.url(), 60min, lease_ttl} {
        REQUIRE(mcpsse_test::eventually([&] { return a.ready() && b.ready(); }, 5s));
        mcpsse_test::HttpClient ca = a.client();
        sid = mcpsse_test::open_session(ca);
        REQUIRE(!sid.empty());
    }
};

}  // namespace

namespace {

// One resumption (GET with Last-Event-ID `after`) at `instance`: the events with data,
// with their ids, until the response ends (or 5 s pass without an event).
std::vector<std::pair<std::string, json>> resume_at(const Instance& instance, const std::string& sid, const std::string& after) {
    std::vector<std::pair<std::string, json>> got;
    mcpsse_test::HttpClient g = instance.client();
    if (!g.send_request("GET", "/mcp", mcpsse_test::get_headers(sid, after))) return got;
    if (g.read_head().status != 200) return got;
    while (const auto e = g.next_event(5s))
        if (!e->data.empty()) got.emplace_back(e->id.value_or(""), e->json());
    return got;
}

// Whether the instance that numbered the stream of event `event_id` holds its lease
// (asked through `probe`, a store of the test's own).
bool instance_lease_held(Loop& loop, RedisStore& probe, const std::string& event_id) {
    const auto id = mcpsse::detail::parse_event_id(event_id);
    if (!id) return false;
    const std::string name = mcpsse::detail::instance_lease_name(mcpsse::detail::stream_instance_tag(id->stream));
    return loop.run([&]() -> asio::awaitable<bool> {
        const auto holder = co_await probe.async_lease_holder(name, asio::use_awaitable);
        co_return holder.has_value();
    });
}

}  // namespace

TEST_CASE_METHOD(FailoverPair, "redis store failover: a request in flight at an instance that died is answered with an error when its client resumes elsewhere") {
    using namespace mcpsse_test;

    // A request answered as an SSE stream by a: priming event, then a notification.
    HttpClient post = a.client();
    REQUIRE(post.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request("call-7", "hang").dump()));
    REQUIRE(post.read_head().status == 200);
    std::string last_id;
    while (true) {
        const auto e = post.next_event(5s);
        REQUIRE(e);
        REQUIRE(e->id);
        last_id = *e->id;
        if (!e->data.empty()) break;
    }
    // a holds its lease (named by the tag in its stream numbers) once it reached Redis.
    const auto stream = mcpsse::detail::parse_event_id(last_id);
    REQUIRE(stream);
    Loop loop;
    RedisStore probe(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, probe));
    const auto a_holds = [&] { return instance_lease_held(loop, probe, last_id); };
    REQUIRE(eventually(a_holds, 5s));

    // Resumed at b while a still works on it: b waits for what a sends next. a dies
    // meanwhile; once its lease lapses, b ends the request with an error.
    const auto started = std::chrono::steady_clock::now();
    auto waiting = std::async(std::launch::async, [&] { return resume_at(b, sid, last_id); });
    REQUIRE(waiting.wait_for(400ms) == std::future_status::timeout);  // b holds the response
    a.kill();
    const auto got = waiting.get();
    CHECK(std::chrono::steady_clock::now() - started >= 400ms);
    CHECK(!a_holds());
    REQUIRE(got.size() == 1);
    CHECK(got[0].second["id"] == "call-7");
    CHECK(got[0].second["error"]["code"] == -32603);
    CHECK(got[0].second["error"]["data"]["reason"] == "instance_lost");

    // The error was stored: a later resumption finds it, once, and adds nothing.
    const auto again = resume_at(b, sid, last_id);
    REQUIRE(again.size() == 1);
    CHECK(again[0] == got[0]);
    // A resumption after the error (clients resume streams that ended without a result)
    // adds no second error, at once.
    const auto after_error_started = std::chrono::steady_clock::now();
    CHECK(resume_at(b, sid, got[0].first).empty());
    CHECK(std::chrono::steady_clock::now() - after_error_started < 3s);
    const auto all = replay(loop, probe, sid, EventId{stream->stream, 0});
    REQUIRE(all);
    int errors = 0;
    for (const auto& event : *all) errors += json::parse(event.message).contains("error") ? 1 : 0;
    CHECK(errors == 1);
}

TEST_CASE("redis store failover: a resumption waits failover_resume_wait at most, then keeps the client's place") {
    using namespace mcpsse_test;
    RedisServer server;
    Instance a(server.url(), 60min, 10s, 300ms);
    Instance b(server.url(), 60min, 10s, 300ms);
    REQUIRE(eventually([&] { return a.transport->event_store().ready() && b.transport->event_store().ready(); }));
    HttpClient ca = a.client();
    const std::string sid = open_session(ca);
    REQUIRE(!sid.empty());
    HttpClient post = a.client();
    REQUIRE(post.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(3, "hang").dump()));
    REQUIRE(post.read_head().status == 200);
    std::string last_id;
    while (true) {
        const auto e = post.next_event(5s);
        REQUIRE(e);
        REQUIRE(e->id);
        last_id = *e->id;
        if (!e->data.empty()) break;
    }
    Loop loop;
    RedisStore probe(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, probe));
    REQUIRE(eventually([&] { return instance_lease_held(loop, probe, last_id); }, 5s));
    // a lives and sends nothing more: b waits 300 ms, then answers an event carrying the
    // same id and no data, and ends the response.
    const auto started = std::chrono::steady_clock::now();
    HttpClient g = b.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid, last_id)));
    REQUIRE(g.read_head().status == 200);
    const auto e = g.next_event(5s);
    REQUIRE(e);
    INFO("event data: " << e->data);
    CHECK(e->id.value_or("") == last_id);
    CHECK(e->data.empty());
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(waited >= 300ms);
    CHECK(waited < 3s);
    CHECK(!g.next_event(2s));  // the response has ended
}

TEST_CASE_METHOD(FailoverPair, "redis store failover: a request running at a live instance is followed from another one until its result") {
    using namespace mcpsse_test;
    HttpClient post = a.client();
    REQUIRE(post.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(9, "tick").dump()));
    REQUIRE(post.read_head().status == 200);
    const auto priming = post.next_event(5s);
    REQUIRE(priming);
    REQUIRE(priming->id);
    // The client leaves a's stream and resumes at b, again and again, each time after
    // the last event it got: b answers each resumption with what a stored next.
    std::string last = *priming->id;
    std::vector<int> ticks;
    bool result = false;
    int resumptions = 0;
    while (!result && resumptions < 50) {
        ++resumptions;
        for (const auto& [id, message] : resume_at(b, sid, last)) {
            last = id;
            if (message.contains("result")) result = true;
            else ticks.push_back(message["params"]["data"].get<int>());
        }
    }
    CHECK(result);
    CHECK(ticks == std::vector<int>{1, 2, 3, 4, 5});
    CHECK(resumptions >= 2);  // it waited for events rather than answering all at once
}

TEST_CASE_METHOD(FailoverPair, "redis store failover: the standalone stream of an instance that died goes on at the instance the client resumes at") {
    using namespace mcpsse_test;
    std::string first_id;
    {
        HttpClient g = a.client();
        open_standalone_get(g, sid);
        for (int n = 1; n <= 2; ++n) CHECK(a.transport->broadcast("notifications/message", {{"level", "info"}, {"data", n}}) == 1);
        const auto e = g.next_event(5s);
        REQUIRE(e);
        REQUIRE(e->id);
        first_id = *e->id;
        REQUIRE(g.next_event(5s));
        // Once both events are stored in Redis, a dies with the GET stream open.
        Loop loop;
        RedisStore probe(loop.io.get_executor(), options_for(server.url()));
        REQUIRE(!wait_ready(loop, probe));
        const auto first = mcpsse::detail::parse_event_id(first_id);
        REQUIRE(first);
        REQUIRE(eventually([&] {
            const auto events = replay(loop, probe, sid, *first);
            return events && events->size() == 1;
        }, 5s));
        a.kill();
    }
    // At b: the stored event after first_id, then b's own standalone stream, open.
    std::optional<HttpClient> g;
    std::vector<int> replayed;
    REQUIRE(eventually([&] {
        g.emplace(b.transport->local_port(), 5s);
        if (!g->send_request("GET", "/mcp", get_headers(sid, first_id))) return false;
        if (g->read_head().status != 200) return false;
        replayed.clear();
        while (const auto e = g->next_event(1s)) {
            if (e->data.empty()) continue;
            replayed.push_back(e->json()["params"]["data"].get<int>());
            if (replayed.size() == 1) break;
        }
        // Still open: b delivers to it.
        return replayed == std::vector<int>{2} && b.transport->broadcast("notifications/message", {{"level", "info"}, {"data", 3}}) == 1;
    }, 5s));
    std::optional<SseEvent> next;
    do next = g->next_event(5s);
    while (next && next->data.empty());
    REQUIRE(next);
    CHECK(next->json()["params"]["data"] == 3);
}

TEST_CASE_METHOD(FailoverPair, "redis relay: a client's answer to a server-to-client request reaches the instance that asked, wherever it lands") {
    using namespace mcpsse_test;
    // a asks on the POST's stream; the id names a (its tag, 8 hex digits, then a count).
    HttpClient post = a.client();
    REQUIRE(post.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"),
                              rpc_request(1, "ask", {{"question", "color?"}}).dump()));
    REQUIRE(post.read_head().status == 200);
    std::optional<json> asked;
    while (!asked) {
        const auto e = post.next_event(5s);
        REQUIRE(e);
        if (!e->data.empty()) asked = e->json();
    }
    CHECK((*asked)["method"] == "sampling/createMessage");
    CHECK((*asked)["params"]["question"] == "color?");
    REQUIRE((*asked)["id"].is_string());
    const std::string request_id = (*asked)["id"];
    REQUIRE(request_id.size() > 9);
    CHECK(request_id[8] == '-');
    CHECK(request_id.find_first_not_of("0123456789abcdef") == 8);

    // The answer is POSTed to b, which does not hold the request: it relays it to a.
    HttpClient cb = b.client();
    const json answer = {{"jsonrpc", "2.0"}, {"id", request_id}, {"result", {{"color", "teal"}}}};
    CHECK(cb.request("POST", "/mcp", post_headers(sid, "2025-11-25"), answer.dump()).status == 202);
    std::optional<json> result;
    while (!result) {
        const auto e = post.next_event(5s);
        REQUIRE(e);  // without the relay: nothing until the 5 s timeout's error
        if (!e->data.empty()) result = e->json();
    }
    CHECK((*result)["id"] == 1);
    CHECK((*result)["result"]["answer"]["color"] == "teal");

    // An error answer travels too; an answer naming an instance that is not there is
    // accepted and goes nowhere (no crash, no reply).
    HttpClient post2 = a.client();
    REQUIRE(post2.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(2, "ask").dump()));
    REQUIRE(post2.read_head().status == 200);
    std::string second_id;
    while (second_id.empty()) {
        const auto e = post2.next_event(5s);
        REQUIRE(e);
        if (!e->data.empty()) second_id = e->json()["id"];
    }
    const json stray = {{"jsonrpc", "2.0"}, {"id", "00000000-7"}, {"result", json::object()}};
    CHECK(cb.request("POST", "/mcp", post_headers(sid, "2025-11-25"), stray.dump()).status == 202);
    const json refusal = {{"jsonrpc", "2.0"}, {"id", second_id}, {"error", {{"code", -1}, {"message", "User rejected"}}}};
    CHECK(cb.request("POST", "/mcp", post_headers(sid, "2025-11-25"), refusal.dump()).status == 202);
    std::optional<json> failed;
    while (!failed) {
        const auto e = post2.next_event(5s);
        REQUIRE(e);
        if (!e->data.empty()) failed = e->json();
    }
    CHECK((*failed)["id"] == 2);
    CHECK((*failed)["error"]["message"] == "User rejected");
}

TEST_CASE_METHOD(FailoverPair, "redis relay: broadcasts and notifications reach the standalone stream another instance holds, once each") {
    using namespace mcpsse_test;
    // The standalone stream is at b; a knows the session (it initialized it).
    HttpClient g = b.client();
    open_standalone_get(g, sid);
    // b recorded itself as the stream's holder.
    Loop loop;
    RedisStore probe(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, probe));
    REQUIRE(eventually([&] {
        return loop.run([&]() -> asio::awaitable<bool> {
            const auto holder = co_await probe.async_stream_holder(sid, asio::use_awaitable);
            co_return holder.has_value();
        });
    }, 5s));

    const auto message = [](int n) { return json{{"level", "info"}, {"data", n}}; };
    // 1: a broadcast at a (no filter): a holds no stream (0), b delivers it.
    CHECK(a.transport->broadcast("notifications/message", message(1)) == 0);
    // 2: a filtered broadcast at a: relayed to the holder, counted.
    CHECK(a.transport->broadcast("notifications/message", message(2),
                                 [&](const mcpsse::SseSession<>& s) { return s.id() == sid; }) == 1);
    // 3: SseSession::notify at a.
    std::size_t notified = 0;
    a.transport->for_each_session([&](const mcpsse::SseSession<>& s) {
        if (s.id() != sid) return;
        s.notify("notifications/message", message(3));
        ++notified;
    });
    CHECK(notified == 1);
    // 4: a broadcast at b itself, delivered here once (not again through the relay).
    CHECK(b.transport->broadcast("notifications/message", message(4)) == 1);

    std::vector<int> got;
    while (got.size() < 4) {
        const auto e = g.next_event(5s);
        REQUIRE(e);
        if (!e->data.empty()) got.push_back(e->json()["params"]["data"].get<int>());
    }
    std::sort(got.begin(), got.end());  // 4 is sent locally, the others through Redis
    CHECK(got == std::vector<int>{1, 2, 3, 4});
    // Nothing twice.
    std::optional<SseEvent> extra;
    do extra = g.next_event(500ms);
    while (extra && extra->data.empty());
    CHECK(!extra);
}

TEST_CASE_METHOD(FailoverPair, "redis relay: once the client moved its standalone stream to another instance, notifications follow it there") {
    using namespace mcpsse_test;
    Loop loop;
    RedisStore probe(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, probe));
    const auto holder = [&] {
        return loop.run([&]() -> asio::awaitable<std::optional<std::string>> {
            co_return co_await probe.async_stream_holder(sid, asio::use_awaitable);
        });
    };
    std::string last_id;
    std::optional<std::string> at_a;
    {
        // First at a: a holds it, then the GET ends (a keeps the stream for replay).
        HttpClient g = a.client();
        last_id = open_standalone_get(g, sid);
        REQUIRE(eventually([&] { return (at_a = holder()).has_value(); }, 5s));
    }
    // The client resumes at b (Last-Event-ID of a's stream): b now holds the session's
    // standalone stream.
    std::optional<HttpClient> g;
    REQUIRE(eventually([&] {
        g.emplace(b.transport->local_port(), 5s);
        if (!g->send_request("GET", "/mcp", get_headers(sid, last_id))) return false;
        return g->read_head().status == 200;
    }, 5s));
    REQUIRE(eventually([&] {
        const auto now = holder();
        return now && now != at_a;
    }, 5s));
    // SseSession::notify at a, whose copy still has the (detached) stream: it reaches b
    // once a learned of the move (b tells a right after it took the stream over; until
    // then a keeps what it sends in its own stream).
    std::optional<SseEvent> e;
    REQUIRE(eventually([&] {
        a.transport->for_each_session([&](const mcpsse::SseSession<>& s) {
            if (s.id() == sid) s.notify("notifications/message", {{"level", "info"}, {"data", "moved"}});
        });
        do e = g->next_event(300ms);
        while (e && e->data.empty());
        return e.has_value();
    }, 5s));
    CHECK(e->json()["params"]["data"] == "moved");
}

TEST_CASE_METHOD(FailoverPair, "redis relay: one GET stream per session across instances: a second GET elsewhere is refused, a resumption elsewhere takes it over") {
    using namespace mcpsse_test;
    const auto message = [](int n) { return json{{"level", "info"}, {"data", n}}; };
    // Data events of `g` until `count` arrived (or 5 s pass without one); `last_id`:
    // the id of the last event read.
    std::string last_id;
    const auto data_events = [&last_id](HttpClient& g, std::size_t count) {
        std::vector<int> got;
        while (got.size() < count) {
            const auto e = g.next_event(5s);
            if (!e) break;
            if (e->id) last_id = *e->id;
            if (!e->data.empty()) got.push_back(e->json()["params"]["data"].get<int>());
        }
        return got;
    };
    // The standalone stream is attached at a.
    HttpClient ga = a.client();
    open_standalone_get(ga, sid);

    // A second GET at b, without Last-Event-ID: 409, as at one instance.
    {
        HttpClient second = b.client();
        const auto r = second.request("GET", "/mcp", get_headers(sid));
        CHECK(r.status == 409);
        CHECK(r.body.find("another server instance") != std::string::npos);
    }
    // So a broadcast from b reaches the session once, on a's stream.
    CHECK(b.transport->broadcast("notifications/message", message(1)) == 0);
    CHECK(data_events(ga, 1) == std::vector<int>{1});

    // The client resumes a's stream at b after the last event it got: b takes it over
    // and a ends its connection.
    HttpClient gb = b.client();
    REQUIRE(gb.send_request("GET", "/mcp", get_headers(sid, last_id)));
    REQUIRE(gb.read_head().status == 200);
    std::optional<SseEvent> rest;
    do rest = ga.next_event(5s);
    while (rest);
    CHECK(!ga.timed_out());  // the response ended, not the wait
    // A notification relayed to a before the move, arriving now: a passes it on to b.
    {
        Loop loop;
        RedisStore probe(loop.io.get_executor(), options_for(server.url()));
        REQUIRE(!wait_ready(loop, probe));
        const auto stream = mcpsse::detail::parse_event_id(last_id);
        REQUIRE(stream);
        mcpsse::RelayedMessage late;
        late.kind = mcpsse::RelayedMessage::Kind::notification;
        late.origin = "00000000";
        late.session_id = sid;
        late.message = json{{"jsonrpc", "2.0"}, {"method", "notifications/message"}, {"params", message(9)}}.dump();
        const std::string a_name = mcpsse::detail::instance_name(mcpsse::detail::stream_instance_tag(stream->stream));
        loop.run([&]() -> asio::awaitable<void> { co_await probe.async_relay(a_name, late, asio::use_awaitable); });
    }
    CHECK(data_events(gb, 1) == std::vector<int>{9});
    // A broadcast from a now reaches the session at b only, once.
    CHECK(a.transport->broadcast("notifications/message", message(2)) == 0);
    std::vector<int> at_b = data_events(gb, 1);
    CHECK(at_b == std::vector<int>{2});
    std::optional<SseEvent> extra;
    do extra = gb.next_event(500ms);
    while (extra && extra->data.empty());
    CHECK(!extra);

    // Once b's GET ended, a GET without Last-Event-ID is accepted at a again.
    gb.close();
    CHECK(eventually([&] {
        HttpClient again = a.client();
        if (!again.send_request("GET", "/mcp", get_headers(sid))) return false;
        return again.read_head().status == 200;
    }, 5s));
}

TEST_CASE_METHOD(FailoverPair, "redis relay: a notification for a stream whose instance died is kept in that stream and replayed where the client resumes") {
    using namespace mcpsse_test;
    std::string priming_id;
    {
        HttpClient g = a.client();
        priming_id = open_standalone_get(g, sid);
        // a dies with the GET stream open; b sees its lease lapse.
        a.kill();
    }
    Loop loop;
    RedisStore probe(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, probe));
    REQUIRE(eventually([&] { return !instance_lease_held(loop, probe, priming_id); }, 5s));

    // Sent at b (which does not hold the session) while no instance holds the stream.
    const json params = {{"level", "info"}, {"data", "while the holder was gone"}};
    CHECK(b.transport->notify(sid, "notifications/message", params));
    const auto priming = mcpsse::detail::parse_event_id(priming_id);
    REQUIRE(priming);
    REQUIRE(eventually([&] {
        const auto events = replay(loop, probe, sid, *priming);
        return events && events->size() == 1;
    }, 5s));

    // The client resumes a's stream at b: it gets the notification, then b's stream goes on.
    HttpClient g = b.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid, priming_id)));
    REQUIRE(g.read_head().status == 200);
    std::optional<SseEvent> e;
    do e = g.next_event(5s);
    while (e && e->data.empty());
    REQUIRE(e);
    CHECK(e->json()["params"] == params);
    CHECK(b.transport->notify(sid, "notifications/message", {{"level", "info"}, {"data", "after"}}));
    do e = g.next_event(5s);
    while (e && e->data.empty());
    REQUIRE(e);
    CHECK(e->json()["params"]["data"] == "after");
}

TEST_CASE_METHOD(FailoverPair, "redis relay: a notification relayed to an instance that died before reading it reaches the client where it resumes; one it delivered does not come twice") {
    using namespace mcpsse_test;
    const auto message = [](int n) { return json{{"level", "info"}, {"data", n}}; };
    Loop loop;
    RedisStore probe(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, probe));
    std::string a_name;
    // How many entries a's inbox holds (read with a receiver of the probe's own).
    const auto inbox_entries = [&] {
        auto receiver = probe.make_relay_receiver();
        mcpsse::RelayCursor cursor;
        const auto read = loop.run([&]() -> asio::awaitable<std::vector<mcpsse::RelayedMessage>> {
            co_return co_await receiver->async_receive(a_name, cursor, asio::use_awaitable);
        });
        receiver->close();
        return std::count_if(read.begin(), read.end(), [](const mcpsse::RelayedMessage& m) { return !m.inbox_entry.empty(); });
    };
    // The next data event of `g` (nullopt after 5 s without one).
    const auto next_data = [](HttpClient& g) {
        std::optional<SseEvent> e;
        do e = g.next_event(5s);
        while (e && e->data.empty());
        return e;
    };

    // A notification sent at b reaches a's GET through a's inbox, and a removes it there.
    std::string last_id;
    std::uint32_t a_tag = 0;
    {
        HttpClient g = a.client();
        open_standalone_get(g, sid);
        CHECK(b.transport->notify(sid, "notifications/message", message(1)));
        const auto e = next_data(g);
        REQUIRE(e);
        REQUIRE(e->id);
        CHECK(e->json()["params"] == message(1));
        last_id = *e->id;
        const auto id = mcpsse::detail::parse_event_id(last_id);
        REQUIRE(id);
        a_tag = mcpsse::detail::stream_instance_tag(id->stream);
        a_name = mcpsse::detail::instance_name(a_tag);
        CHECK(eventually([&] { return inbox_entries() == 0; }, 5s));
        a.kill();
    }
    REQUIRE(eventually([&] { return !instance_lease_held(loop, probe, last_id); }, 5s));

    // As if a had died a moment later, still within its lease when b relays: the
    // notification waits in a's inbox, which nobody reads.
    const std::string lease_name = mcpsse::detail::instance_lease_name(a_tag);
    const auto stand_in = loop.run([&]() -> asio::awaitable<std::optional<mcpsse::Lease>> {
        co_return co_await probe.async_acquire_lease(lease_name, "stand-in", 10s, asio::use_awaitable);
    });
    REQUIRE(stand_in);
    CHECK(b.transport->notify(sid, "notifications/message", message(2)));
    CHECK(eventually([&] { return inbox_entries() == 1; }, 5s));
    CHECK(loop.run([&]() -> asio::awaitable<bool> {
        co_return co_await probe.async_release_lease(lease_name, *stand_in, asio::use_awaitable);
    }));

    // Sent now that a's lease is gone: kept in a's stream, after 2.
    CHECK(b.transport->notify(sid, "notifications/message", message(3)));
    CHECK(eventually([&] { return inbox_entries() == 0; }, 5s));

    // The client resumes a's stream at b after the last event it got: 2 (not 1 again)
    // and 3, in order, then b's stream goes on.
    HttpClient g = b.client();
    REQUIRE(g.send_request("GET", "/mcp", get_headers(sid, last_id)));
    REQUIRE(g.read_head().status == 200);
    std::vector<json> got;
    for (int n = 0; n < 2; ++n)
        if (const auto e = next_data(g)) got.push_back(e->json()["params"]);
    CHECK(b.transport->notify(sid, "notifications/message", message(4)));
    if (const auto e = next_data(g)) got.push_back(e->json()["params"]);
    CHECK(got == std::vector<json>{message(2), message(3), message(4)});
    std::optional<SseEvent> extra;
    do extra = g.next_event(500ms);
    while (extra && extra->data.empty());
    CHECK(!extra);
    CHECK(inbox_entries() == 0);
}

namespace {

// FailoverPair whose instances' leases hold 10 s: an instance stalled a moment is alive.
struct LongLeasePair : FailoverPair {
    LongLeasePair() : FailoverPair(10s) {}
};

}  // namespace

TEST_CASE_METHOD(LongLeasePair, "redis relay: what the former holder stores after a takeover read its stream, before it learns of the move, is passed on to the new holder") {
    using namespace mcpsse_test;
    const auto message = [](int n) { return json{{"level", "info"}, {"data", n}}; };
    const auto next_data = [](HttpClient& g, std::chrono::milliseconds wait) {
        std::optional<SseEvent> e;
        do e = g.next_event(wait);
        while (e && e->data.empty());
        return e;
    };
    // The standalone stream is attached at a, and the client got 1 there.
    HttpClient ga = a.client();
    const auto priming = mcpsse::detail::parse_event_id(open_standalone_get(ga, sid));
    REQUIRE(priming);
    CHECK(a.transport->broadcast("notifications/message", message(1)) == 1);
    const auto first = next_data(ga, 5s);
    REQUIRE(first);
    REQUIRE(first->id);
    Loop loop;
    RedisStore probe(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, probe));
    REQUIRE(eventually([&] {
        const auto events = replay(loop, probe, sid, *priming);
        return events && events->size() == 1;
    }, 5s));

    // a stalls (its lease holds); the client resumes at b, which takes the stream over
    // and has read a's stream once it answers.
    a.kill();
    HttpClient gb = b.client();
    REQUIRE(gb.send_request("GET", "/mcp", get_headers(sid, *first->id)));
    REQUIRE(gb.read_head().status == 200);
    // Before a reads the news of the move, it stores 2 in its stream, as the holder.
    CHECK(a.transport->broadcast("notifications/message", message(2), [](const mcpsse::SseSession<>&) { return true; }) == 1);
    a.revive();

    // 2 reaches the client at b, once.
    const auto passed_on = next_data(gb, 5s);
    REQUIRE(passed_on);
    CHECK(passed_on->json()["params"] == message(2));
    CHECK(!next_data(gb, 500ms));
    // And b's stream goes on.
    CHECK(b.transport->notify(sid, "notifications/message", message(3)));
    const auto after = next_data(gb, 5s);
    REQUIRE(after);
    CHECK(after->json()["params"] == message(3));
}

TEST_CASE("redis store: resource subscriptions are shared: subscribe with a limit, unsubscribe, subscribers, forget") {
    RedisServer server;
    Loop loop;
    RedisStore store(loop.io.get_executor(), options_for(server.url()));
    REQUIRE(!wait_ready(loop, store));
    const auto subscriptions = store.subscription_store();
    const auto subscribe = [&](std::string sid, std::string uri) {
        return loop.run([&]() -> asio::awaitable<bool> { co_return co_await subscriptions->async_subscribe(sid, uri, 2); });
    };
    const auto subscribers = [&](std::string uri) {
        auto out = loop.run([&]() -> asio::awaitable<std::vector<std::string>> {
            co_return co_await subscriptions->async_subscribers(uri);
        });
        std::sort(out.begin(), out.end());
        return out;
    };
    CHECK(subscribe("s1", "test://a"));
    CHECK(subscribe("s1", "test://a"));  // again: still one
    CHECK(subscribe("s1", "test://b"));
    CHECK(!subscribe("s1", "test://c"));  // a third: over the limit of 2, nothing changed
    CHECK(subscribe("s2", "test://a"));
    CHECK(subscribers("test://a") == std::vector<std::string>{"s1", "s2"});
    CHECK(subscribers("test://c").empty());
    loop.run([&]() -> asio::awaitable<void> { co_await subscriptions->async_unsubscribe("s2", "test://a"); });
    CHECK(subscribers("test://a") == std::vector<std::string>{"s1"});
    // Forgetting s1 frees its place under the limit and removes it everywhere.
    loop.run([&]() -> asio::awaitable<void> { co_await subscriptions->async_forget_session("s1"); });
    CHECK(subscribers("test://a").empty());
    CHECK(subscribers("test://b").empty());
    CHECK(subscribe("s1", "test://c"));
    CHECK(subscribers("test://c") == std::vector<std::string>{"s1"});
    // The session's set goes with the session's other keys (DELETE erases it; so does
    // their expiry, for a session that ended without DELETE).
    loop.run([&]() -> asio::awaitable<void> {
        std::error_code ec;
        co_await store.async_erase_session("s1", asio::redirect_error(asio::use_awaitable, ec));
    });
    // Its entry in the URI's set is no longer listed, and is removed.
    CHECK(subscribers("test://c").empty());
    CHECK(subscribe("s1", "test://d"));
    CHECK(subscribe("s1", "test://e"));  // the erased set no longer counts test://c
}

namespace {

// A Server served (async_serve) on a transport sharing sessions, events and resource
// subscriptions through the Redis at `url`, on a thread of its own.
struct ServedInstance {
    asio::io_context io;
    std::optional<RedisStore> store;
    std::optional<mcpsse::Server> server;
    mcpsse::Dispatcher dispatcher;
    std::optional<RedisTransport> transport;
    std::promise<void> done;
    std::thread thread;

    explicit ServedInstance(const std::string& url) {
        store.emplace(io.get_executor(), options_for(url));
        mcpsse::ServerOptions server_options;
        server_options.subscription_store = store->subscription_store();
        server.emplace(server_options);
        mcpsse::Resource watched;
        watched.uri = "test://watched";
        watched.name = "watched";
        server->add_resource(watched,
                             [](mcpsse::ResourceRead, mcpsse::RequestContext&) -> asio::awaitable<json> {
                                 co_return json::array({{{"uri", "test://watched"}, {"text", "x"}}});
                             });
        mcpsse::SseTransportOptions options;
        options.port = 0;
        options.operations.readiness_path = "/readyz";
        transport.emplace(io.get_executor(), std::move(options), *store);
        mcpsse::async_serve(*server, dispatcher, *transport, [this](std::exception_ptr) { done.set_value(); });
        thread = std::thread([this] { io.run(); });
    }
    ~ServedInstance() {
        mcpsse::stop_serving(*server, *transport);
        transport->event_store().close();
        if (done.get_future().wait_for(10s) != std::future_status::ready) io.stop();
        thread.join();
    }
    mcpsse_test::HttpClient client() const { return mcpsse_test::HttpClient(transport->local_port(), 5s); }
    bool ready() const { return client().request("GET", "/readyz").status == 200; }
};

}  // namespace

TEST_CASE("redis relay: resources/updated reaches a session subscribed at another instance, once, through the instance holding its stream") {
    using namespace mcpsse_test;
    RedisServer redis;
    ServedInstance a(redis.url());
    ServedInstance b(redis.url());
    REQUIRE(eventually([&] { return a.ready() && b.ready(); }, 5s));
    HttpClient ca = a.client();
    const std::string sid = open_session(ca);
    REQUIRE(!sid.empty());
    // Subscribed at a; the standalone stream at b.
    const auto sub = ca.request("POST", "/mcp", post_headers(sid, "2025-11-25"),
                                rpc_request(2, "resources/subscribe", {{"uri", "test://watched"}}).dump());
    REQUIRE(sub.status == 200);
    CHECK(json::parse(sub.body).contains("result"));
    HttpClient g = b.client();
    open_standalone_get(g, sid);
    CHECK(a.server->is_subscribed(sid, "test://watched"));
    CHECK(!b.server->is_subscribed(sid, "test://watched"));  // b's own table does not know

    // Raised at b (which learns the subscriber from Redis), then at a (which relays to b);
    // b's stream gets each once. The holder record may lag the GET: retry the first.
    std::vector<std::string> got;
    REQUIRE(eventually([&] {
        b.server->notify_resource_updated("test://watched");
        const auto e = g.next_event(1s);
        if (!e || e->data.empty()) return false;
        got.push_back(e->json()["method"]);
        return true;
    }, 5s));
    a.server->notify_resource_updated("test://watched");
    std::optional<SseEvent> e;
    do e = g.next_event(5s);
    while (e && e->data.empty());
    REQUIRE(e);
    CHECK(e->json()["method"] == "notifications/resources/updated");
    CHECK(e->json()["params"]["uri"] == "test://watched");
    a.server->notify_resource_updated("test://other");  // nobody subscribed
    do e = g.next_event(500ms);
    while (e && e->data.empty());
    CHECK(!e);

    // Unsubscribed at b: the store forgets it; no more updates.
    HttpClient cb = b.client();
    CHECK(cb.request("POST", "/mcp", post_headers(sid, "2025-11-25"),
                     rpc_request(3, "resources/unsubscribe", {{"uri", "test://watched"}}).dump()).status == 200);
    a.server->notify_resource_updated("test://watched");
    do e = g.next_event(500ms);
    while (e && e->data.empty());
    CHECK(!e);
}

TEST_CASE_METHOD(FailoverPair, "redis relay: a client's cancellation POSTed to another instance stops the request where it runs") {
    using namespace mcpsse_test;
    HttpClient post = a.client();
    REQUIRE(post.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request("long-1", "hang").dump()));
    REQUIRE(post.read_head().status == 200);
    std::optional<SseEvent> e;
    do e = post.next_event(5s);
    while (e && e->data.empty());
    REQUIRE(e);  // it runs at a
    HttpClient cb = b.client();
    const json cancel = {{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"},
                         {"params", {{"requestId", "long-1"}, {"reason", "user"}}}};
    CHECK(cb.request("POST", "/mcp", post_headers(sid, "2025-11-25"), cancel.dump()).status == 202);
    CHECK(eventually([&] { return a.cancelled_hangs.load() == 1; }, 3s));  // else 30 s
    CHECK(b.cancelled_hangs.load() == 0);
    // Counted: one message relayed by b, delivered at a.
    const auto metric = [](const Instance& i, const std::string& name) {
        const auto page = i.client().request("GET", "/metrics");
        const auto at = page.body.find("\n" + name + " ");
        return at == std::string::npos ? std::string() : page.body.substr(at + name.size() + 2, page.body.find('\n', at + 1) - at - name.size() - 2);
    };
    CHECK(metric(b, "mcpsse_relay_messages_sent_total") == "1");
    CHECK(metric(a, "mcpsse_relay_messages_delivered_total") == "1");
}

TEST_CASE_METHOD(FailoverPair, "redis relay: the logging level a client sets at one instance holds at every instance") {
    using namespace mcpsse_test;
    // The log messages a request's answer carries, at `instance`.
    const auto logged = [&](const Instance& instance, int id) {
        std::vector<std::string> got;
        HttpClient c = instance.client();
        if (!c.send_request("POST", "/mcp", post_headers(sid, "2025-11-25"), rpc_request(id, "log_two").dump())) return got;
        if (c.read_head().status != 200) return got;
        while (const auto event = c.next_event(5s)) {
            if (event->data.empty()) continue;
            const json m = event->json();
            if (m.contains("id")) break;  // the result
            if (m.value("method", std::string()) == "notifications/message") got.push_back(m["params"]["data"]);
        }
        return got;
    };
    // a knows the session; so does b, once it served it.
    CHECK(logged(b, 1) == std::vector<std::string>{"low", "high"});
    HttpClient ca = a.client();
    CHECK(ca.request("POST", "/mcp", post_headers(sid, "2025-11-25"),
                     rpc_request(2, "logging/setLevel", {{"level", "error"}}).dump()).status == 200);
    CHECK(logged(a, 3) == std::vector<std::string>{"high"});
    // b's copy adopted it through the relay before the setLevel answer went out.
    CHECK(logged(b, 4) == std::vector<std::string>{"high"});
    // An instance that restores the session only now reads it with the record.
    Instance c(server.url());
    REQUIRE(eventually([&] { return c.transport->event_store().ready(); }));
    CHECK(logged(c, 5) == std::vector<std::string>{"high"});
}

TEST_CASE("redis store: bad settings are refused at construction (no connection is tried)") {
    asio::io_context io;
    RedisStoreOptions bad_url;
    bad_url.url = "http://127.0.0.1:6379";
    CHECK_THROWS_AS(RedisStore(io.get_executor(), bad_url), std::system_error);
    RedisStoreOptions no_events;
    no_events.max_stream_events = 0;
    CHECK_THROWS_AS(RedisStore(io.get_executor(), no_events), std::invalid_argument);
    RedisStoreOptions short_lease;
    short_lease.instance_lease_ttl = 2ms;  // renewed every third of it: 0 ms would spin
    CHECK_THROWS_AS(RedisStore(io.get_executor(), short_lease), std::invalid_argument);
    RedisStoreOptions no_backlog;
    no_backlog.max_relay_backlog = 0;
    CHECK_THROWS_AS(RedisStore(io.get_executor(), no_backlog), std::invalid_argument);
}
