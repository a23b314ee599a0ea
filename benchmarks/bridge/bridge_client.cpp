// mcpsse_bench_bridge_client: the load client of benchmarks/bridge.sh, which compares
// stdio-to-HTTP MCP bridges (mcpsse-bridge, supergateway, mcp-proxy) serving the same
// stdio server (mcpsse_bench_echo).
//
//   mcpsse_bench_bridge_client call --url http://127.0.0.1:PORT/mcp [--sessions 32]
//                                   [--duration 10] [--warmup 2] [--bridge-pid PID] ...
//       Streamable HTTP: every connection opens a session of its own (initialize +
//       notifications/initialized, all of them before the clock starts), then calls
//       tools/call echo in a closed loop (one request at a time per connection). A bridge
//       that runs one child per session therefore runs --sessions children, whichever
//       bridge it is. With --sessions 1 the calls are sequential: the latency runs.
//       JSON and SSE replies are both accepted (the bridge decides).
//   mcpsse_bench_bridge_client direct [--duration 10] [--warmup 2] -- CMD [ARGS...]
//       The baseline of "added latency": starts CMD (the stdio server), initializes it over
//       its stdin/stdout and calls tools/call echo sequentially, no bridge in between.
//
// Both time each round trip from the first byte written to the last byte of the reply
// read, and print exactly one JSON result line on stdout (progress on stderr):
// requests, rps, latency_us {p50, p90, p99, max, mean}, errors, error_kinds, and for
// `call` with --bridge-pid the bridge's own CPU time (utime + stime of that process
// alone, from /proc/PID/stat, children excluded) over the measured window, per call.
//
// The HTTP client and the histogram are the load generator's (benchmarks/loadgen); like
// it, this program includes no mcpsse header and measures every bridge from the outside.
#include "../loadgen/http_client.hpp"
#include "../loadgen/stats.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

using loadgen::Connection;
using loadgen::Histogram;
using loadgen::ResponseHead;
using loadgen::SseEvent;
using loadgen::SseReader;
using loadgen::Url;
using asio::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
    std::string command;
    std::string url_text;
    Url url;
    int sessions = 32;
    double duration_s = 10;
    double warmup_s = 2;
    double timeout_s = 10;
    long bridge_pid = 0;
    std::string text = "hello from the mcpsse bridge benchmark";
    std::string protocol_version = "2025-06-18";
    std::string label;
    std::vector<std::string> child;  // direct: the command after --
};

[[noreturn]] void usage(int status) {
    std::fputs(
        "usage: mcpsse_bench_bridge_client call --url http://HOST:PORT/PATH [options]\n"
        "       mcpsse_bench_bridge_client direct [options] -- CMD [ARGS...]\n"
        "  --sessions N          call: connections, each with its own MCP session (default 32)\n"
        "  --duration S          measured seconds (default 10)\n"
        "  --warmup S            seconds of calls before measuring (default 2)\n"
        "  --timeout S           per-call timeout in seconds (default 10); a timeout is an error\n"
        "  --bridge-pid PID      call: report the CPU time of PID alone per call\n"
        "  --text TEXT           the echo tool's text argument (default: 38 ASCII bytes)\n"
        "  --protocol-version V  protocol revision sent in initialize (default 2025-06-18)\n"
        "  --label TEXT          copied into the result line\n",
        status == 0 ? stdout : stderr);
    std::exit(status);
}

