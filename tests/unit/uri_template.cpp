// Unit tests of mcpsse::detail::match_uri_template (RFC 6570 level 1 and `{+var}`),
// including its time linear in the URI length (checklist L4).
#include "support/catch.hpp"

#include "mcpsse/detail/server/uri_template.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace mcpsse::detail;

namespace {

using Variables = std::map<std::string, std::string>;

/// The backtracking matcher match_uri_template replaced, kept here as the definition
/// of the results it must give: literals match byte for byte; `{var}` takes 1+
/// characters up to the next `/`, `?` or `#`, `{+var}` 0+ of any; each variable, left
/// to right, tries the longest text first. Exponential in the worst case; for small
/// inputs only.
bool reference_match(std::string_view uri_template, std::string_view uri, Variables& variables) {
    if (uri_template.empty()) return uri.empty();
    if (uri_template.front() != '{') {
        if (uri.empty() || uri.front() != uri_template.front()) return false;
        return reference_match(uri_template.substr(1), uri.substr(1), variables);
    }
    const auto close = uri_template.find('}');
    if (close == std::string_view::npos) return false;
    std::string_view name = uri_template.substr(1, close - 1);
    const bool reserved = !name.empty() && name.front() == '+';
    if (reserved) name.remove_prefix(1);
    const auto rest = uri_template.substr(close + 1);
    std::size_t limit = 0;
    while (limit < uri.size() && (reserved || (uri[limit] != '/' && uri[limit] != '?' && uri[limit] != '#')))
        ++limit;
    for (std::size_t n = limit + 1; n-- > 0;) {
        if (n == 0 && !reserved) break;
        auto attempt = variables;
        attempt[std::string(name)] = std::string(uri.substr(0, n));
        if (reference_match(rest, uri.substr(n), attempt)) {
            variables = std::move(attempt);
            return true;
        }
    }
    return false;
}

/// The map a match starts from in the comparisons: one entry a template variable may
/// overwrite (`x`) and one no template here names.
Variables starting_variables() { return Variables{{"x", "before"}, {"keep", "me"}}; }

/// Checks match_uri_template against reference_match for one input: the same verdict
/// and, whether or not it matched, the same map afterwards.
void check_same_as_reference(const std::string& uri_template, const std::string& uri) {
    Variables expected = starting_variables();
    Variables got = starting_variables();
    const bool expected_match = reference_match(uri_template, uri, expected);
    const bool got_match = match_uri_template(uri_template, uri, got);
    if (got_match != expected_match || got != expected) {
        INFO("template '" << uri_template << "' uri '" << uri << "'");
        CHECK(got_match == expected_match);
        CHECK(got == expected);
    }
}

/// Every sequence of at most `max_length` items of `alphabet`, concatenated.
std::vector<std::string> all_sequences(const std::vector<std::string>& alphabet, std::size_t max_length) {
    std::vector<std::string> out{""};
    for (std::size_t from = 0, length = 0; length < max_length; ++length) {
        const std::size_t to = out.size();
        for (std::size_t i = from; i < to; ++i)
            for (const auto& piece : alphabet) out.push_back(out[i] + piece);
        from = to;
    }
    return out;
}

/// A 4 MiB run of `c`.
std::string four_mib_of(char c) { return std::string(std::size_t{4} << 20, c); }

}  // namespace

TEST_CASE("uri template: simple variables stop at '/', '?' and '#' and take at least one character",
          "[uri_template]") {
    Variables v;
    REQUIRE(match_uri_template("res://{id}", "res://42", v));
    CHECK(v == Variables{{"id", "42"}});
    for (const char* uri : {"res://4/2", "res://4?2", "res://4#2", "res://", "res:/", "other://42"}) {
        INFO(uri);
        Variables none;
        CHECK_FALSE(match_uri_template("res://{id}", uri, none));
        CHECK(none.empty());
    }
    v.clear();
    REQUIRE(match_uri_template("users/{user}/posts/{post}?{query}", "users/ann/posts/7?x=1", v));
    CHECK(v == Variables{{"user", "ann"}, {"post", "7"}, {"query", "x=1"}});
    v.clear();
    REQUIRE(match_uri_template("{a}{b}", "xyz", v));  // the first variable is served first
    CHECK(v == Variables{{"a", "xy"}, {"b", "z"}});
}

TEST_CASE("uri template: reserved variables take any characters, possibly none, longest first",
          "[uri_template]") {
    Variables v;
    REQUIRE(match_uri_template("file:///{+path}", "file:///a/b?c#d", v));
    CHECK(v == Variables{{"path", "a/b?c#d"}});
    v.clear();
    REQUIRE(match_uri_template("file:///{+path}", "file:///", v));
    CHECK(v == Variables{{"path", ""}});
    v.clear();
    REQUIRE(match_uri_template("file:///{+path}/x", "file:///a/x/b/x", v));
    CHECK(v == Variables{{"path", "a/x/b"}});
    v.clear();
    REQUIRE(match_uri_template("{+a}{+b}", "xyz", v));
    CHECK(v == Variables{{"a", "xyz"}, {"b", ""}});
    v.clear();
    REQUIRE(match_uri_template("res://{id}/{+rest}", "res://7/a/b", v));
    CHECK(v == Variables{{"id", "7"}, {"rest", "a/b"}});
    v.clear();
    REQUIRE(match_uri_template("{id}{+rest}", "ab/c", v));  // {id} stops at '/', {+rest} gets the remainder
    CHECK(v == Variables{{"id", "ab"}, {"rest", "/c"}});
}

