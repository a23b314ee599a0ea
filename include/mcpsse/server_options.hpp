// mcpsse: settings of a `Server`.
#pragma once

#include <mcpsse/subscription_store.hpp>
#include <mcpsse/tasks.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace mcpsse {

/// Settings of a `Server`.
struct ServerOptions {
    /// Entries per page of `tools/list`, `resources/list`, `resources/templates/list`
    /// and `prompts/list` (MCP server/utilities/pagination); a page ends with
    /// `nextCursor` when more follow. Zero means "everything on one page".
    std::size_t page_size = 100;
    /// `ttlMs` caching hint put on list results, `resources/read` and `server/discover`
    /// under 2026-07-28 (SEP-2549): how long a client may reuse them (sent in ms).
    std::chrono::milliseconds cache_ttl{0};
    /// `cacheScope` caching hint: "private" (this client only) or "public".
    std::string cache_scope = "private";
    /// Rounds of input a handler may request on one call under session-based
    /// revisions, where `Server` fulfils `InputRequiredResult`s itself through
    /// server-to-client requests. Beyond it the call fails with -32603.
    int max_input_rounds = 8;
    /// Key of `seal_state`/`open_state` (any bytes). Empty: a random key per `Server`
    /// (states then do not survive a restart or cross replicas; set one shared key for
    /// a fleet).
    std::string state_key;
    /// Advertise `listChanged` for tools, prompts and resources and `subscribe` for
    /// resources (delivered on 2026-07-28 `subscriptions/listen` streams).
    bool list_changed = true;
    /// Answer `completion/complete` and advertise `completions`.
    bool completions = true;
    /// `resources/subscribe` entries one session may hold (count); one more is refused
    /// with -32602. A transport forgets a session's entries when it ends
    /// (`Server::forget_session`).
    std::size_t max_subscriptions_per_session = 1024;
    /// Where resource subscriptions are shared with the other instances serving the same
    /// sessions (e.g. `RedisStore::subscription_store()`); null: this `Server` alone
    /// knows them. See `SubscriptionStore`.
    std::shared_ptr<SubscriptionStore> subscription_store;
    /// The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663).
    TaskOptions tasks;
};

}  // namespace mcpsse
