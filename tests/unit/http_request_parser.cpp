// Unit tests of mcpsse::detail::HttpRequestParser, HttpRequest and HttpError.
#include "support/catch.hpp"

#include "mcpsse/detail/http/error.hpp"
#include "mcpsse/detail/http/request.hpp"
#include "mcpsse/detail/http/request_parser.hpp"

#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

using namespace mcpsse::detail;
using namespace std::string_literals;

namespace {

/// Everything observable about one parse run, for comparisons.
struct Outcome {
    ParseStatus status = ParseStatus::need_more;
    std::error_code error;
    std::size_t consumed = 0;  // total bytes consumed
    bool saw_headers_complete = false;
    HttpRequest request;
};

/// Parses `input` presented all at once, continuing after headers_complete.
Outcome parse_one_shot(std::string_view input, const HttpLimits& limits = {}) {
    HttpRequestParser parser(limits);
    Outcome out;
    while (true) {
        const ParseResult r = parser.parse(input.substr(out.consumed));
        out.consumed += r.consumed;
        if (r.status == ParseStatus::headers_complete) {
            out.saw_headers_complete = true;
            continue;
        }
        out.status = r.status;
        out.error = r.error;
        out.request = parser.request();
        return out;
    }
}

/// Parses `input` arriving one byte at a time into a connection-style buffer.
Outcome parse_byte_by_byte(std::string_view input, const HttpLimits& limits = {}) {
    HttpRequestParser parser(limits);
    Outcome out;
    std::string buffer;
    for (char c : input) {
        buffer.push_back(c);
        while (true) {
            const ParseResult r = parser.parse(buffer);
            buffer.erase(0, r.consumed);
            out.consumed += r.consumed;
            if (r.status == ParseStatus::headers_complete) {
                out.saw_headers_complete = true;
                continue;
            }
            if (r.status != ParseStatus::need_more) {
                out.status = r.status;
                out.error = r.error;
                out.request = parser.request();
                return out;
            }
            break;
        }
    }
    out.request = parser.request();
    return out;
}

std::error_code ec(HttpError e) { return make_error_code(e); }

const std::string simple_get = "GET /mcp?session=a%20b HTTP/1.1\r\nHost: example.com\r\nAccept: text/event-stream\r\n\r\n";

}  // namespace

TEST_CASE("http_error: category, conversion and status mapping", "[http][error]") {
    const std::error_code code = HttpError::conflicting_framing;
    CHECK(code.category() == http_category());
    CHECK(std::string(http_category().name()) == "mcpsse.http");
    CHECK_FALSE(code.message().empty());
    CHECK(code == ec(HttpError::conflicting_framing));
    CHECK(status_for(HttpError::bad_request) == 400);
    CHECK(status_for(HttpError::invalid_target) == 400);
    CHECK(status_for(HttpError::invalid_header_field) == 400);
    CHECK(status_for(HttpError::invalid_host) == 400);
    CHECK(status_for(HttpError::conflicting_framing) == 400);
    CHECK(status_for(HttpError::invalid_content_length) == 400);
    CHECK(status_for(HttpError::invalid_transfer_encoding) == 400);
    CHECK(status_for(HttpError::invalid_chunked_encoding) == 400);
    CHECK(status_for(HttpError::chunk_extension_too_large) == 400);
    CHECK(status_for(HttpError::header_too_large) == 431);
    CHECK(status_for(HttpError::too_many_header_fields) == 431);
    CHECK(status_for(HttpError::body_too_large) == 413);
    CHECK(status_for(HttpError::uri_too_long) == 414);
    CHECK(status_for(HttpError::unsupported_transfer_coding) == 501);
    CHECK(status_for(HttpError::version_not_supported) == 505);
    CHECK(status_for(std::error_code{}) == 200);
    CHECK(status_for(ec(HttpError::uri_too_long)) == 414);
    CHECK(status_for(std::make_error_code(std::errc::io_error)) == 400);
}

