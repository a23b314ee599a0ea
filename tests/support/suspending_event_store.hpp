// Test support: an AsyncEventStore whose every operation suspends, as a store on another
// machine would: appends and erases are applied one after another, in the order they
// were started, each `delay` after the previous one, on a writer thread of the store's
// own; a replay reads `delay` after it starts, on a thread of its own, whatever the
// writer has applied by then (not what is still queued). Every operation completes on
// the caller's executor (the handler's associated executor).
#pragma once

#include <mcpsse/async_event_store.hpp>
#include <mcpsse/event_store.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace mcpsse_test {

class SuspendingEventStore {
public:
    /// `executor`: where completions without an executor of their own run.
    explicit SuspendingEventStore(asio::any_io_executor executor, std::chrono::milliseconds delay,
                                  mcpsse::InMemoryEventStoreLimits limits = {})
        : shared_(std::make_shared<Shared>(std::move(executor), delay, limits)) {
        shared_->worker = std::thread([s = shared_] { s->run(); });
    }
    SuspendingEventStore(SuspendingEventStore&&) noexcept = default;
    SuspendingEventStore& operator=(SuspendingEventStore&&) = delete;
    ~SuspendingEventStore() {
        if (!shared_) return;
        {
            std::lock_guard lock(shared_->mutex);
            shared_->stopping = true;
        }
        shared_->wake.notify_all();
        if (shared_->worker.joinable()) shared_->worker.join();
        std::vector<std::thread> readers;
        {
            std::lock_guard lock(shared_->mutex);
            readers.swap(shared_->readers);
        }
        for (auto& reader : readers) reader.join();
    }

    template <class Token>
    auto async_append(const std::string& session_id, mcpsse::EventId id, std::string message, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [s = shared_](auto handler, std::string session, mcpsse::EventId event, std::string text) {
                s->enqueue(std::move(handler), [s, session = std::move(session), event, text = std::move(text)]() mutable {
                    s->memory.append(session, event, std::move(text));
                    ++s->appends;
                });
            },
            token, session_id, id, std::move(message));
    }

    template <class Token>
    auto async_replay_after(const std::string& session_id, mcpsse::EventId id, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, mcpsse::ReplayResult)>(
            [s = shared_](auto handler, std::string session, mcpsse::EventId after) {
                // Reads go their own way (as on a second connection to a remote store):
                // they see what the writer has applied so far, not what is still queued.
                auto ex = asio::get_associated_executor(handler, s->executor);
                auto work = asio::make_work_guard(ex);
                std::lock_guard lock(s->mutex);
                s->readers.emplace_back([s, session = std::move(session), after, handler = std::move(handler), ex,
                                         work = std::move(work)]() mutable {
                    std::this_thread::sleep_for(s->delay);
                    mcpsse::ReplayResult result;
                    std::vector<mcpsse::StoredEvent> events;
                    if (s->memory.replay_after(session, after, [&](mcpsse::EventId e, std::string_view m) {
                            events.push_back({e, std::string(m)});
                        }))
                        result = std::move(events);
                    ++s->replays;
                    asio::post(ex, [handler = std::move(handler), result = std::move(result)]() mutable {
                        handler(std::error_code{}, std::move(result));
                    });
                });
            },
            token, session_id, id);
    }

    template <class Token>
    auto async_erase(const std::string& session_id, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [s = shared_](auto handler, std::string session) {
                s->enqueue(std::move(handler), [s, session = std::move(session)] { s->memory.erase(session); });
            },
            token, session_id);
    }

    /// Appends applied so far, replays answered so far.
    [[nodiscard]] int appends() const { return shared_->appends.load(); }
    [[nodiscard]] int replays() const { return shared_->replays.load(); }
    /// Sessions with kept events.
    [[nodiscard]] std::size_t session_count() const { return shared_->memory.session_count(); }

private:
    struct Shared {
        Shared(asio::any_io_executor ex, std::chrono::milliseconds d, mcpsse::InMemoryEventStoreLimits limits)
            : executor(std::move(ex)), delay(d), memory(limits) {}

        template <class Handler, class Apply>
        void enqueue(Handler handler, Apply apply) {
            auto ex = asio::get_associated_executor(handler, executor);
            auto work = asio::make_work_guard(ex);
            push([apply = std::move(apply), handler = std::move(handler), ex, work = std::move(work)]() mutable {
                apply();
                asio::post(ex, [handler = std::move(handler)]() mutable { handler(std::error_code{}); });
            });
        }

        // A queued operation (move-only: it owns a completion handler).
        struct Task {
            virtual ~Task() = default;
            virtual void run() = 0;
        };
        template <class F>
        struct TaskOf final : Task {
            explicit TaskOf(F fn) : f(std::move(fn)) {}
            void run() override { f(); }
            F f;
        };

        template <class F>
        void push(F f) {
            {
                std::lock_guard lock(mutex);
                tasks.push_back(std::make_unique<TaskOf<F>>(std::move(f)));
            }
            wake.notify_all();
        }

        void run() {
            std::unique_lock lock(mutex);
            for (;;) {
                wake.wait(lock, [&] { return stopping || !tasks.empty(); });
                if (tasks.empty()) return;  // stopping, nothing left
                auto task = std::move(tasks.front());
                tasks.pop_front();
                lock.unlock();
                std::this_thread::sleep_for(delay);
                task->run();
                task.reset();
                lock.lock();
            }
        }

        asio::any_io_executor executor;
        std::chrono::milliseconds delay;
        mcpsse::InMemoryEventStore memory;
        std::mutex mutex;
        std::condition_variable wake;
        std::deque<std::unique_ptr<Task>> tasks;
        bool stopping = false;
        std::thread worker;
        std::vector<std::thread> readers;  // one per replay
        std::atomic<int> appends{0};
        std::atomic<int> replays{0};
    };

    std::shared_ptr<Shared> shared_;
};

}  // namespace mcpsse_test
