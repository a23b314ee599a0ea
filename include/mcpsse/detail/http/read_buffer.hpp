// mcpsse internal: a connection's receive buffer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace mcpsse::detail {

/// The bytes received on a connection and not yet parsed: reads append at the end,
/// the HTTP parser consumes from the front.
///
/// Unlike a `std::string` grown with `resize`, making room for a read does not
/// zero-fill it, and consuming does not move the rest: the unread bytes move to the
/// front only when a read needs the room. Storage is kept across keep-alive requests
/// and freed with `release` (an idle stream keeps none). Thread-safety: none; one
/// buffer per connection.
class ReadBuffer {
public:
    /// True when no unread bytes are buffered.
    [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }
    /// Number of unread bytes.
    [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
    /// Bytes of storage held (unread bytes plus free room).
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    /// The unread bytes; valid until the next `prepare`, `consume` or `release`.
    [[nodiscard]] std::string_view view() const noexcept { return {data_.get() + begin_, size()}; }

    /// Room for `n` more bytes after the unread ones: fill at most `n` bytes at the
    /// returned pointer, then `commit` how many were written. Grows the storage (at
    /// least doubling) when it has less than `n` bytes free. Throws `std::bad_alloc`.
    [[nodiscard]] char* prepare(std::size_t n) {
        if (capacity_ - end_ >= n) return data_.get() + end_;
        const std::size_t unread = size();
        if (capacity_ - unread >= n) {
            std::memmove(data_.get(), data_.get() + begin_, unread);
        } else {
            const std::size_t grown = std::max(unread + n, 2 * capacity_);
            auto bigger = std::make_unique_for_overwrite<char[]>(grown);
            if (unread != 0) std::memcpy(bigger.get(), data_.get() + begin_, unread);
            data_ = std::move(bigger);
            capacity_ = grown;
        }
        begin_ = 0;
        end_ = unread;
        return data_.get() + end_;
    }

    /// Marks `n` bytes written at `prepare`'s pointer as received (`n` at most what was
    /// prepared).
    void commit(std::size_t n) noexcept { end_ += n; }

    /// Drops the first `n` unread bytes (`n` at most `size()`).
    void consume(std::size_t n) noexcept {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }

    /// Frees the storage when no unread bytes are left (no effect otherwise).
    void release() noexcept {
        if (!empty()) return;
        data_.reset();
        capacity_ = 0;
    }

private:
    std::unique_ptr<char[]> data_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace mcpsse::detail
