// mcpsse internal: RFC 6570 matching (level 1 `{var}` and reserved `{+var}`).
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpsse::detail {

namespace uri_template_detail {

/// One piece of a split URI template: a literal text, or a variable expression.
struct Segment {
    /// The literal text (`variable` false) or the variable's name without braces and
    /// without the `+` operator (`variable` true); a view into the template.
    std::string_view text;
    /// True for a `{var}` or `{+var}` expression.
    bool variable = false;
    /// True for a reserved `{+var}` expression, which may match any characters.
    bool reserved = false;
};

/// True for the characters a simple `{var}` stops at: `/`, `?` and `#`.
[[nodiscard]] constexpr bool ends_simple_variable(char c) noexcept {
    return c == '/' || c == '?' || c == '#';
}

/// Splits `uri_template` into literal and variable segments, appending them to
/// `segments`. An expression runs from `{` to the first `}` after it; its name is
/// everything in between (a leading `+` makes it reserved and is dropped; the name may
/// be empty or contain `{`). Every other character, `}` included, is literal. Returns
/// false when a `{` has no closing `}` (such a template matches no URI). Errors: throws
/// only std::bad_alloc. Thread-safety: a pure function apart from appending to
/// `segments`, which the caller must own.
[[nodiscard]] inline bool split_template(std::string_view uri_template, std::vector<Segment>& segments) {
    while (!uri_template.empty()) {
        if (uri_template.front() != '{') {
            const std::size_t open = uri_template.find('{');
            const std::size_t length = open == std::string_view::npos ? uri_template.size() : open;
            segments.push_back(Segment{uri_template.substr(0, length), false, false});
            uri_template.remove_prefix(length);
            continue;
        }
        const std::size_t close = uri_template.find('}');
        if (close == std::string_view::npos) return false;
        std::string_view name = uri_template.substr(1, close - 1);
        const bool reserved = !name.empty() && name.front() == '+';
        if (reserved) name.remove_prefix(1);
        segments.push_back(Segment{name, true, reserved});
        uri_template.remove_prefix(close + 1);
    }
    return true;
}

}  // namespace uri_template_detail

/// Matches `uri` against `uri_template` (RFC 6570 level 1 `{var}` and reserved
/// `{+var}`; every other template character must appear in `uri` as is, compared
/// byte for byte). A `{var}` matches one or more characters up to the next `/`, `?` or
/// `#`; a `{+var}` matches zero or more characters of any kind. When several splits of
/// `uri` fit, each variable, from left to right, takes the longest text that still
/// lets the rest of the template match. A `{` without a closing `}` matches nothing.
///
/// On a match, returns true and stores each variable's text in `variables` under its
/// name (other entries are kept; a name used twice gets the text of its last
/// occurrence). Without a match, returns false and leaves `variables` unchanged.
///
/// Cost: O(|uri| * (S + L)) time and (S + 1) * (|uri| + 1) bits of working memory for
/// a template of S literal and variable segments with L literal bytes in all, i.e.
/// linear in the URI length for a fixed template (no backtracking). Errors: throws
/// only std::bad_alloc. Thread-safety: a pure function apart from writing `variables`,
/// which the caller must own.
[[nodiscard]] inline bool match_uri_template(std::string_view uri_template, std::string_view uri,
                                             std::map<std::string, std::string>& variables) {
    using uri_template_detail::Segment;
    std::vector<Segment> segments;
    if (!uri_template_detail::split_template(uri_template, segments)) return false;

    const std::size_t n = uri.size();
    const std::size_t count = segments.size();
    // A simple variable starting at p may end anywhere in (p, stop], where stop is the
    // first position at or after p holding `/`, `?` or `#` (n when there is none).

    // can[k][p]: segments k.. of the template match uri[p..] exactly. Filled backwards,
    // one segment at a time, each row in O(n) from the row after it.
    std::vector<std::vector<bool>> can(count + 1, std::vector<bool>(n + 1, false));
    can[count][n] = true;
    for (std::size_t k = count; k-- > 0;) {
        const Segment& s = segments[k];
        const std::vector<bool>& next = can[k + 1];
        std::vector<bool>& row = can[k];
        if (!s.variable) {
            const std::size_t length = s.text.size();
            for (std::size_t p = 0; p + length <= n; ++p)
                row[p] = next[p + length] && uri.compare(p, length, s.text) == 0;
            continue;
        }
        // nearest: the smallest q > p with next[q] (n + 1 when none), kept while p falls.
        std::size_t nearest = n + 1;
        std::size_t stop = n;
        for (std::size_t p = n + 1; p-- > 0;) {
            if (s.reserved) {
                if (next[p]) nearest = p;
                row[p] = nearest <= n;
            } else {
                if (p < n && uri_template_detail::ends_simple_variable(uri[p])) stop = p;
                row[p] = p < n && nearest <= stop;
                if (next[p]) nearest = p;
            }
        }
    }
    if (!can[0][0]) return false;

    // Left to right: each variable takes the longest text after which the rest matches.
    std::vector<std::pair<std::string_view, std::string_view>> values;
    std::size_t p = 0;
    for (std::size_t k = 0; k < count; ++k) {
        const Segment& s = segments[k];
        if (!s.variable) {
            p += s.text.size();
            continue;
        }
        const std::vector<bool>& next = can[k + 1];
        std::size_t end = s.reserved ? n : std::min(n, uri.find_first_of("/?#", p));
        while (!next[end]) --end;  // can[k][p] guarantees an end in range
        values.emplace_back(s.text, uri.substr(p, end - p));
        p = end;
    }
    for (const auto& [name, value] : values) variables.insert_or_assign(std::string(name), std::string(value));
    return true;
}

}  // namespace mcpsse::detail
