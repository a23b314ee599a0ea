// Unit tests of mcpsse::detail SSE event serialization and resumable event ids.
#include "support/catch.hpp"

#include "mcpsse/detail/sse/event_id.hpp"
#include "mcpsse/detail/sse/event.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace mcpsse::detail;
using namespace std::chrono_literals;

namespace {

/// A dispatched event as a WHATWG event-stream parser sees it.
struct Parsed {
    std::string type = "message";
    std::string data;
    std::string last_event_id;
    std::optional<long long> retry;
};

/// Minimal event-stream interpreter following the WHATWG HTML parsing rules, used
/// to check that what the serializer writes is read back as intended.
std::vector<Parsed> parse_stream(std::string_view stream) {
    std::vector<Parsed> events;
    Parsed cur;
    std::string data;
    std::string last_id;
    bool has_data = false;
    std::optional<long long> retry;
    while (!stream.empty()) {
        const std::size_t eol = stream.find_first_of("\r\n");
        REQUIRE(eol != std::string_view::npos);  // the serializer always ends lines
        const std::string_view line = stream.substr(0, eol);
        const std::size_t skip = (stream[eol] == '\r' && eol + 1 < stream.size() && stream[eol + 1] == '\n') ? 2 : 1;
        stream.remove_prefix(eol + skip);
        if (line.empty()) {
            if (has_data) {
                if (!data.empty() && data.back() == '\n') {
                    data.pop_back();
                }
                cur.data = data;
                cur.last_event_id = last_id;
                cur.retry = retry;
                events.push_back(cur);
            }
            cur = Parsed{};
            data.clear();
            has_data = false;
            retry.reset();
            continue;
        }
        if (line.front() == ':') {
            continue;
        }
        const std::size_t colon = line.find(':');
        const std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
        if (field == "data") {
            data += value;
            data += '\n';
            has_data = true;
        } else if (field == "event") {
            cur.type = std::string(value);
        } else if (field == "id") {
            last_id = std::string(value);
        } else if (field == "retry") {
            retry = std::stoll(std::string(value));
        }
    }
    return events;
}

}  // namespace

TEST_CASE("sse: a full event", "[sse]") {
    std::string out = "before\n";
    REQUIRE(append_sse_event(out, {"message", "7-3", R"({"jsonrpc":"2.0"})", 1500ms}));
    CHECK(out == "before\nevent: message\nid: 7-3\nretry: 1500\ndata: {\"jsonrpc\":\"2.0\"}\n\n");
    const auto parsed = parse_stream(std::string_view(out).substr(7));
    REQUIRE(parsed.size() == 1);
    CHECK(parsed[0].data == R"({"jsonrpc":"2.0"})");
    CHECK(parsed[0].last_event_id == "7-3");
    CHECK(parsed[0].retry == std::optional<long long>(1500));
}

TEST_CASE("sse: multi-line data with CRLF, LF and CR line endings", "[sse]") {
    std::string out;
    REQUIRE(append_sse_event(out, {"", "", "one\r\ntwo\nthree\rfour", std::nullopt}));
    CHECK(out == "data: one\ndata: two\ndata: three\ndata: four\n\n");

    out.clear();
    REQUIRE(append_sse_event(out, {"", "", "\n\r\n\rx\r\r\n", std::nullopt}));
    CHECK(out == "data:\ndata:\ndata:\ndata: x\ndata:\ndata:\n\n");
    const auto parsed = parse_stream(out);
    REQUIRE(parsed.size() == 1);
    CHECK(parsed[0].data == "\n\n\nx\n\n");

    out.clear();
    REQUIRE(append_sse_event(out, {"", "", " leading space\nend\n", std::nullopt}));
    const auto p2 = parse_stream(out);
    REQUIRE(p2.size() == 1);
    CHECK(p2[0].data == " leading space\nend\n");
}

