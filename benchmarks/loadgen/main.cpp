// mcpsse_loadgen: closed-loop load generator for MCP servers over Streamable HTTP and
// the legacy HTTP+SSE transport (and plain GETs, for a static-response baseline).
//
//   mcpsse_loadgen call     --url http://127.0.0.1:PORT/mcp [--connections 32] [--duration 10]
//                           [--warmup 2] [--mode json|sse] [--stateless] [--raw-get] [--tool NAME]
//   mcpsse_loadgen legacy   --url http://127.0.0.1:PORT/sse ...
//   mcpsse_loadgen sessions --url ... --sessions 10000 [--server-pid PID]
//   mcpsse_loadgen fanout   --url ... --sessions 10000 [--trigger-tool broadcast] [--rounds 5]
//   mcpsse_loadgen replay   --url ... --events 10000 [--emit-tool emit_events] [--resume-url URL]
//   any of them over TLS:   --url https://localhost:PORT/... --tls CA_FILE
//   any of them with a header on every request: --header 'Authorization: Bearer TOKEN'
//
// Progress goes to stderr; exactly one JSON result line goes to stdout per run.
// `mcpsse_loadgen --help` lists every option.
#include "http_client.hpp"
#include "stats.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <nlohmann/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace loadgen {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

std::atomic<bool> g_interrupted{false};

/// The --header fields, each "Name: value\r\n", sent with every request (set once by
/// parse_options, before any request is made).
std::string g_extra_headers;

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------
struct Options {
    std::string command;
    std::string url_text;
    Url url;
    int connections = 32;
    double duration_s = 10;
    double warmup_s = 2;
    std::string mode = "json";
    bool stateless = false;
    bool raw_get = false;
    bool raw_post = false;
    std::string tool = "test_simple_text";
    std::string tool_args = "{}";
    std::string protocol_version = "2025-06-18";
    int threads = 1;
    double timeout_s = 10;
    std::string label;
    // sessions / fanout
    int sessions = 1000;
    int concurrency = 64;
    double hold_s = 0;
    long server_pid = 0;            // the first of server_pids (0: none)
    std::vector<long> server_pids;  // --server-pid PID[,PID...]
    bool session_per_connection = false;
    // sessions / fanout: more URLs the sessions are opened through, in turn with --url
    std::vector<std::string> also_url_texts;
    std::vector<Url> also_urls;
    // fanout: the trigger's URL (default --url) and the settle time for a partial broadcast
    std::string trigger_url_text;
    Url trigger_url;
    double settle_ms = 0;
    std::string trigger_tool = "test_trigger_tool_change";
    std::string trigger_args = "{}";
    std::string match = "notifications/";
    int rounds = 5;
    // replay
    int events = 1000;
    std::string emit_tool = "test_trigger_tool_change";
    std::string emit_args = "{}";
    std::string resume_url_text;  // replay: reconnect here (default --url)
    Url resume_url;
    bool quiet = false;
    // TLS (https:// URLs)
    std::string tls_ca_file;
    std::string tls_version;  // "", "1.2" or "1.3"
    std::string tls_cipher;
    // --header NAME: VALUE (repeatable)
    std::vector<std::string> headers;
};

void usage(std::FILE* out) {
    std::fputs(
        "usage: mcpsse_loadgen <call|legacy|sessions|fanout|replay> --url http[s]://HOST:PORT/PATH [options]\n"
        "\n"
        "common:\n"
        "  --url URL             endpoint (Streamable HTTP endpoint; legacy: the SSE endpoint);\n"
        "                        https:// needs --tls\n"
        "  --threads N           client threads, each with its own io_context (default 1)\n"
        "  --timeout S           per-request timeout in seconds (default 10); a timeout is an error\n"
        "  --protocol-version V  protocol revision sent in initialize (default 2025-06-18)\n"
        "  --label TEXT          copied into the result line\n"
        "  --header 'N: V'       send the header field N: V with every request (repeatable),\n"
        "                        e.g. --header 'Authorization: Bearer TOKEN'\n"
        "  --quiet               no progress on stderr\n",
        out);
#if MCPSSE_LOADGEN_TLS
    std::fputs(
        "TLS (https:// URLs; each connection does one full handshake, then keeps alive):\n"
        "  --tls CA_FILE         trust the CA certificates in CA_FILE (PEM); the server's\n"
        "                        certificate must match the URL's host (DNS name or IP)\n"
        "  --tls-version V       only TLS V (1.2 or 1.3; default: either, 1.3 preferred)\n"
        "  --tls-cipher NAME     offer only NAME: a TLS 1.3 suite (TLS_AES_128_GCM_SHA256) or\n"
        "                        an OpenSSL cipher list for TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256);\n"
        "                        the result line's \"tls\" names what each handshake negotiated\n",
        out);
#else
    std::fputs("TLS: not built in (OpenSSL was not found when mcpsse_loadgen was configured)\n", out);
#endif
    std::fputs(
        "call / legacy:\n"
        "  --connections N       concurrent connections, each in a closed loop (default 32)\n"
        "  --duration S          measured seconds (default 10)\n"
        "  --warmup S            seconds before measuring (default 2)\n"
        "  --mode json|sse       expected response mode (label + counted; the server decides)\n"
        "  --tool NAME           tool to call (default test_simple_text)\n"
        "  --args JSON           its arguments (default {})\n"
        "  --stateless           no initialize, no Mcp-Session-Id (call only)\n"
        "  --session-per-connection  each connection initializes a session of its own (default:\n"
        "                        one session shared by all connections); behind a balancer that\n"
        "                        routes by Mcp-Session-Id this spreads the load over its instances\n"
        "  --raw-get             plain GET of --url, 200 = success (baseline for static servers)\n"
        "  --raw-post            the tools/call POST without a session, 200 = success (same)\n"
        "sessions / fanout:\n"
        "  --sessions N          sessions to open, each initialize + an open GET SSE stream (default 1000)\n"
        "  --concurrency N       sessions being opened at once (default 64)\n"
        "  --hold S              keep them open S seconds after all are open (default 0)\n"
        "  --server-pid PID      sessions/fanout: VmRSS of PID before/after (KiB per session);\n"
        "                        call: the server's CPU time per request (user and kernel) and\n"
        "                        CPU %% (Linux /proc); the load generator's own is always given.\n"
        "                        PID,PID,...: the sums, and each process's own in \"server_pids\"\n"
        "  --also-url URL        sessions/fanout: open the sessions through --url and this URL in\n"
        "                        turn (repeatable; session i through the (i mod n)-th), e.g. two\n"
        "                        load balancers in front of the same servers\n"
        "  --trigger-tool NAME   fanout: tool whose call notifies every session's GET stream\n"
        "                        (default test_trigger_tool_change: tools/list_changed to all);\n"
        "                        called on the first session, over a connection of its own\n"
        "  --trigger-args JSON   its arguments (default {})\n"
        "  --match TEXT          an event counts when its data contains TEXT (default notifications/)\n"
        "  --rounds N            fanout: notifications to time (default 5)\n"
        "  --trigger-url URL     fanout: send the trigger's tools/call (same session) to URL instead\n"
        "                        of --url, e.g. one instance behind the balancer\n"
        "  --settle MS           fanout: a notification may reach only some of the streams (a\n"
        "                        broadcast that stays on one instance): a round ends MS ms after the\n"
        "                        last arrival, and streams it did not reach are counted in\n"
        "                        \"missed\", not as errors (default 0: every stream must get it)\n"
        "replay:\n"
        "  --events N            events emitted while the stream is disconnected (default 1000)\n"
        "  --emit-tool NAME      tool that sends notifications on the session's GET stream\n"
        "                        (default test_trigger_tool_change)\n"
        "  --emit-args JSON      its arguments (default {}); with {count} in them the tool is called\n"
        "                        once with {count} replaced by N, else it is called N times\n"
        "  --resume-url URL      reconnect with Last-Event-ID to URL instead of --url (e.g. another\n"
        "                        instance sharing the session's events)\n",
        out);
}

