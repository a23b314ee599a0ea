// mcpsse: the JSON-RPC 2.0 message model, validation and serialization.
#pragma once

#include <mcpsse/detail/rpc/envelope.hpp>
#include <mcpsse/error.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mcpsse {

/// A JSON-RPC request id: an integer or a string, never null (MCP, basic/index).
using RequestId = std::variant<std::int64_t, std::string>;

/// A request: expects exactly one response carrying the same `id`.
struct Request {
    /// The request id chosen by the sender.
    RequestId id;
    /// The method name, e.g. `tools/call`.
    std::string method;
    /// The `params` member; null when the request had none.
    nlohmann::json params;
};

/// A notification: a method call without an id, never answered.
struct Notification {
    /// The method name, e.g. `notifications/cancelled`.
    std::string method;
    /// The `params` member; null when absent.
    nlohmann::json params;
};

/// A successful response to a request.
struct Response {
    /// The id of the request this answers.
    RequestId id;
    /// The `result` member.
    nlohmann::json result;
};

/// An error response. `id` is empty when the failing message's id could not be read,
/// in which case the `id` member is omitted on the wire (MCP 2025-11-25 schema).
struct ErrorResponse {
    /// The id of the request this answers, if it could be read.
    std::optional<RequestId> id;
    /// The JSON-RPC error code (see `error_code`).
    int code = error_code::internal_error;
    /// A short description of the error.
    std::string message;
    /// Optional structured details; null means "no data member".
    nlohmann::json data;
};

/// Any one JSON-RPC 2.0 message.
using Message = std::variant<Request, Notification, Response, ErrorResponse>;

/// Limits on the JSON text of one message (or batch) received from a peer, enforced
/// while it is parsed, before any value of the refused input is built. They bound the
/// memory a message costs and the recursion that copying, comparing and serializing a
/// parsed value needs (nlohmann/json recurses once per level; 150,000 levels overflow
/// a thread's stack). A text over `max_depth` or `max_values` is a parse error
/// (-32700, `data.limit` naming the limit; HTTP 400 on Streamable HTTP and legacy
/// `/messages`); a batch over `max_batch_size` is an invalid request (-32600).
/// `SseTransportOptions::json_limits` and `StdioOptions::json_limits` carry them.
struct JsonLimits {
    /// Arrays and objects open at once, in levels: the message object is level 1, its
    /// `params` level 2, a tool's `arguments` level 3 (a batch's array adds one). The
    /// default 64 is the default of .NET's System.Text.Json; MCP messages seldom pass
    /// 10 levels, and 64 levels of recursion cost a few KiB of stack.
    std::size_t max_depth = 64;
    /// JSON values in one text (count: every object, array, string, number, boolean
    /// and null; member names are not counted). A DOM value costs 16 bytes plus, for a
    /// structure or string, its own allocation: about 100 bytes at worst (`[{},{},...]`
    /// costs 3 bytes of text per value), so the default bounds one message's parsed
    /// form to about 10 MiB beyond its text.
    std::size_t max_values = 100'000;
    /// Messages in one batch (count; batches exist only under 2025-03-26).
    std::size_t max_batch_size = 1024;
};

/// Options of `parse_messages`.
struct ParseOptions {
    /// Accept a JSON array of messages (a batch). MCP allows batches only under
    /// protocol revision 2025-03-26; otherwise a batch is answered with one
    /// `invalid_request` error.
    bool allow_batches = false;
    /// The largest number of messages accepted in one batch (count); a larger batch is
    /// answered with one `invalid_request` error.
    std::size_t max_batch_size = JsonLimits{}.max_batch_size;
    /// The deepest nesting accepted (levels, see `JsonLimits::max_depth`); deeper
    /// text is a `parse_error`.
    std::size_t max_depth = JsonLimits{}.max_depth;
    /// The most JSON values accepted in one text (count, see `JsonLimits::max_values`);
    /// more is a `parse_error`.
    std::size_t max_values = JsonLimits{}.max_values;

    /// The options enforcing `limits`, with batches allowed or not.
    [[nodiscard]] static ParseOptions with(const JsonLimits& limits, bool allow_batches) noexcept {
        return ParseOptions{allow_batches, limits.max_batch_size, limits.max_depth, limits.max_values};
    }
};

