// mcpsse internal: writes metrics in the Prometheus text exposition format 0.0.4 or in
// OpenMetrics 1.0.0, and picks one of them from a scraper's Accept header.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace mcpsse::detail::ops {

/// A metrics exposition format.
enum class ExpositionFormat {
    text,         ///< Prometheus text exposition format 0.0.4
    openmetrics,  ///< OpenMetrics 1.0.0 text format
};

/// The `Content-Type` of a scrape answered in `format`.
[[nodiscard]] constexpr std::string_view content_type(ExpositionFormat format) noexcept {
    return format == ExpositionFormat::openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                                   : "text/plain; version=0.0.4; charset=utf-8";
}

namespace exposition_detail {

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

constexpr bool iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

constexpr std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

constexpr std::string_view unquote(std::string_view s) noexcept {
    return s.size() >= 2 && s.front() == '"' && s.back() == '"' ? s.substr(1, s.size() - 2) : s;
}

// True when an RFC 9110 qvalue is greater than zero; false for zero or a malformed one.
constexpr bool positive_qvalue(std::string_view q) noexcept {
    if (q.empty() || (q[0] != '0' && q[0] != '1')) return false;
    if (q.size() > 1 && (q[1] != '.' || q.size() > 5)) return false;
    for (std::size_t i = 2; i < q.size(); ++i)
        if (q[i] < '0' || q[i] > '9') return false;
    if (q[0] == '1') return true;
    for (std::size_t i = 2; i < q.size(); ++i)
        if (q[i] != '0') return true;
    return false;
}

}  // namespace exposition_detail

/// The format to answer a scrape whose `Accept` field is `accept`: OpenMetrics when a
/// media range `application/openmetrics-text` (case-insensitive) is listed with a q
/// greater than 0 and either no `version` parameter or `version=1.0.0`; else the text
/// format 0.0.4 (also for an empty or malformed field).
[[nodiscard]] constexpr ExpositionFormat negotiate_exposition(std::string_view accept) noexcept {
    using namespace exposition_detail;
    while (!accept.empty()) {
        const std::size_t comma = accept.find(',');
        std::string_view range = accept.substr(0, comma);
        accept = comma == std::string_view::npos ? std::string_view() : accept.substr(comma + 1);
        const std::size_t semi = range.find(';');
        if (!iequal(trim(range.substr(0, semi)), "application/openmetrics-text")) continue;
        bool acceptable = true;
        std::string_view params = semi == std::string_view::npos ? std::string_view() : range.substr(semi + 1);
        while (!params.empty()) {
            const std::size_t next = params.find(';');
            const std::string_view param = params.substr(0, next);
            params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
            const std::size_t eq = param.find('=');
            if (eq == std::string_view::npos) continue;
            const std::string_view name = trim(param.substr(0, eq));
            const std::string_view value = unquote(trim(param.substr(eq + 1)));
            if (iequal(name, "q") && !positive_qvalue(value)) acceptable = false;
            if (iequal(name, "version") && value != "1.0.0") acceptable = false;
        }
        if (acceptable) return ExpositionFormat::openmetrics;
    }
    return ExpositionFormat::text;
}

/// The type of a metric family.
enum class MetricType { counter, gauge, histogram };

/// One label of a sample: its name (`[a-zA-Z_][a-zA-Z0-9_]*`) and any UTF-8 value.
struct Label {
    /// The label name.
    std::string_view name;
    /// The value, escaped by the writer.
    std::string_view value;
};

/// Writes `value` in the shortest form that reads back the same: without an exponent
/// from 1e-4 up to 1e15 ("0.0005", "60"), else with one ("5e-05", "1e+21").
inline std::to_chars_result shortest(char* buf, std::size_t size, double value) noexcept {
    const double magnitude = std::fabs(value);
    if (magnitude >= 1e-4 && magnitude < 1e15) return std::to_chars(buf, buf + size, value, std::chars_format::fixed);
    return std::to_chars(buf, buf + size, value);
}

/// Appends `value` as a sample value both formats' parsers accept: integers without an
/// exponent or a fraction ("3"), others in the shortest form that reads back the same
/// ("0.25", "1e+21"), and "+Inf", "-Inf", "NaN".
inline void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
        return;
    }
    if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buf[64];
    std::to_chars_result r{};
    if (std::trunc(value) == value && std::fabs(value) < 9007199254740992.0)  // 2^53: exact as an integer
        r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(value));
    else
        r = shortest(buf, sizeof buf, value);
    out.append(buf, r.ptr);
}

/// Appends an unsigned integer sample value.
inline void append_number(std::string& out, std::uint64_t value) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr);
}

/// Appends `value` as the OpenMetrics canonical form of a bucket bound (`le`): a float
/// with a fraction or exponent ("1.0", "0.005"), or "+Inf".
inline void append_bound(std::string& out, double value) {
    if (std::isinf(value) || std::isnan(value)) {
        append_number(out, value);
        return;
    }
    char buf[64];
    const auto r = shortest(buf, sizeof buf, value);
    const std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
    out += s;
    if (s.find_first_of(".e") == std::string_view::npos) out += ".0";
}

