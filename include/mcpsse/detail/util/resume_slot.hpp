// mcpsse internal: a wait that another party ends by resuming the waiter directly.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/system_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/execution.hpp>
#include <asio/execution_context.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/query.hpp>

#include <memory>
#include <mutex>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace mcpsse::detail {

class ResumeSlot;

/// Owns the waits of every `ResumeSlot` of one execution context the way Asio's own
/// services own pending operations: the context's shutdown destroys the handlers of
/// waits that never ended, which ends the coroutines suspended in them (a stored handler
/// would otherwise keep its coroutine, and whatever that holds, alive for good).
class ResumeService final : public asio::execution_context::service {
public:
    /// Asio's service identity.
    static inline asio::execution_context::id id;

    explicit ResumeService(asio::execution_context& context) : asio::execution_context::service(context) {}

    // Slots register for their whole life (an intrusive list: no allocation).
    inline void add(ResumeSlot* slot);
    inline void remove(ResumeSlot* slot);

private:
    inline void shutdown() override;

    std::mutex mutex_;
    ResumeSlot* first_ = nullptr;
};

/// One coroutine's wait for an event that another party signals with `resume()`. Unlike
/// cancelling a timer (whose handler Asio always posts, costing the single-threaded
/// scheduler a reactor poll per hand-over), `resume()` runs the waiter through
/// `asio::dispatch` on the waiter's executor: inline when the caller already runs there.
/// The waiter's per-operation cancellation slot ends the wait with
/// `asio::error::operation_aborted` (posted). A pending wait keeps its executor's context
/// from running out of work; the context's shutdown destroys it (see `ResumeService`).
///
/// The handler must have an associated executor (a coroutine's `use_awaitable` has its
/// own; bind a plain callback with `asio::bind_executor`): a compile-time error otherwise.
/// The slot itself keeps no executor (it lives in every connection: 32 bytes).
///
/// Thread-safety: not thread-safe; call `async_wait` and `resume` on the waiter's
/// executor (a strand, or a context one thread runs). A wait that resumes inline may
/// destroy the slot before `resume` returns; `resume` touches nothing afterwards. What
/// the resumed waiter throws (it runs inline) leaves `resume`. After the cancellation
/// slot aborted a wait, keep the ResumeSlot until the waiter has resumed (the slot's
/// handler refers to it until then; a coroutine clears it when it resumes).
class ResumeSlot {
public:
    /// A slot whose waits are registered with `executor`'s context.
    explicit ResumeSlot(const asio::any_io_executor& executor)
        : service_(&asio::use_service<ResumeService>(asio::query(executor, asio::execution::context))) {
        service_->add(this);
    }
    ResumeSlot(const ResumeSlot&) = delete;
    ResumeSlot& operator=(const ResumeSlot&) = delete;

    /// A wait still pending ends with `asio::error::operation_aborted` (posted), as an
    /// Asio timer's does when the timer is destroyed.
    ~ResumeSlot() {
        service_->remove(this);
        if (auto waiter = std::move(waiter_)) waiter->complete(asio::error::operation_aborted, false, false);
    }

    /// Suspends until `resume()`. Completion signature `void(std::error_code)`: no error
    /// when resumed; `operation_aborted` when the operation's cancellation slot fires or
    /// the slot is destroyed; `already_started` (posted) when a wait is already pending.
    template <class CompletionToken>
    auto async_wait(CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(std::error_code)>(
            [this](auto handler) {
                using Handler = decltype(handler);
                static_assert(!std::is_same_v<asio::associated_executor_t<Handler>, asio::system_executor>,
                              "mcpsse::detail::ResumeSlot: bind the handler to an executor (asio::bind_executor)");
                if (waiter_) {
                    auto refused = std::make_unique<Waiter<Handler>>(std::move(handler));
                    refused->complete(asio::error::already_started, false, false);
                    return;
                }
                auto waiter = std::make_unique<Waiter<Handler>>(std::move(handler));
                if (waiter->slot.is_connected())
                    waiter->slot.assign([this](asio::cancellation_type type) {
                        if (type != asio::cancellation_type::none) abort();
                    });
                waiter_ = std::move(waiter);
            },
            token);
    }

    /// True while a wait is pending.
    [[nodiscard]] bool waiting() const noexcept { return waiter_ != nullptr; }

    /// Ends the pending wait with no error, running the waiter inline when the caller
    /// runs on its executor (else dispatched there). False when no wait is pending.
    bool resume() {
        auto waiter = std::move(waiter_);
        if (!waiter) return false;
        waiter->complete({}, true, false);
        return true;
    }

private:
    friend class ResumeService;

    struct WaiterBase {
        virtual ~WaiterBase() = default;
        // Hands the handler to its executor; `may_run_inline`: dispatch, else post.
        // `from_slot`: called by the cancellation slot's own handler, which must not be
        // cleared while it runs (an awaitable clears it when it resumes).
        virtual void complete(std::error_code ec, bool may_run_inline, bool from_slot) = 0;
        // Forgets the cancellation slot's handler (which points at the ResumeSlot).
        virtual void clear_slot() noexcept = 0;
    };

    template <class Handler>
    struct Waiter final : WaiterBase {
        explicit Waiter(Handler h)
            : handler(std::move(h)),
              slot(asio::get_associated_cancellation_slot(handler)),
              work(asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked)) {}

        void complete(std::error_code ec, bool may_run_inline, bool from_slot) override {
            if (!from_slot && slot.is_connected()) slot.clear();
            auto executor = asio::get_associated_executor(handler);
            auto run = [h = std::move(handler), ec]() mutable { std::move(h)(ec); };
            if (may_run_inline) asio::dispatch(executor, std::move(run));
            else asio::post(executor, std::move(run));
        }

        void clear_slot() noexcept override {
            if (slot.is_connected()) slot.clear();
        }

        Handler handler;
        asio::cancellation_slot slot;
        asio::any_io_executor work;  // counts the wait as outstanding work
    };

    // The waiter's cancellation slot fired (inside `emit`): end the wait later, not here.
    void abort() {
        if (auto waiter = std::move(waiter_)) waiter->complete(asio::error::operation_aborted, false, true);
    }

    ResumeService* service_;
    std::unique_ptr<WaiterBase> waiter_;
    ResumeSlot* previous_ = nullptr;  // in the service's list
    ResumeSlot* next_ = nullptr;
};

void ResumeService::add(ResumeSlot* slot) {
    std::lock_guard lock(mutex_);
    slot->next_ = first_;
    if (first_) first_->previous_ = slot;
    first_ = slot;
}

void ResumeService::remove(ResumeSlot* slot) {
    std::lock_guard lock(mutex_);
    if (slot->previous_) slot->previous_->next_ = slot->next_;
    else first_ = slot->next_;
    if (slot->next_) slot->next_->previous_ = slot->previous_;
    slot->previous_ = slot->next_ = nullptr;
}

void ResumeService::shutdown() {
    std::vector<std::unique_ptr<ResumeSlot::WaiterBase>> doomed;
    {
        std::lock_guard lock(mutex_);
        for (ResumeSlot* slot = first_; slot; slot = slot->next_)
            if (slot->waiter_) {
                slot->waiter_->clear_slot();  // not inside emit(): safe to clear here
                doomed.push_back(std::move(slot->waiter_));
            }
    }
    // Destroying a handler destroys its coroutine, which may destroy slots (they leave
    // the list under the lock, which is not held here).
    doomed.clear();
}

}  // namespace mcpsse::detail
