// libFuzzer target: Origin and Host header values (include/mcpsse/detail/http/origin.hpp),
// checklist L4.
//
// The input is split at LF into up to 8 values (the whole input, LFs included, is a
// value too); every function of origin.hpp runs on each value and each neighbouring
// pair. Invariants: nothing throws or reads out of bounds; every result is the same
// when computed twice; an accepted Origin is normalized (lowercase scheme and host,
// the scheme's default port when none was given), survives surrounding OWS and a
// change of letter case, and its serialization parses back to the same origin (and
// is the same text exactly when two origins are the same); `same_origin` is symmetric,
// reflexive on tuple origins, never true for `null`, and agrees on text and parsed
// values; an accepted Host is a view into the value, bounded, splits as the helpers
// say, and rebuilt as `host[:port]` parses back to the same host and port; an origin's
// host and port form a valid Host. Violations trap.
#include <mcpsse/detail/http/origin.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace mcpsse::detail;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

/// Equal parse results: both absent, or both present with equal fields.
bool same_result(const std::optional<Origin>& a, const std::optional<Origin>& b) {
    if (!a || !b) return !a && !b;
    return a->opaque == b->opaque && a->scheme == b->scheme && a->host == b->host && a->port == b->port;
}

/// Equal Host results: both absent, or both present with the same host text and port.
bool same_result(const std::optional<HostPort>& a, const std::optional<HostPort>& b) {
    if (!a || !b) return !a && !b;
    return a->host == b->host && a->port == b->port;
}

/// `s` with every ASCII letter mapped by `upper` (true: to upper case, false: to lower).
std::string with_case(std::string_view s, bool upper) {
    std::string out(s);
    for (char& c : out) {
        if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (!upper) c = to_lower_ascii(c);
    }
    return out;
}

/// True when no ASCII upper-case letter occurs in `s`.
bool is_lower(std::string_view s) {
    for (char c : s)
        if (c >= 'A' && c <= 'Z') return false;
    return true;
}

/// The decimal value of an all-digit `s` (at most 19 digits), for checking parse_port.
std::uint64_t decimal(std::string_view s) {
    std::uint64_t v = 0;
    for (char c : s) v = v * 10 + static_cast<std::uint64_t>(c - '0');
    return v;
}

/// The origin_detail helpers on one value.
void check_helpers(std::string_view value) {
    const auto port = origin_detail::parse_port(value);
    check(port == origin_detail::parse_port(value));
    bool digits = !value.empty() && value.size() <= 5;
    for (char c : value) digits = digits && is_digit(c);
    check(port.has_value() == (digits && decimal(value) <= 65535));
    if (port) check(*port == decimal(value));

    // An IP literal or a reg-name short enough is a Host value with no port.
    const bool ip_literal = origin_detail::is_ip_literal(value);
    if (ip_literal) {
        check(value.size() >= 4 && value.front() == '[' && value.back() == ']');
        check(value.find(':') != std::string_view::npos);
    }
    if ((ip_literal || origin_detail::is_reg_name(value)) && value.size() <= max_host_length) {
        const auto host = parse_host(value);
        check(host.has_value() && host->host == value && !host->port);
    }

    std::string_view host;
    std::string_view port_text;
    bool has_colon = false;
    if (origin_detail::split_host_port(value, host, port_text, has_colon)) {
        check(value.substr(0, host.size()) == host && host.data() == value.data());
        if (has_colon) {
            check(value.size() == host.size() + 1 + port_text.size() && value[host.size()] == ':');
            check(port_text.data() == value.data() + host.size() + 1);
        } else {
            check(host.size() == value.size() && port_text.empty());
        }
    } else {
        check(!value.empty() && value.front() == '[');
    }

    check(default_port(value) == default_port(with_case(value, false)));
    check(default_port(value) == default_port(with_case(value, true)));
}

