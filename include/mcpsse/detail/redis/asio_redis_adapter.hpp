// mcpsse internal: drives one hiredis redisAsyncContext on an Asio executor.
#pragma once

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <asio/error.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <memory>
#include <system_error>
#include <utility>

namespace mcpsse::detail {

/// Connects hiredis's event hooks (`ev.addRead`, `delRead`, `addWrite`, `delWrite`,
/// `cleanup`) of one `redisAsyncContext` to an `asio::posix::stream_descriptor` on the
/// context's socket: while hiredis wants to read (write), an `async_wait` for
/// readability (writability) is outstanding, and its completion calls
/// `redisAsyncHandleRead` (`redisAsyncHandleWrite`).
///
/// The descriptor never closes the socket (hiredis owns and closes it): `cleanup`
/// releases it. Created with `attach`, which must be called before the first command;
/// the adapter then lives as long as a wait is outstanding or the context uses it.
///
/// Thread-safety: none. `executor` must be a strand (or a single-threaded context);
/// every use of the context, and every hiredis call, must happen on it.
class AsioRedisAdapter : public std::enable_shared_from_this<AsioRedisAdapter> {
public:
    template <class Executor>
    AsioRedisAdapter(const Executor& executor, redisAsyncContext* context)
        : context_(context), socket_(executor, context->c.fd) {}

    AsioRedisAdapter(const AsioRedisAdapter&) = delete;
    AsioRedisAdapter& operator=(const AsioRedisAdapter&) = delete;

    ~AsioRedisAdapter() { release(); }

    /// Creates an adapter for `context` and installs its hooks; the context keeps the
    /// adapter alive (through `ev.data`) until hiredis calls `cleanup`.
    template <class Executor>
    static std::shared_ptr<AsioRedisAdapter> attach(const Executor& executor, redisAsyncContext* context) {
        auto adapter = std::make_shared<AsioRedisAdapter>(executor, context);
        adapter->self_ = adapter;
        context->ev.data = adapter.get();
        context->ev.addRead = [](void* p) { static_cast<AsioRedisAdapter*>(p)->add_read(); };
        context->ev.delRead = [](void* p) { static_cast<AsioRedisAdapter*>(p)->reading_ = false; };
        context->ev.addWrite = [](void* p) { static_cast<AsioRedisAdapter*>(p)->add_write(); };
        context->ev.delWrite = [](void* p) { static_cast<AsioRedisAdapter*>(p)->writing_ = false; };
        context->ev.cleanup = [](void* p) { static_cast<AsioRedisAdapter*>(p)->cleanup(); };
        return adapter;
    }

    /// Forgets the context without touching it (it is being freed, or was freed).
    void detach() noexcept {
        context_ = nullptr;
        reading_ = writing_ = false;
        release();
    }

private:
    void add_read() { arm(asio::posix::stream_descriptor::wait_read, reading_, read_armed_, &redisAsyncHandleRead); }
    void add_write() {
        arm(asio::posix::stream_descriptor::wait_write, writing_, write_armed_, &redisAsyncHandleWrite);
    }

    // Marks the direction (`wanted`) as wanted and, unless a wait is outstanding already
    // (`armed`), waits for the socket to be ready, then lets hiredis `handle` it and
    // waits again while hiredis still wants that direction. `wanted` and `armed` are
    // members of this adapter, which the wait's handler keeps alive.
    void arm(asio::posix::stream_descriptor::wait_type type, bool& wanted, bool& armed,
             void (*handle)(redisAsyncContext*)) {
        wanted = true;
        if (armed || !context_) return;
        armed = true;
        socket_.async_wait(type, [self = shared_from_this(), type, &wanted, &armed, handle](const std::error_code& ec) {
            armed = false;
            if (ec || !self->context_ || !wanted) return;
            handle(self->context_);
            // The context may be gone now (cleanup detached it).
            if (self->context_ && wanted) self->arm(type, wanted, armed, handle);
        });
    }

    // hiredis frees the context: stop using its socket (hiredis closes it).
    void cleanup() {
        auto keep = std::move(self_);  // released when this returns
        detach();
    }

    void release() noexcept {
        if (!socket_.is_open()) return;
        std::error_code ignored;
        socket_.cancel(ignored);
        (void)socket_.release();
    }

    redisAsyncContext* context_;
    asio::posix::stream_descriptor socket_;
    std::shared_ptr<AsioRedisAdapter> self_;
    bool reading_ = false;
    bool writing_ = false;
    bool read_armed_ = false;
    bool write_armed_ = false;
};

}  // namespace mcpsse::detail
