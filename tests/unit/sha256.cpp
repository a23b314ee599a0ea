// Unit tests of mcpsse::detail::Sha256 (FIPS 180-4) and hmac_sha256_hex (RFC 2104),
// against the published FIPS 180-4 / NIST examples and every RFC 4231 test case
// (checklist L4).
#include "support/catch.hpp"

#include "mcpsse/detail/util/sha256.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace mcpsse::detail;

namespace {

/// `count` copies of the byte `byte`.
std::string bytes(std::size_t count, unsigned char byte) { return std::string(count, static_cast<char>(byte)); }

/// The bytes 0x01, 0x02, ... 0x19: the 25-byte key of RFC 4231 test case 4.
std::string counting_key() {
    std::string key;
    for (int b = 0x01; b <= 0x19; ++b) key.push_back(static_cast<char>(b));
    return key;
}

/// A digest as lowercase hex.
std::string hex(const std::array<std::uint8_t, 32>& digest) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const auto byte : digest) {
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 15]);
    }
    return out;
}

/// The SHA-256 of `data` fed in one update, as lowercase hex.
std::string sha256_hex(std::string_view data) {
    Sha256 hash;
    hash.update(data);
    return hex(hash.finish());
}

/// The SHA-256 of `data` fed in consecutive pieces whose sizes cycle through
/// `sizes` (an empty piece included when `sizes` has a 0), as lowercase hex.
std::string sha256_hex_in_pieces(std::string_view data, const std::vector<std::size_t>& sizes) {
    Sha256 hash;
    for (std::size_t i = 0; !data.empty(); ++i) {
        const std::size_t n = std::min(sizes[i % sizes.size()], data.size());
        hash.update(data.substr(0, n));
        data.remove_prefix(n);
    }
    return hex(hash.finish());
}

/// The FIPS 180-4 two-block example message (448 bits).
constexpr std::string_view two_block_message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

}  // namespace

TEST_CASE("sha256: the FIPS 180-4 examples and the empty message", "[sha256]") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex(two_block_message) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256: messages around the padding boundaries", "[sha256]") {
    // 55 bytes is the longest message whose padding fits in its one block; 56 to 63
    // need a second block for the length; 64 fills a block exactly. Expected values
    // computed with OpenSSL (`sha256sum` gives the same).
    struct Case {
        std::size_t length;
        std::string_view digest;
    };
    for (const auto& [length, digest] : {
             Case{55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
             Case{56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
             Case{57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
             Case{63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
             Case{64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
             Case{65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
             Case{119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
             Case{120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
         }) {
        INFO("length " << length);
        CHECK(sha256_hex(std::string(length, 'a')) == digest);
    }
}

TEST_CASE("sha256: data fed in pieces of any size gives the digest of one update", "[sha256]") {
    const std::string million(1'000'000, 'a');
    const std::string_view million_digest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    CHECK(sha256_hex_in_pieces(million, {1, 2, 3, 5, 8, 13, 21, 34, 55, 63, 64, 65, 127, 128, 129, 1000}) ==
          million_digest);
    CHECK(sha256_hex_in_pieces(million, {0, 4096, 0, 1}) == million_digest);
    CHECK(sha256_hex_in_pieces(two_block_message, {1}) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    // Every split of a 200-byte message of varied bytes into two pieces, and into
    // pieces of every fixed size.
    std::string varied;
    for (std::size_t i = 0; i < 200; ++i) varied.push_back(static_cast<char>((i * 37 + 11) & 0xff));
    const std::string whole = sha256_hex(varied);
    for (std::size_t cut = 0; cut <= varied.size(); ++cut) {
        Sha256 hash;
        hash.update(std::string_view(varied).substr(0, cut));
        hash.update(std::string_view(varied).substr(cut));
        INFO("cut at " << cut);
        CHECK(hex(hash.finish()) == whole);
    }
    for (std::size_t size = 1; size <= varied.size(); ++size) {
        INFO("pieces of " << size);
        CHECK(sha256_hex_in_pieces(varied, {size}) == whole);
    }
}

TEST_CASE("L4: hmac-sha256: RFC 4231 test cases 1-7", "[sha256][hmac]") {
    // Case 1: a 20-byte key.
    CHECK(hmac_sha256_hex(bytes(20, 0x0b), "Hi There") ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // Case 2: a key shorter than the output.
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Case 3: 50 bytes of 0xdd under a 20-byte 0xaa key.
    CHECK(hmac_sha256_hex(bytes(20, 0xaa), bytes(50, 0xdd)) ==
          "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    // Case 4: 50 bytes of 0xcd under the 25-byte key 0x01..0x19.
    CHECK(hmac_sha256_hex(counting_key(), bytes(50, 0xcd)) ==
          "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    // Case 5: the output truncated to 128 bits (32 hex digits).
    CHECK(hmac_sha256_hex(bytes(20, 0x0c), "Test With Truncation").substr(0, 32) ==
          "a3b6167473100ee06e0c796c2955552b");
    // Case 6: a 131-byte key, longer than the 64-byte block, is hashed first.
    CHECK(hmac_sha256_hex(bytes(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    // Case 7: a 131-byte key and a message longer than the block.
    CHECK(hmac_sha256_hex(bytes(131, 0xaa),
                          "This is a test using a larger than block-size key and a larger than block-size data. "
                          "The key needs to be hashed before being used by the HMAC algorithm.") ==
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("hmac-sha256: keys of exactly one block and one byte more", "[sha256][hmac]") {
    // A 64-byte key is used as is; a 65-byte key is hashed first. Expected values
    // computed with `openssl dgst -sha256 -mac HMAC`.
    CHECK(hmac_sha256_hex(bytes(64, 0x4b), "msg") ==
          "2b8a95286e6947c38c167443fc55c4f4f9462f59bf5aca159bc6d7ba69f2150f");
    CHECK(hmac_sha256_hex(bytes(65, 0x4b), "msg") ==
          "1c45c2e7accd193636c385b7cae549fe351aa313a52c88bdb05a5bf0cd5e9213");
    // An empty message.
    CHECK(hmac_sha256_hex("key", "") == "5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0");
}