Options parse_options(int argc, char** argv) {
    if (argc < 2) usage(2);
    Options o;
    o.command = argv[1];
    if (o.command == "--help" || o.command == "-h") usage(0);
    if (o.command != "call" && o.command != "direct") usage(2);
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--") {
            for (++i; i < argc; ++i) o.child.emplace_back(argv[i]);
            break;
        }
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "mcpsse_bench_bridge_client: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        try {
            if (a == "--url") o.url_text = value();
            else if (a == "--sessions") o.sessions = std::stoi(value());
            else if (a == "--duration") o.duration_s = std::stod(value());
            else if (a == "--warmup") o.warmup_s = std::stod(value());
            else if (a == "--timeout") o.timeout_s = std::stod(value());
            else if (a == "--bridge-pid") o.bridge_pid = std::stol(value());
            else if (a == "--text") o.text = value();
            else if (a == "--protocol-version") o.protocol_version = value();
            else if (a == "--label") o.label = value();
            else if (a == "--help" || a == "-h") usage(0);
            else {
                std::fprintf(stderr, "mcpsse_bench_bridge_client: unknown option %s\n", a.c_str());
                usage(2);
            }
        } catch (const std::exception&) {
            std::fprintf(stderr, "mcpsse_bench_bridge_client: bad value for %s\n", a.c_str());
            std::exit(2);
        }
    }
    if (o.sessions < 1 || o.duration_s <= 0 || o.warmup_s < 0 || o.timeout_s <= 0) {
        std::fprintf(stderr, "mcpsse_bench_bridge_client: --sessions >= 1, --duration > 0, --warmup >= 0, --timeout > 0\n");
        std::exit(2);
    }
    if (o.command == "call") {
        const auto url = loadgen::parse_url(o.url_text);
        if (!url || url->tls) {
            std::fprintf(stderr, "mcpsse_bench_bridge_client: call needs --url http://HOST:PORT/PATH\n");
            std::exit(2);
        }
        o.url = *url;
    } else if (o.child.empty()) {
        std::fprintf(stderr, "mcpsse_bench_bridge_client: direct needs -- CMD [ARGS...]\n");
        std::exit(2);
    }
    return o;
}

/// Error counts by kind, for the result line.
struct Errors {
    std::map<std::string, std::uint64_t> kinds;
    std::uint64_t total = 0;
    void add(const std::string& kind) {
        ++kinds[kind];
        ++total;
    }
};

std::string error_kind(const char* where, const std::error_code& ec) {
    if (ec == asio::error::operation_aborted) return std::string(where) + ": timeout";
    if (ec == asio::error::eof) return std::string(where) + ": connection closed";
    return std::string(where) + ": " + ec.message();
}