TEST_CASE("parser: simple GET is complete without a body", "[http][parser]") {
    const Outcome o = parse_one_shot(simple_get);
    REQUIRE(o.status == ParseStatus::complete);
    CHECK_FALSE(o.error);
    CHECK_FALSE(o.saw_headers_complete);
    CHECK(o.consumed == simple_get.size());
    const HttpRequest& r = o.request;
    CHECK(r.method == "GET");
    CHECK(r.target == "/mcp?session=a%20b");
    CHECK(r.path() == "/mcp");
    CHECK(r.query() == "session=a%20b");
    CHECK(r.version_minor == 1);
    REQUIRE(r.fields.size() == 2);
    CHECK(r.fields[0].name == "Host");
    CHECK(r.fields[0].value == "example.com");
    CHECK(r.find("accept") == std::optional<std::string_view>("text/event-stream"));
    CHECK(r.find("ACCEPT").has_value());
    CHECK_FALSE(r.find("Content-Type").has_value());
    CHECK(r.body.empty());
    CHECK_FALSE(r.content_length.has_value());
    CHECK_FALSE(r.chunked);
    CHECK(r.head() == simple_get);
}

TEST_CASE("parser: POST with Content-Length reports headers_complete then complete", "[http][parser]") {
    const std::string head = "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n";
    const std::string input = head + R"({"jsonrpc":1})";
    HttpRequestParser parser;
    ParseResult r = parser.parse(input);
    REQUIRE(r.status == ParseStatus::headers_complete);
    CHECK(r.consumed == head.size());
    CHECK(parser.headers_parsed());
    CHECK(parser.request().content_length == std::optional<std::uint64_t>(13));
    r = parser.parse(std::string_view(input).substr(head.size(), 5));
    CHECK(r.status == ParseStatus::need_more);
    CHECK(r.consumed == 5);
    r = parser.parse(std::string_view(input).substr(head.size() + 5));
    REQUIRE(r.status == ParseStatus::complete);
    CHECK(r.consumed == 8);
    CHECK(parser.request().body == R"({"jsonrpc":1})");
    CHECK(parser.is_complete());
    // Further calls without reset keep reporting completion and consume nothing.
    r = parser.parse("GET");
    CHECK(r.status == ParseStatus::complete);
    CHECK(r.consumed == 0);
}

TEST_CASE("parser: pipelined requests stay in the buffer", "[http][parser]") {
    const std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    const std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    const std::string third = "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n";
    std::string buffer = first + second + third + "GE";
    std::vector<HttpRequest> done;
    HttpRequestParser parser;
    std::vector<std::size_t> consumed;
    std::size_t this_request = 0;
    while (true) {
        const ParseResult r = parser.parse(buffer);
        buffer.erase(0, r.consumed);
        this_request += r.consumed;
        if (r.status == ParseStatus::complete) {
            done.push_back(parser.release());
            consumed.push_back(this_request);
            this_request = 0;
            continue;
        }
        if (r.status == ParseStatus::headers_complete) {
            continue;
        }
        REQUIRE(r.status == ParseStatus::need_more);
        break;
    }
    REQUIRE(done.size() == 3);
    CHECK(consumed == std::vector<std::size_t>{first.size(), second.size(), third.size()});
    CHECK(buffer == "GE");
    CHECK(done[0].path() == "/a");
    CHECK(done[0].body == "abc");
    CHECK(done[1].path() == "/b");
    CHECK(done[1].body.empty());
    CHECK(done[2].path() == "/c");
    CHECK(done[2].body == "xy");
    CHECK(done[2].chunked);
}

TEST_CASE("parser: byte-by-byte feeding gives the same result as one shot", "[http][parser]") {
    const std::vector<std::string> inputs = {
        simple_get,
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4;name=\"va;l\"\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n",
        "\r\n\r\nGET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n",
        "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(17000, 'v') + "\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n",  // incomplete
    };
    for (const std::string& input : inputs) {
        INFO(input.substr(0, 120));
        const Outcome a = parse_one_shot(input);
        const Outcome b = parse_byte_by_byte(input);
        CHECK(a.status == b.status);
        CHECK(a.error == b.error);
        CHECK(a.saw_headers_complete == b.saw_headers_complete);
        if (a.status == ParseStatus::complete) {
            CHECK(a.consumed == b.consumed);
            CHECK(a.consumed == input.size());
        }
        CHECK(a.request.method == b.request.method);
        CHECK(a.request.target == b.request.target);
        CHECK(a.request.fields.size() == b.request.fields.size());
        CHECK(a.request.body == b.request.body);
    }
}

