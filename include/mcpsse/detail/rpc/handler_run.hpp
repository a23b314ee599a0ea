// mcpsse internal: the completions of a request handler's coroutine (its reply, and
// co_spawn's own completion that keeps its InFlight alive).
#pragma once

#include <mcpsse/json_rpc.hpp>
#include <mcpsse/detail/rpc/in_flight.hpp>

#include <nlohmann/json.hpp>

#include <concepts>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace mcpsse::detail {

/// What a session needs to answer a request once its handler ended.
struct HandlerRun {
    /// The request's record. Owned by co_spawn's completion (RethrowFailure), which
    /// outlives the handler's coroutine.
    InFlight* flight = nullptr;
    /// The request's id.
    RequestId id;
    /// An `initialize` request's params (adopted on success), else null.
    nlohmann::json initialize_params;
    /// True for `initialize`.
    bool is_initialize = false;
};

/// A session that turns a finished handler run into its reply: `conclude(run, error,
/// result)` retires the request and returns the serialized response or error, or
/// nullopt when the request was cancelled.
template <class S>
concept ConcludesRequests =
    requires(S& session, HandlerRun& run, std::exception_ptr error, nlohmann::json result) {
        { session.conclude(run, std::move(error), std::move(result)) } -> std::same_as<std::optional<std::string>>;
    };

/// Completes a request whose handler ran: `session` records the outcome, then `done` is
/// called with the serialized reply (nullopt when the request was cancelled). Holding
/// the session keeps it alive until the reply is out.
template <ConcludesRequests Session, class Done>
struct Finish {
    std::shared_ptr<Session> self;
    HandlerRun run;
    Done done;

    void operator()(std::exception_ptr error, nlohmann::json result) {
        std::move(done)(self->conclude(run, std::move(error), std::move(result)));
    }
};

// co_spawn's completion for a request handler's coroutine (RpcSession::invoke): only an
// exception thrown by `finish` itself (std::bad_alloc) reaches it, and it leaves
// io_context::run as it would from a completion handler. It owns the request's
// InFlight, whose signal the spawn's cancellation slot belongs to: Asio requires that
// signal to outlive the whole operation, not just the coroutine's body. Since Asio 1.2x
// the spawned thread clears its slot on every resumption, including the final one
// co_spawn posts when the coroutine ended inside co_spawn's own call (a handler that
// never suspends); with the InFlight released by `invoke`'s frame, that read freed
// memory (ASan, Asio 1.38.2). Holding it here ties its life to co_spawn's completion.
// (It holds the record through InFlight::keep_alive and a plain pointer, not a
// shared_ptr member: the handler is stored in co_spawn's frame, and 8 more bytes put
// that frame past the size Asio's per-thread recycling allocator caches, which cost
// 1.4 k instructions a request in malloc.)
struct RethrowFailure {
    InFlight* owner = nullptr;
    explicit RethrowFailure(std::shared_ptr<InFlight> flight) : owner(flight.get()) {
        owner->keep_alive = std::move(flight);
    }
    RethrowFailure(RethrowFailure&& other) noexcept : owner(std::exchange(other.owner, nullptr)) {}
    RethrowFailure& operator=(RethrowFailure&&) = delete;
    ~RethrowFailure() {
        if (owner) owner->keep_alive.reset();  // may destroy *owner (reset empties the member first)
    }
    void operator()(const std::exception_ptr& error) const {
        if (error) std::rethrow_exception(error);
    }
};

}  // namespace mcpsse::detail
