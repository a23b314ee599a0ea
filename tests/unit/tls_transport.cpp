// TlsSseTransport over real loopback sockets: HTTPS requests and SSE streams, TLS 1.2
// and 1.3, ALPN, a plain-HTTP request on the TLS port, failed handshakes reported to
// observers, certificate reload, mutual TLS. Certificates come from the `openssl`
// command, generated into a temporary folder.
#include <mcpsse/tls.hpp>

#include "support/catch.hpp"
#include "support/sse_test_server.hpp"

#include <asio/connect.hpp>
#include <asio/read.hpp>
#include <asio/ssl.hpp>
#include <asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

using namespace mcpsse_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A throwaway CA and a server certificate for localhost/127.0.0.1 signed by it, plus a
// client certificate signed by the same CA.
struct Certificates {
    fs::path dir;
    explicit Certificates(const std::string& name) {
        dir = fs::temp_directory_path() / ("mcpsse-tls-" + name + "-" + std::to_string(::getpid()));
        fs::create_directories(dir);
        const std::string d = dir.string();
        const std::string script =
            "cd '" + d + "' && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=mcpsse-test-ca && "
            "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost && "
            "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1' > san.ext && "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
            "-extfile san.ext && "
            "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=client && "
            "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2";
        REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);
    }
    ~Certificates() {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    }
    [[nodiscard]] std::string file(const char* name) const { return (dir / name).string(); }
    mcpsse::TlsOptions options() const {
        mcpsse::TlsOptions o;
        o.certificate_chain_file = file("server.pem");
        o.private_key_file = file("server.key");
        return o;
    }
};

class HandshakeCounter final : public mcpsse::TransportObserver {
public:
    std::atomic<int> failed{0};
    void on_handshake_failed(const mcpsse::ConnectionInfo& c, std::error_code) override {
        if (c.secure) ++failed;
    }
};

using Https = mcpsse::TlsSseTransport<asio::any_io_executor>;

struct TlsServer {
    Probe probe;
    mcpsse::Dispatcher dispatcher;
    asio::io_context io;
    std::optional<Https> transport;
    std::promise<std::exception_ptr> done;
    std::thread thread;

    TlsServer(mcpsse::SseTransportOptions options, mcpsse::TlsOptions tls) {
        add_test_tools(dispatcher, probe);
        options.port = 0;
        transport.emplace(io.get_executor(), std::move(options), mcpsse::Tls{std::move(tls)});
        port = transport->local_port();
        transport->async_run(dispatcher, [this](std::exception_ptr e) { done.set_value(e); });
        thread = std::thread([this] { io.run(); });
    }
    ~TlsServer() {
        transport->stop();
        thread.join();
    }
    std::uint16_t port = 0;
};

// A blocking TLS client with a 5 s receive timeout.
struct TlsClient {
    asio::io_context io;
    asio::ssl::context context{asio::ssl::context::tls_client};
    std::optional<asio::ssl::stream<asio::ip::tcp::socket>> stream;
    std::string buffer;