/// The outcome of parsing one JSON text received from the peer.
struct ParseResult {
    /// The valid messages, in the order they appeared.
    std::vector<Message> messages;
    /// One error response to send back for each invalid message (parse errors,
    /// invalid requests), in order of appearance.
    std::vector<ErrorResponse> errors;
    /// True when the text was a JSON array (a batch); the replies to a batch are sent
    /// as one JSON array (JSON-RPC 2.0 section 6).
    bool batch = false;
};

namespace json_rpc {

/// Returns the id as JSON (a number or a string).
[[nodiscard]] inline nlohmann::json id_to_json(const RequestId& id) {
    if (const auto* n = std::get_if<std::int64_t>(&id)) return *n;
    return std::get<std::string>(id);
}

/// Reads an id from JSON: an integer that fits in 64 bits, or a string. Anything
/// else (null, floats, booleans, objects) is not a valid MCP id.
[[nodiscard]] inline std::optional<RequestId> id_from_json(const nlohmann::json& value) {
    if (value.is_number_integer()) {
        if (value.is_number_unsigned() &&
            value.get<std::uint64_t>() >
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return RequestId{value.get<std::int64_t>()};
    }
    if (value.is_string()) return RequestId{value.get<std::string>()};
    return std::nullopt;
}

namespace detail {
using mcpsse::detail::Envelope;
using mcpsse::detail::EnvelopeReader;
using mcpsse::detail::JsonLimitHit;
using mcpsse::detail::JsonShapeCheck;

/// The members of `value` that `validate` checks (moved out of it).
[[nodiscard]] inline Envelope envelope_of(nlohmann::json&& value) {
    Envelope e;
    e.object = value.is_object();
    if (!e.object) return e;
    if (const auto it = value.find("id"); it != value.end()) {
        if (auto id = id_from_json(*it)) {
            if (const auto* n = std::get_if<std::int64_t>(&*id)) {
                e.id = Envelope::IdKind::integer;
                e.id_integer = *n;
            } else {
                e.id = Envelope::IdKind::string;
                e.id_string = std::move(std::get<std::string>(*id));
            }
        } else {
            e.id = it->is_null() ? Envelope::IdKind::null : Envelope::IdKind::invalid;
        }
    }
    if (const auto it = value.find("jsonrpc"); it != value.end())
        e.version_ok = it->is_string() && it->get_ref<const std::string&>() == "2.0";
    if (const auto it = value.find("method"); it != value.end()) {
        e.has_method = true;
        e.method_is_string = it->is_string();
        if (e.method_is_string) e.method = std::move(it->get_ref<std::string&>());
    }
    if (const auto it = value.find("params"); it != value.end()) e.has_params = true, e.params = std::move(*it);
    if (const auto it = value.find("result"); it != value.end()) e.has_result = true, e.result = std::move(*it);
    if (const auto it = value.find("error"); it != value.end()) e.has_error = true, e.error = std::move(*it);
    return e;
}

/// `validate` on the members of a message (see there).
[[nodiscard]] inline std::variant<Message, ErrorResponse> validate_envelope(Envelope&& e) {
    auto invalid = [](std::optional<RequestId> id, std::string message) {
        return ErrorResponse{std::move(id), error_code::invalid_request, std::move(message),
                             nullptr};
    };
    if (!e.object) return invalid(std::nullopt, "Invalid Request: not an object");

    const bool has_id = e.id != Envelope::IdKind::absent;
    std::optional<RequestId> id;
    if (e.id == Envelope::IdKind::integer) id = RequestId{e.id_integer};
    else if (e.id == Envelope::IdKind::string) id = RequestId{std::move(e.id_string)};

    if (!e.version_ok) return invalid(id, "Invalid Request: jsonrpc must be \"2.0\"");

    if (e.has_method) {
        if (!e.method_is_string) return invalid(id, "Invalid Request: method must be a string");
        if (e.has_params && !e.params.is_object() && !e.params.is_array())
            return invalid(id, "Invalid Request: params must be an object or an array");
        if (!has_id) return Message{Notification{std::move(e.method), std::move(e.params)}};
        if (!id) return invalid(std::nullopt, "Invalid Request: id must be a string or an integer");
        return Message{Request{std::move(*id), std::move(e.method), std::move(e.params)}};
    }

    if (e.has_result == e.has_error) return invalid(id, "Invalid Request: expected method, result or error");
    if (e.has_result) {
        if (!id) return invalid(std::nullopt, "Invalid Request: response without a valid id");
        return Message{Response{std::move(*id), std::move(e.result)}};
    }
    nlohmann::json& error = e.error;
    if (!error.is_object()) return invalid(id, "Invalid Request: error must be an object");
    const auto code = error.find("code");
    const auto text = error.find("message");
    if (code == error.end() || !code->is_number_integer() || text == error.end() || !text->is_string())
        return invalid(id, "Invalid Request: error needs an integer code and a string message");
    if (has_id && !id && e.id != Envelope::IdKind::null)
        return invalid(std::nullopt, "Invalid Request: id must be a string or an integer");
    ErrorResponse response{std::move(id), 0, std::move(text->get_ref<std::string&>()), nullptr};
    const auto wide = code->get<std::int64_t>();
    response.code = wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()
                        ? error_code::internal_error
                        : static_cast<int>(wide);
    if (const auto d = error.find("data"); d != error.end()) response.data = std::move(*d);
    return Message{std::move(response)};
}
}  // namespace detail

namespace detail {
// The error for a SAX pass that stopped: a syntax error, or the limit it names.
[[nodiscard]] inline ErrorResponse parse_error_for(JsonLimitHit hit, const ParseOptions& options) {
    switch (hit) {
    case JsonLimitHit::depth:
        return {std::nullopt, error_code::parse_error,
                "Parse error: JSON nested deeper than " + std::to_string(options.max_depth) + " levels",
                {{"limit", "max_depth"}, {"max", options.max_depth}}};
    case JsonLimitHit::values:
        return {std::nullopt, error_code::parse_error,
                "Parse error: more than " + std::to_string(options.max_values) + " JSON values",
                {{"limit", "max_values"}, {"max", options.max_values}}};
    case JsonLimitHit::none:
        break;
    }
    return {std::nullopt, error_code::parse_error, "Parse error", nullptr};
}
}  // namespace detail

/// Validates one parsed JSON value as a JSON-RPC 2.0 message.
///
/// Returns the message, or an `ErrorResponse` with `invalid_request` (-32600) whose id
/// is set when the value carried a readable request id. Checks: an object; `jsonrpc`
/// equal to "2.0"; `method` a string; `params`, when present, an object or array;
/// `id` an integer or string (null is refused, MCP basic/index); a response has
/// exactly one of `result` and `error`; an error object has an integer `code` and a
/// string `message`.
[[nodiscard]] inline std::variant<Message, ErrorResponse> validate(nlohmann::json&& value) {
    return detail::validate_envelope(detail::envelope_of(std::move(value)));
}

/// Parses one JSON text (one message or, when allowed, a batch) received from the peer.
///
/// Never throws for bad input: text that is not valid JSON or not valid UTF-8, or that
/// passes `options.max_depth` or `options.max_values` (checked while parsing, before
/// any value of it is built; the error's `data.limit` names the limit), yields one
/// `parse_error` (-32700) without id; invalid messages yield `invalid_request` (-32600)
/// errors (JSON-RPC 2.0 sections 5 and 6); an empty batch, a batch when
/// `options.allow_batches` is false, or one larger than `options.max_batch_size`
/// yields one `invalid_request` without id. A single message is read without building
/// its object (only `params`, `result` and `error` become JSON); a batch is parsed as a
/// document. Thread-safety: a pure function.
[[nodiscard]] inline ParseResult parse_messages(std::string_view text,
                                                const ParseOptions& options = {}) {
    ParseResult out;
    auto take = [&out](std::variant<Message, ErrorResponse>&& checked) {
        if (auto* message = std::get_if<Message>(&checked))
            out.messages.push_back(std::move(*message));
        else
            out.errors.push_back(std::move(std::get<ErrorResponse>(checked)));
    };
    {
        detail::EnvelopeReader reader(options.max_depth, options.max_values);
        if (nlohmann::json::sax_parse(text, &reader, nlohmann::json::input_format_t::json, /*strict=*/true,
                                      /*ignore_comments=*/false)) {
            take(detail::validate_envelope(std::move(reader.envelope)));
            return out;
        }
        if (!reader.batch) {
            out.errors.push_back(detail::parse_error_for(reader.hit(), options));
            return out;
        }
    }
    {
        // A batch is parsed as a document: check its shape first, so no DOM is built
        // for text over the limits.
        detail::JsonShapeCheck shape(options.max_depth, options.max_values);
        if (!nlohmann::json::sax_parse(text, &shape, nlohmann::json::input_format_t::json, /*strict=*/true,
                                       /*ignore_comments=*/false)) {
            out.errors.push_back(detail::parse_error_for(shape.hit(), options));
            return out;
        }
    }
    nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded()) {
        out.errors.push_back({std::nullopt, error_code::parse_error, "Parse error", nullptr});
        return out;
    }
    // The reader stopped at the text's first value, an array: `document` is that array.
    if (!options.allow_batches) {
        out.errors.push_back({std::nullopt, error_code::invalid_request,
                              "Invalid Request: batches are not supported by this protocol version",
                              nullptr});
        return out;
    }
    if (document.empty() || document.size() > options.max_batch_size) {
        out.errors.push_back({std::nullopt, error_code::invalid_request,
                              document.empty() ? "Invalid Request: empty batch"
                                               : "Invalid Request: batch too large",
                              nullptr});
        return out;
    }
    out.batch = true;
    out.messages.reserve(document.size());
    for (auto& element : document) take(validate(std::move(element)));
    return out;
}

namespace detail {
// Serializes like `value.dump()` with invalid UTF-8 replaced (a host's bad string must
// not throw mid-response), appending to `out`. One serializer per thread is reused:
// `dump()` builds a new one each call, which allocates its output adapter and a
// 512-byte indent buffer and grows a fresh string. (nlohmann's serializer and output
// adapter are the implementation of `dump()`, stable across the 3.x releases.)
inline void append_json(std::string& out, const nlohmann::json& value) {
    static_assert(NLOHMANN_JSON_VERSION_MAJOR == 3, "append_json uses nlohmann/json 3.x's serializer");
    struct Writer {
        std::string buffer;
        nlohmann::detail::serializer<nlohmann::json> serializer{
            nlohmann::detail::output_adapter<char, std::string>(buffer), ' ',
            nlohmann::json::error_handler_t::replace};
    };
    thread_local Writer writer;
    writer.buffer.clear();
    writer.serializer.dump(value, false, false, 0);
    out += writer.buffer;
    if (writer.buffer.capacity() > 64 * 1024) std::string{}.swap(writer.buffer);
}
inline void append_id(std::string& out, const RequestId& id) {
    if (const auto* n = std::get_if<std::int64_t>(&id))
        out += std::to_string(*n);
    else
        append_json(out, std::get<std::string>(id));
}
}  // namespace detail

/// Serializes a message as one compact line of JSON (no newline inside, since JSON
/// escapes control characters), with members in the order jsonrpc, id, method/result/
/// error, params. Invalid UTF-8 in host-supplied strings is replaced by U+FFFD rather
/// than throwing. Thread-safety: a pure function.
[[nodiscard]] inline std::string serialize(const Message& message) {
    std::string out;
    out.reserve(256);  // most replies fit: one allocation
    out += R"({"jsonrpc":"2.0")";
    std::visit(
        [&out](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, Request>) {
                out += R"(,"id":)";
                detail::append_id(out, m.id);
            }
            if constexpr (std::is_same_v<T, Request> || std::is_same_v<T, Notification>) {
                out += R"(,"method":)";
                detail::append_json(out, m.method);
                if (!m.params.is_null()) {
                    out += R"(,"params":)";
                    detail::append_json(out, m.params);
                }
            } else if constexpr (std::is_same_v<T, Response>) {
                out += R"(,"id":)";
                detail::append_id(out, m.id);
                out += R"(,"result":)";
                detail::append_json(out, m.result);
            } else if constexpr (std::is_same_v<T, ErrorResponse>) {
                if (m.id) {
                    out += R"(,"id":)";
                    detail::append_id(out, *m.id);
                }
                out += R"(,"error":{"code":)";
                out += std::to_string(m.code);
                out += R"(,"message":)";
                detail::append_json(out, m.message);
                if (!m.data.is_null()) {
                    out += R"(,"data":)";
                    detail::append_json(out, m.data);
                }
                out += '}';
            }
        },
        message);
    out += '}';
    return out;
}

/// Joins already serialized messages into one JSON array (the reply to a batch).
[[nodiscard]] inline std::string serialize_batch(const std::vector<std::string>& messages) {
    std::string out{"["};
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (i != 0) out += ',';
        out += messages[i];
    }
    out += ']';
    return out;
}

}  // namespace json_rpc
}  // namespace mcpsse
