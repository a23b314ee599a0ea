// mcpsse-bridge: serves any stdio MCP server over HTTP: Streamable HTTP at /mcp (every
// revision) and the legacy HTTP+SSE transport at /sse + /messages.
//
//   mcpsse-bridge [options] -- COMMAND [ARGS...]
//   mcpsse-bridge --port 8000 -- npx -y @modelcontextprotocol/server-everything
//
// Each MCP session gets a child process of its own (started by the session's
// `initialize`, ended with the session); see --help and examples/bridge/README.md.
#include "bridge.hpp"
#include "child_process.hpp"

#include <mcpsse/access_log.hpp>
#include <mcpsse/mcpsse.hpp>
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/static_token_verifier.hpp>
#include <mcpsse/token_verifier.hpp>
#if MCPSSE_EXAMPLE_JWT
#include <mcpsse/jwt.hpp>
#endif
#if MCPSSE_EXAMPLE_TLS
#include <mcpsse/tls.hpp>
#endif

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using nlohmann::json;

const char* const usage_text =
    "usage: mcpsse-bridge [options] -- COMMAND [ARGS...]\n"
    "Serves the stdio MCP server COMMAND over Streamable HTTP (/mcp) and legacy HTTP+SSE (/sse).\n"
    "\n"
    "  --host ADDRESS              address to bind (default 127.0.0.1)\n"
    "  --port PORT                 TCP port, 0 picks a free one (default 8000)\n"
    "  --share-child               one child for every session (default: one per session)\n"
    "  --stateless-pool N          children serving stateless 2026-07-28 requests (default 2; 0: refuse them)\n"
    "  --max-children N            children at once; initialize beyond it gets JSON-RPC -32050 (default 64)\n"
    "  --max-children-per-client N sessions (so children) per client key, 429 beyond it (default 16;\n"
    "                              loopback clients are exempt unless --limit-loopback)\n"
    "  --limit-loopback            apply the per-client limits to loopback clients too\n"
    "  --max-sessions N            sessions at once, 503 beyond it (default 1000)\n"
    "  --session-idle-timeout MS   a session without requests or streams ends after MS (default 1800000)\n"
    "  --env NAME                  pass NAME from the environment to children (repeatable); always passed:\n"
    "                              PATH HOME USER LOGNAME SHELL LANG LANGUAGE TERM TMPDIR TZ LC_* NODE_*\n"
    "  --stdin-grace MS            after closing a child's stdin, wait MS before SIGTERM (default 2000)\n"
    "  --term-grace MS             after SIGTERM, wait MS before SIGKILL (default 3000)\n"
    "  --max-line-bytes N          longest JSON-RPC line a child may write (default 4194304)\n"
    "  --max-stdin-backlog N       bytes queued for a child's stdin before it counts as stuck (default 16777216)\n"
    "  --stderr-rate N             child stderr lines logged per second per child, 0: all (default 20)\n"
    "  --stderr-line-bytes N       longest child stderr line logged (default 2048)\n"
    "  --request-timeout MS        how long a child's request to the client may wait (default 60000)\n"
    "  --allowed-origin ORIGIN     allowed Origin (repeatable; default: loopback origins only)\n"
    "  --allowed-host NAME         allowed Host name (repeatable; default: loopback names when bound to loopback)\n"
    "  --tls-cert FILE --tls-key FILE   serve HTTPS\n"
    "  --resource URL              require OAuth bearer tokens; URL is the resource identifier\n"
    "                              (e.g. https://host/mcp), served in the protected resource metadata\n"
    "  --auth-issuer URL           accept JWT access tokens from this issuer (needs --auth-jwks)\n"
    "  --auth-jwks FILE            the issuer's public keys (a JWKS JSON file)\n"
    "  --auth-token T              accept static bearer token T (repeatable)\n"
    "  --auth-scope S              scope every request needs (repeatable; none by default)\n"
    "  --log-format json|text      log format (default text)\n"
    "  --log-level error|warning|info|debug   log threshold (default info)\n"
    "  --help                      this text\n"
    "\n"
    "Serves also /healthz, /readyz and /metrics. SIGTERM drains (then stops), SIGINT stops.\n";