TEST_CASE("parser: chunked body with extensions and trailers", "[http][parser][chunked]") {
    const std::string input =
        "POST /mcp HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip-not, chunked\r\n\r\n";
    CHECK(parse_one_shot(input).error == ec(HttpError::unsupported_transfer_coding));

    const std::string ok =
        "POST /mcp HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
        "5;ext=1;quoted=\"a b\"\r\nhello\r\n"
        "001 ; spaced\r\n,\r\n"
        "6\r\n world\r\n"
        "0;last\r\nTrailer-One: 1\r\nTrailer-Two:\r\n\r\n";
    const Outcome o = parse_one_shot(ok + "NEXT");
    REQUIRE(o.status == ParseStatus::complete);
    CHECK(o.saw_headers_complete);
    CHECK(o.request.chunked);
    CHECK(o.request.body == "hello, world");
    CHECK(o.consumed == ok.size());
    CHECK_FALSE(o.request.find("Trailer-One").has_value());  // trailers are discarded

    SECTION("malformed chunk framing is rejected") {
        const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (const std::string body : {"x\r\n", "\r\n", "5\r\nhelloX\r\n", "5\r\nhello\rX", "5\nhello\r\n",
                                       "5 x\r\nhello\r\n", "5;a\nb\r\n", "0\r\nbad trailer\r\n\r\n",
                                       "0\r\n folded: x\r\n\r\n", "0\r\nName: bad\x01value\r\n\r\n",
                                       "0\r\n\rX", "00000000000000001\r\n"}) {
            INFO(body);
            CHECK(parse_one_shot(head + body).error == ec(HttpError::invalid_chunked_encoding));
        }
    }
}