bool parse_options(int argc, char** argv, Options& o) {
    if (argc < 2) return false;
    o.command = argv[1];
    if (o.command == "--help" || o.command == "-h") {
        usage(stdout);
        std::exit(0);
    }
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "mcpsse_loadgen: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--url") o.url_text = value();
        else if (a == "--connections") o.connections = std::stoi(value());
        else if (a == "--duration") o.duration_s = std::stod(value());
        else if (a == "--warmup") o.warmup_s = std::stod(value());
        else if (a == "--mode") o.mode = value();
        else if (a == "--stateless") o.stateless = true;
        else if (a == "--raw-get") o.raw_get = true;
        else if (a == "--raw-post") o.raw_post = true;
        else if (a == "--tool") o.tool = value();
        else if (a == "--args") o.tool_args = value();
        else if (a == "--protocol-version") o.protocol_version = value();
        else if (a == "--threads") o.threads = std::stoi(value());
        else if (a == "--timeout") o.timeout_s = std::stod(value());
        else if (a == "--label") o.label = value();
        else if (a == "--sessions") o.sessions = std::stoi(value());
        else if (a == "--concurrency") o.concurrency = std::stoi(value());
        else if (a == "--hold") o.hold_s = std::stod(value());
        else if (a == "--server-pid") {
            std::stringstream list(value());
            for (std::string pid; std::getline(list, pid, ',');)
                if (!pid.empty()) o.server_pids.push_back(std::stol(pid));
            o.server_pid = o.server_pids.empty() ? 0 : o.server_pids.front();
        } else if (a == "--session-per-connection") o.session_per_connection = true;
        else if (a == "--trigger-url") o.trigger_url_text = value();
        else if (a == "--also-url") o.also_url_texts.push_back(value());
        else if (a == "--settle") o.settle_ms = std::stod(value());
        else if (a == "--resume-url") o.resume_url_text = value();
        else if (a == "--trigger-tool") o.trigger_tool = value();
        else if (a == "--trigger-args") o.trigger_args = value();
        else if (a == "--match") o.match = value();
        else if (a == "--rounds") o.rounds = std::stoi(value());
        else if (a == "--events") o.events = std::stoi(value());
        else if (a == "--emit-tool") o.emit_tool = value();
        else if (a == "--emit-args") o.emit_args = value();
        else if (a == "--quiet") o.quiet = true;
        else if (a == "--tls") o.tls_ca_file = value();
        else if (a == "--tls-version") o.tls_version = value();
        else if (a == "--tls-cipher") o.tls_cipher = value();
        else if (a == "--header") o.headers.push_back(value());
        else if (a == "--help" || a == "-h") {
            usage(stdout);
            std::exit(0);
        } else {
            std::fprintf(stderr, "mcpsse_loadgen: unknown option %s\n", a.c_str());
            return false;
        }
    }
    const auto url = parse_url(o.url_text);
    if (!url) {
        std::fprintf(stderr, "mcpsse_loadgen: --url must be http://HOST:PORT/PATH or https://HOST:PORT/PATH\n");
        return false;
    }
    o.url = *url;
    for (auto [text, target] : {std::pair{&o.trigger_url_text, &o.trigger_url}, std::pair{&o.resume_url_text, &o.resume_url}}) {
        if (text->empty()) {
            *target = o.url;
            continue;
        }
        const auto other = parse_url(*text);
        if (!other || other->tls != o.url.tls) {
            std::fprintf(stderr, "mcpsse_loadgen: --trigger-url and --resume-url must be URLs like --url (same scheme): %s\n",
                         text->c_str());
            return false;
        }
        *target = *other;
    }
    for (const auto& text : o.also_url_texts) {
        const auto other = parse_url(text);
        if (!other || other->tls != o.url.tls) {
            std::fprintf(stderr, "mcpsse_loadgen: --also-url must be a URL like --url (same scheme): %s\n", text.c_str());
            return false;
        }
        o.also_urls.push_back(*other);
    }
    if (o.url.tls != !o.tls_ca_file.empty()) {
        std::fprintf(stderr, "mcpsse_loadgen: %s\n", o.url.tls ? "an https:// URL needs --tls CA_FILE"
                                                                : "--tls needs an https:// URL");
        return false;
    }
    if (!o.tls_version.empty() && o.tls_version != "1.2" && o.tls_version != "1.3") {
        std::fprintf(stderr, "mcpsse_loadgen: --tls-version must be 1.2 or 1.3\n");
        return false;
    }
    if ((!o.tls_version.empty() || !o.tls_cipher.empty()) && !o.url.tls) {
        std::fprintf(stderr, "mcpsse_loadgen: --tls-version and --tls-cipher need an https:// URL\n");
        return false;
    }
#if !MCPSSE_LOADGEN_TLS
    if (o.url.tls) {
        std::fprintf(stderr, "mcpsse_loadgen: built without TLS (OpenSSL was not found when it was configured)\n");
        return false;
    }
#endif
    if (o.mode != "json" && o.mode != "sse") {
        std::fprintf(stderr, "mcpsse_loadgen: --mode must be json or sse\n");
        return false;
    }
    for (const std::string* j : {&o.tool_args, &o.trigger_args}) {
        if (!json::accept(*j)) {
            std::fprintf(stderr, "mcpsse_loadgen: not valid JSON: %s\n", j->c_str());
            return false;
        }
    }
    g_extra_headers.clear();
    for (const auto& h : o.headers) {
        const auto colon = h.find(':');
        if (colon == 0 || colon == std::string::npos || h.find_first_of("\r\n") != std::string::npos ||
            h.find_first_of(" \t") < colon) {
            std::fprintf(stderr, "mcpsse_loadgen: --header must be 'Name: value' on one line: %s\n", h.c_str());
            return false;
        }
        g_extra_headers += h;
        g_extra_headers += "\r\n";
    }
    o.threads = std::max(1, o.threads);
    o.connections = std::max(1, o.connections);
    o.concurrency = std::max(1, o.concurrency);
    return true;
}

// ---------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------
#if MCPSSE_LOADGEN_TLS
/// Sets up tls_client() for an https:// URL: a client context trusting only
/// --tls CA_FILE, offering ALPN http/1.1, with --tls-version/--tls-cipher applied.
/// Returns false (with a message) when OpenSSL refuses a setting.
bool setup_tls(const Options& o) {
    if (!o.url.tls) return true;
    static asio::ssl::context context(asio::ssl::context::tls_client);
    std::error_code ec;
    context.load_verify_file(o.tls_ca_file, ec);
    if (ec) {
        std::fprintf(stderr, "mcpsse_loadgen: --tls %s: %s\n", o.tls_ca_file.c_str(), ec.message().c_str());
        return false;
    }
    context.set_verify_mode(asio::ssl::verify_peer, ec);
    SSL_CTX* ctx = context.native_handle();
    int min_version = TLS1_2_VERSION;
    int max_version = TLS1_3_VERSION;
    if (o.tls_version == "1.2") max_version = TLS1_2_VERSION;
    if (o.tls_version == "1.3") min_version = TLS1_3_VERSION;
    bool ok = SSL_CTX_set_min_proto_version(ctx, min_version) == 1 && SSL_CTX_set_max_proto_version(ctx, max_version) == 1;
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    ok = ok && SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn) == 0;  // 0 is success here
    if (ok && !o.tls_cipher.empty()) {
        ok = o.tls_cipher.rfind("TLS_", 0) == 0 ? SSL_CTX_set_ciphersuites(ctx, o.tls_cipher.c_str()) == 1
                                                : SSL_CTX_set_cipher_list(ctx, o.tls_cipher.c_str()) == 1;
    }
    if (!ok) {
        std::fprintf(stderr, "mcpsse_loadgen: OpenSSL refused the TLS settings (version %s, cipher %s)\n",
                     o.tls_version.empty() ? "any" : o.tls_version.c_str(),
                     o.tls_cipher.empty() ? "default" : o.tls_cipher.c_str());
        return false;
    }
    tls_client().context = &context;
    tls_client().server_name = o.url.host;
    return true;
}
#else
bool setup_tls(const Options&) { return true; }
#endif