/// utime + stime of `pid` alone in seconds (/proc/PID/stat fields 14 and 15), or -1.
double process_cpu_s(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size()) return -1;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {  // field 3 is the state
        if (i == 14) utime = std::stoull(f);
        if (i == 15) stime = std::stoull(f);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

json latency_json(const Histogram& h) {
    auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
    return json{{"p50", us(h.quantile(0.50))}, {"p90", us(h.quantile(0.90))}, {"p99", us(h.quantile(0.99))},
                {"max", us(h.max())},          {"min", us(h.min())},          {"mean", h.mean() / 1000.0}};
}

std::string call_body(std::uint64_t id, const Options& o) {
    return json{{"jsonrpc", "2.0"},
                {"id", id},
                {"method", "tools/call"},
                {"params", {{"name", "echo"}, {"arguments", {{"text", o.text}}}}}}
        .dump();
}

std::string initialize_body(const Options& o) {
    return json{{"jsonrpc", "2.0"},
                {"id", 0},
                {"method", "initialize"},
                {"params",
                 {{"protocolVersion", o.protocol_version},
                  {"capabilities", json::object()},
                  {"clientInfo", {{"name", "mcpsse_bench_bridge_client"}, {"version", "1.0.0"}}}}}}
        .dump();
}

const char* const initialized_body = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

/// True when `message` (one JSON-RPC message) is the successful echo reply to request `id`.
bool good_reply(const std::string& message, std::uint64_t id, const std::string& text) {
    const json j = json::parse(message, nullptr, false);
    if (!j.is_object() || !j.contains("id") || j["id"] != id || !j.contains("result")) return false;
    const json& r = j["result"];
    if (r.value("isError", false)) return false;
    const auto content = r.find("content");
    return content != r.end() && content->is_array() && !content->empty() && (*content)[0].value("text", "") == text;
}

// ---------------------------------------------------------------------------
// call: sessions over Streamable HTTP
// ---------------------------------------------------------------------------
struct Worker {
    explicit Worker(const asio::any_io_executor& ex) : conn(ex) {}
    Connection conn;
    std::string session_id;
    std::string protocol_version;
    Clock::time_point deadline = Clock::time_point::max();
    bool timed_out = false;
};

struct CallRun {
    const Options* o = nullptr;
    tcp::resolver::results_type endpoints;
    std::vector<std::unique_ptr<Worker>> workers;
    Histogram latency;
    Errors errors;
    std::uint64_t measured = 0;
    std::uint64_t json_replies = 0;
    std::uint64_t sse_replies = 0;
    int active = 0;
    Clock::time_point measure_start;
    Clock::time_point end;
};

/// POSTs `body` with the worker's session headers and collects the JSON-RPC messages of
/// the reply (a JSON body, or every SSE data field). Empty string on success.
asio::awaitable<std::string> post(CallRun& run, Worker& w, const std::string& body, ResponseHead& head,
                                  std::vector<std::string>& messages) {
    const Options& o = *run.o;
    if (!w.conn.is_open()) {
        if (const auto ec = co_await w.conn.connect(run.endpoints)) co_return error_kind("connect", ec);
    }
    std::string wire = "POST " + o.url.target + " HTTP/1.1\r\nHost: " + o.url.authority +
                       "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n";
    if (!w.session_id.empty()) wire += "Mcp-Session-Id: " + w.session_id + "\r\n";
    if (!w.protocol_version.empty()) wire += "Mcp-Protocol-Version: " + w.protocol_version + "\r\n";
    wire += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    wire += body;
    if (const auto ec = co_await w.conn.write(wire)) co_return error_kind("write", ec);
    if (const auto ec = co_await w.conn.read_head(head)) co_return error_kind("read head", ec);
    std::string text;
    if (const auto ec = co_await w.conn.read_body(text)) co_return error_kind("read body", ec);
    messages.clear();
    if (head.is_event_stream()) {
        SseReader reader;
        reader.feed(text, [&messages](const SseEvent& ev) {
            if (!ev.data.empty()) messages.push_back(ev.data);
        });
    } else if (!text.empty()) {
        messages.push_back(std::move(text));
    }
    if (head.close) w.conn.close();
    co_return std::string{};
}

asio::awaitable<std::string> open_session(CallRun& run, Worker& w) {
    ResponseHead head;
    std::vector<std::string> messages;
    w.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(run.o->timeout_s));
    std::string failure = co_await post(run, w, initialize_body(*run.o), head, messages);
    if (failure.empty() && head.status != 200) failure = "initialize: HTTP " + std::to_string(head.status);
    if (failure.empty()) {
        for (const auto& m : messages) {
            const json j = json::parse(m, nullptr, false);
            if (j.is_object() && j.contains("result") && j["result"].is_object())
                w.protocol_version = j["result"].value("protocolVersion", "");
        }
        if (w.protocol_version.empty()) failure = "initialize: no result";
        if (head.session_id.empty()) failure = "initialize: no Mcp-Session-Id";
        w.session_id = head.session_id;
    }
    if (failure.empty()) {
        failure = co_await post(run, w, initialized_body, head, messages);
        if (failure.empty() && head.status / 100 != 2) failure = "initialized: HTTP " + std::to_string(head.status);
    }
    w.deadline = Clock::time_point::max();
    if (w.timed_out && !failure.empty()) failure = "initialize: timeout";
    co_return failure;
}

asio::awaitable<void> call_loop(CallRun& run, Worker& w, std::uint64_t index) {
    const Options& o = *run.o;
    const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_s));
    ResponseHead head;
    std::vector<std::string> messages;
    std::uint64_t seq = 0;
    while (Clock::now() < run.end) {
        const std::uint64_t id = (index + 1) * 1'000'000'000ULL + ++seq;
        const std::string body = call_body(id, o);
        w.timed_out = false;
        const auto t0 = Clock::now();
        w.deadline = t0 + timeout;
        std::string failure = co_await post(run, w, body, head, messages);
        const auto t1 = Clock::now();
        w.deadline = Clock::time_point::max();
        if (failure.empty() && head.status != 200) failure = "tools/call: HTTP " + std::to_string(head.status);
        if (failure.empty()) {
            bool found = false;
            for (const auto& m : messages) found = found || good_reply(m, id, o.text);
            if (!found) failure = "tools/call: no good reply";
        }
        if (w.timed_out && !failure.empty()) failure = "tools/call: timeout";
        if (!failure.empty()) {
            run.errors.add(failure);
            w.conn.close();
            asio::steady_timer pause(co_await asio::this_coro::executor, 50ms);
            co_await pause.async_wait(asio::use_awaitable);
            continue;
        }
        (head.is_event_stream() ? run.sse_replies : run.json_replies) += 1;
        if (t1 >= run.measure_start && t1 < run.end) {
            ++run.measured;
            run.latency.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
        }
    }
    w.conn.close();
    --run.active;
}

