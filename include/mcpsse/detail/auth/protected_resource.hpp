// mcpsse: the protected resource metadata document (RFC 9728) and its well-known URL.
#pragma once

#include <mcpsse/authorization.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// A resource identifier split for RFC 9728 section 3.1: the metadata's path is
/// `/.well-known/oauth-protected-resource` inserted before the resource's path (a path
/// of `/` adds nothing), on the resource's own origin.
struct ProtectedResource {
    std::string metadata_path;  // e.g. /.well-known/oauth-protected-resource/mcp
    std::string metadata_url;   // e.g. https://host/.well-known/oauth-protected-resource/mcp
    std::string document;       // the JSON document served there

    /// Checks `options.resource` (an absolute http or https URL without fragment; throws
    /// `std::invalid_argument` otherwise) and builds the document: `resource` (exactly
    /// the identifier, section 3.3), `authorization_servers`, `scopes_supported` (without
    /// `offline_access`), `bearer_methods_supported: ["header"]`, then the host's members.
    static ProtectedResource make(const AuthorizationOptions& options) {
        const std::string& r = options.resource;
        std::size_t scheme_end = 0;
        if (r.starts_with("https://")) scheme_end = 8;
        else if (r.starts_with("http://")) scheme_end = 7;
        else throw std::invalid_argument("AuthorizationOptions::resource must be an absolute http(s) URL: " + r);
        if (r.find('#') != std::string::npos)
            throw std::invalid_argument("AuthorizationOptions::resource must not have a fragment: " + r);
        const std::size_t path_start = std::min(r.find_first_of("/?", scheme_end), r.size());
        if (path_start == scheme_end) throw std::invalid_argument("AuthorizationOptions::resource has no host: " + r);
        std::string path = r.substr(path_start, r.find('?', path_start) - path_start);
        if (path == "/") path.clear();
        ProtectedResource out;
        out.metadata_path = "/.well-known/oauth-protected-resource" + path;
        out.metadata_url = r.substr(0, path_start) + out.metadata_path;
        nlohmann::json doc = {{"resource", r}, {"bearer_methods_supported", {"header"}}};
        if (!options.authorization_servers.empty()) doc["authorization_servers"] = options.authorization_servers;
        nlohmann::json scopes = nlohmann::json::array();
        for (const auto& s : options.scopes_supported)
            if (s != "offline_access") scopes.push_back(s);
        if (!scopes.empty()) doc["scopes_supported"] = std::move(scopes);
        if (options.metadata.is_object())
            for (const auto& [name, value] : options.metadata.items()) doc[name] = value;
        doc["resource"] = r;  // never replaced: clients compare it with the URL they used
        out.document = doc.dump();
        return out;
    }
};

}  // namespace mcpsse::detail
