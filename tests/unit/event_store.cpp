// Tests of include/mcpsse/event_store.hpp: InMemoryEventStore's limits and replay.
#include <mcpsse/event_store.hpp>

#include "support/catch.hpp"

#include <string>
#include <vector>

using mcpsse::EventId;
using mcpsse::InMemoryEventStore;
using mcpsse::InMemoryEventStoreLimits;

namespace {
// The sequences `replay_after` visits, or {-1} when it returns false.
std::vector<long> replay(InMemoryEventStore& store, const std::string& session, EventId after) {
    std::vector<long> seen;
    if (!store.replay_after(session, after, [&](EventId id, std::string_view) {
            seen.push_back(static_cast<long>(id.sequence));
        }))
        return {-1};
    return seen;
}
}  // namespace

TEST_CASE("event store: replays a stream's events after an id; evicted ones make replay fail") {
    InMemoryEventStore store(InMemoryEventStoreLimits{3, 1 << 20, 1 << 30});
    for (std::uint64_t i = 1; i <= 5; ++i) store.append("s", {1, i}, "m");
    CHECK(replay(store, "s", {1, 2}) == std::vector<long>{3, 4, 5});  // 1 and 2 evicted, none missed
    CHECK(replay(store, "s", {1, 1}) == std::vector<long>{-1});      // 2 was evicted: a gap
    CHECK(replay(store, "unknown", {1, 0}) == std::vector<long>{-1});
}

TEST_CASE("event store: max_total_bytes bounds the whole store, evicting the oldest event of any session") {
    InMemoryEventStoreLimits limits;
    limits.max_total_bytes = 100;
    InMemoryEventStore store(limits);
    const std::string ten(10, 'x');
    for (std::uint64_t i = 1; i <= 5; ++i) store.append("a", {1, i}, ten);  // a: 50 bytes, oldest
    for (std::uint64_t i = 1; i <= 5; ++i) store.append("b", {1, i}, ten);  // b: 50 bytes
    CHECK(store.total_bytes() == 100);
    store.append("c", {1, 1}, ten + ten);  // 20 more: a's two oldest go
    CHECK(store.total_bytes() == 100);
    CHECK(replay(store, "a", {1, 2}) == std::vector<long>{3, 4, 5});
    CHECK(replay(store, "a", {1, 1}) == std::vector<long>{-1});
    CHECK(replay(store, "b", {1, 0}) == std::vector<long>{1, 2, 3, 4, 5});
    // Erasing a session returns its bytes; then nothing else needs evicting.
    store.erase("b");
    CHECK(store.total_bytes() == 50);
    for (std::uint64_t i = 6; i <= 10; ++i) store.append("a", {1, i}, ten);
    CHECK(store.total_bytes() == 100);
    CHECK(replay(store, "c", {1, 0}) == std::vector<long>{1});
}

TEST_CASE("event store: the record of evicted streams stays bounded and never turns a gap into success") {
    InMemoryEventStoreLimits limits;
    limits.max_events = 4;
    InMemoryEventStore store(limits);
    // 100 streams of two events each: all but the last two streams are evicted.
    for (std::uint64_t stream = 1; stream <= 100; ++stream) {
        store.append("s", {stream, 1}, "m");
        store.append("s", {stream, 2}, "m");
    }
    // Every evicted stream still refuses replay from before its eviction, pruned or not.
    for (std::uint64_t stream = 1; stream <= 98; ++stream) {
        CAPTURE(stream);
        CHECK(replay(store, "s", {stream, 1}) == std::vector<long>{-1});
    }
    CHECK(replay(store, "s", {100, 0}) == std::vector<long>{1, 2});
    CHECK(replay(store, "s", {99, 1}) == std::vector<long>{2});
}