struct Settings {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;
    mcpsse_bridge::BridgeOptions bridge;
    std::vector<std::string> env_names;
    std::size_t max_children_per_client = 16;
    bool limit_loopback = false;
    std::size_t max_sessions = 1000;
    std::chrono::milliseconds session_idle_timeout{30 * 60'000};
    std::vector<std::string> allowed_origins;
    std::vector<std::string> allowed_hosts;
    std::string tls_cert, tls_key;
    std::string resource, auth_issuer, auth_jwks;
    std::vector<std::string> auth_tokens, auth_scopes;
    mcpsse::LogFormat log_format = mcpsse::LogFormat::text;
    mcpsse::LoggingLevel log_level = mcpsse::LoggingLevel::info;
};

template <class T>
bool parse_number(std::string_view text, T& out, T min, T max) {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) return false;
    out = value;
    return true;
}

// nullopt: bad arguments (usage, exit 2); `help` set for --help.
std::optional<Settings> parse(int argc, char** argv, bool& help) {
    Settings s;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has = i + 1 < argc;
        const std::string_view value = has ? std::string_view(argv[i + 1]) : std::string_view();
        long long ms = 0;
        auto number = [&](std::size_t& out, std::size_t min = 0) {
            if (!has || !parse_number<std::size_t>(value, out, min, std::size_t(1) << 40)) return false;
            ++i;
            return true;
        };
        auto millis = [&](std::chrono::milliseconds& out) {
            if (!has || !parse_number<long long>(value, ms, 0, 24LL * 3600 * 1000)) return false;
            out = std::chrono::milliseconds(ms);
            ++i;
            return true;
        };
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg == "--help" || arg == "-h") {
            help = true;
            return std::nullopt;
        } else if (arg == "--host" && has) {
            s.host = argv[++i];
        } else if (arg == "--port" && has) {
            std::uint16_t port = 0;
            if (!parse_number<std::uint16_t>(value, port, 0, 65535)) return std::nullopt;
            s.port = port;
            ++i;
        } else if (arg == "--share-child") {
            s.bridge.share_child = true;
        } else if (arg == "--stateless-pool") {
            if (!number(s.bridge.stateless_pool)) return std::nullopt;
        } else if (arg == "--max-children") {
            if (!number(s.bridge.max_children, 1)) return std::nullopt;
        } else if (arg == "--max-children-per-client") {
            if (!number(s.max_children_per_client)) return std::nullopt;
        } else if (arg == "--limit-loopback") {
            s.limit_loopback = true;
        } else if (arg == "--max-sessions") {
            if (!number(s.max_sessions, 1)) return std::nullopt;
        } else if (arg == "--session-idle-timeout") {
            if (!millis(s.session_idle_timeout)) return std::nullopt;
        } else if (arg == "--env" && has) {
            s.env_names.emplace_back(argv[++i]);
        } else if (arg == "--stdin-grace") {
            if (!millis(s.bridge.child.stdin_grace)) return std::nullopt;
        } else if (arg == "--term-grace") {
            if (!millis(s.bridge.child.term_grace)) return std::nullopt;
        } else if (arg == "--max-line-bytes") {
            if (!number(s.bridge.child.max_line_bytes, 1024)) return std::nullopt;
        } else if (arg == "--max-stdin-backlog") {
            if (!number(s.bridge.child.max_stdin_backlog_bytes, 1024)) return std::nullopt;
        } else if (arg == "--stderr-rate") {
            if (!number(s.bridge.child.stderr_lines_per_second)) return std::nullopt;
        } else if (arg == "--stderr-line-bytes") {
            if (!number(s.bridge.child.max_stderr_line_bytes, 16)) return std::nullopt;
        } else if (arg == "--request-timeout") {
            if (!millis(s.bridge.client_request_timeout)) return std::nullopt;
        } else if (arg == "--allowed-origin" && has) {
            s.allowed_origins.emplace_back(argv[++i]);
        } else if (arg == "--allowed-host" && has) {
            s.allowed_hosts.emplace_back(argv[++i]);
        } else if (arg == "--tls-cert" && has) {
            s.tls_cert = argv[++i];
        } else if (arg == "--tls-key" && has) {
            s.tls_key = argv[++i];
        } else if (arg == "--resource" && has) {
            s.resource = argv[++i];
        } else if (arg == "--auth-issuer" && has) {
            s.auth_issuer = argv[++i];
        } else if (arg == "--auth-jwks" && has) {
            s.auth_jwks = argv[++i];
        } else if (arg == "--auth-token" && has) {
            s.auth_tokens.emplace_back(argv[++i]);
        } else if (arg == "--auth-scope" && has) {
            s.auth_scopes.emplace_back(argv[++i]);
        } else if (arg == "--log-format" && has && mcpsse::parse_log_format(value)) {
            s.log_format = *mcpsse::parse_log_format(argv[++i]);
        } else if (arg == "--log-level" && has && mcpsse::logging_level_from_string(value)) {
            s.log_level = *mcpsse::logging_level_from_string(argv[++i]);
        } else {
            return std::nullopt;
        }
    }
    for (; i < argc; ++i) s.bridge.command.emplace_back(argv[i]);
    if (s.bridge.command.empty()) return std::nullopt;
    if (s.tls_cert.empty() != s.tls_key.empty()) return std::nullopt;
    // The authorization flags need --resource; JWT needs both an issuer and its keys.
    const bool auth_flags =
        !s.auth_issuer.empty() || !s.auth_jwks.empty() || !s.auth_tokens.empty() || !s.auth_scopes.empty();
    if (auth_flags && s.resource.empty()) return std::nullopt;
    if (s.auth_issuer.empty() != s.auth_jwks.empty()) return std::nullopt;
    return s;
}

