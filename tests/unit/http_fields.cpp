// Unit tests of mcpsse::detail field helpers: media types, Origin/Host, URI query, base64,
// base64url.
#include "support/catch.hpp"

#include "mcpsse/detail/util/base64.hpp"
#include "mcpsse/detail/http/media_type.hpp"
#include "mcpsse/detail/http/origin.hpp"
#include "mcpsse/detail/http/uri.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace mcpsse::detail;

TEST_CASE("media type: Accept matching table", "[http][media_type]") {
    struct Case {
        std::string_view accept;
        std::string_view type;
        bool accepted;
    };
    const std::vector<Case> cases = {
        {"application/json, text/event-stream", "application/json", true},
        {"application/json, text/event-stream", "text/event-stream", true},
        {"application/json", "text/event-stream", false},
        {"*/*", "text/event-stream", true},
        {"text/*", "text/event-stream", true},
        {"text/*", "application/json", false},
        {"Application/JSON", "application/json", true},
        {"TEXT/*;q=0.5", "text/event-stream", true},
        {"application/json;q=0", "application/json", false},
        {"application/json;q=0.000", "application/json", false},
        {"application/json;q=0.001", "application/json", true},
        {"*/*;q=0", "application/json", false},
        {"*/*, application/json;q=0", "application/json", false},  // more specific wins
        {"*/*, application/json;q=0", "text/event-stream", true},
        {"application/*;q=0, application/json", "application/json", true},
        {"text/*;q=0, */*", "text/event-stream", false},
        {"application/json;charset=utf-8", "application/json", true},
        {"application/json;charset=\"UTF-8\"", "application/json;charset=utf-8", true},
        {"application/json;charset=latin1", "application/json;charset=utf-8", false},
        {"application/json;charset=latin1, application/*", "application/json;charset=utf-8", true},
        {"application/json ; q=1 ; ext=\"x,y\", text/html", "text/html", true},
        {"application/json;q=2", "application/json", false},      // invalid qvalue: ignored
        {"application/json;q=0.5x", "application/json", false},
        {"*/json", "application/json", false},                      // invalid range: ignored
        {"garbage, application/json", "application/json", true},
        {",, ,application/json,", "application/json", true},
        {"", "application/json", true},                             // like a missing field
        {"  ", "text/event-stream", true},
        {"text/event-stream;q=1.000", "text/event-stream", true},
        {"text/event-stream;q=1.001", "text/event-stream", false},
        // Plain lists (no parameters, wildcards or quotes) take a one-scan path: same verdicts.
        {"application/json, text/event-stream", "text/event-stream", true},
        {"application/json,text/event-stream", "application/json", true},
        {"Application/JSON , TEXT/EVENT-STREAM", "text/event-stream", true},
        {"application/json, text/html", "text/event-stream", false},
        {"application/json-seq, text/event-streams", "application/json", false},
        {"application/json", "application/json;charset=utf-8", true},  // offered parameters: full path
        {"application/json, text/event-stream", "no-slash", false},     // invalid offered type
    };
    for (const Case& c : cases) {
        INFO("Accept: " << c.accept << " / " << c.type);
        CHECK(accepts(c.accept, c.type) == c.accepted);
    }
}

TEST_CASE("media type: accepts_both is accepts of each type, for every Accept value above and more",
          "[http][media_type]") {
    const char* values[] = {
        "application/json, text/event-stream", "application/json,text/event-stream", "text/event-stream, application/json",
        "Application/JSON , TEXT/EVENT-STREAM", "application/json", "text/event-stream", "application/json, text/html",
        "application/json-seq, text/event-streams", "*/*", "text/*, application/json", "application/json;q=0, */*",
        "application/json, text/event-stream;q=0", ",, ,application/json,text/event-stream,", "", "  ", "garbage",
        "application/json, application/json", "text/event-stream, \"x\"",
    };
    const std::pair<const char*, const char*> types[] = {
        {"application/json", "text/event-stream"},
        {"text/event-stream", "application/json"},
        {"application/json;charset=utf-8", "text/event-stream"},  // offered parameters: full path
        {"no-slash", "text/event-stream"},
    };
    for (const char* accept : values) {
        for (const auto& [first, second] : types) {
            INFO("Accept: " << accept << " / " << first << " + " << second);
            CHECK(accepts_both(accept, first, second) == (accepts(accept, first) && accepts(accept, second)));
        }
    }
    CHECK(accepts_both("application/json, text/event-stream", "application/json", "text/event-stream"));
    CHECK_FALSE(accepts_both("application/json", "application/json", "text/event-stream"));
}