/// Prints a result line; over TLS it names what the handshakes negotiated and their
/// mean duration.
void emit_result(nlohmann::json& out) {
    TlsClient& tls = tls_client();
    if (tls.enabled()) {
        const std::uint64_t n = tls.handshakes.load();
        out["tls"] = {{"handshakes", n},
                      {"negotiated", tls.negotiated()},
                      {"handshake_us_mean", n ? static_cast<double>(tls.handshake_ns.load()) / 1e3 / static_cast<double>(n) : 0.0}};
    }
    std::cout << out.dump() << std::endl;
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------
double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

std::int64_t to_ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

asio::awaitable<void> sleep_for(Clock::duration d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

/// VmRSS of `pid` in KiB, or -1.
long read_rss_kib(long pid) {
    if (pid <= 0) return -1;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return -1;
}

/// CPU time in seconds, split into user and kernel (system) time.
struct CpuTime {
    double user = -1;
    double sys = -1;
    [[nodiscard]] bool valid() const { return user >= 0 && sys >= 0; }
    [[nodiscard]] double total() const { return user + sys; }
};

/// utime and stime of `pid` alone (`/proc/<pid>/stat`; "self" for this process), or
/// an invalid CpuTime.
CpuTime read_own_cpu(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t close = text.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {  // field 3 is the state
        if (i == 14) utime = std::stoull(f);
        if (i == 15) stime = std::stoull(f);
    }
    const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    return {static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

/// CPU time of `pid` and its direct children (nginx's workers); invalid when `pid` <= 0
/// or unreadable.
CpuTime read_cpu(long pid) {
    if (pid <= 0) return {};
    CpuTime total = read_own_cpu(std::to_string(pid));
    if (!total.valid()) return total;
    std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    long child = 0;
    while (children >> child) {
        const CpuTime c = read_own_cpu(std::to_string(child));
        if (!c.valid()) continue;
        total.user += c.user;
        total.sys += c.sys;
    }
    return total;
}

/// VmRSS of each of `pids` (KiB; -1 where unreadable).
std::vector<long> read_rss_each(const std::vector<long>& pids) {
    std::vector<long> out;
    for (const long pid : pids) out.push_back(read_rss_kib(pid));
    return out;
}

/// The sum of `values`, or -1 when there are none or one is -1 (unreadable).
long sum_or_invalid(const std::vector<long>& values) {
    long total = 0;
    for (const long v : values) {
        if (v < 0) return -1;
        total += v;
    }
    return values.empty() ? -1 : total;
}

/// CPU time of each of `pids` (with their direct children, as read_cpu).
std::vector<CpuTime> read_cpu_each(const std::vector<long>& pids) {
    std::vector<CpuTime> out;
    for (const long pid : pids) out.push_back(read_cpu(pid));
    return out;
}

/// The sum of `times`; invalid when there are none or one is invalid.
CpuTime sum_cpu(const std::vector<CpuTime>& times) {
    CpuTime total{0, 0};
    for (const CpuTime& t : times) {
        if (!t.valid()) return {};
        total.user += t.user;
        total.sys += t.sys;
    }
    return times.empty() ? CpuTime{} : total;
}

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

std::string replace_all(std::string text, const std::string& what, const std::string& with) {
    for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + with.size()))
        text.replace(p, what.size(), with);
    return text;
}

/// Error counts by kind.
struct ErrorLog {
    std::map<std::string, std::uint64_t> kinds;
    std::uint64_t total = 0;
    void add(const std::string& kind) {
        ++kinds[kind];
        ++total;
    }
    void merge(const ErrorLog& other) {
        for (const auto& [k, v] : other.kinds) kinds[k] += v;
        total += other.total;
    }
    [[nodiscard]] json to_json() const { return json(kinds); }
};

std::string error_kind(const char* where, const std::error_code& ec) {
    if (ec == asio::error::operation_aborted) return std::string(where) + ": timeout";
    if (ec == asio::error::eof) return std::string(where) + ": connection closed";
    return std::string(where) + ": " + ec.message();
}

json latency_json(const Histogram& h) {
    auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
    return json{{"p50", us(h.quantile(0.50))}, {"p90", us(h.quantile(0.90))},  {"p99", us(h.quantile(0.99))},
                {"p999", us(h.quantile(0.999))}, {"max", us(h.max())},        {"min", us(h.min())},
                {"mean", h.mean() / 1000.0}};
}

/// Runs `make()` (a coroutine factory) on `io` and blocks the calling thread (not one of
/// io's threads) until it completes; returns its value.
template <class T>
T run_sync(asio::io_context& io, std::function<asio::awaitable<T>()> make) {
    std::promise<T> promise;
    auto future = promise.get_future();
    asio::co_spawn(
        io,
        [&promise, make = std::move(make)]() -> asio::awaitable<void> {
            try {
                promise.set_value(co_await make());
            } catch (...) {
                promise.set_exception(std::current_exception());
            }
        },
        asio::detached);
    return future.get();
}

/// One io_context per client thread.
class ThreadPool {
public:
    explicit ThreadPool(int n) {
        for (int i = 0; i < n; ++i) {
            contexts_.push_back(std::make_unique<asio::io_context>(1));
            guards_.emplace_back(asio::make_work_guard(*contexts_.back()));
        }
        for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { contexts_[static_cast<std::size_t>(i)]->run(); });
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool() { join(); }

    [[nodiscard]] asio::io_context& at(std::size_t i) { return *contexts_[i % contexts_.size()]; }
    [[nodiscard]] std::size_t size() const { return contexts_.size(); }

    /// Lets the contexts finish once their work is done, then joins.
    void join() {
        guards_.clear();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
    }

private:
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
    std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------
// MCP requests (not on the hot path)
// ---------------------------------------------------------------------------
struct McpSession {
    std::string id;
    std::string protocol_version;
};

std::string rpc_request(std::uint64_t id, const std::string& method, const json& params) {
    json j{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) j["params"] = params;
    return j.dump();
}

/// Headers common to MCP POSTs (no trailing blank line).
std::string mcp_post_head(const Url& url, const std::string& target, const McpSession& session, std::size_t length) {
    std::string h = "POST " + target + " HTTP/1.1\r\nHost: " + url.authority +
                    "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n";
    if (!session.id.empty()) h += "Mcp-Session-Id: " + session.id + "\r\n";
    if (!session.protocol_version.empty()) h += "Mcp-Protocol-Version: " + session.protocol_version + "\r\n";
    h += g_extra_headers;
    h += "Content-Length: " + std::to_string(length) + "\r\n\r\n";
    return h;
}

struct PostResult {
    ResponseHead head;
    /// The JSON-RPC messages of the body: the JSON body itself, or each SSE data.
    std::vector<std::string> messages;
};

/// POSTs `body` on `conn` (connecting if needed) and reads the whole response.
asio::awaitable<std::error_code> mcp_post(Connection& conn, const tcp::resolver::results_type& endpoints,
                                          const Url& url, const std::string& target, const McpSession& session,
                                          const std::string& body, PostResult& out) {
    if (!conn.is_open()) {
        if (auto ec = co_await conn.connect(endpoints)) co_return ec;
    }
    std::string wire = mcp_post_head(url, target, session, body.size());
    wire += body;
    if (auto ec = co_await conn.write(wire)) co_return ec;
    out = PostResult{};
    if (auto ec = co_await conn.read_head(out.head)) co_return ec;
    std::string text;
    if (auto ec = co_await conn.read_body(text)) co_return ec;
    if (out.head.is_event_stream()) {
        SseReader reader;
        reader.feed(text, [&out](const SseEvent& ev) {
            if (!ev.data.empty()) out.messages.push_back(ev.data);
        });
    } else if (!text.empty()) {
        out.messages.push_back(std::move(text));
    }
    if (out.head.close) conn.close();
    co_return std::error_code{};
}

/// initialize + notifications/initialized on `conn`; fills `session`.
asio::awaitable<std::string> mcp_initialize(Connection& conn, const tcp::resolver::results_type& endpoints,
                                            const Options& o, const std::string& target, McpSession& session) {
    session = McpSession{};
    json params{{"protocolVersion", o.protocol_version},
                {"capabilities", json::object()},
                {"clientInfo", {{"name", "mcpsse_loadgen"}, {"version", "0.1.0"}}}};
    const std::string init = rpc_request(0, "initialize", params);
    PostResult res;
    if (auto ec = co_await mcp_post(conn, endpoints, o.url, target, session, init, res))
        co_return error_kind("initialize", ec);
    if (res.head.status != 200) co_return "initialize: HTTP " + std::to_string(res.head.status);
    std::string version;
    for (const auto& m : res.messages) {
        const json j = json::parse(m, nullptr, false);
        if (j.is_object() && j.contains("result")) version = j["result"].value("protocolVersion", "");
    }
    if (version.empty()) co_return "initialize: no result";
    session.id = res.head.session_id;
    session.protocol_version = version;
    const std::string note = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
    if (auto ec = co_await mcp_post(conn, endpoints, o.url, target, session, note, res))
        co_return error_kind("initialized", ec);
    if (res.head.status / 100 != 2) co_return "initialized: HTTP " + std::to_string(res.head.status);
    co_return std::string{};
}

/// Calls tool `name` with `args` (JSON text) at `url` and checks for a successful result.
asio::awaitable<std::string> mcp_call_tool_at(Connection& conn, const tcp::resolver::results_type& endpoints,
                                              const Url& url, const McpSession& session, std::uint64_t id,
                                              const std::string& name, const std::string& args) {
    json params{{"name", name}, {"arguments", json::parse(args)}};
    const std::string body = rpc_request(id, "tools/call", params);
    PostResult res;
    if (auto ec = co_await mcp_post(conn, endpoints, url, url.target, session, body, res))
        co_return error_kind("tools/call", ec);
    if (res.head.status != 200) co_return "tools/call: HTTP " + std::to_string(res.head.status);
    for (const auto& m : res.messages) {
        const json j = json::parse(m, nullptr, false);
        if (!j.is_object() || !j.contains("id")) continue;
        if (j.contains("error")) co_return "tools/call " + name + ": " + j["error"].dump();
        if (j["result"].value("isError", false)) co_return "tools/call " + name + ": isError";
        co_return std::string{};
    }
    co_return "tools/call " + name + ": no response";
}

/// The same at --url.
asio::awaitable<std::string> mcp_call_tool(Connection& conn, const tcp::resolver::results_type& endpoints,
                                           const Options& o, const McpSession& session, std::uint64_t id,
                                           const std::string& name, const std::string& args) {
    co_return co_await mcp_call_tool_at(conn, endpoints, o.url, session, id, name, args);
}

/// Opens a GET SSE stream for `session` on `conn` and reads its head.
asio::awaitable<std::string> open_stream(Connection& conn, const tcp::resolver::results_type& endpoints,
                                         const Url& url, const std::string& target, const McpSession& session,
                                         const std::string& last_event_id) {
    if (!conn.is_open()) {
        if (auto ec = co_await conn.connect(endpoints)) co_return error_kind("stream connect", ec);
    }
    std::string wire = "GET " + target + " HTTP/1.1\r\nHost: " + url.authority +
                       "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
    if (!session.id.empty()) wire += "Mcp-Session-Id: " + session.id + "\r\n";
    if (!session.protocol_version.empty()) wire += "Mcp-Protocol-Version: " + session.protocol_version + "\r\n";
    if (!last_event_id.empty()) wire += "Last-Event-ID: " + last_event_id + "\r\n";
    wire += g_extra_headers;
    wire += "\r\n";
    if (auto ec = co_await conn.write(wire)) co_return error_kind("stream write", ec);
    ResponseHead head;
    if (auto ec = co_await conn.read_head(head)) co_return error_kind("stream head", ec);
    if (head.status != 200) co_return "stream: HTTP " + std::to_string(head.status);
    if (!head.is_event_stream()) co_return "stream: content-type " + head.content_type;
    co_return std::string{};
}

/// Per-connection deadline that a watchdog enforces by closing the socket.
struct Deadline {
    Connection* conn = nullptr;
    Clock::time_point at = Clock::time_point::max();
    bool fired = false;
};

/// Closes the connections whose deadline passed, every 50 ms, until `done()`.
asio::awaitable<void> watchdog(std::vector<std::shared_ptr<Deadline>>& slots, std::function<bool()> done) {
    while (!done()) {
        co_await sleep_for(50ms);
        const auto now = Clock::now();
        for (auto& s : slots) {
            if (s->conn && now > s->at) {
                s->fired = true;
                s->at = Clock::time_point::max();
                s->conn->close();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// call: closed-loop tools/call (or plain GET) round trips
// ---------------------------------------------------------------------------
struct CallThread {
    Histogram latency;
    ErrorLog errors;
    std::uint64_t measured = 0;
    std::uint64_t json_replies = 0;
    std::uint64_t sse_replies = 0;
    std::uint64_t other_replies = 0;
    std::uint64_t reconnects = 0;
    std::atomic<std::uint64_t> progress_done{0};
    std::atomic<std::uint64_t> progress_errors{0};
    std::vector<std::shared_ptr<Deadline>> deadlines;
    int active = 0;
};

struct CallPlan {
    const Options* o = nullptr;
    tcp::resolver::results_type endpoints;
    McpSession session;
    Clock::time_point start;
    Clock::time_point measure_start;
    Clock::time_point end;
    std::string head_prefix;  // everything before the Content-Length value
    std::string raw_get;      // the full GET request
    std::string body_prefix;  // {"jsonrpc":"2.0","id":
    std::string body_suffix;  // ,"method":"tools/call",...}
};

/// True when a tools/call reply text is a successful result for request `needle`.
bool good_reply(std::string_view text, std::string_view needle) {
    return text.find(needle) != std::string_view::npos && text.find("\"result\"") != std::string_view::npos &&
           text.find("\"isError\":true") == std::string_view::npos;
}

asio::awaitable<void> call_worker(const CallPlan& plan, CallThread& st, int index) {
    const Options& o = *plan.o;
    Connection conn(co_await asio::this_coro::executor);
    auto deadline = std::make_shared<Deadline>();
    deadline->conn = &conn;
    st.deadlines.push_back(deadline);
    const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_s));
    std::string wire;
    std::string body;
    std::string chunk;
    char needle[48];
    char digits[24];
    ResponseHead head;  // reused: its strings keep their storage
    std::uint64_t seq = 0;
    // --session-per-connection: this connection's own session, initialized first (in the
    // warm-up); its requests carry its id.
    const std::string* head_prefix = &plan.head_prefix;
    std::string own_prefix;
    if (o.session_per_connection && !o.stateless && !o.raw_get && !o.raw_post) {
        McpSession own;
        deadline->at = Clock::now() + timeout;
        const std::string err = co_await mcp_initialize(conn, plan.endpoints, o, o.url.target, own);
        deadline->at = Clock::time_point::max();
        if (!err.empty()) {
            st.errors.add(err);
            st.progress_errors.fetch_add(1, std::memory_order_relaxed);
            conn.close();
            deadline->conn = nullptr;
            --st.active;
            co_return;
        }
        own_prefix = mcp_post_head(o.url, o.url.target, own, 0);
        own_prefix.resize(own_prefix.size() - std::string_view("0\r\n\r\n").size());
        head_prefix = &own_prefix;
    }
    while (!g_interrupted.load(std::memory_order_relaxed)) {
        if (Clock::now() >= plan.end) break;
        if (!conn.is_open()) {
            deadline->at = Clock::now() + timeout;
            const auto ec = co_await conn.connect(plan.endpoints);
            deadline->at = Clock::time_point::max();
            if (ec) {
                st.errors.add(error_kind("connect", ec));
                st.progress_errors.fetch_add(1, std::memory_order_relaxed);
                co_await sleep_for(50ms);
                continue;
            }
            ++st.reconnects;
        }
        const std::uint64_t id = static_cast<std::uint64_t>(index + 1) * 1'000'000'000ULL + ++seq;
        wire.clear();
        int needle_len = 0;
        if (o.raw_get) {
            wire = plan.raw_get;
        } else {
            // Formatted with to_chars: no locale, no allocation.
            const std::string_view id_text(digits, static_cast<std::size_t>(
                                                       std::to_chars(digits, digits + sizeof digits, id).ptr - digits));
            body.clear();
            body += plan.body_prefix;
            body += id_text;
            body += plan.body_suffix;
            wire += *head_prefix;
            char length[24];
            wire.append(length, static_cast<std::size_t>(
                                    std::to_chars(length, length + sizeof length, body.size()).ptr - length));
            wire += "\r\n\r\n";
            wire += body;
            std::memcpy(needle, "\"id\":", 5);
            std::memcpy(needle + 5, id_text.data(), id_text.size());
            needle_len = static_cast<int>(5 + id_text.size());
        }
        const std::string_view needle_view(needle, static_cast<std::size_t>(needle_len));
        deadline->fired = false;
        const auto t0 = Clock::now();
        deadline->at = t0 + timeout;
        std::string failure;
        std::error_code ec = co_await conn.write(wire);
        if (ec) failure = error_kind("write", ec);
        if (failure.empty()) {
            ec = co_await conn.read_head(head);
            if (ec) failure = error_kind("read head", ec);
        }
        if (failure.empty()) {
            chunk.clear();
            if (head.is_event_stream()) {
                ++st.sse_replies;
                SseReader reader;
                bool found = false;
                bool done = false;
                while (!done) {
                    chunk.clear();
                    ec = co_await conn.read_body_some(chunk, done);
                    if (ec) break;
                    reader.feed(chunk, [&](const SseEvent& ev) {
                        if (good_reply(ev.data, needle_view)) found = true;
                    });
                }
                if (ec) failure = error_kind("read body", ec);
                else if (head.status != 200) failure = "HTTP " + std::to_string(head.status);
                else if (!found) failure = "no result event";
            } else {
                if (head.is_json()) ++st.json_replies;
                else ++st.other_replies;
                ec = co_await conn.read_body(chunk);
                if (ec) failure = error_kind("read body", ec);
                else if (head.status != 200) failure = "HTTP " + std::to_string(head.status);
                else if (!o.raw_get && !o.raw_post && !good_reply(chunk, needle_view)) failure = "bad result";
            }
        }
        const auto t1 = Clock::now();
        deadline->at = Clock::time_point::max();
        if (deadline->fired && !failure.empty()) failure = "timeout";
        if (!failure.empty()) {
            st.errors.add(failure);
            st.progress_errors.fetch_add(1, std::memory_order_relaxed);
            conn.close();
            continue;
        }
        if (head.close) conn.close();
        st.progress_done.fetch_add(1, std::memory_order_relaxed);
        if (t1 >= plan.measure_start && t1 < plan.end) {
            ++st.measured;
            st.latency.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
        }
    }
    conn.close();
    deadline->conn = nullptr;
    --st.active;
}

int run_call(const Options& o) {
    asio::io_context setup_io(1);
    CallPlan plan;
    plan.o = &o;
    {
        tcp::resolver resolver(setup_io);
        plan.endpoints = resolver.resolve(o.url.host, o.url.port);
    }
    if (!o.raw_get && !o.raw_post && !o.stateless && !o.session_per_connection) {
        Connection conn(setup_io.get_executor());
        std::string err;
        asio::co_spawn(
            setup_io,
            [&]() -> asio::awaitable<void> {
                err = co_await mcp_initialize(conn, plan.endpoints, o, o.url.target, plan.session);
                conn.close();
            },
            asio::detached);
        setup_io.run();
        if (!err.empty()) {
            std::fprintf(stderr, "mcpsse_loadgen: %s\n", err.c_str());
            json out{{"bench", "call"}, {"label", o.label}, {"url", o.url_text}, {"errors", 1}, {"error_kinds", {{err, 1}}}};
            emit_result(out);
            return 1;
        }
        if (!o.quiet) std::fprintf(stderr, "[call] session %s, protocol %s\n", plan.session.id.c_str(),
                                   plan.session.protocol_version.c_str());
    }
    if (o.stateless) plan.session.protocol_version = o.protocol_version;
    plan.raw_get = "GET " + o.url.target + " HTTP/1.1\r\nHost: " + o.url.authority + "\r\nAccept: */*\r\n" +
                   g_extra_headers + "\r\n";
    {
        std::string h = mcp_post_head(o.url, o.url.target, plan.session, 0);
        h.resize(h.size() - std::string_view("0\r\n\r\n").size());
        plan.head_prefix = std::move(h);
    }
    plan.body_prefix = R"({"jsonrpc":"2.0","id":)";
    plan.body_suffix = R"(,"method":"tools/call","params":{"name":)" + json(o.tool).dump() +
                       R"(,"arguments":)" + json::parse(o.tool_args).dump() + "}}";

    std::vector<std::unique_ptr<CallThread>> stats;
    for (int i = 0; i < o.threads; ++i) stats.push_back(std::make_unique<CallThread>());
    plan.start = Clock::now();
    plan.measure_start = plan.start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_s));
    plan.end = plan.measure_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
    std::vector<CpuTime> server_cpu_start;  // each --server-pid, sampled when the measured
    std::vector<CpuTime> server_cpu_end;    // window starts and ends, with this load
                                            // generator's own CPU time alongside
    CpuTime own_cpu_start;
    CpuTime own_cpu_end;
    {
        ThreadPool pool(o.threads);
        for (int t = 0; t < o.threads; ++t) {
            auto& st = *stats[static_cast<std::size_t>(t)];
            int mine = 0;
            for (int c = t; c < o.connections; c += o.threads) ++mine;
            st.active = mine;
            asio::post(pool.at(static_cast<std::size_t>(t)), [&pool, &plan, &st, &o, t] {
                for (int c = t; c < o.connections; c += o.threads)
                    asio::co_spawn(pool.at(static_cast<std::size_t>(t)), call_worker(plan, st, c), asio::detached);
                asio::co_spawn(pool.at(static_cast<std::size_t>(t)), watchdog(st.deadlines, [&st] { return st.active == 0; }),
                               asio::detached);
            });
        }
        // Progress once a second from this (the main) thread; the server's CPU time is
        // sampled when the measured window starts and ends.
        std::uint64_t last_done = 0;
        auto last_t = plan.start;
        while (true) {
            std::this_thread::sleep_for(std::chrono::milliseconds(o.server_pid > 0 ? 10 : 200));
            const auto now = Clock::now();
            if (!own_cpu_start.valid() && now >= plan.measure_start) {
                server_cpu_start = read_cpu_each(o.server_pids);
                own_cpu_start = read_own_cpu("self");
            }
            if (now >= plan.end || g_interrupted) {
                server_cpu_end = read_cpu_each(o.server_pids);
                own_cpu_end = read_own_cpu("self");
                break;
            }
            if (now - last_t >= 1s - 100ms) {
                std::uint64_t done = 0;
                std::uint64_t errors = 0;
                for (auto& s : stats) {
                    done += s->progress_done.load(std::memory_order_relaxed);
                    errors += s->progress_errors.load(std::memory_order_relaxed);
                }
                if (!o.quiet)
                    std::fprintf(stderr, "[call%s] %5.1fs %s %8.0f req/s  errors %llu\n",
                                 o.raw_get ? " raw-get" : o.raw_post ? " raw-post" : "",
                                 seconds_between(plan.start, now), now < plan.measure_start ? "warmup " : "measure",
                                 static_cast<double>(done - last_done) / seconds_between(last_t, now),
                                 static_cast<unsigned long long>(errors));
                last_done = done;
                last_t = now;
            }
        }
        pool.join();
    }
    Histogram latency;
    ErrorLog errors;
    std::uint64_t measured = 0, json_replies = 0, sse_replies = 0, other_replies = 0, connects = 0;
    for (auto& s : stats) {
        latency.merge(s->latency);
        errors.merge(s->errors);
        measured += s->measured;
        json_replies += s->json_replies;
        sse_replies += s->sse_replies;
        other_replies += s->other_replies;
        connects += s->reconnects;
    }
    const double measured_s = o.duration_s;
    json out{{"bench", "call"},
             {"label", o.label},
             {"url", o.url_text},
             {"variant", o.raw_get                  ? "raw-get"
                         : o.raw_post               ? "raw-post"
                         : o.stateless              ? "stateless"
                         : o.session_per_connection ? "session-per-connection"
                                                    : "session"},
             {"mode", o.mode},
             {"tool", o.raw_get ? "" : o.tool},
             {"connections", o.connections},
             {"threads", o.threads},
             {"warmup_s", o.warmup_s},
             {"duration_s", measured_s},
             {"requests", measured},
             {"rps", static_cast<double>(measured) / measured_s},
             {"latency_us", latency_json(latency)},
             {"errors", errors.total},
             {"error_kinds", errors.to_json()},
             {"replies", {{"json", json_replies}, {"sse", sse_replies}, {"other", other_replies}}},
             {"connects", connects}};
    if (!o.headers.empty()) {
        json names = json::array();  // the names only: a value may be a secret
        for (const auto& h : o.headers) names.push_back(h.substr(0, h.find(':')));
        out["extra_headers"] = names;
    }
    const auto per_request_us = [&](double seconds) {
        return measured ? seconds * 1e6 / static_cast<double>(measured) : 0.0;
    };
    const CpuTime cpu_start = sum_cpu(server_cpu_start);
    const CpuTime cpu_end = sum_cpu(server_cpu_end);
    if (cpu_start.valid() && cpu_end.valid() && cpu_end.total() >= cpu_start.total()) {
        const double cpu = cpu_end.total() - cpu_start.total();
        out["server_cpu_pct"] = 100.0 * cpu / measured_s;
        out["server_cpu_us_per_request"] = per_request_us(cpu);
        out["server_user_us_per_request"] = per_request_us(cpu_end.user - cpu_start.user);
        out["server_sys_us_per_request"] = per_request_us(cpu_end.sys - cpu_start.sys);
        if (o.server_pids.size() > 1) {
            json each = json::array();
            for (std::size_t i = 0; i < o.server_pids.size(); ++i) {
                const double c = server_cpu_end[i].total() - server_cpu_start[i].total();
                each.push_back({{"pid", o.server_pids[i]}, {"cpu_pct", 100.0 * c / measured_s},
                                {"cpu_us_per_request", per_request_us(c)}});
            }
            out["server_pids"] = each;
        }
    }
    if (own_cpu_start.valid() && own_cpu_end.valid()) {
        // The load generator shares the cores: what it spends per request is CPU the
        // server cannot have (its kernel time includes the loopback delivery of each
        // request into the server's socket).
        out["loadgen_cpu_pct"] = 100.0 * (own_cpu_end.total() - own_cpu_start.total()) / measured_s;
        out["loadgen_cpu_us_per_request"] = per_request_us(own_cpu_end.total() - own_cpu_start.total());
    }
    if (!o.raw_get && !o.raw_post) {
        const bool mismatch = (o.mode == "json" && sse_replies > 0) || (o.mode == "sse" && json_replies > 0);
        out["mode_mismatch"] = mismatch;
    }
    emit_result(out);
    return errors.total == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// legacy: HTTP+SSE (2024-11-05): GET the SSE endpoint, POST to the announced endpoint,
// responses arrive on the stream.
// ---------------------------------------------------------------------------
struct LegacyWaiter {
    explicit LegacyWaiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool done = false;
    bool ok = false;
    Clock::time_point at;
};

std::optional<std::uint64_t> reply_id(std::string_view data) {
    const std::size_t p = data.find("\"id\":");
    if (p == std::string_view::npos) return std::nullopt;
    std::size_t i = p + 5;
    while (i < data.size() && data[i] == ' ') ++i;
    std::uint64_t id = 0;
    const auto r = std::from_chars(data.data() + i, data.data() + data.size(), id);
    if (r.ec != std::errc{}) return std::nullopt;
    return id;
}

struct LegacyState {
    const Options* o = nullptr;
    tcp::resolver::results_type endpoints;
    std::string endpoint_target;
    std::unordered_map<std::uint64_t, LegacyWaiter*> waiters;
    bool stream_open = false;
    std::string stream_error;
    Clock::time_point measure_start;
    Clock::time_point end;
    CallThread st;
};

asio::awaitable<void> legacy_reader(LegacyState& s, Connection& stream, std::function<void()> on_endpoint) {
    SseReader reader;
    std::string chunk;
    bool done = false;
    while (!done) {
        chunk.clear();
        const auto ec = co_await stream.read_body_some(chunk, done);
        if (ec) {
            if (s.stream_open) s.stream_error = error_kind("stream", ec);
            break;
        }
        reader.feed(chunk, [&](const SseEvent& ev) {
            if (ev.event == "endpoint") {
                std::string t = ev.data;
                if (t.rfind("http", 0) == 0) {
                    if (auto u = parse_url(t)) t = u->target;
                }
                s.endpoint_target = t;
                on_endpoint();
                return;
            }
            const auto id = reply_id(ev.data);
            if (!id) return;
            const auto it = s.waiters.find(*id);
            if (it == s.waiters.end()) return;
            it->second->done = true;
            it->second->ok = ev.data.find("\"result\"") != std::string::npos &&
                             ev.data.find("\"isError\":true") == std::string::npos;
            it->second->at = Clock::now();
            it->second->timer.cancel();
            s.waiters.erase(it);
        });
    }
    s.stream_open = false;
    for (auto& [id, w] : s.waiters) w->timer.cancel();
}

/// POSTs `body` to the legacy endpoint and waits for the reply on the stream.
asio::awaitable<std::string> legacy_round_trip(LegacyState& s, Connection& conn, std::uint64_t id,
                                               const std::string& body, Clock::time_point& t0, Clock::time_point& t1) {
    LegacyWaiter waiter(co_await asio::this_coro::executor);
    s.waiters[id] = &waiter;
    McpSession none;
    PostResult res;
    t0 = Clock::now();
    const auto ec = co_await mcp_post(conn, s.endpoints, s.o->url, s.endpoint_target, none, body, res);
    std::string failure;
    if (ec) failure = error_kind("post", ec);
    else if (res.head.status / 100 != 2) failure = "post: HTTP " + std::to_string(res.head.status);
    if (failure.empty() && !waiter.done) {
        waiter.timer.expires_after(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.o->timeout_s)));
        std::error_code wait_ec;
        co_await waiter.timer.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
    }
    s.waiters.erase(id);
    if (failure.empty() && !waiter.done) failure = s.stream_open ? "timeout" : "stream closed";
    if (failure.empty() && !waiter.ok) failure = "bad result";
    t1 = waiter.at;
    co_return failure;
}

asio::awaitable<void> legacy_worker(LegacyState& s, int index) {
    const Options& o = *s.o;
    Connection conn(co_await asio::this_coro::executor);
    std::uint64_t seq = 0;
    const std::string params_suffix = R"(,"method":"tools/call","params":{"name":)" + json(o.tool).dump() +
                                      R"(,"arguments":)" + json::parse(o.tool_args).dump() + "}}";
    while (!g_interrupted && Clock::now() < s.end && s.stream_open) {
        const std::uint64_t id = static_cast<std::uint64_t>(index + 1) * 1'000'000'000ULL + ++seq;
        const std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + params_suffix;
        Clock::time_point t0;
        Clock::time_point t1;
        const std::string failure = co_await legacy_round_trip(s, conn, id, body, t0, t1);
        if (!failure.empty()) {
            s.st.errors.add(failure);
            s.st.progress_errors.fetch_add(1, std::memory_order_relaxed);
            conn.close();
            continue;
        }
        s.st.progress_done.fetch_add(1, std::memory_order_relaxed);
        if (t1 >= s.measure_start && t1 < s.end) {
            ++s.st.measured;
            s.st.latency.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
        }
    }
    conn.close();
    --s.st.active;
}

int run_legacy(const Options& o) {
    asio::io_context io(1);
    LegacyState s;
    s.o = &o;
    {
        tcp::resolver resolver(io);
        s.endpoints = resolver.resolve(o.url.host, o.url.port);
    }
    Connection stream(io.get_executor());
    std::string setup_error;
    Clock::time_point start;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const McpSession none;
            setup_error = co_await open_stream(stream, s.endpoints, o.url, o.url.target, none, "");
            if (!setup_error.empty()) co_return;
            s.stream_open = true;
            asio::steady_timer endpoint_wait(co_await asio::this_coro::executor, 10s);
            std::function<void()> on_endpoint = [&endpoint_wait] { endpoint_wait.cancel(); };
            asio::co_spawn(co_await asio::this_coro::executor, legacy_reader(s, stream, on_endpoint), asio::detached);
            std::error_code ec;
            if (s.endpoint_target.empty()) co_await endpoint_wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (s.endpoint_target.empty()) {
                setup_error = "no endpoint event";
                stream.close();
                co_return;
            }
            if (!o.quiet) std::fprintf(stderr, "[legacy] endpoint %s\n", s.endpoint_target.c_str());
            Connection conn(co_await asio::this_coro::executor);
            json params{{"protocolVersion", "2024-11-05"},
                        {"capabilities", json::object()},
                        {"clientInfo", {{"name", "mcpsse_loadgen"}, {"version", "0.1.0"}}}};
            const std::string init = rpc_request(0, "initialize", params);
            Clock::time_point t0;
            Clock::time_point t1;
            setup_error = co_await legacy_round_trip(s, conn, 0, init, t0, t1);
            if (setup_error.empty()) {
                PostResult res;
                const std::string note = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
                const McpSession none2;
                const auto pec = co_await mcp_post(conn, s.endpoints, o.url, s.endpoint_target, none2, note, res);
                if (pec) setup_error = error_kind("initialized", pec);
            }
            conn.close();
            if (!setup_error.empty()) {
                stream.close();
                co_return;
            }
            start = Clock::now();
            s.measure_start = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_s));
            s.end = s.measure_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
            s.st.active = o.connections;
            for (int c = 0; c < o.connections; ++c)
                asio::co_spawn(co_await asio::this_coro::executor, legacy_worker(s, c), asio::detached);
            while (s.st.active > 0) {
                co_await sleep_for(200ms);
                if (!o.quiet && (Clock::now() - start) % 1s < 200ms)
                    std::fprintf(stderr, "[legacy] %5.1fs done %llu errors %llu\n", seconds_between(start, Clock::now()),
                                 static_cast<unsigned long long>(s.st.progress_done.load()),
                                 static_cast<unsigned long long>(s.st.errors.total));
            }
            s.stream_open = false;
            stream.close();
        },
        asio::detached);
    io.run();
    json out{{"bench", "legacy"}, {"label", o.label}, {"url", o.url_text}, {"connections", o.connections},
             {"warmup_s", o.warmup_s}, {"duration_s", o.duration_s}};
    if (!setup_error.empty()) {
        s.st.errors.add(setup_error);
        std::fprintf(stderr, "mcpsse_loadgen: %s\n", setup_error.c_str());
    }
    if (!s.stream_error.empty()) s.st.errors.add(s.stream_error);
    out["requests"] = s.st.measured;
    out["rps"] = static_cast<double>(s.st.measured) / o.duration_s;
    out["latency_us"] = latency_json(s.st.latency);
    out["errors"] = s.st.errors.total;
    out["error_kinds"] = s.st.errors.to_json();
    emit_result(out);
    return s.st.errors.total == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// sessions / fanout: many sessions, each with an open GET SSE stream
