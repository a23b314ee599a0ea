// Unit tests of mcpsse::detail::ReadBuffer, the connection receive buffer.
#include "support/catch.hpp"

#include "mcpsse/detail/http/read_buffer.hpp"

#include <cstring>
#include <string>
#include <string_view>

using mcpsse::detail::ReadBuffer;

namespace {

// Appends `bytes` through prepare/commit, as a socket read would.
void receive(ReadBuffer& buffer, std::string_view bytes, std::size_t room) {
    REQUIRE(bytes.size() <= room);
    char* at = buffer.prepare(room);
    std::memcpy(at, bytes.data(), bytes.size());
    buffer.commit(bytes.size());
}

}  // namespace

TEST_CASE("read buffer: reads append, consume drops from the front", "[read_buffer]") {
    ReadBuffer buffer;
    CHECK(buffer.empty());
    CHECK(buffer.capacity() == 0);
    receive(buffer, "GET / HTTP/1.1\r\n", 64);
    CHECK(buffer.view() == "GET / HTTP/1.1\r\n");
    receive(buffer, "Host: h\r\n", 64);
    CHECK(buffer.view() == "GET / HTTP/1.1\r\nHost: h\r\n");
    buffer.consume(4);
    CHECK(buffer.view() == "/ HTTP/1.1\r\nHost: h\r\n");
    CHECK(buffer.size() == 21);
    buffer.consume(buffer.size());
    CHECK(buffer.empty());
    CHECK(buffer.capacity() >= 64);  // storage kept for the next request
}

TEST_CASE("read buffer: room is made by moving unread bytes before growing", "[read_buffer]") {
    ReadBuffer buffer;
    receive(buffer, std::string(60, 'a'), 64);
    const std::size_t capacity = buffer.capacity();
    buffer.consume(50);
    receive(buffer, "bcdefghij", capacity - 10);  // fits only after moving the 10 unread bytes
    CHECK(buffer.capacity() == capacity);
    CHECK(buffer.view() == std::string(10, 'a') + "bcdefghij");
}

TEST_CASE("read buffer: growth keeps the unread bytes and at least doubles", "[read_buffer]") {
    ReadBuffer buffer;
    receive(buffer, "0123456789", 16);
    const std::size_t capacity = buffer.capacity();
    buffer.consume(2);
    receive(buffer, "abc", capacity);  // 8 unread + capacity does not fit
    CHECK(buffer.capacity() >= 2 * capacity);
    CHECK(buffer.view() == "23456789abc");
}

TEST_CASE("read buffer: release frees the storage only when nothing is unread", "[read_buffer]") {
    ReadBuffer buffer;
    receive(buffer, "pipelined", 512);
    buffer.release();
    CHECK(buffer.view() == "pipelined");  // unread bytes are never dropped
    CHECK(buffer.capacity() >= 512);
    buffer.consume(buffer.size());
    buffer.release();
    CHECK(buffer.capacity() == 0);
    receive(buffer, "again", 8);
    CHECK(buffer.view() == "again");
}
