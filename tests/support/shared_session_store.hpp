// Test support: a store shared by several transports (copies are handles to one state),
// as a store on another machine would be. Events are kept in memory (an EventStore);
// session records (a SessionStore) are saved, loaded and erased on a thread of the
// store's own, `delay` after each operation starts, so every operation suspends (a
// renewal, `RenewableSessionStore`, is counted too); each
// completes on the caller's executor (the handler's associated executor). The store's
// threads use its state without owning it: `join()` (or the last copy's destruction)
// waits for them.
#pragma once

#include <mcpsse/event_store.hpp>
#include <mcpsse/session_store.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace mcpsse_test {

class SharedSessionStore {
public:
    /// `executor`: where completions without an executor of their own run.
    SharedSessionStore(asio::any_io_executor executor, std::chrono::milliseconds delay)
        : shared_(std::make_shared<Shared>(std::move(executor), delay)) {}

    // ---- EventStore: in memory, shared -------------------------------------------------
    void append(const std::string& session_id, mcpsse::EventId id, std::string message) {
        shared_->events.append(session_id, id, std::move(message));
    }
    bool replay_after(const std::string& session_id, mcpsse::EventId id,
                      const std::function<void(mcpsse::EventId, std::string_view)>& visit) {
        return shared_->events.replay_after(session_id, id, visit);
    }
    void erase(const std::string& session_id) { shared_->events.erase(session_id); }

    // ---- SessionStore: suspending --------------------------------------------------------
    template <class Token>
    auto async_save_session(mcpsse::SessionRecord record, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [s = shared_.get()](auto handler, mcpsse::SessionRecord r) {
                s->later(std::move(handler), [s, r = std::move(r)]() mutable {
                    std::lock_guard lock(s->mutex);
                    ++s->saves;
                    if (s->fail_saves) return std::make_error_code(std::errc::io_error);
                    const std::string id = r.id;
                    s->records[id] = std::move(r);
                    return std::error_code{};
                });
            },
            token, std::move(record));
    }

    template <class Token>
    auto async_load_session(const std::string& id, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, mcpsse::SessionLookup)>(
            [s = shared_.get()](auto handler, std::string key) {
                auto ex = asio::get_associated_executor(handler, s->executor);
                s->spawn([s, key = std::move(key), handler = std::move(handler), ex,
                          work = asio::make_work_guard(ex)]() mutable {
                    std::this_thread::sleep_for(s->delay);
                    mcpsse::SessionLookup found;
                    std::error_code ec;
                    {
                        std::lock_guard lock(s->mutex);
                        ++s->loads;
                        if (s->fail_loads)
                            ec = std::make_error_code(std::errc::io_error);
                        else if (const auto it = s->records.find(key); it != s->records.end())
                            found = it->second;
                    }
                    asio::post(ex, [handler = std::move(handler), ec, found = std::move(found)]() mutable {
                        handler(ec, std::move(found));
                    });
                });
            },
            token, id);
    }

    template <class Token>
    auto async_erase_session(const std::string& id, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [s = shared_.get()](auto handler, std::string key) {
                s->later(std::move(handler), [s, key = std::move(key)] {
                    std::lock_guard lock(s->mutex);
                    s->records.erase(key);
                    return std::error_code{};
                });
            },
            token, id);
    }

    /// Renews the record under `id` (a `RenewableSessionStore`): counted per id.
    template <class Token>
    auto async_touch_session(const std::string& id, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code)>(
            [s = shared_.get()](auto handler, std::string key) {
                s->later(std::move(handler), [s, key = std::move(key)] {
                    std::lock_guard lock(s->mutex);
                    ++s->touches[key];
                    return std::error_code{};
                });
            },
            token, id);
    }
    /// The least time between two renewals of one session by one transport.
    [[nodiscard]] std::chrono::milliseconds session_touch_interval() const { return shared_->touch_interval; }
    /// Sets it (before transports use the store).
    void set_touch_interval(std::chrono::milliseconds interval) { shared_->touch_interval = interval; }
    /// Renewals of `id` applied so far.
    [[nodiscard]] int touches(const std::string& id) const {
        std::lock_guard lock(shared_->mutex);
        const auto it = shared_->touches.find(id);
        return it == shared_->touches.end() ? 0 : it->second;
    }

    /// The record kept under `id`, if any (read at once).
    [[nodiscard]] mcpsse::SessionLookup record(const std::string& id) const {
        std::lock_guard lock(shared_->mutex);
        const auto it = shared_->records.find(id);
        return it == shared_->records.end() ? mcpsse::SessionLookup{} : mcpsse::SessionLookup{it->second};
    }
    /// Saves and loads started so far.
    [[nodiscard]] int saves() const {
        std::lock_guard lock(shared_->mutex);
        return shared_->saves;
    }
    [[nodiscard]] int loads() const {
        std::lock_guard lock(shared_->mutex);
        return shared_->loads;
    }
    /// Makes every later save fail (as a store that is down).
    void fail_saves(bool fail) {
        std::lock_guard lock(shared_->mutex);
        shared_->fail_saves = fail;
    }
    /// Makes every later load fail (as a store that is down or not connected yet).
    void fail_loads(bool fail) {
        std::lock_guard lock(shared_->mutex);
        shared_->fail_loads = fail;
    }
    /// Waits for the store's threads (call before the io_contexts go away).
    void join() { shared_->join(); }

private:
    struct Shared {
        Shared(asio::any_io_executor ex, std::chrono::milliseconds d) : executor(std::move(ex)), delay(d) {}
        ~Shared() { join(); }

        // Runs `apply` on a thread of its own `delay` after now; its error completes `handler`.
        template <class Handler, class Apply>
        void later(Handler handler, Apply apply) {
            auto ex = asio::get_associated_executor(handler, executor);
            spawn([this, apply = std::move(apply), handler = std::move(handler), ex,
                   work = asio::make_work_guard(ex)]() mutable {
                std::this_thread::sleep_for(delay);
                const std::error_code ec = apply();
                asio::post(ex, [handler = std::move(handler), ec]() mutable { handler(ec); });
            });
        }

        template <class F>
        void spawn(F f) {
            std::lock_guard lock(threads_mutex);
            threads.emplace_back(std::move(f));
        }

        void join() {
            std::vector<std::thread> all;
            {
                std::lock_guard lock(threads_mutex);
                all.swap(threads);
            }
            for (auto& t : all)
                if (t.joinable()) t.join();
        }

        asio::any_io_executor executor;
        std::chrono::milliseconds delay;
        std::chrono::milliseconds touch_interval{60'000};
        mcpsse::InMemoryEventStore events;
        mutable std::mutex mutex;  // guards the members below
        std::map<std::string, mcpsse::SessionRecord> records;
        std::map<std::string, int> touches;
        int saves = 0;
        int loads = 0;
        bool fail_saves = false;
        bool fail_loads = false;
        std::mutex threads_mutex;
        std::vector<std::thread> threads;
    };

    std::shared_ptr<Shared> shared_;
};

}  // namespace mcpsse_test
