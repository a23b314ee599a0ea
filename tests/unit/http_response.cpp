// Unit tests of mcpsse::detail response-head building and chunked framing.
#include "support/catch.hpp"

#include "mcpsse/detail/http/request_parser.hpp"
#include "mcpsse/detail/http/response.hpp"

#include <string>
#include <string_view>
#include <vector>

using namespace mcpsse::detail;

TEST_CASE("response: reason phrases of the statuses the transport uses", "[http][response]") {
    const std::vector<std::pair<int, std::string_view>> table = {
        {100, "Continue"}, {200, "OK"}, {202, "Accepted"}, {204, "No Content"},
        {400, "Bad Request"}, {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
        {406, "Not Acceptable"}, {409, "Conflict"}, {413, "Content Too Large"}, {414, "URI Too Long"},
        {415, "Unsupported Media Type"}, {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"}, {501, "Not Implemented"}, {503, "Service Unavailable"},
        {505, "HTTP Version Not Supported"},
    };
    for (const auto& [status, phrase] : table) {
        INFO(status);
        CHECK(reason_phrase(status) == phrase);
    }
    CHECK(reason_phrase(299).empty());
}

TEST_CASE("response: status line", "[http][response]") {
    std::string out = "prefix|";
    append_status_line(out, 202);
    CHECK(out == "prefix|HTTP/1.1 202 Accepted\r\n");
    out.clear();
    append_status_line(out, 404, 0);
    CHECK(out == "HTTP/1.0 404 Not Found\r\n");
    out.clear();
    append_status_line(out, 299);
    CHECK(out == "HTTP/1.1 299 \r\n");
    out.clear();
    append_status_line(out, 42);  // not a status code: clamped
    CHECK(out == "HTTP/1.1 500 Internal Server Error\r\n");
}

TEST_CASE("response: headers reject response splitting", "[http][response]") {
    std::string out;
    CHECK(append_header(out, "Content-Type", "text/event-stream"));
    CHECK(append_header(out, "X-Trim", "  v \t"));
    CHECK(out == "Content-Type: text/event-stream\r\nX-Trim: v\r\n");
    const std::string before = out;
    CHECK_FALSE(append_header(out, "X", "a\r\nSet-Cookie: evil"));
    CHECK_FALSE(append_header(out, "X", "a\nb"));
    CHECK_FALSE(append_header(out, "X", std::string_view("a\0b", 3)));
    CHECK_FALSE(append_header(out, "Bad Name", "v"));
    CHECK_FALSE(append_header(out, "", "v"));
    CHECK_FALSE(append_header(out, "X:", "v"));
    CHECK(out == before);
    append_content_length(out, 18446744073709551615ull);
    CHECK(out == before + "Content-Length: 18446744073709551615\r\n");
    end_head(out);
    CHECK(out.substr(out.size() - 4) == "\r\n\r\n");
}

TEST_CASE("response: chunked framing", "[http][response][chunked]") {
    std::string out;
    append_chunk(out, "hello");
    CHECK(out == "5\r\nhello\r\n");
    append_chunk(out, "");  // would be the last-chunk: nothing is written
    CHECK(out == "5\r\nhello\r\n");
    out.clear();
    append_chunk(out, std::string(0x1ab, 'x'));
    CHECK(out.substr(0, 5) == "1ab\r\n");
    CHECK(out.size() == 5 + 0x1ab + 2);
    out.clear();
    append_chunk_header(out, 4096);
    CHECK(out == "1000\r\n");
    append_chunk_header(out, 0);
    CHECK(out == "1000\r\n");
    out.clear();
    append_last_chunk(out);
    CHECK(out == "0\r\n\r\n");
    CHECK(last_chunk == "0\r\n\r\n");
    CHECK(continue_response == "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST_CASE("response: chunks written by append_chunk parse back with the request parser", "[http][response][chunked]") {
    std::string wire = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string expected;
    for (std::size_t n : {1u, 15u, 16u, 255u, 256u, 4097u}) {
        const std::string part(n, static_cast<char>('a' + n % 26));
        append_chunk(wire, part);
        expected += part;
    }
    append_last_chunk(wire);
    HttpRequestParser parser;
    REQUIRE(parser.parse(wire).status == ParseStatus::headers_complete);
    const std::size_t head = wire.find("\r\n\r\n") + 4;
    const ParseResult r = parser.parse(std::string_view(wire).substr(head));
    REQUIRE(r.status == ParseStatus::complete);
    CHECK(r.consumed == wire.size() - head);
    CHECK(parser.request().body == expected);
}

TEST_CASE("response: simple complete responses", "[http][response]") {
    std::string out;
    append_simple_response(out, 413, "text/plain; charset=utf-8", "too large", true);
    CHECK(out ==
          "HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
          "Content-Length: 9\r\nConnection: close\r\n\r\ntoo large");
    out.clear();
    append_simple_response(out, 204, "text/plain", "ignored", false);
    CHECK(out == "HTTP/1.1 204 No Content\r\n\r\n");
    out.clear();
    append_simple_response(out, 202, "", "", false);
    CHECK(out == "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
}
