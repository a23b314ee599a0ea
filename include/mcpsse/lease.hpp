// mcpsse: Lease, who holds an exclusive lease in a shared store, and its fencing token.
#pragma once

#include <cstdint>
#include <string>

namespace mcpsse {

/// A lease held in a shared store (`RedisStore::async_acquire_lease`): who holds it and
/// the fencing token it was granted with. Tokens of one lease name only grow: each grant
/// to a new holder gets a larger one, so a write carrying a token smaller than the
/// current holder's comes from a holder whose lease has expired (fencing). Not an MCP
/// rule: the single-instance lock pattern of Redis's `SET NX PX` documentation, with a
/// counter for the tokens. Errors of the operations are those of `RedisStore`.
///
/// Thread-safety: a plain value.
struct Lease {
    /// The holder's name as given when it acquired the lease (e.g. an instance tag).
    std::string owner;
    /// The fencing token of this grant (1, 2, ...).
    std::uint64_t fence = 0;
    /// Equal when both members are.
    friend bool operator==(const Lease&, const Lease&) = default;
};

}  // namespace mcpsse