// ---------------------------------------------------------------------------
struct StreamSession {
    explicit StreamSession(const asio::any_io_executor& ex) : conn(ex) {}
    Connection conn;
    McpSession session;
    std::atomic<int> round_seen{0};
    std::atomic<std::int64_t> arrival_ns{0};
};

struct Fleet {
    const Options* o = nullptr;
    // Where session i is opened: targets[i % targets.size()] (--url, then --also-url).
    struct Target {
        Url url;
        tcp::resolver::results_type endpoints;
    };
    std::vector<Target> targets;
    std::vector<std::unique_ptr<StreamSession>> sessions;
    std::atomic<int> next{0};
    std::atomic<int> opened{0};
    std::atomic<int> failed{0};
    std::atomic<int> closed_early{0};
    std::atomic<bool> closing{false};
    std::atomic<std::uint64_t> events{0};
    std::atomic<int> round{0};
    std::atomic<int> delivered{0};
    std::atomic<std::int64_t> round_t0_ns{0};
    std::mutex error_mutex;
    ErrorLog errors;

    void add_error(const std::string& e) {
        std::lock_guard lock(error_mutex);
        errors.add(e);
    }
};

asio::awaitable<void> stream_reader(Fleet& f, StreamSession& s) {
    SseReader reader;
    std::string chunk;
    bool done = false;
    const std::string& match = f.o->match;
    while (!done) {
        chunk.clear();
        const auto ec = co_await s.conn.read_body_some(chunk, done);
        if (ec) break;
        reader.feed(chunk, [&](const SseEvent& ev) {
            f.events.fetch_add(1, std::memory_order_relaxed);
            if (ev.data.find(match) == std::string::npos) return;
            const int round = f.round.load(std::memory_order_acquire);
            if (round > s.round_seen.load(std::memory_order_relaxed)) {
                s.round_seen.store(round, std::memory_order_relaxed);
                s.arrival_ns.store(to_ns(Clock::now()), std::memory_order_relaxed);
                f.delivered.fetch_add(1, std::memory_order_acq_rel);
            }
        });
    }
    if (!f.closing.load()) {
        f.closed_early.fetch_add(1);
        f.add_error("stream ended early");
    }
    s.conn.close();
}

