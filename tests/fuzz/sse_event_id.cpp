// libFuzzer target: parse_event_id round-trips and append_sse_event framing.
//
// Invariants: an accepted event id is exactly the canonical serialization of its
// value; any (stream, sequence) pair round-trips; an SSE event either is refused
// (and nothing is written) or serializes to LF-terminated field lines with no stray
// CR or LF inside a field, which a WHATWG event-stream parser reads back as the
// original event (data with line endings normalized to LF). Violations trap.
#include "mcpsse/detail/sse/event_id.hpp"
#include "mcpsse/detail/sse/event.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

using namespace mcpsse::detail;

namespace {

void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

/// `data` with CRLF and CR replaced by LF, as a client reassembles it.
std::string normalize(std::string_view data) {
    std::string out;
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < data.size() && data[i + 1] == '\n') {
                ++i;
            }
        } else {
            out.push_back(data[i]);
        }
    }
    return out;
}

void check_event(std::string_view event, std::string_view id, std::string_view data, std::int64_t retry_ms,
                 bool with_retry) {
    SseEvent ev{event, id, data, std::nullopt};
    if (with_retry) {
        ev.retry = std::chrono::milliseconds(retry_ms);
    }
    std::string out = "x";
    const bool ok = append_sse_event(out, ev);
    const bool should_fail = event.find_first_of("\r\n") != std::string_view::npos ||
                             id.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos ||
                             (with_retry && retry_ms < 0);
    check(ok != should_fail);
    if (!ok) {
        check(out == "x");
        return;
    }
    std::string_view body = std::string_view(out).substr(1);
    check(body.find('\r') == std::string_view::npos);
    check(body.size() >= 2 && body.substr(body.size() - 2) == "\n\n");
    // Parse it back line by line (only LF can occur).
    std::string got_data;
    std::string got_event;
    std::string got_id;
    bool has_id = false;
    std::size_t data_lines = 0;
    body.remove_suffix(1);  // the dispatching empty line
    while (!body.empty()) {
        const std::size_t eol = body.find('\n');
        check(eol != std::string_view::npos);
        const std::string_view line = body.substr(0, eol);
        body.remove_prefix(eol + 1);
        check(!line.empty());  // no empty line before the end: no early dispatch
        if (line.substr(0, 5) == "data:") {
            std::string_view v = line.substr(5);
            if (!v.empty()) {
                check(v.front() == ' ');
                v.remove_prefix(1);
            }
            got_data.append(v);
            got_data.push_back('\n');
            ++data_lines;
        } else if (line.substr(0, 7) == "event: ") {
            check(data_lines == 0);
            got_event = std::string(line.substr(7));
        } else if (line.substr(0, 4) == "id: ") {
            check(data_lines == 0);
            got_id = std::string(line.substr(4));
            has_id = true;
        } else if (line.substr(0, 7) == "retry: ") {
            check(with_retry && line.substr(7) == std::to_string(retry_ms));
        } else {
            check(false);
        }
    }
    check(data_lines >= 1);
    got_data.pop_back();
    check(got_data == normalize(data));
    check(got_event == event);
    check(got_id == id && has_id == !id.empty());

    std::string comment;
    append_sse_comment(comment, data);
    check(comment.find('\r') == std::string::npos);
    std::string_view c = comment;
    check(c.size() >= 2 && c.substr(c.size() - 2) == "\n\n");
    c.remove_suffix(1);
    while (!c.empty()) {
        const std::size_t eol = c.find('\n');
        check(c.front() == ':' && eol != std::string_view::npos);
        c.remove_prefix(eol + 1);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    // 1. Arbitrary text as a Last-Event-ID.
    if (const auto id = parse_event_id(input)) {
        check(input.size() <= max_event_id_length);
        check(to_string(*id) == input);
    }

    // 2. Any pair of 64-bit numbers round-trips.
    if (size >= 16) {
        EventId id;
        std::memcpy(&id.stream, data, 8);
        std::memcpy(&id.sequence, data + 8, 8);
        const std::string s = to_string(id);
        check(s.size() <= max_event_id_length);
        check(parse_event_id(s) == std::optional<EventId>(id));
    }

    // 3. SSE events built from pieces of the input: byte 0 and 1 choose the split
    //    points, byte 2 the retry.
    if (size >= 3) {
        const std::string_view rest = input.substr(3);
        const std::size_t a = rest.empty() ? 0 : data[0] % (rest.size() + 1);
        const std::size_t b = rest.empty() ? 0 : a + data[1] % (rest.size() - a + 1);
        const auto retry = static_cast<std::int64_t>(static_cast<std::int8_t>(data[2])) * 100;
        check_event(rest.substr(0, a), rest.substr(a, b - a), rest.substr(b), retry, (data[2] & 1) != 0);
    }
    return 0;
}