TEST_CASE("parser: every error kind with its status", "[http][parser][errors]") {
    struct Case {
        std::string input;
        HttpError error;
        int status;
    };
    const std::string host = "Host: h\r\n";
    const std::vector<Case> cases = {
        {"GET / HTTP/1.1\n" + host + "\r\n", HttpError::bad_request, 400},                    // bare LF
        {"GET / HTTP/1.1\r\r\n" + host + "\r\n", HttpError::bad_request, 400},                // bare CR
        {"GET  / HTTP/1.1\r\n" + host + "\r\n", HttpError::bad_request, 400},                 // double SP
        {"G@T / HTTP/1.1\r\n" + host + "\r\n", HttpError::bad_request, 400},                  // bad token
        {"GET / http/1.1\r\n" + host + "\r\n", HttpError::bad_request, 400},                  // version case
        {"GET / HTTP/1.1 \r\n" + host + "\r\n", HttpError::bad_request, 400},                 // trailing SP
        {"GET /\r\n" + host + "\r\n", HttpError::bad_request, 400},                           // HTTP/0.9 form
        {"GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n"s, HttpError::invalid_header_field, 400},    // NUL in value
        {"GET / HTTP/1.1\r\n" + host + "X: a\x7f\r\n\r\n", HttpError::invalid_header_field, 400},
        {"GET / HTTP/1.1\r\n" + host + "Bad : v\r\n\r\n", HttpError::invalid_header_field, 400},
        {"GET / HTTP/1.1\r\n" + host + "X: a\r\n folded\r\n\r\n", HttpError::invalid_header_field, 400},
        {"GET / HTTP/1.1\r\n Host: h\r\n\r\n", HttpError::invalid_header_field, 400},
        {"GET / HTTP/1.1\r\n" + host + "B(d: v\r\n\r\n", HttpError::invalid_header_field, 400},
        {"GET / HTTP/1.1\r\n" + host + "NoColon\r\n\r\n", HttpError::invalid_header_field, 400},
        {"GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n", HttpError::invalid_header_field, 400},
        {"GET /a#frag HTTP/1.1\r\n" + host + "\r\n", HttpError::invalid_target, 400},
        {"GET * HTTP/1.1\r\n" + host + "\r\n", HttpError::invalid_target, 400},
        {"CONNECT h:443 HTTP/1.1\r\n" + host + "\r\n", HttpError::invalid_target, 400},
        {"GET ftp://h/ HTTP/1.1\r\n" + host + "\r\n", HttpError::invalid_target, 400},
        {"GET /\xC3\xA9 HTTP/1.1\r\n" + host + "\r\n", HttpError::invalid_target, 400},
        {"GET / HTTP/1.1\r\n\r\n", HttpError::invalid_host, 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HttpError::invalid_host, 400},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HttpError::invalid_host, 400},
        {"GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", HttpError::invalid_host, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
         HttpError::conflicting_framing, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", HttpError::invalid_content_length, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: +1\r\n\r\n", HttpError::invalid_content_length, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: 0x10\r\n\r\n", HttpError::invalid_content_length, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", HttpError::invalid_content_length, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: 1 2\r\n\r\n", HttpError::invalid_content_length, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: 18446744073709551616\r\n\r\n",
         HttpError::invalid_content_length, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n",
         HttpError::invalid_content_length, 400},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: 3, 4\r\n\r\n", HttpError::invalid_content_length, 400},
        {"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", HttpError::invalid_transfer_encoding, 400},
        {"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, gzip\r\n\r\n",
         HttpError::invalid_transfer_encoding, 400},
        {"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
         HttpError::invalid_transfer_encoding, 400},
        {"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding:\r\n\r\n", HttpError::invalid_transfer_encoding, 400},
        {"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked;x=1\r\n\r\n",
         HttpError::invalid_transfer_encoding, 400},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HttpError::invalid_transfer_encoding, 400},
        {"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n00000000000000000\r\n",
         HttpError::invalid_chunked_encoding, 400},
        {"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n",
         HttpError::unsupported_transfer_coding, 501},
        {"POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: identity, chunked\r\n\r\n",
         HttpError::unsupported_transfer_coding, 501},
        {"GET / HTTP/2.0\r\n" + host + "\r\n", HttpError::version_not_supported, 505},
        {"GET / HTTP/0.9\r\n" + host + "\r\n", HttpError::version_not_supported, 505},
        {"POST / HTTP/1.1\r\n" + host + "Content-Length: 4194305\r\n\r\n", HttpError::body_too_large, 413},
        {"GET /" + std::string(8192, 'x') + " HTTP/1.1\r\n" + host + "\r\n", HttpError::uri_too_long, 414},
        {"GET / HTTP/1.1\r\n" + host + "X: " + std::string(16384, 'x') + "\r\n\r\n", HttpError::header_too_large, 431},
    };
    for (const Case& c : cases) {
        INFO(c.input.substr(0, 100));
        const Outcome o = parse_one_shot(c.input);
        CHECK(o.status == ParseStatus::error);
        CHECK(o.error == ec(c.error));
        CHECK(status_for(o.error) == c.status);
    }
}

TEST_CASE("parser: error is sticky until reset", "[http][parser][errors]") {
    HttpRequestParser parser;
    ParseResult r = parser.parse("GET / HTTP/1.1\nHost: h\r\n\r\n");
    REQUIRE(r.status == ParseStatus::error);
    r = parser.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(r.status == ParseStatus::error);
    CHECK(r.consumed == 0);
    CHECK(parser.error() == ec(HttpError::bad_request));
    parser.reset();
    r = parser.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(r.status == ParseStatus::complete);
}