asio::awaitable<void> session_opener(Fleet& f) {
    const auto ex = co_await asio::this_coro::executor;
    const Options& o = *f.o;
    while (!g_interrupted) {
        const int i = f.next.fetch_add(1);
        if (i >= o.sessions) break;
        auto& slot = f.sessions[static_cast<std::size_t>(i)];
        slot = std::make_unique<StreamSession>(ex);
        StreamSession& s = *slot;
        const Fleet::Target& t = f.targets[static_cast<std::size_t>(i) % f.targets.size()];
        std::string err = co_await mcp_initialize(s.conn, t.endpoints, o, t.url.target, s.session);
        if (err.empty()) err = co_await open_stream(s.conn, t.endpoints, t.url, t.url.target, s.session, "");
        if (!err.empty()) {
            f.add_error(err);
            f.failed.fetch_add(1);
            s.conn.close();
            continue;
        }
        f.opened.fetch_add(1);
        asio::co_spawn(ex, stream_reader(f, s), asio::detached);
    }
}

/// Opens `o.sessions` sessions with streams on the pool; returns seconds taken.
double open_fleet(Fleet& f, ThreadPool& pool) {
    const Options& o = *f.o;
    f.sessions.resize(static_cast<std::size_t>(o.sessions));
    const auto t0 = Clock::now();
    for (int c = 0; c < o.concurrency; ++c)
        asio::co_spawn(pool.at(static_cast<std::size_t>(c)), session_opener(f), asio::detached);
    auto last = t0;
    while (f.opened.load() + f.failed.load() < o.sessions && !g_interrupted) {
        std::this_thread::sleep_for(5ms);
        if (!o.quiet && Clock::now() - last >= 1s) {
            last = Clock::now();
            std::fprintf(stderr, "[%s] %5.1fs open %d failed %d\n", o.command.c_str(), seconds_between(t0, last),
                         f.opened.load(), f.failed.load());
        }
    }
    return seconds_between(t0, Clock::now());
}

