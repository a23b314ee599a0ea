// mcpsse internal: the TaskStore of a RedisStore.
#pragma once

#include <mcpsse/detail/redis/redis_connection.hpp>
#include <mcpsse/redis_error.hpp>
#include <mcpsse/task_store.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace mcpsse::detail {

/// Task states as JSON strings under `<prefix>task:{<task id>}` (`SET ... PX ttl`;
/// a zero ttl uses `default_ttl`). Saves of one task are sent in the order they were
/// started, on one connection, so Redis applies them in that order. Errors: throws
/// `std::system_error` with a `RedisErrc` (or the connection's error).
/// Thread-safety: any thread; the coroutines run on the caller's executor.
class RedisTaskStore final : public TaskStore {
public:
    RedisTaskStore(std::shared_ptr<RedisConnection> connection, std::string prefix, std::chrono::milliseconds default_ttl)
        : connection_(std::move(connection)), prefix_(std::move(prefix)), default_ttl_(default_ttl) {}

    asio::awaitable<void> async_save_task(std::string task_id, nlohmann::json task, std::chrono::milliseconds ttl) override {
        const auto px = ttl.count() > 0 ? ttl : default_ttl_;
        RedisConnection::Command cmd{"SET", key(task_id), task.dump(), "PX", std::to_string(px.count())};
        const RedisValue reply = co_await connection_->async_command(std::move(cmd), asio::use_awaitable);
        if (reply.is_error()) throw std::system_error(RedisErrc::server_error, reply.str);
    }

    asio::awaitable<std::optional<nlohmann::json>> async_load_task(std::string task_id) override {
        RedisConnection::Command cmd{"GET", key(task_id)};
        const RedisValue reply = co_await connection_->async_command(std::move(cmd), asio::use_awaitable);
        if (reply.is_error()) throw std::system_error(RedisErrc::server_error, reply.str);
        if (reply.is_nil()) co_return std::nullopt;
        if (reply.type != RedisValue::Type::string) throw std::system_error(RedisErrc::bad_reply);
        auto parsed = nlohmann::json::parse(reply.str, nullptr, false);
        if (parsed.is_discarded()) throw std::system_error(RedisErrc::bad_reply, "stored task is not JSON");
        co_return std::optional<nlohmann::json>(std::move(parsed));
    }

    /// The key of `task_id`.
    [[nodiscard]] std::string key(const std::string& task_id) const { return prefix_ + "task:{" + task_id + "}"; }

private:
    std::shared_ptr<RedisConnection> connection_;
    std::string prefix_;
    std::chrono::milliseconds default_ttl_;
};

}  // namespace mcpsse::detail