TEST_CASE("media type: essence and parameters of a Content-Type", "[http][media_type]") {
    CHECK(essence("Application/JSON; charset=utf-8") == "Application/JSON");
    CHECK(essence("  text/plain  ") == "text/plain");
    CHECK(essence("text").empty());
    CHECK(essence("text/").empty());
    CHECK(essence("te xt/plain").empty());
    CHECK(is_media_type("Application/JSON; charset=utf-8", "application/json"));
    CHECK(is_media_type("application/json", "application/json"));
    CHECK(is_media_type("APPLICATION/JSON", "application/json"));  // exact match without parsing
    CHECK(is_media_type(" application/json ", "application/json"));
    CHECK_FALSE(is_media_type("application/json-seq", "application/json"));
    CHECK_FALSE(is_media_type("text/json", "application/json"));
    CHECK_FALSE(is_media_type("", "application/json"));
    CHECK(media_type_param("application/json; Charset=\"utf-8\"", "charset") ==
          std::optional<std::string_view>("utf-8"));
    CHECK(media_type_param("application/json;charset=utf-8;x=y", "x") == std::optional<std::string_view>("y"));
    CHECK_FALSE(media_type_param("application/json", "charset").has_value());
    CHECK_FALSE(media_type_param("application/json; charset", "charset").has_value());
}

TEST_CASE("origin: normalization table", "[http][origin]") {
    struct Case {
        std::string_view value;
        std::string_view scheme;
        std::string_view host;
        std::uint16_t port;
    };
    const std::vector<Case> cases = {
        {"http://example.com", "http", "example.com", 80},
        {"https://example.com", "https", "example.com", 443},
        {"HTTPS://Example.COM", "https", "example.com", 443},
        {"http://localhost:8080", "http", "localhost", 8080},
        {"https://example.com:0443", "https", "example.com", 443},
        {"http://127.0.0.1:3000", "http", "127.0.0.1", 3000},
        {"http://[::1]:6274", "http", "[::1]", 6274},
        {"https://[2001:DB8::1]", "https", "[2001:db8::1]", 443},
        {"wss://x.y", "wss", "x.y", 443},
        {"chrome-extension://abcdef", "chrome-extension", "abcdef", 0},
        {" http://a.b ", "http", "a.b", 80},
    };
    for (const Case& c : cases) {
        INFO(c.value);
        const auto o = parse_origin(c.value);
        REQUIRE(o.has_value());
        CHECK_FALSE(o->opaque);
        CHECK(o->scheme == c.scheme);
        CHECK(o->host == c.host);
        CHECK(o->port == c.port);
    }
    const auto null_origin = parse_origin("null");
    REQUIRE(null_origin.has_value());
    CHECK(null_origin->opaque);

    for (std::string_view bad : {"", "example.com", "://example.com", "http://", "http://example.com/",
                                 "http://example.com/path", "http://user@example.com", "http://example.com:",
                                 "http://example.com:65536", "http://example.com:80:80", "http://exa mple.com",
                                 "http://example.com http://other.com", "http://[::1", "http://[::1]x",
                                 "http://[fe80::1%25eth0]", "1http://x", "Null", "http://ex%41mple.com"}) {
        INFO(bad);
        CHECK_FALSE(parse_origin(bad).has_value());
    }
}

TEST_CASE("origin: same_origin is exact, never a prefix match", "[http][origin]") {
    CHECK(same_origin("http://localhost", "http://localhost:80"));
    CHECK(same_origin("https://Example.com", "https://example.com:443"));
    CHECK_FALSE(same_origin("https://example.com", "http://example.com"));
    CHECK_FALSE(same_origin("http://localhost:3000", "http://localhost:3001"));
    CHECK_FALSE(same_origin("http://localhost", "http://localhost.evil.com"));
    CHECK_FALSE(same_origin("http://example.com", "http://evilexample.com"));
    CHECK_FALSE(same_origin("http://127.0.0.1", "http://127.0.0.10"));
    CHECK_FALSE(same_origin("null", "null"));
    CHECK_FALSE(same_origin("garbage", "garbage"));
    const auto a = parse_origin("HTTP://[::1]:80");
    REQUIRE(a.has_value());
    CHECK(to_string(*a) == "http://[::1]");
    CHECK(to_string(*parse_origin("https://h:8443")) == "https://h:8443");
    CHECK(to_string(*parse_origin("null")) == "null");
}

