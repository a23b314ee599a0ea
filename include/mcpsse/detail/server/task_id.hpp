// mcpsse internal: unguessable task ids.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace mcpsse::detail {

/// An unguessable task id: 128 random bits from `std::random_device`, as 32 lowercase
/// hex digits (SEP-2663 security: task ids may act as bearer handles).
[[nodiscard]] inline std::string random_task_id() {
    static constexpr char hex[] = "0123456789abcdef";
    std::random_device random;
    std::string id;
    id.reserve(32);
    for (int i = 0; i < 4; ++i) {
        const auto word = static_cast<std::uint32_t>(random());
        for (int shift = 28; shift >= 0; shift -= 4) id.push_back(hex[(word >> shift) & 15u]);
    }
    return id;
}

}  // namespace mcpsse::detail
