// Tests of examples/bridge/child_process.hpp: spawning a stdio child in its own process
// group, line framing of its output, the bounded stderr log, termination escalation
// (stdin EOF, SIGTERM, SIGKILL to the whole group) and the environment allow-list. The
// children are small /bin/sh scripts.
#include "child_process.hpp"

#include "support/catch.hpp"

#include <asio/io_context.hpp>

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using mcpsse_bridge::ChildLimits;
using mcpsse_bridge::ChildProcess;
using mcpsse_bridge::ChildReaper;

namespace {

// What a child's callbacks saw.
struct Seen {
    std::vector<std::string> lines;
    std::vector<std::string> stderr_lines;
    std::size_t dropped = 0;
    std::vector<std::string> failures;
    std::optional<int> status;
    std::string description;
};

ChildProcess::Callbacks record(Seen& seen) {
    ChildProcess::Callbacks c;
    c.on_line = [&seen](std::string line) { seen.lines.push_back(std::move(line)); };
    c.on_stderr = [&seen](std::string_view line, std::size_t dropped) {
        if (dropped) seen.dropped += dropped;
        else seen.stderr_lines.emplace_back(line);
    };
    c.on_failure = [&seen](std::string reason) { seen.failures.push_back(std::move(reason)); };
    c.on_exit = [&seen](int status, std::string description) {
        seen.status = status;
        seen.description = std::move(description);
    };
    return c;
}

// Runs `io` until `condition` holds or `timeout` passes (events, not fixed sleeps).
bool run_until(asio::io_context& io, const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        io.run_one_for(20ms);
    }
    return true;
}

std::vector<std::string> sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

const std::vector<std::string> plain_env{"PATH=/usr/bin:/bin"};

// True when `pid` no longer runs (gone, or a zombie waiting for a parent that does not
// reap, as PID 1 in some containers).
bool process_gone(pid_t pid) {
    if (::kill(pid, 0) != 0) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

}  // namespace