TEST_CASE("parser: header size limit at exactly the bound and one over", "[http][parser][limits]") {
    const std::string prefix = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
    const std::string suffix = "\r\n\r\n";
    HttpLimits limits;
    limits.max_header_bytes = 256;
    const std::string exact = prefix + std::string(256 - prefix.size() - suffix.size(), 'v') + suffix;
    REQUIRE(exact.size() == 256);
    CHECK(parse_one_shot(exact, limits).status == ParseStatus::complete);
    CHECK(parse_byte_by_byte(exact, limits).status == ParseStatus::complete);
    const std::string over = prefix + std::string(257 - prefix.size() - suffix.size(), 'v') + suffix;
    CHECK(parse_one_shot(over, limits).error == ec(HttpError::header_too_large));
    CHECK(parse_byte_by_byte(over, limits).error == ec(HttpError::header_too_large));

    SECTION("431 is reported as soon as the limit is reached without CRLFCRLF") {
        HttpRequestParser parser(limits);
        const std::string partial = prefix + std::string(256 - prefix.size() - 1, 'v');
        CHECK(parser.parse(partial).status == ParseStatus::need_more);
        CHECK(parser.parse(partial + "v").error == ec(HttpError::header_too_large));
    }
    SECTION("the trailer section has the same bound") {
        const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
        const std::string trailer_ok = "T: " + std::string(256 - 7, 't') + "\r\n\r\n";  // 256 bytes
        REQUIRE(trailer_ok.size() == 256);
        CHECK(parse_one_shot(head + trailer_ok, limits).status == ParseStatus::complete);
        const std::string trailer_over = "T: " + std::string(257 - 7, 't') + "\r\n\r\n";
        CHECK(parse_one_shot(head + trailer_over, limits).error == ec(HttpError::header_too_large));
    }
}

TEST_CASE("parser: header field count limit", "[http][parser][limits]") {
    HttpLimits limits;
    limits.max_header_fields = 5;
    auto request_with = [](int fields) {
        std::string s = "GET / HTTP/1.1\r\nHost: h\r\n";
        for (int i = 1; i < fields; ++i) {
            s += "X-" + std::to_string(i) + ": v\r\n";
        }
        return s + "\r\n";
    };
    const Outcome ok = parse_one_shot(request_with(5), limits);
    REQUIRE(ok.status == ParseStatus::complete);
    CHECK(ok.request.fields.size() == 5);
    CHECK(ok.request.fields.capacity() == 5);  // reserved once, exactly
    const Outcome over = parse_one_shot(request_with(6), limits);
    CHECK(over.error == ec(HttpError::too_many_header_fields));
    CHECK(status_for(over.error) == 431);
}

TEST_CASE("parser: body limit with Content-Length is enforced before reading the body", "[http][parser][limits]") {
    HttpLimits limits;
    limits.max_body_bytes = 10;
    const std::string exact = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789";
    const Outcome o = parse_one_shot(exact, limits);
    REQUIRE(o.status == ParseStatus::complete);
    CHECK(o.request.body == "0123456789");

    const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n";
    HttpRequestParser parser(limits);
    const ParseResult r = parser.parse(head);  // no body bytes at all yet
    CHECK(r.status == ParseStatus::error);
    CHECK(r.error == ec(HttpError::body_too_large));
    CHECK(r.consumed == head.size());
    CHECK(parser.request().expects_continue());  // the head is still available
    CHECK(parser.request().content_length == std::optional<std::uint64_t>(11));
}

TEST_CASE("parser: chunked body limit at exactly the bound and one over", "[http][parser][limits]") {
    HttpLimits limits;
    limits.max_body_bytes = 10;
    const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    const Outcome ok = parse_one_shot(head + "4\r\nabcd\r\n6\r\nefghij\r\n0\r\n\r\n", limits);
    REQUIRE(ok.status == ParseStatus::complete);
    CHECK(ok.request.body == "abcdefghij");
    // The oversized chunk-size is rejected before any of its data arrives.
    CHECK(parse_one_shot(head + "4\r\nabcd\r\n7\r\n", limits).error == ec(HttpError::body_too_large));
    CHECK(parse_byte_by_byte(head + "4\r\nabcd\r\n7\r\n", limits).error == ec(HttpError::body_too_large));
    CHECK(parse_one_shot(head + "b\r\n", limits).error == ec(HttpError::body_too_large));

    // With no practical body limit, a chunk-size beyond 64 bits is an overflow (400).
    limits.max_body_bytes = static_cast<std::size_t>(-1);
    CHECK(parse_one_shot(head + "FFFFFFFFFFFFFFFFF\r\n", limits).error == ec(HttpError::invalid_chunked_encoding));
    CHECK(parse_one_shot(head + "10000000000000000\r\n", limits).error == ec(HttpError::invalid_chunked_encoding));
}

