// mcpsse internal: incremental decoder of a chunked request body (RFC 9112 §7.1).
#pragma once

#include <mcpsse/http_limits.hpp>
#include <mcpsse/detail/http/chars.hpp>
#include <mcpsse/detail/http/error.hpp>
#include <mcpsse/detail/http/parse_result.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mcpsse::detail {

/// Decodes the chunked framing of one request body as its bytes arrive: chunk data is
/// appended to the body, chunk extensions are skipped (bounded by
/// `HttpLimits::max_chunk_extension_bytes`), trailer fields are validated and discarded
/// (bounded by `HttpLimits::max_header_bytes`). Chunk sizes count against
/// `HttpLimits::max_body_bytes` before their data is read.
///
/// Feeding contract: pass the bytes after those consumed so far; each call consumes
/// what it decoded (chunk data in bulk, framing byte by byte). After `complete` or
/// `error` the decoder must be `reset` before the next body.
///
/// Thread-safety: none; one decoder per parser.
class ChunkedBodyDecoder {
public:
    /// Decodes as much of `data` as possible, appending chunk data to `body`. Returns
    /// `need_more` (all of `data` consumed), `complete` (the last chunk and trailer
    /// section ended; bytes after `consumed` belong to the next request) or `error`
    /// (`consumed`: the bytes before the offending one; `error`: an `HttpError`).
    [[nodiscard]] ParseResult decode(std::string_view data, std::string& body, const HttpLimits& limits) {
        std::size_t i = 0;
        while (i < data.size()) {
            const char c = data[i];
            switch (state_) {
            case State::size: {
                const int digit = hex_value(c);
                if (digit >= 0) {
                    if (++size_digits_ > 16) {
                        return fail(HttpError::invalid_chunked_encoding, i);  // would overflow 64 bits
                    }
                    chunk_remaining_ = chunk_remaining_ * 16 + static_cast<std::uint64_t>(digit);
                    if (chunk_remaining_ > limits.max_body_bytes - body.size()) {
                        return fail(HttpError::body_too_large, i);
                    }
                    ++i;
                } else if (size_digits_ > 0 && (c == ';' || is_ows(c))) {
                    state_ = State::extension;
                    extension_started_ = false;
                } else if (size_digits_ > 0 && c == '\r') {
                    state_ = State::size_lf;
                    ++i;
                } else {
                    return fail(HttpError::invalid_chunked_encoding, i);
                }
                break;
            }
            case State::extension:
                // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): skipped,
                // but it must start with ";" and hold no control bytes.
                if (c == '\r') {
                    if (!extension_started_) {
                        return fail(HttpError::invalid_chunked_encoding, i);
                    }
                    state_ = State::size_lf;
                } else if (!is_field_value_char(static_cast<unsigned char>(c)) ||
                           (!extension_started_ && c != ';' && !is_ows(c))) {
                    return fail(HttpError::invalid_chunked_encoding, i);
                } else if (++extension_bytes_ > limits.max_chunk_extension_bytes) {
                    return fail(HttpError::chunk_extension_too_large, i);
                } else if (c == ';') {
                    extension_started_ = true;
                }
                ++i;
                break;
            case State::size_lf:
                if (c != '\n') {
                    return fail(HttpError::invalid_chunked_encoding, i);
                }
                ++i;
                size_digits_ = 0;
                state_ = chunk_remaining_ == 0 ? State::trailer_start : State::data;
                break;
            case State::data: {
                const auto take = static_cast<std::size_t>(
                    std::min<std::uint64_t>(chunk_remaining_, data.size() - i));
                body.append(data.data() + i, take);
                i += take;
                chunk_remaining_ -= take;
                if (chunk_remaining_ == 0) {
                    state_ = State::data_cr;
                }
                break;
            }
            case State::data_cr:
                if (c != '\r') {
                    return fail(HttpError::invalid_chunked_encoding, i);
                }
                ++i;
                state_ = State::data_lf;
                break;
            case State::data_lf:
                if (c != '\n') {
                    return fail(HttpError::invalid_chunked_encoding, i);
                }
                ++i;
                state_ = State::size;
                break;
            case State::trailer_start:
            case State::trailer_name:
            case State::trailer_value:
            case State::trailer_lf:
            case State::last_lf:
                if (++trailer_bytes_ > limits.max_header_bytes) {
                    return fail(HttpError::header_too_large, i);
                }
                if (!step_trailer(c)) {
                    return fail(HttpError::invalid_chunked_encoding, i);
                }
                ++i;
                if (state_ == State::done) {
                    return {ParseStatus::complete, i, {}};
                }
                break;
            case State::done:
                return {ParseStatus::complete, i, {}};
            }
        }
        return {ParseStatus::need_more, i, {}};
    }

    /// Forgets the body being decoded, for the next one.
    void reset() noexcept { *this = ChunkedBodyDecoder{}; }

private:
    enum class State {
        size, extension, size_lf, data, data_cr, data_lf,
        trailer_start, trailer_name, trailer_value, trailer_lf, last_lf, done
    };

    static ParseResult fail(HttpError e, std::size_t consumed) noexcept {
        return {ParseStatus::error, consumed, e};
    }

    /// Advances the trailer-section state machine (RFC 9112 §7.1.2) by one byte;
    /// false on a malformed trailer field.
    bool step_trailer(char c) noexcept {
        switch (state_) {
        case State::trailer_start:
            if (c == '\r') {
                state_ = State::last_lf;
                return true;
            }
            state_ = State::trailer_name;
            return is_tchar(static_cast<unsigned char>(c));  // also rejects obs-fold
        case State::trailer_name:
            if (c == ':') {
                state_ = State::trailer_value;
                return true;
            }
            return is_tchar(static_cast<unsigned char>(c));
        case State::trailer_value:
            if (c == '\r') {
                state_ = State::trailer_lf;
                return true;
            }
            return is_field_value_char(static_cast<unsigned char>(c));
        case State::trailer_lf:
            state_ = State::trailer_start;
            return c == '\n';
        case State::last_lf:
            if (c != '\n') {
                return false;
            }
            state_ = State::done;
            return true;
        default:
            return false;
        }
    }

    State state_ = State::size;
    std::uint64_t chunk_remaining_ = 0;
    std::size_t size_digits_ = 0;
    std::size_t extension_bytes_ = 0;
    bool extension_started_ = false;
    std::size_t trailer_bytes_ = 0;
};

}  // namespace mcpsse::detail
