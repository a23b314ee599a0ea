// mcpsse internal: media types, Content-Type essence and Accept negotiation (RFC 9110 §8.3, §12.5.1).
#pragma once

#include "mcpsse/detail/http/chars.hpp"

#include <cstddef>
#include <optional>
#include <string_view>

namespace mcpsse::detail {

/// One element of an `Accept` field (RFC 9110 §12.5.1), as views into the field value.
struct MediaRange {
    /// Type token or `*`, case as sent.
    std::string_view type;
    /// Subtype token or `*`, case as sent.
    std::string_view subtype;
    /// The media-type parameters before any `q` parameter, starting at their first `;`
    /// (empty when none); iterate with `for_each_media_param`.
    std::string_view params;
    /// The weight in thousandths: 0 (not acceptable) to 1000 (the default).
    int q = 1000;
};

namespace media_type_detail {

/// Splits `s` at the first top-level occurrence of `sep` (outside quoted strings).
/// Returns npos when there is none.
[[nodiscard]] constexpr std::size_t find_unquoted(std::string_view s, char sep) noexcept {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (quoted) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                quoted = false;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == sep) {
            return i;
        }
    }
    return std::string_view::npos;
}

/// True for a well-formed quoted-string (RFC 9110 §5.6.4).
[[nodiscard]] constexpr bool is_quoted_string(std::string_view s) noexcept {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') {
        return false;
    }
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        const char c = s[i];
        if (c == '\\') {
            if (++i + 1 >= s.size()) {
                return false;
            }
        } else if (c == '"' || !is_field_value_char(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

/// Compares two parameter values (token or quoted-string), unescaping quoted-pairs,
/// ASCII case-insensitively (right for `charset`; other parameters rarely differ by case).
[[nodiscard]] constexpr bool param_value_equals(std::string_view a, std::string_view b) noexcept {
    auto unquote = [](std::string_view& v) {
        if (v.size() >= 2 && v.front() == '"') {
            v = v.substr(1, v.size() - 2);
            return true;
        }
        return false;
    };
    const bool qa = unquote(a);
    const bool qb = unquote(b);
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() && j < b.size()) {
        if (qa && a[i] == '\\' && i + 1 < a.size()) {
            ++i;
        }
        if (qb && b[j] == '\\' && j + 1 < b.size()) {
            ++j;
        }
        if (to_lower_ascii(a[i]) != to_lower_ascii(b[j])) {
            return false;
        }
        ++i;
        ++j;
    }
    return i == a.size() && j == b.size();
}

/// Parses a qvalue (RFC 9110 §12.4.2) into thousandths; -1 when malformed.
[[nodiscard]] constexpr int parse_qvalue(std::string_view v) noexcept {
    if (v.empty() || v.size() > 5 || (v[0] != '0' && v[0] != '1')) {
        return -1;
    }
    int q = (v[0] - '0') * 1000;
    if (v.size() == 1) {
        return q;
    }
    if (v[1] != '.') {
        return -1;
    }
    int scale = 100;
    for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
        if (!is_digit(v[i])) {
            return -1;
        }
        q += (v[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

}  // namespace media_type_detail

/// Calls `f(name, value)` for each `;`-separated parameter in `params` (a media type's
/// text after `type/subtype`, RFC 9110 §5.6.6), OWS-trimmed; `value` is a token or a
/// quoted-string with its quotes. `f` returns false to stop. Returns false when the
/// parameters are malformed (name not a token, missing `=`, bad value) or `f` stopped.
template <class F>
constexpr bool for_each_media_param(std::string_view params, F&& f) {
    params = trim_ows(params);
    while (!params.empty()) {
        if (params.front() != ';') {
            return false;
        }
        params.remove_prefix(1);
        const std::size_t end = media_type_detail::find_unquoted(params, ';');
        const std::string_view param = trim_ows(params.substr(0, end));
        params = end == std::string_view::npos ? std::string_view{} : params.substr(end);
        if (param.empty()) {
            continue;  // tolerate "type/subtype;" and ";;"
        }
        const std::size_t eq = param.find('=');
        if (eq == std::string_view::npos) {
            return false;
        }
        const std::string_view name = param.substr(0, eq);
        const std::string_view value = param.substr(eq + 1);
        if (!is_token(name) || !(is_token(value) || media_type_detail::is_quoted_string(value))) {
            return false;
        }
        if (!f(name, value)) {
            return false;
        }
    }
    return true;
}

/// Parses one Accept element `type "/" subtype *( OWS ";" OWS parameter )` into `out`
/// (RFC 9110 §12.5.1). Parameters after `q` (accept-ext) are ignored. Returns false when
/// malformed: non-token type or subtype, `*/subtype`, bad parameter or bad qvalue.
[[nodiscard]] constexpr bool parse_media_range(std::string_view element, MediaRange& out) {
    element = trim_ows(element);
    const std::size_t semi = media_type_detail::find_unquoted(element, ';');
    const std::string_view essence_part = trim_ows(element.substr(0, semi));
    const std::size_t slash = essence_part.find('/');
    if (slash == std::string_view::npos) {
        return false;
    }
    out.type = essence_part.substr(0, slash);
    out.subtype = essence_part.substr(slash + 1);
    if (!is_token(out.type) || !is_token(out.subtype) || (out.type == "*" && out.subtype != "*")) {
        return false;
    }
    out.q = 1000;
    out.params = semi == std::string_view::npos ? std::string_view{} : element.substr(semi);
    std::size_t params_end = out.params.size();
    bool seen_q = false;
    bool bad_q = false;
    const std::string_view all = out.params;
    const bool ok = for_each_media_param(all, [&](std::string_view name, std::string_view value) {
        if (!seen_q && iequals(name, "q")) {
            seen_q = true;
            out.q = media_type_detail::parse_qvalue(value);
            bad_q = out.q < 0;
            params_end = static_cast<std::size_t>(name.data() - all.data());
            while (params_end > 0 && all[params_end - 1] != ';') {
                --params_end;
            }
            if (params_end > 0) {
                --params_end;  // drop the ';' that starts the q parameter
            }
        }
        return true;
    });
    if (!ok || bad_q) {
        return false;
    }
    out.params = trim_ows(all.substr(0, params_end));
    return true;
}

/// The `type/subtype` of a Content-Type value (RFC 9110 §8.3.1), OWS-trimmed and
/// without parameters, as a view in the original case (compare it with `iequals`);
/// empty when the value is not `token "/" token [parameters]`.
/// `essence("Application/JSON; charset=utf-8") == "Application/JSON"`.
[[nodiscard]] constexpr std::string_view essence(std::string_view content_type) noexcept {
    content_type = trim_ows(content_type);
    const std::string_view e = trim_ows(content_type.substr(0, content_type.find(';')));
    const std::size_t slash = e.find('/');
    if (slash == std::string_view::npos || !is_token(e.substr(0, slash)) || !is_token(e.substr(slash + 1))) {
        return {};
    }
    return e;
}

/// True when `content_type`'s essence equals `expected` (e.g. `application/json`),
/// ASCII case-insensitively; parameters such as `charset` are ignored. The transport
/// answers 415 when a POST body is not `application/json`.
[[nodiscard]] constexpr bool is_media_type(std::string_view content_type, std::string_view expected) noexcept {
    if (iequals(content_type, expected)) {
        return true;  // the common case: the bare type, nothing to parse
    }
    const std::string_view e = essence(content_type);
    return !e.empty() && iequals(e, expected);
}

/// The value of parameter `name` (case-insensitive) of a Content-Type, e.g. `charset`;
/// quotes of a quoted-string are removed but quoted-pairs are left escaped. Nullopt when
/// absent or when the parameters are malformed.
[[nodiscard]] constexpr std::optional<std::string_view> media_type_param(std::string_view content_type,
                                                                         std::string_view name) {
    content_type = trim_ows(content_type);
    const std::size_t semi = content_type.find(';');
    if (semi == std::string_view::npos) {
        return std::nullopt;
    }
    std::optional<std::string_view> found;
    for_each_media_param(content_type.substr(semi), [&](std::string_view n, std::string_view v) {
        if (iequals(n, name)) {
            found = v.front() == '"' ? v.substr(1, v.size() - 2) : v;
            return false;
        }
        return true;
    });
    return found;
}

namespace media_type_detail {
/// True when `accept` has no parameter, wildcard or quote, so that every range is a
/// bare `type/subtype` with q=1 (one pass; `find_first_of` would scan once per byte).
[[nodiscard]] constexpr bool plain_ranges(std::string_view accept) noexcept {
    for (const char ch : accept) {
        if (ch == ';' || ch == '*' || ch == '"') {
            return false;
        }
    }
    return true;
}

/// True when `media_type` is `token "/" token`, without parameters.
[[nodiscard]] constexpr bool plain_type(std::string_view media_type) noexcept {
    const std::size_t slash = media_type.find('/');
    return slash != std::string_view::npos && is_token(media_type.substr(0, slash)) &&
           is_token(media_type.substr(slash + 1));
}

/// Calls `f(range)` for each OWS-trimmed comma-separated range of `accept` until it
/// returns true; returns whether one did (for plain ranges, which hold no quoted comma).
template <class F>
[[nodiscard]] constexpr bool any_plain_range(std::string_view accept, F&& f) {
    while (true) {
        const std::size_t comma = accept.find(',');
        if (f(trim_ows(accept.substr(0, comma)))) {
            return true;
        }
        if (comma == std::string_view::npos) {
            return false;
        }
        accept.remove_prefix(comma + 1);
    }
}
}  // namespace media_type_detail

/// Whether an `Accept` field value admits `media_type` (RFC 9110 §12.5.1), e.g.
/// `accepts("application/json, text/event-stream", "text/event-stream")`.
///
/// Each comma-separated media range that matches (`*/*`, `type/*` or the exact type,
/// ASCII case-insensitive) is a candidate; the most specific candidate decides
/// (exact type with matching parameters > exact type > `type/*` > `*/*`), the highest
/// q among equally specific ones, and the type is acceptable when that q is above 0.
/// Range parameters are matched only when `media_type` itself has parameters (they must
/// then all be present with equal values); when it has none they are disregarded, so
/// `application/json;charset=utf-8` admits `application/json`. Malformed ranges are
/// ignored. An empty (or all-whitespace) value admits everything, like a missing field;
/// the transport answers 406 when a required type is not admitted.
[[nodiscard]] constexpr bool accepts(std::string_view accept, std::string_view media_type) {
    if (trim_ows(accept).empty()) {
        return true;
    }
    // The common case (e.g. `application/json, text/event-stream`): no parameters, no
    // wildcards, no quotes, and an offered `type/subtype` without parameters. Every range
    // then has q=1 and only an exact match counts, so one scan gives the same verdict.
    if (media_type_detail::plain_ranges(accept) && media_type_detail::plain_type(media_type)) {
        return media_type_detail::any_plain_range(accept, [&](std::string_view range) { return iequals(range, media_type); });
    }
    MediaRange offered;
    if (!parse_media_range(media_type, offered)) {
        return false;
    }
    int best_specificity = -1;
    int best_q = 0;
    while (true) {
        const std::size_t comma = media_type_detail::find_unquoted(accept, ',');
        const std::string_view element = trim_ows(accept.substr(0, comma));
        MediaRange range;
        if (!element.empty() && parse_media_range(element, range)) {
            int specificity = -1;
            if (range.type == "*") {
                specificity = 0;
            } else if (iequals(range.type, offered.type)) {
                if (range.subtype == "*") {
                    specificity = 1;
                } else if (iequals(range.subtype, offered.subtype)) {
                    specificity = 2;
                    if (!offered.params.empty() && !range.params.empty()) {
                        // Every range parameter must appear in the offered type.
                        int matched = 0;
                        const bool all = for_each_media_param(range.params, [&](std::string_view n,
                                                                                std::string_view v) {
                            bool hit = false;
                            for_each_media_param(offered.params, [&](std::string_view on, std::string_view ov) {
                                hit = iequals(n, on) && media_type_detail::param_value_equals(v, ov);
                                return !hit;
                            });
                            matched += hit ? 1 : 0;
                            return hit;
                        });
                        specificity = all ? 3 + matched : -1;
                    }
                }
            }
            if (specificity > best_specificity) {
                best_specificity = specificity;
                best_q = range.q;
            } else if (specificity == best_specificity && range.q > best_q) {
                best_q = range.q;
            }
        }
        if (comma == std::string_view::npos) {
            break;
        }
        accept.remove_prefix(comma + 1);
    }
    return best_specificity >= 0 && best_q > 0;
}

/// `accepts(accept, first) && accepts(accept, second)` (see `accepts`), with one scan of
/// `accept` when its ranges are plain and both types are `type/subtype` without
/// parameters: the check of a Streamable HTTP POST's `Accept`, which must list
/// `application/json` and `text/event-stream` (MCP transports, 2025-03-26 on).
[[nodiscard]] constexpr bool accepts_both(std::string_view accept, std::string_view first, std::string_view second) {
    if (trim_ows(accept).empty()) {
        return true;
    }
    if (!media_type_detail::plain_ranges(accept) || !media_type_detail::plain_type(first) ||
        !media_type_detail::plain_type(second)) {
        return accepts(accept, first) && accepts(accept, second);
    }
    // As in accepts' plain case: every range has q=1 and only an exact match counts.
    bool has_first = false;
    bool has_second = false;
    return media_type_detail::any_plain_range(accept, [&](std::string_view range) {
        has_first = has_first || iequals(range, first);
        has_second = has_second || iequals(range, second);
        return has_first && has_second;
    });
}

}  // namespace mcpsse::detail