    TlsClient(std::uint16_t port, const Certificates& certs, int max_version = 0, bool client_cert = false,
              bool trust_ca = true) {
        if (trust_ca) context.load_verify_file(certs.file("ca.pem"));
        context.set_verify_mode(asio::ssl::verify_peer);
        if (max_version) SSL_CTX_set_max_proto_version(context.native_handle(), max_version);
        if (client_cert) {
            context.use_certificate_chain_file(certs.file("client.pem"));
            context.use_private_key_file(certs.file("client.key"), asio::ssl::context::pem);
        }
        stream.emplace(io, context);
        static constexpr unsigned char alpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
        SSL_set_alpn_protos(stream->native_handle(), alpn, sizeof(alpn));
        SSL_set_tlsext_host_name(stream->native_handle(), "localhost");
        stream->set_verify_callback(asio::ssl::host_name_verification("localhost"));
        stream->next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
        const timeval timeout{5, 0};
        ::setsockopt(stream->next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    }

    std::error_code handshake() {
        std::error_code ec;
        stream->handshake(asio::ssl::stream_base::client, ec);
        return ec;
    }
    [[nodiscard]] std::string alpn() {
        const unsigned char* data = nullptr;
        unsigned int size = 0;
        SSL_get0_alpn_selected(stream->native_handle(), &data, &size);
        return std::string(reinterpret_cast<const char*>(data), size);
    }
    [[nodiscard]] int version() { return SSL_version(stream->native_handle()); }
    [[nodiscard]] std::string peer_serial() {
        X509* cert = SSL_get1_peer_certificate(stream->native_handle());
        if (!cert) return {};
        BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr);
        char* hex = BN_bn2hex(bn);
        std::string out = hex;
        OPENSSL_free(hex);
        BN_free(bn);
        X509_free(cert);
        return out;
    }

    void send(const std::string& method, const std::string& target, const Headers& headers, const std::string& body) {
        std::string out = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
        for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
        out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        asio::write(*stream, asio::buffer(out));
    }
    // Reads until `done(buffer)` or an error; returns everything read.
    std::string read_until(const std::function<bool(const std::string&)>& done) {
        char chunk[4096];
        while (!done(buffer)) {
            std::error_code ec;
            const std::size_t n = stream->read_some(asio::buffer(chunk), ec);
            if (ec) break;
            buffer.append(chunk, n);
        }
        return std::exchange(buffer, {});
    }
    // One response with a Content-Length body.
    std::string read_response() {
        return read_until([](const std::string& b) {
            const auto end = b.find("\r\n\r\n");
            if (end == std::string::npos) return false;
            const auto at = b.find("Content-Length: ");
            if (at == std::string::npos || at > end) return true;
            return b.size() >= end + 4 + std::stoul(b.substr(at + 16));
        });
    }
};

std::string initialize_body() { return initialize_request("2025-11-25").dump(); }

}  // namespace