/// parse_origin, to_string / append_origin and same_origin on one value.
void check_origin(std::string_view value) {
    const auto origin = parse_origin(value);
    check(same_result(origin, parse_origin(value)));
    check(same_result(origin, parse_origin(" \t" + std::string(value) + "\t ")));
    if (!origin) {
        check(!same_origin(value, value));
        return;
    }
    const std::string text = to_string(*origin);
    std::string appended = "prefix";
    append_origin(appended, *origin);
    check(appended == "prefix" + text);
    check(same_origin(value, value) == !origin->opaque);
    check(!same_origin(*origin, *origin) == origin->opaque);
    if (origin->opaque) {
        check(trim_ows(value) == "null" && text == "null");
        check(origin->scheme.empty() && origin->host.empty() && origin->port == 0);
        check(same_result(parse_origin(text), origin));
        return;
    }

    check(!origin->scheme.empty() && is_lower(origin->scheme));
    check(!origin->host.empty() && origin->host.size() <= max_host_length && is_lower(origin->host));
    check(origin->host.front() != '[' || origin_detail::is_ip_literal(origin->host));
    // No port in the text means the default port (0 when the scheme has none).
    const std::string_view authority = trim_ows(value).substr(trim_ows(value).find("://") + 3);
    if (authority.find(':', authority.find(']') == std::string_view::npos ? 0 : authority.find(']')) ==
        std::string_view::npos)
        check(origin->port == default_port(origin->scheme).value_or(0));

    // Letter case does not matter for a tuple origin.
    check(same_result(parse_origin(with_case(value, true)), origin));
    check(same_result(parse_origin(with_case(value, false)), origin));

    // The serialization parses back to the same origin (an explicit port 0 included:
    // `http://a:0` must not come back as port 80).
    const auto again = parse_origin(text);
    check(again.has_value());
    check(same_result(again, origin));
    check(same_origin(*again, *origin));
    check(to_string(*again) == text);

    // Its host and port are a valid Host value.
    const std::string host_value = origin->host + ":" + std::to_string(origin->port);
    const auto host = parse_host(host_value);
    check(host.has_value() && host->host == origin->host && host->port == origin->port);
}

/// parse_host on one value.
void check_host(std::string_view value) {
    const auto host = parse_host(value);
    check(same_result(host, parse_host(value)));
    const std::string padded = "\t " + std::string(value) + " \t";
    check(same_result(host, parse_host(padded)));
    if (!host) return;
    check(host->host.data() >= value.data() && host->host.data() + host->host.size() <= value.data() + value.size());
    check(host->host.size() <= max_host_length);
    if (!host->host.empty() && host->host.front() == '[')
        check(origin_detail::is_ip_literal(host->host));
    else
        check(origin_detail::is_reg_name(host->host));
    std::string rebuilt(host->host);
    if (host->port) rebuilt += ":" + std::to_string(*host->port);
    check(same_result(parse_host(rebuilt), host));
}

/// The functions of two values together.
void check_pair(std::string_view a, std::string_view b) {
    const auto oa = parse_origin(a);
    const auto ob = parse_origin(b);
    const bool same = same_origin(a, b);
    check(same == same_origin(b, a));
    check(same == (oa && ob && same_origin(*oa, *ob)));
    if (!oa || !ob || oa->opaque || ob->opaque) {
        check(!same);
        return;
    }
    check(same == same_result(oa, ob));
    // Distinct origins serialize differently.
    check(same == (to_string(*oa) == to_string(*ob)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> values{input};
    for (std::string_view rest = input; values.size() < 9;) {
        const std::size_t eol = rest.find('\n');
        values.push_back(rest.substr(0, eol));
        if (eol == std::string_view::npos) break;
        rest.remove_prefix(eol + 1);
    }
    for (const auto value : values) {
        check_helpers(value);
        check_origin(value);
        check_host(value);
    }
    for (std::size_t i = 1; i < values.size(); ++i) check_pair(values[i - 1], values[i]);
    return 0;
}