TEST_CASE("uri template: literals, odd templates and the variables map", "[uri_template]") {
    Variables v;
    CHECK(match_uri_template("", "", v));
    CHECK_FALSE(match_uri_template("", "x", v));
    CHECK(match_uri_template("a}b", "a}b", v));  // a lone '}' is literal
    CHECK_FALSE(match_uri_template("Res://x", "res://x", v));  // literals are case-sensitive
    CHECK_FALSE(match_uri_template("a{b", "a{b", v));  // an unclosed '{' matches nothing
    CHECK_FALSE(match_uri_template("{+x", "", v));
    CHECK(v.empty());

    REQUIRE(match_uri_template("{}-{+}", "1-2", v));  // empty names are names too
    CHECK(v == Variables{{"", "2"}});
    v.clear();
    REQUIRE(match_uri_template("{a{b}", "q", v));  // the name runs to the first '}'
    CHECK(v == Variables{{"a{b", "q"}});
    v.clear();
    REQUIRE(match_uri_template("{n}/{n}", "1/2", v));  // a repeated name keeps its last text
    CHECK(v == Variables{{"n", "2"}});

    Variables kept{{"id", "old"}, {"other", "kept"}};
    REQUIRE(match_uri_template("res://{id}", "res://new", kept));
    CHECK(kept == Variables{{"id", "new"}, {"other", "kept"}});
    REQUIRE_FALSE(match_uri_template("res://{id}/{more}", "res://x/", kept));
    CHECK(kept == Variables{{"id", "new"}, {"other", "kept"}});  // untouched when there is no match
}

TEST_CASE("uri template: every small template and URI gives what the backtracking matcher gave",
          "[uri_template]") {
    // Templates of up to 3 pieces against every URI of up to 4 characters over an
    // alphabet with two of the characters a simple variable stops at (the random test
    // below has the third, '#').
    const std::vector<std::string> pieces{"a", "/", "?", "}", "{x}", "{+x}", "{y}", "{+y}", "{}", "{x"};
    const auto templates = all_sequences(pieces, 3);
    const auto uris = all_sequences({"a", "b", "/", "?"}, 4);
    REQUIRE(templates.size() == 1111);
    REQUIRE(uris.size() == 341);
    for (const auto& t : templates)
        for (const auto& u : uris) check_same_as_reference(t, u);
}

TEST_CASE("uri template: random longer templates and URIs give what the backtracking matcher gave",
          "[uri_template]") {
    const std::vector<std::string> pieces{"a",   "b",   "/",    "?",   "#",    "ab", "/a", "{x}",
                                          "{+x}", "{y}", "{+y}", "{z}", "{+z}", "{}", "}",  "{x"};
    const std::string uri_chars = "aab//?#";
    std::mt19937 random(20240611);  // fixed seed: the same inputs every run
    const auto pick = [&random](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
    };
    for (int round = 0; round < 50000; ++round) {
        std::string t;
        for (std::size_t i = 0, n = pick(6) + 1; i < n; ++i) t += pieces[pick(pieces.size())];
        std::string u;
        if (pick(2) == 0) {
            // Half the URIs are the template with each expression replaced by random
            // text, so that matches are common.
            for (std::size_t i = 0; i < t.size(); ++i) {
                if (t[i] != '{' || t.find('}', i) == std::string::npos) {
                    u += t[i];
                    continue;
                }
                i = t.find('}', i);
                for (std::size_t j = 0, n = pick(4); j < n; ++j) u += uri_chars[pick(uri_chars.size())];
            }
        } else {
            for (std::size_t j = 0, n = pick(13); j < n; ++j) u += uri_chars[pick(uri_chars.size())];
        }
        check_same_as_reference(t, u);
    }
}

TEST_CASE("L4: uri template: a 4 MiB URI is matched without backtracking", "[uri_template]") {
    // The backtracking matcher spent time quadratic (or cubic, for two reserved
    // variables) in the URI length on these; they must simply finish.
    const std::string as = four_mib_of('a');
    std::string slashes = four_mib_of('a');
    for (std::size_t i = 0; i < slashes.size(); i += 7) slashes[i] = '/';

    Variables v;
    CHECK_FALSE(match_uri_template("file:///{+path}/x", "file:///" + slashes, v));
    CHECK_FALSE(match_uri_template("{+a}{+b}z", as, v));
    CHECK_FALSE(match_uri_template("res://{id}/{+rest}", "res://" + as, v));
    CHECK_FALSE(match_uri_template("{a}{b}/", as, v));
    CHECK(v.empty());

    REQUIRE(match_uri_template("file:///{+path}/x", "file:///" + slashes + "/x", v));
    CHECK((v["path"] == slashes));  // parenthesized: no 4 MiB dump on failure
    v.clear();
    REQUIRE(match_uri_template("{+a}{+b}z", as + "z", v));
    CHECK((v["a"] == as));
    CHECK(v["b"].empty());
    v.clear();
    REQUIRE(match_uri_template("res://{id}/{+rest}", "res://" + as + "/" + slashes, v));
    CHECK((v["id"] == as));
    CHECK((v["rest"] == slashes));
}
