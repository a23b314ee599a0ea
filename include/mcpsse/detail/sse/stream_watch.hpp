// mcpsse internal: what an observed SSE stream tells the transport's observers.
#pragma once

#include <mcpsse/transport_observer.hpp>
#include <mcpsse/detail/http/observers.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// The observer reports of one SSE stream on one connection: made by the pump only when
/// someone observes (it lives in the pump's frame), and reached from the connection
/// while the pump is parked (events the waker writes directly). Used on the connection's
/// executor only.
class StreamWatch {
public:
    StreamWatch(const Observers& observers, const ConnectionInfo& connection, StreamKind kind,
                std::string_view session_id, bool resumed, std::uint64_t replayed_events)
        : observers_(observers), session_id_(session_id),
          info_{connection, kind, session_id_, replayed_events, resumed} {}

    StreamWatch(const StreamWatch&) = delete;
    StreamWatch& operator=(const StreamWatch&) = delete;

    /// The stream's head went out.
    void open() {
        if (open_) return;
        open_ = true;
        observers_.each_stream([&](TransportObserver& o) { o.on_stream_open(info_); });
    }

    /// `events` events (or a keep-alive) of `bytes` SSE bytes were written.
    void wrote(std::uint64_t events, std::uint64_t bytes, bool keep_alive = false) {
        if (!open_ || (events == 0 && bytes == 0)) return;
        const StreamWrite write{events, bytes, keep_alive};
        observers_.each_stream([&](TransportObserver& o) { o.on_stream_write(info_, write); });
    }

    /// The stream ended on this connection (reported once, and only when it opened).
    void close() {
        if (!open_) return;
        open_ = false;
        observers_.each_stream([&](TransportObserver& o) { o.on_stream_close(info_); });
    }

private:
    const Observers& observers_;
    std::string session_id_;  // a copy: the session may end while its stream is written
    StreamInfo info_;
    bool open_ = false;
};

}  // namespace mcpsse::detail
