// mcpsse internal: heterogeneous lookup for string-keyed hash tables.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mcpsse::detail {

/// A transparent hash for string keys: a table using it (with `std::equal_to<>`) can be
/// searched with a `std::string_view` without building a `std::string` (C++20
/// heterogeneous lookup). Thread-safety: stateless.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
};

/// An `std::unordered_map` from `std::string`, searchable by `std::string_view`.
template <class Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace mcpsse::detail
