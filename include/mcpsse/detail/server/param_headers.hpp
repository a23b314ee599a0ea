// mcpsse internal: the `Mcp-Param-<Name>` header check of 2026-07-28 Streamable HTTP
// (SEP-2243): a `tools/call` must mirror in headers the arguments its tool's
// `inputSchema` annotates with `x-mcp-header`.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/tool.hpp>
#include <mcpsse/detail/server/result_members.hpp>
#include <mcpsse/detail/util/base64.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace mcpsse::detail {

/// One `x-mcp-header` annotation of a tool's input schema.
struct ParamHeader {
    /// The header is `Mcp-Param-<name>`.
    std::string name;
    /// Property names from `arguments` down to the annotated value.
    std::vector<std::string> path;
};

/// Appends the `x-mcp-header` annotations found under `schema`'s `properties`, at any
/// depth up to 32, to `out`; `path` is the property path of `schema` itself (restored
/// on return). Thread-safety: the caller must own `path` and `out`.
inline void collect_param_headers(const nlohmann::json& schema, std::vector<std::string>& path,
                                  std::vector<ParamHeader>& out) {
    if (!schema.is_object() || path.size() > 32) return;
    const auto properties = schema.find("properties");
    if (properties == schema.end() || !properties->is_object()) return;
    for (auto p = properties->begin(); p != properties->end(); ++p) {
        if (!p->is_object()) continue;
        path.push_back(p.key());
        if (const auto h = p->find("x-mcp-header"); h != p->end() && h->is_string())
            out.push_back(ParamHeader{h->get<std::string>(), path});
        collect_param_headers(*p, path, out);
        path.pop_back();
    }
}

/// True when the decoded header text `header` carries `value`: strings as-is, booleans
/// as `true`/`false`, numbers numerically; other JSON types are not checked (true).
/// `header` is compared untrimmed: a value with leading or trailing whitespace arrives
/// base64-encoded precisely so that the whitespace survives. Thread-safety: a pure
/// function (uses `errno`, which is thread-local).
[[nodiscard]] inline bool header_carries(const nlohmann::json& value, std::string_view header) {
    if (value.is_string()) return header == value.get_ref<const std::string&>();
    if (value.is_boolean()) return header == (value.get<bool>() ? "true" : "false");
    if (value.is_number()) {
        const std::string text(header);
        if (text.empty()) return false;
        if (value.is_number_integer()) {
            char* end = nullptr;
            errno = 0;
            if (value.is_number_unsigned()) {
                const auto parsed = std::strtoull(text.c_str(), &end, 10);
                if (errno == 0 && *end == '\0' && text.front() != '-') return parsed == value.get<std::uint64_t>();
            } else {
                const auto parsed = std::strtoll(text.c_str(), &end, 10);
                if (errno == 0 && *end == '\0') return parsed == value.get<std::int64_t>();
            }
        }
        char* end = nullptr;
        const double parsed = std::strtod(text.c_str(), &end);
        return *end == '\0' && parsed == value.get<double>();
    }
    return true;
}

/// Checks the `Mcp-Param-*` headers of a `tools/call` of `tool` against `arguments`.
/// Only 2026-07-28 requests that came over Streamable HTTP are checked (others return at
/// once); an annotated argument that is absent or null needs no header. Errors: throws
/// `RpcError` -32020 (header_mismatch) when a needed header is missing, not decodable,
/// or carries another value. Thread-safety: reads its arguments only.
inline void check_param_headers(const Tool& tool, const nlohmann::json& arguments, const RequestContext& context) {
    if (!stateless(context) || !context.http_header("mcp-method")) return;  // not Streamable HTTP
    std::vector<ParamHeader> annotated;
    std::vector<std::string> path;
    collect_param_headers(tool.input_schema, path, annotated);
    for (const auto& param : annotated) {
        const nlohmann::json* value = &arguments;
        for (const auto& key : param.path) {
            if (!value->is_object()) {
                value = nullptr;
                break;
            }
            const auto it = value->find(key);
            if (it == value->end()) {
                value = nullptr;
                break;
            }
            value = &*it;
        }
        if (!value || value->is_null()) continue;  // nothing in the body to mirror
        const std::string header_name = "Mcp-Param-" + param.name;
        const auto raw = context.http_header(header_name);
        if (!raw) throw RpcError(error_code::header_mismatch, "Header mismatch: " + header_name + " header is required");
        // Optional whitespace around the field value is not part of it (RFC 9110).
        std::string_view field = *raw;
        while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
        while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
        const auto decoded = decode_mcp_header_value(field);
        if (!decoded || !header_carries(*value, *decoded))
            throw RpcError(error_code::header_mismatch, "Header mismatch: " + header_name + " does not match the argument");
    }
}

}  // namespace mcpsse::detail