/// Closes the connection of every worker whose deadline passed, every 50 ms, while
/// `run.active` > 0.
asio::awaitable<void> watchdog(CallRun& run) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (run.active > 0) {
        timer.expires_after(50ms);
        co_await timer.async_wait(asio::use_awaitable);
        const auto now = Clock::now();
        for (auto& w : run.workers) {
            if (now > w->deadline) {
                w->timed_out = true;
                w->deadline = Clock::time_point::max();
                w->conn.close();
            }
        }
    }
}

int run_call(const Options& o) {
    asio::io_context io(1);
    CallRun run;
    run.o = &o;
    {
        tcp::resolver resolver(io);
        run.endpoints = resolver.resolve(o.url.host, o.url.port);
    }
    for (int i = 0; i < o.sessions; ++i) run.workers.push_back(std::make_unique<Worker>(io.get_executor()));
    // 1. Every session opens before the clock starts (per-session children spawn here).
    const auto open_t0 = Clock::now();
    int opened = 0;
    run.active = o.sessions;
    for (auto& w : run.workers) {
        asio::co_spawn(
            io,
            [&run, &opened, w = w.get()]() -> asio::awaitable<void> {
                const std::string failure = co_await open_session(run, *w);
                if (failure.empty()) ++opened;
                else run.errors.add(failure);
                --run.active;
            },
            asio::detached);
    }
    asio::co_spawn(io, watchdog(run), asio::detached);  // ends once every session is open (or failed)
    io.run();
    io.restart();
    const double open_s = std::chrono::duration<double>(Clock::now() - open_t0).count();
    std::fprintf(stderr, "[bridge-client] %d of %d sessions open in %.2f s\n", opened, o.sessions, open_s);
    double cpu0 = -1, cpu1 = -1;
    if (opened == o.sessions) {
        // 2. Closed-loop calls: warm-up, then the measured window.
        const auto start = Clock::now();
        run.measure_start = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_s));
        run.end = run.measure_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
        run.active = o.sessions;
        for (std::size_t i = 0; i < run.workers.size(); ++i)
            asio::co_spawn(io, call_loop(run, *run.workers[i], i), asio::detached);
        asio::co_spawn(io, watchdog(run), asio::detached);
        // The bridge's CPU time when the measured window starts and ends, sampled on
        // this thread's own timers (1 ms late at most).
        const std::string pid = std::to_string(o.bridge_pid);
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                if (o.bridge_pid <= 0) co_return;
                asio::steady_timer t(co_await asio::this_coro::executor, run.measure_start);
                co_await t.async_wait(asio::use_awaitable);
                cpu0 = process_cpu_s(pid);
                t.expires_at(run.end);
                co_await t.async_wait(asio::use_awaitable);
                cpu1 = process_cpu_s(pid);
            },
            asio::detached);
        io.run();
    }
    json out{{"bench", "bridge-call"},
             {"label", o.label},
             {"url", o.url_text},
             {"sessions", o.sessions},
             {"sessions_opened", opened},
             {"open_s", open_s},
             {"warmup_s", o.warmup_s},
             {"duration_s", o.duration_s},
             {"text_bytes", o.text.size()},
             {"requests", run.measured},
             {"rps", static_cast<double>(run.measured) / o.duration_s},
             {"latency_us", latency_json(run.latency)},
             {"errors", run.errors.total},
             {"error_kinds", run.errors.kinds},
             {"replies", {{"json", run.json_replies}, {"sse", run.sse_replies}}}};
    if (cpu0 >= 0 && cpu1 >= cpu0 && run.measured > 0) {
        out["bridge_cpu_pct"] = 100.0 * (cpu1 - cpu0) / o.duration_s;
        out["bridge_cpu_us_per_call"] = (cpu1 - cpu0) * 1e6 / static_cast<double>(run.measured);
    }
    std::cout << out.dump() << std::endl;
    return run.errors.total == 0 && opened == o.sessions && run.measured > 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// direct: the stdio server itself, no bridge