// Accepts the static tokens of --auth-token, then (with --auth-jwks) JWTs of the issuer.
class Verifier {
public:
    std::shared_ptr<mcpsse::StaticTokenVerifier> statics = std::make_shared<mcpsse::StaticTokenVerifier>();
#if MCPSSE_EXAMPLE_JWT
    std::shared_ptr<mcpsse::JwtVerifier> jwt;
#endif

    asio::awaitable<mcpsse::TokenVerdict> async_verify(std::string token) {
        mcpsse::TokenVerdict verdict = statics->verify(token);
#if MCPSSE_EXAMPLE_JWT
        if (!verdict && jwt) verdict = jwt->verify(token);
#endif
        co_return verdict;
    }
};

// The transport's OAuth resource-server settings, or nullopt without --resource.
std::optional<mcpsse::AuthorizationOptions> authorization_of(const Settings& s) {
    if (s.resource.empty()) return std::nullopt;
    auto verifier = std::make_shared<Verifier>();
    for (const auto& token : s.auth_tokens) verifier->statics->add(token, s.auth_scopes);
    mcpsse::AuthorizationOptions auth;
    auth.resource = s.resource;
    auth.required_scopes = s.auth_scopes;
    auth.scopes_supported = s.auth_scopes;
    if (!s.auth_issuer.empty()) auth.authorization_servers = {s.auth_issuer};
    if (!s.auth_jwks.empty()) {
#if MCPSSE_EXAMPLE_JWT
        mcpsse::JwtVerifierOptions jwt;
        jwt.issuer = s.auth_issuer;
        jwt.audience = s.resource;
        verifier->jwt = std::make_shared<mcpsse::JwtVerifier>(jwt, mcpsse::JwtVerifier::load_jwks_file(s.auth_jwks));
#else
        throw std::runtime_error("built without JWT support (OpenSSL 3 was not found): --auth-jwks is unavailable");
#endif
    }
    auth.verifier = verifier;
    return auth;
}

// The bridge's own log lines, in the access log's format (logfmt-like text or JSON Lines),
// one write per line.
struct Logger {
    mcpsse::LogFormat format;
    mcpsse::LoggingLevel threshold;

    void operator()(mcpsse::LoggingLevel level, std::string_view session, std::string_view message) const {
        if (level < threshold) return;
        const std::string time = mcpsse::AccessLog::format_time(std::chrono::system_clock::now());
        std::string line;
        if (format == mcpsse::LogFormat::json) {
            json j{{"time", time}, {"level", std::string(mcpsse::to_string(level))}, {"event", "bridge"}};
            if (!session.empty()) j["session"] = std::string(session);
            j["message"] = std::string(message);
            line = j.dump(-1, ' ', false, json::error_handler_t::replace);
        } else {
            line = "time=" + time + " level=" + std::string(mcpsse::to_string(level)) + " event=bridge";
            if (!session.empty()) line += " session=" + std::string(session);
            line += " message=" + json(std::string(message)).dump(-1, ' ', false, json::error_handler_t::replace);
        }
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), stderr);
        std::fflush(stderr);
    }
};

