// mcpsse internal: what one session negotiated (MCP basic/lifecycle) and its log level.
#pragma once

#include <mcpsse/error.hpp>
#include <mcpsse/logging_level.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace mcpsse::detail {

/// The lifecycle state of one session: the protocol revision in force, the client's
/// capabilities and `clientInfo`, whether `initialize` and `notifications/initialized`
/// happened, and the minimum log level the client asked for; plus the built-in
/// `logging/setLevel`. (The built-in `initialize` answer comes from the dispatcher's
/// settings, see `RpcSession`; it hands the outcome to `adopt_initialize`.)
///
/// Thread-safety: the log level is guarded by a mutex and `client_initialized` is
/// atomic, both safe from any thread. The protocol revision is written under the same
/// mutex, so `protocol_version_copy` is safe from any thread; `protocol_version` reads
/// it unlocked and belongs to the session's own strand. The rest is not guarded: it is
/// written by `initialize`, or by the transport, before the session is shared with
/// other threads, and only read afterwards.
class SessionLifecycle {
public:
    /// The negotiated (or per-request) protocol revision; empty before `initialize`.
    [[nodiscard]] const std::string& protocol_version() const noexcept { return protocol_version_; }
    /// The protocol revision, copied under the lock: for readers outside the session's
    /// strand (a host thread holding a session handle).
    [[nodiscard]] std::string protocol_version_copy() const {
        std::lock_guard lock(mutex_);
        return protocol_version_;
    }
    /// Sets the protocol revision (transports do this for stateless requests).
    void set_protocol_version(std::string version) {
        std::lock_guard lock(mutex_);
        protocol_version_ = std::move(version);
    }
    /// True once an `initialize` request has been answered successfully.
    [[nodiscard]] bool initialized() const noexcept { return initialized_; }
    /// True once the client sent `notifications/initialized`.
    [[nodiscard]] bool client_initialized() const noexcept { return client_initialized_.load(); }
    /// Records `notifications/initialized`.
    void set_client_initialized() noexcept { client_initialized_.store(true); }
    /// The client's declared capabilities (an object).
    [[nodiscard]] const nlohmann::json& client_capabilities() const noexcept { return client_capabilities_; }
    /// Sets the client's capabilities; anything but an object counts as none.
    void set_client_capabilities(nlohmann::json capabilities) {
        client_capabilities_ = capabilities.is_object() ? std::move(capabilities) : nlohmann::json::object();
    }
    /// The client's `clientInfo`, or null.
    [[nodiscard]] const nlohmann::json& client_info() const noexcept { return client_info_; }
    /// Sets the client's `clientInfo`.
    void set_client_info(nlohmann::json info) { client_info_ = std::move(info); }

    /// The minimum level of log messages the client wants (`logging/setLevel`, or the
    /// 2026-07-28 `_meta` log level); empty: the client wants none.
    [[nodiscard]] std::optional<LoggingLevel> log_level() const {
        std::lock_guard lock(mutex_);
        return log_level_;
    }
    /// Sets the minimum log level (empty: send no log messages).
    void set_log_level(std::optional<LoggingLevel> level) {
        std::lock_guard lock(mutex_);
        log_level_ = level;
    }

    /// Records a successful `initialize` (built-in or the host's handler): the revision
    /// from `result`, the client's capabilities and `clientInfo` from `params`.
    void adopt_initialize(const nlohmann::json& params, const nlohmann::json& result) {
        if (result.is_object())
            if (const auto v = result.find("protocolVersion"); v != result.end() && v->is_string())
                set_protocol_version(v->get<std::string>());
        if (params.is_object()) {
            if (const auto c = params.find("capabilities"); c != params.end()) set_client_capabilities(*c);
            if (const auto i = params.find("clientInfo"); i != params.end()) client_info_ = *i;
        }
        initialized_ = true;
    }

    /// Takes over a session initialized elsewhere (a stored record): its revision, the
    /// client's capabilities and `clientInfo`; the handshake counts as complete.
    void restore(std::string version, nlohmann::json capabilities, nlohmann::json info) {
        set_protocol_version(std::move(version));
        set_client_capabilities(std::move(capabilities));
        client_info_ = std::move(info);
        initialized_ = true;
        client_initialized_.store(true);
    }

    /// The built-in `logging/setLevel`: sets the minimum log level and answers `{}`.
    /// Throws `RpcError` (`invalid_params`) for a missing or unknown level.
    nlohmann::json set_level(const nlohmann::json& params) {
        const auto level = params.find("level");
        const auto parsed = level != params.end() && level->is_string()
                                ? logging_level_from_string(level->get_ref<const std::string&>())
                                : std::nullopt;
        if (!parsed) throw RpcError(error_code::invalid_params, "Invalid params: unknown logging level");
        set_log_level(*parsed);
        return nlohmann::json::object();
    }

private:
    std::string protocol_version_;
    bool initialized_ = false;
    nlohmann::json client_capabilities_ = nlohmann::json::object();
    nlohmann::json client_info_;
    std::atomic<bool> client_initialized_{false};
    mutable std::mutex mutex_;  // guards log_level_ and writes of protocol_version_
    std::optional<LoggingLevel> log_level_ = LoggingLevel::debug;
};

}  // namespace mcpsse::detail
