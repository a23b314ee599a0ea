// Unit tests of mcpsse::detail::ResumeSlot, the wait a response writer (and
// mcpsse-bridge's forwarded requests) park in until another party resumes them.
#include "support/catch.hpp"

#include "mcpsse/detail/util/resume_slot.hpp"

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

using mcpsse::detail::ResumeSlot;

namespace {

// Waits once in `slot` and records the outcome; `token` lives as long as the coroutine.
asio::awaitable<void> wait_once(ResumeSlot& slot, std::optional<std::error_code>& outcome,
                                std::shared_ptr<int> token = nullptr) {
    std::error_code ec;
    co_await slot.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    outcome = ec;
    (void)token;
}

}  // namespace

TEST_CASE("resume slot: resume() on the waiter's thread runs the waiter before it returns", "[resume_slot]") {
    asio::io_context io;
    ResumeSlot slot(io.get_executor());
    std::optional<std::error_code> outcome;
    std::vector<std::string> order;
    asio::co_spawn(io, wait_once(slot, outcome), asio::detached);
    asio::post(io, [&] {
        REQUIRE(slot.waiting());
        order.push_back("resume");
        CHECK(slot.resume());
        // Inline: the waiter already ran (a cancelled timer would have been posted).
        CHECK(outcome.has_value());
        order.push_back(outcome ? "after, waiter done" : "after, waiter pending");
    });
    io.run();
    REQUIRE(outcome.has_value());
    CHECK(!*outcome);
    CHECK(order == std::vector<std::string>{"resume", "after, waiter done"});
    CHECK(!slot.waiting());
    CHECK(!slot.resume());  // nothing waits any more
}

TEST_CASE("resume slot: a callback bound to an executor runs there; its wait is outstanding work", "[resume_slot]") {
    asio::io_context io;
    ResumeSlot slot(io.get_executor());
    std::optional<std::error_code> outcome;
    bool ran_in_context = false;
    slot.async_wait(asio::bind_executor(io, [&](std::error_code ec) {
        outcome = ec;
        ran_in_context = io.get_executor().running_in_this_thread();
    }));
    io.poll();  // nothing is ready; a context with no work left would stop here
    REQUIRE(slot.waiting());
    CHECK(!io.stopped());
    CHECK(slot.resume());
    CHECK(!outcome.has_value());  // not called on the context's thread: dispatched there
    io.run();
    REQUIRE(outcome.has_value());
    CHECK(!*outcome);
    CHECK(ran_in_context);
}

TEST_CASE("resume slot: the waiter's cancellation slot ends the wait with operation_aborted", "[resume_slot]") {
    asio::io_context io;
    ResumeSlot slot(io.get_executor());
    asio::cancellation_signal signal;
    std::optional<std::error_code> outcome;
    asio::co_spawn(io, wait_once(slot, outcome), asio::bind_cancellation_slot(signal.slot(), asio::detached));
    asio::post(io, [&] {
        REQUIRE(slot.waiting());
        signal.emit(asio::cancellation_type::terminal);
        CHECK(!slot.waiting());
        CHECK(!outcome.has_value());  // posted, not run inside emit()
    });
    io.run();
    REQUIRE(outcome.has_value());
    CHECK(*outcome == asio::error::operation_aborted);
}

TEST_CASE("resume slot: a second wait while one is pending fails with already_started", "[resume_slot]") {
    asio::io_context io;
    ResumeSlot slot(io.get_executor());
    std::optional<std::error_code> first, second;
    asio::co_spawn(io, wait_once(slot, first), asio::detached);
    asio::co_spawn(io, wait_once(slot, second), asio::detached);
    asio::post(io, [&] { asio::post(io, [&] { slot.resume(); }); });
    io.run();
    REQUIRE(second.has_value());
    CHECK(*second == asio::error::already_started);
    REQUIRE(first.has_value());
    CHECK(!*first);
}

TEST_CASE("resume slot: destroying the slot ends a pending wait with operation_aborted", "[resume_slot]") {
    asio::io_context io;
    auto slot = std::make_unique<ResumeSlot>(io.get_executor());
    std::optional<std::error_code> outcome;
    asio::co_spawn(io, wait_once(*slot, outcome), asio::detached);
    asio::post(io, [&] { slot.reset(); });
    io.run();
    REQUIRE(outcome.has_value());
    CHECK(*outcome == asio::error::operation_aborted);
}

TEST_CASE("resume slot: a wait aborted by the slot's destruction but never run is destroyed with its context", "[resume_slot]") {
    auto token = std::make_shared<int>(7);
    std::weak_ptr<int> watch = token;
    std::optional<std::error_code> outcome;
    {
        asio::io_context io;
        ResumeSlot slot(io.get_executor());  // declared after the context: destroyed first
        asio::co_spawn(io, wait_once(slot, outcome, std::move(token)), asio::detached);
        io.run_one();  // the coroutine starts and parks in the slot
        REQUIRE(slot.waiting());
        CHECK(!watch.expired());  // the parked coroutine holds the token
        io.stop();
    }  // the slot's destruction aborts the wait (posted); the context's destroys it unrun
    CHECK(watch.expired());
    CHECK(!outcome.has_value());
}

TEST_CASE("resume slot: the context's shutdown frees a coroutine that owns its own slot", "[resume_slot]") {
    // The shape of a response writer: the coroutine holds the object that holds the slot
    // it waits in. Without the service this cycle would outlive the context (a leak).
    struct Owner {
        explicit Owner(asio::io_context& io) : slot(io.get_executor()) {}
        ResumeSlot slot;
    };
    std::weak_ptr<Owner> watch;
    {
        asio::io_context io;
        auto owner = std::make_shared<Owner>(io);
        watch = owner;
        asio::co_spawn(
            io,
            [owner]() -> asio::awaitable<void> {
                std::error_code ec;
                co_await owner->slot.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            },
            asio::detached);
        owner.reset();
        io.run_one();
        REQUIRE(!watch.expired());
        REQUIRE(watch.lock()->slot.waiting());
    }
    CHECK(watch.expired());
}

TEST_CASE("resume slot: a waiter resumed inline may destroy the slot it waited in", "[resume_slot]") {
    struct Owner {
        explicit Owner(asio::io_context& io) : slot(io.get_executor()) {}
        ResumeSlot slot;
    };
    asio::io_context io;
    auto owner = std::make_shared<Owner>(io);
    std::weak_ptr<Owner> watch = owner;
    bool resumed = false;
    // A callable, not a called lambda: co_spawn keeps it (and its captures) alive.
    asio::co_spawn(
        io,
        [&resumed, mine = std::move(owner)]() mutable -> asio::awaitable<void> {
            std::error_code ec;
            co_await mine->slot.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            resumed = !ec;
            mine.reset();  // the last owner: the slot goes while resume() is on the stack
        },
        asio::detached);
    asio::post(io, [&] {
        auto keep = watch.lock();
        REQUIRE(keep);
        ResumeSlot& slot = keep->slot;
        keep.reset();
        CHECK(slot.resume());
        CHECK(watch.expired());  // destroyed inside resume(), which touched nothing after
    });
    io.run();
    CHECK(resumed);
}