TEST_CASE("origin: Host header values", "[http][origin]") {
    auto hp = parse_host("example.com:8080");
    REQUIRE(hp.has_value());
    CHECK(hp->host == "example.com");
    CHECK(hp->port == std::optional<std::uint16_t>(8080));
    hp = parse_host("[::1]:3000");
    REQUIRE(hp.has_value());
    CHECK(hp->host == "[::1]");
    CHECK(hp->port == std::optional<std::uint16_t>(3000));
    hp = parse_host("Example.COM");
    REQUIRE(hp.has_value());
    CHECK(hp->host == "Example.COM");
    CHECK_FALSE(hp->port.has_value());
    hp = parse_host("h:");
    REQUIRE(hp.has_value());
    CHECK_FALSE(hp->port.has_value());
    hp = parse_host("");
    REQUIRE(hp.has_value());
    CHECK(hp->host.empty());
    CHECK(parse_host("ex%41mple.com").has_value());
    for (std::string_view bad : {"a b", "a:b", "a:1:2", "[::1", "[::1]:x", "h:123456", "a/b", "a@b", "[v1.x]",
                                 "ex%4mple"}) {
        INFO(bad);
        CHECK_FALSE(parse_host(bad).has_value());
    }
    CHECK_FALSE(parse_host(std::string(256, 'a')).has_value());
    CHECK(parse_host(std::string(255, 'a')).has_value());
    CHECK(default_port("HTTP") == std::optional<std::uint16_t>(80));
    CHECK(default_port("https") == std::optional<std::uint16_t>(443));
    CHECK_FALSE(default_port("ftp").has_value());
}

TEST_CASE("uri: target splitting and query parameters", "[http][uri]") {
    CHECK(split_target("/mcp").path == "/mcp");
    CHECK(split_target("/mcp").query.empty());
    CHECK(split_target("/mcp?a=1&b").path == "/mcp");
    CHECK(split_target("/mcp?a=1&b").query == "a=1&b");
    CHECK(split_target("/mcp?").query.empty());
    CHECK(split_target("/a?b?c").query == "b?c");
    CHECK(split_target("/a#frag").path == "/a");
    CHECK(split_target("*").path == "*");
    CHECK(split_target("https://h:1/x/y?z").path == "/x/y");
    CHECK(split_target("https://h:1/x/y?z").query == "z");
    CHECK(split_target("https://h?z").path == "/");
    CHECK(split_target("https://h?z").query == "z");

    CHECK(query_param("a=1&b=2", "b") == std::optional<std::string>("2"));
    CHECK(query_param("a=1&a=2", "a") == std::optional<std::string>("1"));
    CHECK(query_param("x=a%20b+c%2B", "x") == std::optional<std::string>("a b c+"));
    CHECK(query_param("sess%69on=42", "session") == std::optional<std::string>("42"));
    CHECK(query_param("flag&v=1", "flag") == std::optional<std::string>(""));
    CHECK(query_param("v=", "v") == std::optional<std::string>(""));
    CHECK(query_param("v=a=b", "v") == std::optional<std::string>("a=b"));
    CHECK(query_param("my+key=1", "my key") == std::optional<std::string>("1"));
    CHECK_FALSE(query_param("a=1", "b").has_value());
    CHECK_FALSE(query_param("", "a").has_value());
    CHECK_FALSE(query_param("A=1", "a").has_value());  // case-sensitive names
    CHECK_FALSE(query_param("a=%zz", "a").has_value());
    CHECK_FALSE(query_param("a=%2", "a").has_value());
    CHECK_FALSE(query_param("a=%", "a").has_value());
    CHECK(query_param("b%=1&a=2", "a") == std::optional<std::string>("2"));  // bad name skipped

    CHECK(percent_decode("%41%62%63") == std::optional<std::string>("Abc"));
    CHECK(percent_decode("a+b") == std::optional<std::string>("a+b"));
    CHECK(percent_decode("a+b", true) == std::optional<std::string>("a b"));
    CHECK(percent_decode("%00") == std::optional<std::string>(std::string(1, '\0')));
    CHECK_FALSE(percent_decode("%G0").has_value());
}

