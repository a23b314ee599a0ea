// libFuzzer target: HttpRequestParser on arbitrary bytes delivered in different splits.
//
// The first input byte picks a split point and the limits; the rest is the wire data.
// The same data is parsed (1) all at once, (2) in two pieces at the split point and
// (3) one byte at a time, each time draining pipelined requests. All three must yield
// the same sequence of requests and the same final error, and every request must
// respect the limits. Any violation traps.
#include "mcpsse/detail/http/request_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace mcpsse::detail;

namespace {

void check(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

/// What one parsed request (or the final state) looked like.
struct Summary {
    ParseStatus status;
    std::error_code error;
    std::size_t consumed;  // compared only for complete requests
    std::string method, target, body;
    int version_minor;
    std::vector<std::pair<std::string, std::string>> fields;
    bool keep_alive, expects_continue, chunked;

    bool operator==(const Summary& o) const {
        return status == o.status && error == o.error &&
               (status != ParseStatus::complete || consumed == o.consumed) && method == o.method &&
               target == o.target && body == o.body && version_minor == o.version_minor && fields == o.fields &&
               keep_alive == o.keep_alive && expects_continue == o.expects_continue && chunked == o.chunked;
    }
};

Summary summarize(ParseStatus status, std::error_code error, std::size_t consumed, const HttpRequest& r) {
    Summary s{status, error, consumed, std::string(r.method), std::string(r.target), r.body, r.version_minor,
              {}, r.keep_alive(), r.expects_continue(), r.chunked};
    for (const HttpField& f : r.fields) {
        s.fields.emplace_back(f.name, f.value);
    }
    return s;
}

/// Feeds `input` in pieces of the given sizes (the rest at the end) and returns the
/// sequence of completed requests followed by the final state.
std::vector<Summary> run(std::string_view input, const std::vector<std::size_t>& pieces, const HttpLimits& limits) {
    HttpRequestParser parser(limits);
    std::vector<Summary> out;
    std::string buffer;
    std::size_t fed = 0;
    std::size_t piece = 0;
    std::size_t this_request = 0;
    std::size_t total_consumed = 0;
    while (true) {
        const std::size_t n = piece < pieces.size() ? std::min(pieces[piece], input.size() - fed) : input.size() - fed;
        ++piece;
        buffer.append(input.substr(fed, n));
        fed += n;
        while (true) {
            const ParseResult r = parser.parse(buffer);
            check(r.consumed <= buffer.size());
            buffer.erase(0, r.consumed);
            this_request += r.consumed;
            total_consumed += r.consumed;
            check(total_consumed <= fed);
            const HttpRequest& req = parser.request();
            check(req.body.size() <= limits.max_body_bytes);
            check(req.fields.size() <= limits.max_header_fields);
            check(req.head().size() <= limits.max_header_bytes);
            check(req.target.size() <= limits.max_target_bytes);
            if (r.status == ParseStatus::headers_complete) {
                check(parser.headers_parsed());
                continue;
            }
            if (r.status == ParseStatus::complete) {
                check(!r.error);
                check(!req.content_length || *req.content_length == req.body.size());
                out.push_back(summarize(r.status, r.error, this_request, req));
                this_request = 0;
                (void)parser.release();
                continue;
            }
            if (r.status == ParseStatus::error) {
                check(r.error && r.error.category() == http_category());
                const int status = status_for(r.error);
                check(status == 400 || status == 413 || status == 414 || status == 431 || status == 501 ||
                      status == 505);
                out.push_back(summarize(r.status, r.error, this_request, req));
                return out;
            }
            check(r.consumed > 0 || r.status == ParseStatus::need_more);
            break;  // need_more
        }
        if (fed == input.size()) {
            out.push_back(summarize(ParseStatus::need_more, {}, 0, parser.request()));
            return out;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::uint8_t control = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    HttpLimits limits;
    limits.max_header_bytes = (control & 0x80) != 0 ? 256 : 2048;
    limits.max_body_bytes = (control & 0x40) != 0 ? 16 : 1024;
    limits.max_header_fields = (control & 0x20) != 0 ? 3 : 32;
    limits.max_target_bytes = (control & 0x10) != 0 ? 8 : 512;
    limits.max_chunk_extension_bytes = (control & 0x08) != 0 ? 4 : 64;
    const std::size_t split = input.empty() ? 0 : (control * 2654435761u) % (input.size() + 1);

    const std::vector<Summary> whole = run(input, {input.size()}, limits);
    const std::vector<Summary> two = run(input, {split, input.size()}, limits);
    check(whole == two);
    if (input.size() <= 4096) {
        const std::vector<Summary> bytes = run(input, std::vector<std::size_t>(input.size(), 1), limits);
        check(whole == bytes);
    }
    return 0;
}