/// Closes every stream on its own thread.
void close_fleet(Fleet& f, ThreadPool& pool) {
    f.closing = true;
    for (std::size_t i = 0; i < f.sessions.size(); ++i) {
        if (!f.sessions[i]) continue;
        StreamSession* s = f.sessions[i].get();
        asio::post(s->conn.socket().get_executor(), [s] { s->conn.close(); });
    }
    (void)pool;
}

int run_sessions(const Options& o, bool fanout) {
    raise_fd_limit();
    Fleet f;
    f.o = &o;
    {
        asio::io_context io;
        tcp::resolver resolver(io);
        f.targets.push_back({o.url, resolver.resolve(o.url.host, o.url.port)});
        for (const Url& other : o.also_urls) f.targets.push_back({other, resolver.resolve(other.host, other.port)});
    }
    const std::vector<long> rss_before_each = read_rss_each(o.server_pids);
    const long rss_before = sum_or_invalid(rss_before_each);
    const long self_before = read_rss_kib(static_cast<long>(getpid()));
    json out{{"bench", fanout ? "fanout" : "sessions"}, {"label", o.label}, {"url", o.url_text},
             {"sessions", o.sessions}, {"threads", o.threads}};
    ThreadPool pool(o.threads);
    const double open_s = open_fleet(f, pool);
    out["open_s"] = open_s;
    out["opened"] = f.opened.load();
    out["sessions_per_s"] = open_s > 0 ? f.opened.load() / open_s : 0.0;
    if (!o.quiet) std::fprintf(stderr, "[%s] %d sessions open in %.2f s (%d failed)\n", o.command.c_str(), f.opened.load(), open_s, f.failed.load());
    std::this_thread::sleep_for(1s);  // let the server settle (lazy allocations, timers)
    const std::vector<long> rss_after_each = read_rss_each(o.server_pids);
    const long rss_after = sum_or_invalid(rss_after_each);
    if (o.server_pid > 0) {
        out["server_rss_before_kib"] = rss_before;
        out["server_rss_after_kib"] = rss_after;
        out["kib_per_session"] = f.opened.load() > 0 ? static_cast<double>(rss_after - rss_before) / f.opened.load() : 0.0;
        if (o.server_pids.size() > 1) {
            json each = json::array();
            for (std::size_t i = 0; i < o.server_pids.size(); ++i)
                each.push_back({{"pid", o.server_pids[i]}, {"rss_before_kib", rss_before_each[i]},
                                {"rss_after_kib", rss_after_each[i]}});
            out["server_pids"] = each;
        }
    }
    out["client_rss_delta_kib"] = read_rss_kib(static_cast<long>(getpid())) - self_before;

    if (fanout && f.opened.load() > 0 && !g_interrupted) {
        // A control session of its own triggers the notification.
        // The trigger is sent on the first session (servers cap the session count, so
        // no extra session is opened), over a connection of its own.
        asio::io_context& io0 = pool.at(0);
        Connection control(io0.get_executor());
        tcp::resolver::results_type trigger_endpoints;
        {
            asio::io_context io;
            tcp::resolver resolver(io);
            trigger_endpoints = resolver.resolve(o.trigger_url.host, o.trigger_url.port);
        }
        McpSession control_session;
        for (auto& s : f.sessions) {
            if (s && !s->session.id.empty()) {
                control_session = s->session;
                break;
            }
        }
        std::string err;
        std::vector<double> last_ms;
        std::vector<double> median_ms;
        std::vector<int> delivered;
        std::vector<int> missed;
        for (int r = 1; r <= o.rounds && err.empty() && !g_interrupted; ++r) {
            f.delivered.store(0);
            f.round.store(r, std::memory_order_release);
            std::int64_t t0_ns = 0;
            err = run_sync<std::string>(io0, [&, r]() -> asio::awaitable<std::string> {
                const std::string args = replace_all(o.trigger_args, "{round}", std::to_string(r));
                t0_ns = to_ns(Clock::now());
                co_return co_await mcp_call_tool_at(control, trigger_endpoints, o.trigger_url, control_session,
                                                    1000 + static_cast<std::uint64_t>(r), o.trigger_tool, args);
            });
            if (!err.empty()) break;
            const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_s));
            const int want = f.opened.load() - f.closed_early.load();
            // --settle: the round also ends once no stream got the notification for that long.
            const auto settle = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(o.settle_ms));
            int seen = 0;
            auto last_change = Clock::now();
            while (f.delivered.load(std::memory_order_acquire) < want && Clock::now() < deadline) {
                std::this_thread::sleep_for(1ms);
                const int now_seen = f.delivered.load(std::memory_order_acquire);
                if (now_seen != seen) {
                    seen = now_seen;
                    last_change = Clock::now();
                } else if (o.settle_ms > 0 && seen > 0 && Clock::now() - last_change >= settle) {
                    break;
                }
            }
            std::this_thread::sleep_for(20ms);
            std::vector<double> arrivals;
            for (auto& s : f.sessions) {
                if (s && s->round_seen.load() == r) arrivals.push_back(static_cast<double>(s->arrival_ns.load() - t0_ns) / 1e6);
            }
            std::sort(arrivals.begin(), arrivals.end());
            const int got = static_cast<int>(arrivals.size());
            delivered.push_back(got);
            last_ms.push_back(arrivals.empty() ? -1 : arrivals.back());
            median_ms.push_back(arrivals.empty() ? -1 : arrivals[arrivals.size() / 2]);
            missed.push_back(want - got);
            // A round that waited out its deadline left the control connection idle that
            // long: a balancer may have closed it (keep-alive timeout); the next round
            // connects afresh.
            if (got < want && Clock::now() >= deadline) asio::post(io0, [&control] { control.close(); });
            if (got == 0 || (got < want && o.settle_ms <= 0))
                f.add_error("fanout: " + std::to_string(want - got) + " streams missed round " + std::to_string(r));
            if (!o.quiet) std::fprintf(stderr, "[fanout] round %d: %d/%d streams, last after %.2f ms, median %.2f ms\n", r, got, want,
                                       last_ms.back(), median_ms.back());
            std::this_thread::sleep_for(200ms);
        }
        if (!err.empty()) f.add_error(err);
        asio::post(io0, [&control] { control.close(); });
        auto med = [](std::vector<double> v) {
            if (v.empty()) return -1.0;
            std::sort(v.begin(), v.end());
            return v[v.size() / 2];
        };
        out["rounds"] = last_ms.size();
        out["last_ms"] = last_ms;
        out["median_arrival_ms"] = median_ms;
        out["delivered"] = delivered;
        out["missed"] = missed;
        if (!o.trigger_url_text.empty()) out["trigger_url"] = o.trigger_url_text;
        if (o.settle_ms > 0) out["settle_ms"] = o.settle_ms;
        out["last_ms_median"] = med(last_ms);
        out["trigger_tool"] = o.trigger_tool;
    }
    if (o.hold_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(o.hold_s));
    out["events_received"] = f.events.load();
    out["closed_early"] = f.closed_early.load();
    close_fleet(f, pool);
    pool.join();
    if (o.server_pid > 0) {
        std::this_thread::sleep_for(500ms);
        const std::vector<long> closed = read_rss_each(o.server_pids);
        out["server_rss_after_close_kib"] = sum_or_invalid(closed);
        if (o.server_pids.size() > 1)
            for (std::size_t i = 0; i < closed.size(); ++i) out["server_pids"][i]["rss_after_close_kib"] = closed[i];
    }
    out["errors"] = f.errors.total;
    out["error_kinds"] = f.errors.to_json();
    emit_result(out);
    return f.errors.total == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// replay: events stored while the stream is disconnected, replayed on reconnect with