TEST_CASE("base64: RFC 4648 test vectors and strict rejects", "[http][base64]") {
    const std::vector<std::pair<std::string_view, std::string_view>> vectors = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        INFO(plain);
        CHECK(base64_encode(plain) == encoded);
        CHECK(base64_decode(encoded) == std::optional<std::string>(std::string(plain)));
    }
    CHECK(base64_encode("\xff\xfe\xfd") == "//79");
    for (std::string_view bad : {"Zg=", "Zg", "Z===", "====", "Zm9v Yg==", "Zm9vYg=\n", "Zm=v", "Zh==",
                                 "Zm9=", "Zm8-", "Zm8_", "=Zm8", "Zg==Zg=="}) {
        INFO(bad);
        CHECK_FALSE(base64_decode(bad).has_value());
    }
}

TEST_CASE("base64: round-trip of every byte value and length", "[http][base64]") {
    std::string bytes;
    for (int i = 0; i < 256; ++i) {
        bytes.push_back(static_cast<char>(i));
    }
    for (std::size_t n = 0; n <= bytes.size(); n += 1 + n / 8) {
        const std::string_view in = std::string_view(bytes).substr(bytes.size() - n);
        const std::string enc = base64_encode(in);
        CHECK(enc.size() == (n + 2) / 3 * 4);
        CHECK(base64_decode(enc) == std::optional<std::string>(std::string(in)));
    }
}

TEST_CASE("base64url: unpadded RFC 4648 section 5 as JOSE uses it, strict", "[base64][jose]") {
    const std::vector<std::pair<std::string_view, std::string_view>> vectors = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
    };
    for (const auto& [plain, encoded] : vectors) {
        INFO(plain);
        CHECK(base64url_encode(plain) == encoded);
        CHECK(base64url_decode(encoded) == std::optional<std::string>(std::string(plain)));
    }
    // Padding, the standard alphabet, length 1 mod 4, non-zero unused bits, whitespace.
    for (std::string_view bad : {"Zg==", "Zm8=", "+_8", "-/8", "Z", "Zm9vY", "Zh", "Zm9", "Zm9v Yg", "Zm9v\n"}) {
        INFO(bad);
        CHECK_FALSE(base64url_decode(bad).has_value());
    }
    std::string bytes;
    for (int i = 0; i < 256; ++i) {
        bytes.push_back(static_cast<char>(i));
    }
    for (std::size_t n = 0; n <= bytes.size(); n += 1 + n / 8) {
        const std::string_view in = std::string_view(bytes).substr(bytes.size() - n);
        const std::string enc = base64url_encode(in);
        CHECK(enc.find_first_of("+/=") == std::string::npos);
        CHECK(base64url_decode(enc) == std::optional<std::string>(std::string(in)));
    }
}

TEST_CASE("base64: MCP header value form", "[http][base64][mcp]") {
    CHECK(decode_mcp_header_value("tools/call") == std::optional<std::string>("tools/call"));
    CHECK(decode_mcp_header_value("") == std::optional<std::string>(""));
    CHECK(decode_mcp_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=") ==
          std::optional<std::string>("Hello, \xE4\xB8\x96\xE7\x95\x8C"));
    CHECK(decode_mcp_header_value("=?base64?" "?=") == std::optional<std::string>(""));
    // The spec's own example: an ASCII value that looks like the sentinel, itself encoded.
    CHECK(decode_mcp_header_value("=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=") ==
          std::optional<std::string>("=?base64?literal?="));
    CHECK_FALSE(decode_mcp_header_value("=?base64?not base64?=").has_value());
    CHECK_FALSE(decode_mcp_header_value("=?base64?/w==?=").has_value());  // 0xFF: not UTF-8
    CHECK_FALSE(decode_mcp_header_value("caf\xC3\xA9").has_value());       // raw non-ASCII
    CHECK_FALSE(decode_mcp_header_value("a\tb").has_value());
    CHECK(decode_mcp_header_value("=?BASE64?Zm9v?=") == std::optional<std::string>("=?BASE64?Zm9v?="));  // markers are case-sensitive

    for (std::string_view v : {"plain", "caf\xC3\xA9", " lead", "trail ", "=?base64?x?=", "a\r\nb", ""}) {
        INFO(v);
        const std::string enc = encode_mcp_header_value(v);
        CHECK(decode_mcp_header_value(enc) == std::optional<std::string>(std::string(v)));
    }
    CHECK(encode_mcp_header_value("plain") == "plain");
    CHECK(encode_mcp_header_value("caf\xC3\xA9") == "=?base64?Y2Fmw6k=?=");
    CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));
    CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
}