// Serves until SIGINT, or until a drain that SIGTERM starts ends.
template <class Transport>
int run(asio::io_context& io, Transport& transport, mcpsse::Dispatcher& rpc, mcpsse_bridge::Bridge& bridge,
        std::function<void(const std::string&)>& end_session, const std::string& url) {
    int status = 0;
    end_session = [&transport](const std::string& id) { transport.end_session(id); };
    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void(std::error_code, int)> on_signal = [&](std::error_code ec, int signal) {
        if (ec) return;
        if (signal == SIGTERM && !transport.draining()) {
            std::fprintf(stderr, "mcpsse-bridge: draining\n");
            transport.drain();
            signals.async_wait(on_signal);
            return;
        }
        transport.stop();
    };
    signals.async_wait(on_signal);
    transport.async_run(rpc, [&](std::exception_ptr error) {
        signals.cancel();
        bridge.shutdown();  // the children end with their graces; io.run() returns once they are reaped
        if (!error) return;
        status = 1;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "mcpsse-bridge: %s\n", e.what());
        }
    });
    std::fprintf(stderr, "mcpsse-bridge: listening on %s:%u/mcp (legacy: /sse)\n", url.c_str(),
                 static_cast<unsigned>(transport.local_port()));
    io.run();
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    bool help = false;
    auto settings = parse(argc, argv, help);
    if (!settings) {
        std::fputs(usage_text, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    const Logger logger{settings->log_format, settings->log_level};
    settings->bridge.environment = mcpsse_bridge::filter_environment(environ, settings->env_names);

    asio::io_context io{1};
    mcpsse::DispatcherOptions rpc_options;
    rpc_options.server_info.name = "mcpsse-bridge";
    rpc_options.request_timeout = settings->bridge.client_request_timeout;
    mcpsse::Dispatcher rpc{rpc_options};

    mcpsse::SseTransportOptions http;
    http.host = settings->host;
    http.port = settings->port;
    http.single_threaded = true;  // one thread runs everything: the bridge's state needs no locks
    http.max_sessions = settings->max_sessions;
    http.session_idle_timeout = settings->session_idle_timeout;
    http.client_limits.max_sessions = settings->max_children_per_client;
    http.client_limits.exempt_loopback = !settings->limit_loopback;
    http.allowed_origins = settings->allowed_origins;
    http.allowed_hosts = settings->allowed_hosts;
    mcpsse::AccessLogOptions access;
    access.format = settings->log_format;
    access.level = settings->log_level;
    http.observers.push_back(std::make_shared<mcpsse::AccessLog>(std::move(access)));
    http.operations.health_path = "/healthz";
    http.operations.readiness_path = "/readyz";
    http.operations.metrics_path = "/metrics";

    // Set once the transport exists: ends a session whose child is gone.
    std::function<void(const std::string&)> end_session;
    mcpsse_bridge::Bridge bridge{io.get_executor(), settings->bridge, logger,
                                 [&end_session](const std::string& id) {
                                     if (end_session) end_session(id);
                                 }};
    bridge.install(rpc);
    http.on_session_open = [&bridge](const mcpsse::SseSession<>& s) { bridge.session_opened(s); };
    http.on_session_close = [&bridge](const mcpsse::SseSession<>& s) { bridge.session_closed(s); };

    try {
        http.authorization = authorization_of(*settings);
        const std::string url = (settings->tls_cert.empty() ? "http://" : "https://") + settings->host;
        if (!settings->tls_cert.empty()) {
#if MCPSSE_EXAMPLE_TLS
            mcpsse::TlsOptions tls;
            tls.certificate_chain_file = settings->tls_cert;
            tls.private_key_file = settings->tls_key;
            mcpsse::TlsSseTransport<asio::any_io_executor> transport{io.get_executor(), http, mcpsse::Tls{tls}};
            return run(io, transport, rpc, bridge, end_session, url);
#else
            std::fprintf(stderr, "mcpsse-bridge: built without TLS (OpenSSL was not found)\n");
            return 2;
#endif
        }
        mcpsse::SseTransport<asio::any_io_executor> transport{io.get_executor(), http};
        return run(io, transport, rpc, bridge, end_session, url);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mcpsse-bridge: %s\n", e.what());
        return 1;
    }
}