// Last-Event-ID.
// ---------------------------------------------------------------------------
int run_replay(const Options& o) {
    asio::io_context io(1);
    tcp::resolver::results_type endpoints;
    tcp::resolver::results_type resume_endpoints;
    {
        tcp::resolver resolver(io);
        endpoints = resolver.resolve(o.url.host, o.url.port);
        resume_endpoints = resolver.resolve(o.resume_url.host, o.resume_url.port);
    }
    json out{{"bench", "replay"}, {"label", o.label}, {"url", o.url_text}, {"events", o.events}};
    if (!o.resume_url_text.empty()) out["resume_url"] = o.resume_url_text;
    ErrorLog errors;
    double replay_s = 0;
    int replayed = 0;
    std::string last_id;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const auto ex = co_await asio::this_coro::executor;
            Connection control(ex);
            McpSession session;
            std::string err = co_await mcp_initialize(control, endpoints, o, o.url.target, session);
            if (!err.empty()) {
                errors.add(err);
                co_return;
            }
            // 1. Open the stream and learn an event id (a priming event, or one emitted event).
            auto stream = std::make_unique<Connection>(ex);
            err = co_await open_stream(*stream, endpoints, o.url, o.url.target, session, "");
            if (!err.empty()) {
                errors.add(err);
                co_return;
            }
            SseReader reader;
            std::string chunk;
            bool emitted = false;
            const auto first_deadline = Clock::now() + 5s;
            asio::steady_timer guard(ex);
            while (reader.last_event_id().empty() && Clock::now() < first_deadline) {
                // Give a priming event 100 ms, then ask for one event.
                if (emitted) guard.expires_at(first_deadline);
                else guard.expires_after(100ms);
                guard.async_wait([&stream](std::error_code ec) {
                    if (!ec) stream->socket().cancel(ec);
                });
                chunk.clear();
                bool done = false;
                const auto ec = co_await stream->read_body_some(chunk, done);
                guard.cancel();
                reader.feed(chunk, [](const SseEvent&) {});
                if (ec == asio::error::operation_aborted && !emitted) {
                    emitted = true;
                    const std::string args = replace_all(o.emit_args, "{count}", "1");
                    err = co_await mcp_call_tool(control, endpoints, o, session, 1, o.emit_tool, args);
                    if (!err.empty()) {
                        errors.add(err);
                        co_return;
                    }
                    continue;
                }
                if (ec || done) {
                    errors.add(ec ? error_kind("stream", ec) : "stream ended");
                    co_return;
                }
            }
            last_id = reader.last_event_id();
            if (last_id.empty()) {
                errors.add("no event id on the stream (server without resumability?)");
                co_return;
            }
            // 2. Disconnect, then have M events emitted.
            stream->close();
            co_await sleep_for(50ms);
            if (o.emit_args.find("{count}") != std::string::npos) {
                const std::string args = replace_all(o.emit_args, "{count}", std::to_string(o.events));
                err = co_await mcp_call_tool(control, endpoints, o, session, 2, o.emit_tool, args);
            } else {
                for (int i = 0; i < o.events && err.empty(); ++i)
                    err = co_await mcp_call_tool(control, endpoints, o, session, 10 + static_cast<std::uint64_t>(i),
                                                 o.emit_tool, o.emit_args);
            }
            if (!err.empty()) {
                errors.add(err);
                co_return;
            }
            // 3. Reconnect with Last-Event-ID and time the replay.
            stream = std::make_unique<Connection>(ex);
            const auto t0 = Clock::now();
            err = co_await open_stream(*stream, resume_endpoints, o.resume_url, o.resume_url.target, session, last_id);
            if (!err.empty()) {
                errors.add(err);
                co_return;
            }
            SseReader replay_reader;
            const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_s));
            Clock::time_point t1 = t0;
            guard.expires_at(deadline);
            Connection* raw = stream.get();
            guard.async_wait([raw](std::error_code ec) {
                if (!ec) raw->socket().cancel(ec);
            });
            while (replayed < o.events) {
                chunk.clear();
                bool done = false;
                const auto ec = co_await stream->read_body_some(chunk, done);
                replay_reader.feed(chunk, [&](const SseEvent& ev) {
                    if (ev.data.find(o.match) != std::string::npos) {
                        ++replayed;
                        t1 = Clock::now();
                    }
                });
                if (ec || done) break;
            }
            guard.cancel();
            replay_s = seconds_between(t0, t1);
            if (replayed < o.events) errors.add("replay: got " + std::to_string(replayed) + " of " + std::to_string(o.events));
            stream->close();
            control.close();
        },
        asio::detached);
    io.run();
    out["last_event_id"] = last_id;
    out["replayed"] = replayed;
    out["replay_s"] = replay_s;
    out["events_per_s"] = replay_s > 0 ? replayed / replay_s : 0.0;
    out["errors"] = errors.total;
    out["error_kinds"] = errors.to_json();
    emit_result(out);
    return errors.total == 0 ? 0 : 1;
}

}  // namespace
}  // namespace loadgen

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, [](int) { loadgen::g_interrupted = true; });
    std::signal(SIGTERM, [](int) { loadgen::g_interrupted = true; });
    loadgen::Options o;
    if (!loadgen::parse_options(argc, argv, o)) {
        loadgen::usage(stderr);
        return 2;
    }
    try {
        if (!loadgen::setup_tls(o)) return 2;
        if (o.command == "call") return loadgen::run_call(o);
        if (o.command == "legacy") return loadgen::run_legacy(o);
        if (o.command == "sessions") return loadgen::run_sessions(o, false);
        if (o.command == "fanout") return loadgen::run_sessions(o, true);
        if (o.command == "replay") return loadgen::run_replay(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mcpsse_loadgen: %s\n", e.what());
        nlohmann::json out{{"bench", o.command}, {"label", o.label}, {"errors", 1}, {"error_kinds", {{e.what(), 1}}}};
        loadgen::emit_result(out);
        return 1;
    }
    std::fprintf(stderr, "mcpsse_loadgen: unknown command %s\n", o.command.c_str());
    loadgen::usage(stderr);
    return 2;
}