TEST_CASE("tls: HTTPS requests and an SSE stream, TLS 1.3 and 1.2, ALPN http/1.1") {
    Certificates certs("basic");
    TlsServer server({}, certs.options());
    TlsClient client(server.port, certs);
    REQUIRE(!client.handshake());
    CHECK(client.alpn() == "http/1.1");
    CHECK(client.version() == TLS1_3_VERSION);
    client.send("POST", "/mcp", post_headers(), initialize_body());
    const std::string init = client.read_response();
    REQUIRE(init.rfind("HTTP/1.1 200", 0) == 0);
    const auto at = init.find("Mcp-Session-Id: ");
    REQUIRE(at != std::string::npos);
    const std::string session = init.substr(at + 16, init.find("\r\n", at) - at - 16);
    // A request whose handler streams progress: an SSE response over TLS, to its last chunk.
    client.send("POST", "/mcp", post_headers(session, "2025-11-25"),
                rpc_request(2, "slow", {{"steps", 3}, {"_meta", {{"progressToken", "p"}}}}).dump());
    const std::string stream = client.read_until([](const std::string& b) { return b.find("\r\n0\r\n\r\n") != std::string::npos; });
    CHECK(stream.find("Content-Type: text/event-stream") != std::string::npos);
    CHECK(stream.find("\"progress\":3") != std::string::npos);
    CHECK(stream.find("\"done\":3") != std::string::npos);

    TlsClient old(server.port, certs, TLS1_2_VERSION);
    REQUIRE(!old.handshake());
    CHECK(old.version() == TLS1_2_VERSION);
    old.send("POST", "/mcp", post_headers(session, "2025-11-25"), rpc_request(3, "ping").dump());
    CHECK(old.read_response().rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("tls: plain HTTP on the TLS port gets a plain 400 at once; a bad handshake is reported and costs nothing else") {
    Certificates certs("plain");
    auto counter = std::make_shared<HandshakeCounter>();
    mcpsse::SseTransportOptions options;
    options.observers.push_back(counter);
    // A client that gives up mid-handshake may leave the server waiting: the deadline
    // then ends (and reports) that handshake.
    mcpsse::TlsOptions tls = certs.options();
    tls.handshake_timeout = std::chrono::milliseconds(1000);
    TlsServer server(options, tls);
    {
        HttpClient plain(server.port);
        const auto started = std::chrono::steady_clock::now();
        const auto r = plain.request("POST", "/mcp", post_headers(), initialize_body());
        CHECK(r.status == 400);
        CHECK(r.body.find("HTTPS") != std::string::npos);
        CHECK(plain.wait_closed(2s));
        CHECK(std::chrono::steady_clock::now() - started < 2s);
    }
    CHECK(eventually([&] { return counter->failed.load() == 1; }));
    // A client that does not trust the server's certificate fails its handshake; the
    // server goes on serving others.
    {
        TlsClient untrusting(server.port, certs, 0, false, false);
        CHECK(untrusting.handshake());
    }
    CHECK(eventually([&] { return counter->failed.load() == 2; }));
    CHECK(eventually([&] { return server.transport->connection_count() == 0; }));
    TlsClient good(server.port, certs);
    REQUIRE(!good.handshake());
    good.send("POST", "/mcp", post_headers(), initialize_body());
    CHECK(good.read_response().rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("tls: reload() serves a new certificate to new connections; open ones keep theirs") {
    Certificates certs("reload");
    TlsServer server({}, certs.options());
    TlsClient before(server.port, certs);
    REQUIRE(!before.handshake());
    const std::string first = before.peer_serial();
    // Issue a new server certificate from the same CA under the same file names.
    const std::string d = certs.dir.string();
    REQUIRE(std::system(("(cd '" + d + "' && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
                         "-CAcreateserial -out server.pem -days 2 -extfile san.ext) >/dev/null 2>&1")
                            .c_str()) == 0);
    server.transport->security().reload();
    TlsClient after(server.port, certs);
    REQUIRE(!after.handshake());
    CHECK(after.peer_serial() != first);
    CHECK(!first.empty());
    // The connection opened before still works with its certificate.
    before.send("POST", "/mcp", post_headers(), initialize_body());
    CHECK(before.read_response().rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("tls: client_ca_file requires a client certificate (mutual TLS)") {
    Certificates certs("mtls");
    mcpsse::TlsOptions tls = certs.options();
    tls.client_ca_file = certs.file("ca.pem");
    TlsServer server({}, tls);
    {
        TlsClient anonymous(server.port, certs);
        bool refused = static_cast<bool>(anonymous.handshake());
        if (!refused) {
            // TLS 1.3 reports the missing certificate after the client's handshake ends.
            std::error_code ec;
            const std::string body = initialize_body();
            const std::string request = "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                        "Accept: application/json, text/event-stream\r\nContent-Length: " +
                                        std::to_string(body.size()) + "\r\n\r\n" + body;
            asio::write(*anonymous.stream, asio::buffer(request), ec);
            refused = anonymous.read_response().find("HTTP/1.1 200") == std::string::npos;
        }
        CHECK(refused);
    }
    TlsClient known(server.port, certs, 0, true);
    REQUIRE(!known.handshake());
    known.send("POST", "/mcp", post_headers(), initialize_body());
    CHECK(known.read_response().rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("tls: a key that does not match the certificate is refused at construction") {
    Certificates certs("mismatch");
    mcpsse::TlsOptions tls = certs.options();
    tls.private_key_file = certs.file("client.key");
    CHECK_THROWS_AS(mcpsse::Tls{tls}, std::system_error);
    tls.private_key_file = certs.file("missing.key");
    CHECK_THROWS_AS(mcpsse::Tls{tls}, std::system_error);
}
