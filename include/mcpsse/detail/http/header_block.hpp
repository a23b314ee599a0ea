// mcpsse: a compact copy of a request's header section that outlives the request.
#pragma once

#include <mcpsse/detail/http/chars.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mcpsse {
struct Principal;
}  // namespace mcpsse

namespace mcpsse::detail {

/// The header section of a request (request line and field lines, as received and
/// already validated by `HttpRequestParser`), copied in one allocation so that a
/// handler may look its fields up after the request itself was recycled. Lookups scan
/// the block (handlers read a few fields at most). Thread-safety: a plain value.
class HeaderBlock {
public:
    HeaderBlock() = default;
    /// Copies `head` (`HttpRequest::head()`) and shares the request's `principal`.
    explicit HeaderBlock(std::string_view head, std::shared_ptr<const Principal> principal = nullptr)
        : raw_(head), principal_(std::move(principal)) {}

    /// The value of the first field named `name` (ASCII case-insensitive), without
    /// surrounding whitespace; nullopt when absent.
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept {
        const std::string_view all(raw_);
        std::size_t pos = all.find("\r\n");  // skip the request line
        while (pos != std::string_view::npos) {
            const std::size_t start = pos + 2;
            pos = all.find("\r\n", start);
            if (pos == std::string_view::npos || pos == start) break;  // the final empty line
            const std::string_view line = all.substr(start, pos - start);
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos || !iequals(line.substr(0, colon), name)) continue;
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
            return value;
        }
        return std::nullopt;
    }

    /// True when nothing was copied.
    [[nodiscard]] bool empty() const noexcept { return raw_.empty(); }

    /// Who sent the request (null without authorization).
    [[nodiscard]] const std::shared_ptr<const Principal>& principal() const noexcept { return principal_; }

private:
    std::string raw_;
    std::shared_ptr<const Principal> principal_;
};

}  // namespace mcpsse::detail