TEST_CASE("parser: request-target length limit", "[http][parser][limits]") {
    HttpLimits limits;
    limits.max_target_bytes = 16;
    const std::string t16 = "/" + std::string(15, 'a');
    CHECK(parse_one_shot("GET " + t16 + " HTTP/1.1\r\nHost: h\r\n\r\n", limits).status == ParseStatus::complete);
    CHECK(parse_one_shot("GET " + t16 + "b HTTP/1.1\r\nHost: h\r\n\r\n", limits).error == ec(HttpError::uri_too_long));
    // Detected while the request line is still arriving.
    HttpRequestParser parser(limits);
    CHECK(parser.parse("GET " + t16).status == ParseStatus::need_more);
    CHECK(parser.parse("GET " + t16 + "b").error == ec(HttpError::uri_too_long));
}

TEST_CASE("parser: the first bad byte decides the error, however the input is split", "[http][parser][errors]") {
    HttpLimits limits;
    limits.max_target_bytes = 16;
    const std::string long_target = "/" + std::string(20, 'a');
    // Over-long target first, bare CR later on the same line: 414 (the scan stops at
    // the first bad byte); a bare CR inside the target's first 16 bytes: 400.
    const std::string target_first = "GET " + long_target + "\rX HTTP/1.1\r\nHost: h\r\n\r\n";
    const std::string cr_first = "GET /ab\rX" + std::string(20, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK(parse_one_shot(target_first, limits).error == ec(HttpError::uri_too_long));
    CHECK(parse_byte_by_byte(target_first, limits).error == ec(HttpError::uri_too_long));
    CHECK(parse_one_shot(cr_first, limits).error == ec(HttpError::bad_request));
    CHECK(parse_byte_by_byte(cr_first, limits).error == ec(HttpError::bad_request));
    // A bare CR in a field line and a CR that waits for its LF at the end of the data.
    CHECK(parse_one_shot("GET / HTTP/1.1\r\nHost: h\rx\r\n\r\n").error == ec(HttpError::bad_request));
    HttpRequestParser parser;
    CHECK(parser.parse("GET / HTTP/1.1\r\nHost: h\r").status == ParseStatus::need_more);
    CHECK(parser.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").status == ParseStatus::complete);
}

TEST_CASE("parser: chunk extension limit", "[http][parser][limits]") {
    HttpLimits limits;
    limits.max_chunk_extension_bytes = 8;
    const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    // ";a=12345" is 8 bytes: at the bound. Extension bytes add up across chunks.
    CHECK(parse_one_shot(head + "1;a=12345\r\nx\r\n0\r\n\r\n", limits).status == ParseStatus::complete);
    CHECK(parse_one_shot(head + "1;a=123456\r\nx\r\n0\r\n\r\n", limits).error ==
          ec(HttpError::chunk_extension_too_large));
    CHECK(parse_one_shot(head + "1;a=12\r\nx\r\n0;b=1\r\n\r\n", limits).error ==
          ec(HttpError::chunk_extension_too_large));
}

TEST_CASE("parser: Content-Length duplicates must agree", "[http][parser]") {
    const std::string head = "POST / HTTP/1.1\r\nHost: h\r\n";
    const Outcome same = parse_one_shot(head + "Content-Length: 2\r\ncontent-length: 02\r\n\r\nok");
    REQUIRE(same.status == ParseStatus::complete);
    CHECK(same.request.body == "ok");
    const Outcome list = parse_one_shot(head + "Content-Length: 2, 2\r\n\r\nok");
    REQUIRE(list.status == ParseStatus::complete);
    CHECK(list.request.body == "ok");
    const Outcome zero = parse_one_shot(head + "Content-Length: 0\r\n\r\n");
    CHECK(zero.status == ParseStatus::complete);
    CHECK_FALSE(zero.saw_headers_complete);
    CHECK(zero.request.content_length == std::optional<std::uint64_t>(0));
}

TEST_CASE("parser: leading empty lines, HTTP/1.0 and higher minor versions", "[http][parser]") {
    const std::string input = "\r\n\r\nGET / HTTP/1.0\r\n\r\n";
    const Outcome o = parse_one_shot(input);
    REQUIRE(o.status == ParseStatus::complete);
    CHECK(o.consumed == input.size());
    CHECK(o.request.version_minor == 0);
    CHECK(o.request.head() == "GET / HTTP/1.0\r\n\r\n");  // HTTP/1.0 needs no Host

    const Outcome v12 = parse_one_shot("GET / HTTP/1.2\r\nHost: h\r\n\r\n");
    REQUIRE(v12.status == ParseStatus::complete);
    CHECK(v12.request.version_minor == 1);
}

TEST_CASE("parser: target forms", "[http][parser]") {
    const Outcome star = parse_one_shot("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    REQUIRE(star.status == ParseStatus::complete);
    CHECK(star.request.path() == "*");

    const Outcome absolute = parse_one_shot("GET HTTP://Example.com:8080/mcp?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
    REQUIRE(absolute.status == ParseStatus::complete);
    CHECK(absolute.request.target == "HTTP://Example.com:8080/mcp?x=1");
    CHECK(absolute.request.path() == "/mcp");
    CHECK(absolute.request.query() == "x=1");

    const Outcome bare = parse_one_shot("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
    REQUIRE(bare.status == ParseStatus::complete);
    CHECK(bare.request.path() == "/");

    CHECK(parse_one_shot("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n").error == ec(HttpError::invalid_target));
    CHECK(parse_one_shot("GET http://u@h/x HTTP/1.1\r\nHost: h\r\n\r\n").error == ec(HttpError::invalid_target));
}

TEST_CASE("request: Expect 100-continue detection", "[http][request]") {
    auto expects = [](const std::string& version, const std::string& extra) {
        const Outcome o =
            parse_one_shot("POST / HTTP/" + version + "\r\nHost: h\r\n" + extra + "Content-Length: 1\r\n\r\nx");
        REQUIRE(o.status == ParseStatus::complete);
        return o.request.expects_continue();
    };
    CHECK(expects("1.1", "Expect: 100-continue\r\n"));
    CHECK(expects("1.1", "expect: 100-Continue\r\n"));
    CHECK_FALSE(expects("1.1", ""));
    CHECK_FALSE(expects("1.1", "Expect: something-else\r\n"));
    CHECK_FALSE(expects("1.0", "Expect: 100-continue\r\n"));  // must be ignored for HTTP/1.0

    HttpRequestParser parser;
    const ParseResult r = parser.parse("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    REQUIRE(r.status == ParseStatus::headers_complete);
    CHECK(parser.request().expects_continue());
}

TEST_CASE("request: keep_alive for HTTP/1.0 and HTTP/1.1", "[http][request]") {
    struct Case {
        std::string version;
        std::string connection;
        bool keep_alive;
    };
    const std::vector<Case> cases = {
        {"1.1", "", true},
        {"1.1", "Connection: close\r\n", false},
        {"1.1", "Connection: Keep-Alive, CLOSE\r\n", false},
        {"1.1", "Connection: keep-alive\r\n", true},
        {"1.1", "Connection: upgrade\r\nConnection: close\r\n", false},
        {"1.1", "Connection: closed\r\n", true},
        {"1.0", "", false},
        {"1.0", "Connection: keep-alive\r\n", true},
        {"1.0", "Connection: Keep-Alive\r\n", true},
        {"1.0", "Connection: keep-alive, close\r\n", false},
    };
    for (const Case& c : cases) {
        INFO(c.version << " " << c.connection);
        const Outcome o = parse_one_shot("GET / HTTP/" + c.version + "\r\nHost: h\r\n" + c.connection + "\r\n");
        REQUIRE(o.status == ParseStatus::complete);
        CHECK(o.request.keep_alive() == c.keep_alive);
    }
}

TEST_CASE("request: views survive the buffer, moves and copies", "[http][request]") {
    std::string buffer = "GET /p?q HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nX-Empty:   \r\n\r\n";
    HttpRequestParser parser;
    REQUIRE(parser.parse(buffer).status == ParseStatus::complete);
    buffer.assign(buffer.size(), '#');  // the connection reuses its buffer
    HttpRequest moved = parser.release();
    CHECK(moved.method == "GET");
    CHECK(moved.count("x-a") == 2);
    CHECK(moved.find("X-A") == std::optional<std::string_view>("1"));
    CHECK(moved.find("x-empty") == std::optional<std::string_view>(""));
    std::vector<std::string_view> values;
    moved.for_each("X-A", [&](std::string_view v) { values.push_back(v); });
    CHECK(values == std::vector<std::string_view>{"1", "2"});

    HttpRequest copy = moved;
    moved = HttpRequest{};  // frees the original block
    CHECK(copy.method == "GET");
    CHECK(copy.path() == "/p");
    CHECK(copy.query() == "q");
    CHECK(copy.find("host") == std::optional<std::string_view>("h"));
    CHECK(copy.head().find("X-Empty") != std::string_view::npos);
    HttpRequest assigned;
    assigned = copy;
    CHECK(assigned.target == "/p?q");
    CHECK(assigned.target.data() != copy.target.data());
}

TEST_CASE("parser: OWS is trimmed from field values", "[http][parser]") {
    const Outcome o = parse_one_shot("GET / HTTP/1.1\r\nHost:\th \t\r\nX:  a  b \r\n\r\n");
    REQUIRE(o.status == ParseStatus::complete);
    CHECK(o.request.find("Host") == std::optional<std::string_view>("h"));
    CHECK(o.request.find("X") == std::optional<std::string_view>("a  b"));
}

TEST_CASE("parser: a recycled request's storage serves the next request", "[http][parser]") {
    HttpRequestParser parser;
    // Feeds `input` whole, continuing after headers_complete.
    const auto parse_all = [&parser](std::string_view input) {
        for (;;) {
            const auto result = parser.parse(input);
            input.remove_prefix(result.consumed);
            if (result.status != ParseStatus::headers_complete) return result.status;
        }
    };
    const std::string first =
        "POST /mcp HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nX-Long: " +
        std::string(200, 'x') + "\r\nContent-Length: 5\r\n\r\nhello";
    REQUIRE(parse_all(first) == ParseStatus::complete);
    HttpRequest done = parser.release();
    CHECK(done.body == "hello");
    CHECK(done.find("x-long")->size() == 200);
    parser.recycle(std::move(done));
    CHECK(done.head().empty());  // moved from: nothing left behind
    CHECK(done.fields.empty());

    // A shorter request in the reused block, then a longer one that outgrows it.
    const std::string second = "GET /short HTTP/1.0\r\nHost: k\r\n\r\n";
    REQUIRE(parse_all(second) == ParseStatus::complete);
    HttpRequest next = parser.release();
    CHECK(next.method == "GET");
    CHECK(next.target == "/short");
    CHECK(next.version_minor == 0);
    CHECK(next.body.empty());
    CHECK_FALSE(next.content_length.has_value());
    CHECK(next.fields.size() == 1);
    CHECK(next.find("host") == std::optional<std::string_view>("k"));
    CHECK_FALSE(next.find("x-long").has_value());
    parser.recycle(std::move(next));

    const std::string third = "PUT /" + std::string(600, 'p') +
                              " HTTP/1.1\r\nHost: z\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    REQUIRE(parse_all(third) == ParseStatus::complete);
    const HttpRequest& last = parser.request();
    CHECK(last.method == "PUT");
    CHECK(last.target.size() == 601);
    CHECK(last.chunked);
    CHECK(last.body == "abc");
    CHECK(last.find("host") == std::optional<std::string_view>("z"));
}
