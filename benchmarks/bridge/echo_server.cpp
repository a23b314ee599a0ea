// mcpsse_bench_echo: the stdio MCP server that every bridge of benchmarks/bridge.sh
// serves over HTTP. One tool, `echo`, answers its `text` argument back as text content.
//
// It exists so that the child is not the bottleneck of a bridge benchmark (the issue's
// words) and so that 1,000 of them (one per session in the memory row) fit. It is
// therefore the cheapest correct stdio MCP server we could write: one thread, blocking
// read(2) of stdin, one write(2) for the answers to what one read brought, no event loop. (An earlier version ran on
// mcpsse::StdioTransport and the Dispatcher; on the 2-core benchmark machine its epoll
// loop, strand and coroutine frames cost more CPU per call than the bridge in front of
// it, and 32 of them shared the cores with the bridge under test.) Every bridge in the
// benchmark serves this same program.
//
// What it speaks (MCP over stdio, newline-delimited JSON-RPC 2.0):
//   initialize         the client's protocolVersion when it is one of the revisions below,
//                      else the newest; capabilities {tools, logging}
//   tools/list         the one `echo` tool
//   tools/call         `echo` with a string `text`: {"content":[{"type":"text","text":...}]};
//                      anything else -32602
//   ping, logging/setLevel  {}
//   other requests     -32601; notifications and responses are ignored; a line that is
//                      not JSON gets -32700 with a null id
//
//   printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"sh","version":"1"}}}' | mcpsse_bench_echo
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> revisions{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

// The tools/list result, serialized once.
const std::string& tool_list() {
    static const std::string tools =
        json{{"tools",
              json::array({{{"name", "echo"},
                            {"description", "Returns the text it is given."},
                            {"inputSchema",
                             {{"type", "object"},
                              {"properties", {{"text", {{"type", "string"}}}}},
                              {"required", {"text"}}}}}})}}
            .dump();
    return tools;
}

// Writes all of `lines` to stdout; false when stdout is gone.
bool write_all(const std::string& lines) {
    std::string_view rest{lines};
    while (!rest.empty()) {
        const ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

std::string reply_result(const json& id, std::string_view result) {
    std::string out = R"({"jsonrpc":"2.0","id":)";
    out += id.dump();
    out += R"(,"result":)";
    out += result;
    out += '}';
    return out;
}

std::string reply_error(const json& id, int code, std::string_view message) {
    return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}}.dump();
}

// The answer to one incoming line; empty when none is due (notifications, responses).
std::string answer(std::string_view line) {
    const json message = json::parse(line, nullptr, false);
    if (message.is_discarded() || !message.is_object()) return reply_error(nullptr, -32700, "Parse error");
    const auto method = message.find("method");
    const auto id = message.find("id");
    if (method == message.end() || !method->is_string() || id == message.end()) return {};
    const std::string& name = method->get_ref<const std::string&>();
    static const json no_params = json::object();
    const auto found = message.find("params");
    const json& params = found != message.end() && found->is_object() ? *found : no_params;

    if (name == "tools/call") {
        const auto tool = params.find("name");
        const auto args = params.find("arguments");
        if (tool == params.end() || *tool != "echo")
            return reply_error(*id, -32602, "unknown tool (only 'echo' exists)");
        if (args == params.end() || !args->is_object() || !args->contains("text") || !(*args)["text"].is_string())
            return reply_error(*id, -32602, "echo needs a string 'text'");
        const json content{{"content", json::array({{{"type", "text"}, {"text", (*args)["text"]}}})}};
        return reply_result(*id, content.dump());
    }
    if (name == "tools/list") return reply_result(*id, tool_list());
    if (name == "ping" || name == "logging/setLevel") return reply_result(*id, "{}");
    if (name == "initialize") {
        std::string_view version = revisions.front();
        const auto asked = params.find("protocolVersion");
        if (asked != params.end() && asked->is_string())
            for (std::string_view r : revisions)
                if (r == asked->get_ref<const std::string&>()) version = r;
        const json result{{"protocolVersion", version},
                          {"capabilities", {{"tools", json::object()}, {"logging", json::object()}}},
                          {"serverInfo", {{"name", "mcpsse_bench_echo"}, {"version", "2.0.0"}}}};
        return reply_result(*id, result.dump());
    }
    return reply_error(*id, -32601, "Method not found");
}

}  // namespace

int main() {
    std::string pending;  // bytes read but not yet ended by a newline
    std::array<char, 65536> buffer{};
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            std::perror("mcpsse_bench_echo: read");
            return 1;
        }
        if (n == 0) return 0;  // end of input: a normal exit
        pending.append(buffer.data(), static_cast<std::size_t>(n));
        std::string answers;
        std::size_t start = 0;
        for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
            std::string_view line{pending.data() + start, end - start};
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.empty()) continue;
            std::string out = answer(line);
            if (out.empty()) continue;
            answers += out;
            answers += '\n';
        }
        pending.erase(0, start);
        if (!answers.empty() && !write_all(answers)) return 0;  // stdout closed: the bridge is gone
    }
}