TEST_CASE("bridge child: lines round-trip; closing stdin ends an MCP stdio server; it is reaped") {
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    auto child = ChildProcess::spawn(io.get_executor(), reaper, sh("while IFS= read -r l; do printf '%s\\r\\n' \"$l\"; done"),
                                     plain_env, ChildLimits{}, record(seen));
    REQUIRE(child->pid() > 0);
    CHECK(::getpgid(child->pid()) == child->pid());  // a process group of its own
    child->write_line(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
    child->write_line("second");
    REQUIRE(run_until(io, [&] { return seen.lines.size() == 2; }));
    CHECK(seen.lines[0] == R"({"jsonrpc":"2.0","id":1,"method":"ping"})");  // CR removed
    CHECK(seen.lines[1] == "second");
    child->close_stdin();
    REQUIRE(run_until(io, [&] { return seen.status.has_value(); }));
    CHECK(seen.description == "exit status 0");
    CHECK(child->finished());
    CHECK(reaper.size() == 0);
    CHECK(::waitpid(child->pid(), nullptr, WNOHANG) < 0);  // already reaped: no zombie
}

TEST_CASE("bridge child: output written just before exit is delivered before on_exit") {
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    bool lines_at_exit = false;
    auto callbacks = record(seen);
    callbacks.on_exit = [&](int status, std::string d) {
        lines_at_exit = seen.lines.size() == 3;
        seen.status = status;
        seen.description = std::move(d);
    };
    auto child = ChildProcess::spawn(io.get_executor(), reaper, sh("echo a; echo b; printf c; exit 7"), plain_env,
                                     ChildLimits{}, std::move(callbacks));
    REQUIRE(run_until(io, [&] { return seen.status.has_value(); }));
    CHECK(lines_at_exit);
    CHECK(seen.lines == std::vector<std::string>{"a", "b", "c"});  // the last line had no newline
    CHECK(seen.description == "exit status 7");
}

TEST_CASE("bridge child: a command that does not exist fails to spawn with ENOENT") {
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    try {
        (void)ChildProcess::spawn(io.get_executor(), reaper, {"mcpsse-no-such-command-here"}, plain_env, ChildLimits{},
                                  record(seen));
        FAIL("spawn succeeded");
    } catch (const std::system_error& e) {
        CHECK(e.code().value() == ENOENT);
    }
    CHECK(reaper.size() == 0);
}

TEST_CASE("bridge child: a child ignoring SIGTERM gets SIGKILL after the grace, its grandchild too") {
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    ChildLimits limits;
    limits.stdin_grace = 100ms;
    limits.term_grace = 200ms;
    // Ignores SIGTERM (the grandchild inherits that) and stdin EOF; reports the grandchild.
    auto child = ChildProcess::spawn(io.get_executor(), reaper,
                                     sh("trap '' TERM; sleep 1000 & echo $!; while :; do wait; done"), plain_env,
                                     limits, record(seen));
    REQUIRE(run_until(io, [&] { return seen.lines.size() == 1; }));
    const pid_t grandchild = static_cast<pid_t>(std::stol(seen.lines[0]));
    CHECK(::getpgid(grandchild) == child->pid());
    const auto started = std::chrono::steady_clock::now();
    child->terminate();
    REQUIRE(run_until(io, [&] { return seen.status.has_value(); }));
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(seen.description == "killed by signal " + std::to_string(SIGKILL));
    CHECK(took >= 300ms);  // both graces passed: SIGTERM did not end it
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!process_gone(grandchild) && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
    CHECK(process_gone(grandchild));
}

TEST_CASE("bridge child: SIGTERM suffices for a child that ignores stdin EOF but not SIGTERM") {
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    ChildLimits limits;
    limits.stdin_grace = 50ms;
    limits.term_grace = 10s;  // would make the test slow if SIGKILL were needed
    auto child = ChildProcess::spawn(io.get_executor(), reaper, sh("echo up; exec sleep 1000"), plain_env, limits,
                                     record(seen));
    REQUIRE(run_until(io, [&] { return seen.lines.size() == 1; }));
    child->terminate();
    REQUIRE(run_until(io, [&] { return seen.status.has_value(); }, 5s));
    CHECK(seen.description == "killed by signal " + std::to_string(SIGTERM));
}

TEST_CASE("bridge child: stderr is logged by line, cut to its byte limit and rate-limited with a drop count") {
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    ChildLimits limits;
    limits.stderr_lines_per_second = 5;
    limits.max_stderr_line_bytes = 64;
    // One long line first, then 99 short ones, all at once.
    auto child = ChildProcess::spawn(
        io.get_executor(), reaper,
        sh("i=0; while [ $i -lt 200 ]; do printf x >&2; i=$((i+1)); done; echo >&2; "
           "i=1; while [ $i -lt 100 ]; do echo \"line $i\" >&2; i=$((i+1)); done"),
        plain_env, limits, record(seen));
    REQUIRE(run_until(io, [&] { return seen.status.has_value(); }));
    REQUIRE(run_until(io, [&] { return seen.stderr_lines.size() + seen.dropped == 100; }));
    REQUIRE(!seen.stderr_lines.empty());
    CHECK(seen.stderr_lines[0] == std::string(64, 'x') + "...");
    // Five per one-second window: the script ends well within a few windows.
    CHECK(seen.stderr_lines.size() <= 15);
    CHECK(seen.dropped >= 85);
}

TEST_CASE("bridge child: an output line over the limit is a failure; the child is ended") {
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    ChildLimits limits;
    limits.max_line_bytes = 1024;
    limits.stdin_grace = 50ms;
    limits.term_grace = 50ms;
    auto child = ChildProcess::spawn(
        io.get_executor(), reaper,
        sh("i=0; while [ $i -lt 2000 ]; do printf y; i=$((i+1)); done; echo; exec sleep 1000"), plain_env, limits,
        record(seen));
    REQUIRE(run_until(io, [&] { return seen.status.has_value(); }));
    REQUIRE(seen.failures.size() == 1);
    CHECK(seen.failures[0].find("1024") != std::string::npos);
    CHECK(seen.lines.empty());
}

TEST_CASE("bridge child: the environment is an allow-list") {
    char a[] = "PATH=/usr/bin:/bin";
    char b[] = "SECRET_TOKEN=hunter2";
    char c[] = "LC_ALL=C.UTF-8";
    char d[] = "NODE_OPTIONS=--max-old-space-size=64";
    char e[] = "AWS_SECRET_ACCESS_KEY=x";
    char f[] = "MY_SETTING=1";
    char g[] = "HOME=/home/u";
    char* env[] = {a, b, c, d, e, f, g, nullptr};
    const auto kept = mcpsse_bridge::filter_environment(env, {"MY_SETTING"});
    CHECK(kept == std::vector<std::string>{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "NODE_OPTIONS=--max-old-space-size=64",
                                           "MY_SETTING=1", "HOME=/home/u"});
    CHECK(mcpsse_bridge::filter_environment(env, {}).size() == 4);

    // The child sees exactly what it was given.
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    auto child = ChildProcess::spawn(io.get_executor(), reaper, {"/usr/bin/env"}, kept, ChildLimits{}, record(seen));
    REQUIRE(run_until(io, [&] { return seen.status.has_value(); }));
    std::vector<std::string> sorted_seen = seen.lines, sorted_kept = kept;
    std::sort(sorted_seen.begin(), sorted_seen.end());
    std::sort(sorted_kept.begin(), sorted_kept.end());
    CHECK(sorted_seen == sorted_kept);
}

TEST_CASE("bridge child: a child that stops reading its input is a failure once the backlog passes its limit") {
    asio::io_context io;
    ChildReaper reaper(io.get_executor());
    Seen seen;
    ChildLimits limits;
    limits.max_stdin_backlog_bytes = 256 * 1024;  // over a pipe's 64 KiB buffer
    limits.stdin_grace = 50ms;
    limits.term_grace = 50ms;
    // The child never reads standard input: what the bridge writes piles up.
    auto child = ChildProcess::spawn(io.get_executor(), reaper, sh("exec sleep 1000"), plain_env, limits, record(seen));
    const std::string message(16 * 1024, 'x');
    for (int i = 0; i < 32 && seen.failures.empty(); ++i) {  // 512 KiB in all
        child->write_line(message);
        io.poll();
    }
    REQUIRE(run_until(io, [&] { return seen.status.has_value(); }));
    REQUIRE(seen.failures.size() == 1);
    CHECK(seen.failures[0].find("does not read its input") != std::string::npos);
    CHECK(seen.failures[0].find(std::to_string(256 * 1024)) != std::string::npos);
}