TEST_CASE("sse: every short mix of CR, LF and text reads back as the data with LF breaks", "[sse]") {
    // All strings of up to 7 bytes over {a, CR, LF}: each CRLF, CR or LF is one line
    // break, so a reader sees the data with each of them replaced by LF.
    std::vector<std::string> texts{""};
    for (std::size_t from = 0, length = 0; length < 7; ++length) {
        const std::size_t to = texts.size();
        for (std::size_t i = from; i < to; ++i)
            for (const char c : {'a', '\r', '\n'}) texts.push_back(texts[i] + c);
        from = to;
    }
    REQUIRE(texts.size() == 3280);
    for (const std::string& text : texts) {
        std::string expected;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;  // CRLF: its LF counts
            expected += text[i] == '\r' ? '\n' : text[i];
        }
        std::string out;
        REQUIRE(append_sse_event(out, {"", "1", text, std::nullopt}));
        const auto parsed = parse_stream(out);
        REQUIRE(parsed.size() == 1);
        CHECK(parsed[0].data == expected);
        std::string comment;
        append_sse_comment(comment, text);
        CHECK(parse_stream(comment).empty());
        CHECK(std::count(comment.begin(), comment.end(), '\n') ==
              static_cast<std::ptrdiff_t>(std::count(expected.begin(), expected.end(), '\n') + 2));
    }
}

TEST_CASE("sse: empty data still dispatches a priming event", "[sse]") {
    std::string out;
    REQUIRE(append_sse_event(out, {"", "12-0", "", std::nullopt}));
    CHECK(out == "id: 12-0\ndata:\n\n");
    const auto parsed = parse_stream(out);
    REQUIRE(parsed.size() == 1);
    CHECK(parsed[0].data.empty());
    CHECK(parsed[0].last_event_id == "12-0");
    CHECK(parsed[0].type == "message");
}

TEST_CASE("sse: invalid fields are refused and nothing is written", "[sse]") {
    std::string out = "keep";
    CHECK_FALSE(append_sse_event(out, {"", "1\n2", "x", std::nullopt}));
    CHECK_FALSE(append_sse_event(out, {"", "1\r2", "x", std::nullopt}));
    CHECK_FALSE(append_sse_event(out, {"", std::string_view("1\0" "2", 3), "x", std::nullopt}));
    CHECK_FALSE(append_sse_event(out, {"a\nb", "", "x", std::nullopt}));
    CHECK_FALSE(append_sse_event(out, {"a\rb", "", "x", std::nullopt}));
    CHECK_FALSE(append_sse_event(out, {"", "", "x", -1ms}));
    CHECK(out == "keep");
    CHECK(append_sse_event(out, {"", "", "x", 0ms}));
    CHECK(out == "keepretry: 0\ndata: x\n\n");
}

TEST_CASE("sse: comments", "[sse]") {
    std::string out;
    append_sse_comment(out, "keep-alive");
    CHECK(out == ": keep-alive\n\n");
    out.clear();
    append_sse_comment(out, "a\r\nb\rc\n");
    CHECK(out == ": a\n: b\n: c\n:\n\n");
    CHECK(parse_stream(out).empty());
    out.clear();
    append_sse_comment(out, "");
    CHECK(out == ":\n\n");
}

TEST_CASE("event id: round-trip", "[sse][event_id]") {
    const std::vector<EventId> ids = {
        {0, 0}, {1, 2}, {42, 18446744073709551615ull}, {18446744073709551615ull, 0},
        {18446744073709551615ull, 18446744073709551615ull}, {1000000, 999999},
    };
    for (const EventId& id : ids) {
        const std::string s = to_string(id);
        INFO(s);
        CHECK(s.size() <= max_event_id_length);
        CHECK(parse_event_id(s) == std::optional<EventId>(id));
        std::string appended = "x";
        append_to(appended, id);
        CHECK(appended == "x" + s);
    }
    CHECK(to_string(EventId{7, 3}) == "7-3");
    CHECK(to_string(EventId{18446744073709551615ull, 18446744073709551615ull}) ==
          "18446744073709551615-18446744073709551615");
}

TEST_CASE("event id: strict rejects", "[sse][event_id]") {
    for (std::string_view bad : {"", "-", "1-", "-1", "1", "1-2-3", "+1-2", "1-+2", "-1-2", " 1-2", "1-2 ",
                                 "1 -2", "01-2", "1-02", "00-0", "a-1", "1-0x1", "18446744073709551616-0",
                                 "0-18446744073709551616", "99999999999999999999-0", "1-2\n",
                                 "000000000000000000001-1", "1-1234567890123456789012"}) {
        INFO(bad);
        CHECK_FALSE(parse_event_id(bad).has_value());
    }
    CHECK_FALSE(parse_event_id(std::string_view("1\0-2", 4)).has_value());
    CHECK_FALSE(parse_event_id(std::string_view("1-2\0", 4)).has_value());
    CHECK(parse_event_id("18446744073709551615-18446744073709551615") ==
          std::optional<EventId>(EventId{18446744073709551615ull, 18446744073709551615ull}));
}
