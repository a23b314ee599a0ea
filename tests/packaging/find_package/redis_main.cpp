// Builds against the redis component of an installed mcpsse (find_package(mcpsse
// COMPONENTS redis), target mcpsse::redis): <mcpsse/redis_store.hpp> and hiredis link.
// Runs without a Redis: a bad URL is refused, and a store to a closed port is not ready.
#include <mcpsse/redis_store.hpp>

#include <asio/io_context.hpp>

#include <cstdio>
#include <system_error>

int main() {
    asio::io_context io;
    bool refused = false;
    try {
        mcpsse::RedisStoreOptions bad;
        bad.url = "http://127.0.0.1:6379";
        mcpsse::RedisStore store(io.get_executor(), bad);
    } catch (const std::system_error& e) {
        refused = e.code() == mcpsse::RedisErrc::bad_url;
    }
    mcpsse::RedisStoreOptions options;
    options.url = "redis://127.0.0.1:1";
    mcpsse::RedisStore store(io.get_executor(), options);
    store.close();
    io.run();
    std::printf("mcpsse redis consumer: bad URL refused: %s, ready: %s\n", refused ? "yes" : "no",
                store.ready() ? "yes" : "no");
    return refused && !store.ready() ? 0 : 1;
}