// ---------------------------------------------------------------------------
/// Blocking line I/O over the child's stdin/stdout.
class ChildLines {
public:
    ChildLines(int to_child, int from_child) : out_(to_child), in_(from_child) {}

    bool write_line(const std::string& line) {
        std::string data = line + "\n";
        std::size_t done = 0;
        while (done < data.size()) {
            const ssize_t n = ::write(out_, data.data() + done, data.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

    /// Next newline-terminated line (without the newline); false at end of input.
    bool read_line(std::string& line) {
        while (true) {
            const std::size_t nl = buf_.find('\n', pos_);
            if (nl != std::string::npos) {
                line.assign(buf_, pos_, nl - pos_);
                pos_ = nl + 1;
                if (pos_ == buf_.size()) {
                    buf_.clear();
                    pos_ = 0;
                }
                return true;
            }
            char chunk[65536];
            const ssize_t n = ::read(in_, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            buf_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    int out_;
    int in_;
    std::string buf_;
    std::size_t pos_ = 0;
};

/// Reads lines until the reply to `id` (skipping notifications); empty on failure.
std::string read_reply(ChildLines& lines, std::uint64_t id) {
    std::string line;
    while (lines.read_line(line)) {
        const json j = json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("id") && j["id"] == id && !j.contains("method")) return line;
    }
    return {};
}

int run_direct(const Options& o) {
    int to_child[2];
    int from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) {
        std::perror("mcpsse_bench_bridge_client: pipe");
        return 1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    std::vector<char*> argv;
    for (const auto& a : o.child) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t child = 0;
    const int rc = posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    if (rc != 0) {
        std::fprintf(stderr, "mcpsse_bench_bridge_client: cannot start %s: %s\n", argv[0], std::strerror(rc));
        return 1;
    }
    ChildLines lines(to_child[1], from_child[0]);
    Errors errors;
    Histogram latency;
    std::uint64_t measured = 0;
    if (!lines.write_line(initialize_body(o)) || read_reply(lines, 0).empty() || !lines.write_line(initialized_body)) {
        errors.add("initialize failed");
    } else {
        const auto start = Clock::now();
        const auto measure_start = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup_s));
        const auto end = measure_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s));
        for (std::uint64_t id = 1; Clock::now() < end; ++id) {
            const std::string body = call_body(id, o);
            const auto t0 = Clock::now();
            if (!lines.write_line(body)) {
                errors.add("write: child closed its input");
                break;
            }
            const std::string reply = read_reply(lines, id);
            const auto t1 = Clock::now();
            if (reply.empty()) {
                errors.add("read: child closed its output");
                break;
            }
            if (!good_reply(reply, id, o.text)) {
                errors.add("bad reply");
                continue;
            }
            if (t1 >= measure_start) {
                ++measured;
                latency.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
            }
        }
    }
    ::close(to_child[1]);  // end of input: the server exits
    ::close(from_child[0]);
    int status = 0;
    waitpid(child, &status, 0);
    json out{{"bench", "bridge-direct"},
             {"label", o.label},
             {"command", o.child},
             {"warmup_s", o.warmup_s},
             {"duration_s", o.duration_s},
             {"text_bytes", o.text.size()},
             {"requests", measured},
             {"rps", static_cast<double>(measured) / o.duration_s},
             {"latency_us", latency_json(latency)},
             {"errors", errors.total},
             {"error_kinds", errors.kinds}};
    std::cout << out.dump() << std::endl;
    return errors.total == 0 && measured > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    const Options o = parse_options(argc, argv);
    try {
        return o.command == "direct" ? run_direct(o) : run_call(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mcpsse_bench_bridge_client: %s\n", e.what());
        return 1;
    }
}