/// Appends `value` escaped as a label value (backslash, double quote, line feed).
inline void append_label_value(std::string& out, std::string_view value) {
    for (const char c : value) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            default: out += c;
        }
    }
}

/// Builds one exposition, family by family: `family()` writes a family's metadata, then
/// `sample()` or `histogram()` its series, `finish()` returns the text. Label sets must
/// be unique within a family (the writer does not check). Not thread-safe.
class ExpositionWriter {
public:
    /// Starts an exposition in `format`.
    explicit ExpositionWriter(ExpositionFormat format) : format_(format) {}

    /// Starts a family. `name` is the name of its samples: for a counter with the
    /// `_total` suffix (the text format names the family so; OpenMetrics names the family
    /// without it and writes `# UNIT` when the family name ends in `_seconds` or
    /// `_bytes`). `help` is one line of text (escaped as each format requires).
    void family(std::string_view name, MetricType type, std::string_view help) {
        sample_name_ = name;
        std::string_view family_name = name;
        if (format_ == ExpositionFormat::openmetrics && type == MetricType::counter && family_name.ends_with("_total"))
            family_name.remove_suffix(6);
        out_ += "# HELP ";
        out_ += family_name;
        out_ += ' ';
        for (const char c : help) {
            if (c == '\\') out_ += "\\\\";
            else if (c == '\n') out_ += "\\n";
            else if (c == '"' && format_ == ExpositionFormat::openmetrics) out_ += "\\\"";
            else out_ += c;
        }
        out_ += "\n# TYPE ";
        out_ += family_name;
        out_ += type == MetricType::counter ? " counter\n" : type == MetricType::gauge ? " gauge\n" : " histogram\n";
        if (format_ == ExpositionFormat::openmetrics) {
            for (const std::string_view unit : {std::string_view("seconds"), std::string_view("bytes")}) {
                if (family_name.size() > unit.size() && family_name.ends_with(unit) &&
                    family_name[family_name.size() - unit.size() - 1] == '_') {
                    out_ += "# UNIT ";
                    out_ += family_name;
                    out_ += ' ';
                    out_ += unit;
                    out_ += '\n';
                }
            }
        }
    }

    /// Writes one sample of the current counter or gauge family.
    void sample(std::span<const Label> labels, double value) {
        line_start({}, labels, nullptr);
        append_number(out_, value);
        out_ += '\n';
    }
    /// Writes one integer sample of the current counter or gauge family.
    void sample(std::span<const Label> labels, std::uint64_t value) {
        line_start({}, labels, nullptr);
        append_number(out_, value);
        out_ += '\n';
    }
    /// Writes one sample without labels.
    void sample(double value) { sample(std::span<const Label>(), value); }
    /// Writes one integer sample without labels.
    void sample(std::uint64_t value) { sample(std::span<const Label>(), value); }

    /// Writes one series of the current histogram family: a `_bucket` sample per bound
    /// of `bounds` (ascending, finite) with the cumulative counts `cumulative` (same
    /// size), the `+Inf` bucket (`count`), `_count` and `_sum` (in the family's unit).
    void histogram(std::span<const Label> labels, std::span<const double> bounds,
                   std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum) {
        for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
            line_start("_bucket", labels, &bounds[i]);
            append_number(out_, cumulative[i]);
            out_ += '\n';
        }
        const double inf = std::numeric_limits<double>::infinity();
        line_start("_bucket", labels, &inf);
        append_number(out_, count);
        out_ += '\n';
        line_start("_count", labels, nullptr);
        append_number(out_, count);
        out_ += '\n';
        line_start("_sum", labels, nullptr);
        append_number(out_, sum);
        out_ += '\n';
    }

    /// The exposition (OpenMetrics: ended by `# EOF`). Call once.
    [[nodiscard]] std::string finish() {
        if (format_ == ExpositionFormat::openmetrics) out_ += "# EOF\n";
        return std::move(out_);
    }

private:
    void line_start(std::string_view suffix, std::span<const Label> labels, const double* le) {
        out_ += sample_name_;
        out_ += suffix;
        if (!labels.empty() || le) {
            out_ += '{';
            bool first = true;
            for (const Label& label : labels) {
                if (!first) out_ += ',';
                first = false;
                out_ += label.name;
                out_ += "=\"";
                append_label_value(out_, label.value);
                out_ += '"';
            }
            if (le) {
                if (!first) out_ += ',';
                out_ += "le=\"";
                append_bound(out_, *le);
                out_ += '"';
            }
            out_ += '}';
        }
        out_ += ' ';
    }

    ExpositionFormat format_;
    std::string sample_name_;
    std::string out_;
};

}  // namespace mcpsse::detail::ops
