// libFuzzer target: JSON-RPC 2.0 parsing and validation (include/mcpsse/json_rpc.hpp).
//
// Invariants, checked for arbitrary bytes with batches both allowed and refused:
// parsing never throws; every input yields at least one message or one error; an
// error is -32700 (without id) or -32600; a batch is reported only when allowed;
// every valid message serializes to one line of JSON that parses back to a message
// of the same kind whose serialization is identical; a text that is not a batch gives
// what `validate` gives for the whole parsed document (the single-message path reads
// the object without building it). The structural limits (ParseOptions::max_depth,
// max_values) are checked against an independent count of the text's nesting and
// values: a text that passes one (in the order the SAX events come, stopping at a
// syntax error) gives exactly one -32700 naming that limit in `data.limit`, any other
// text no limit error (checklist L1); no DOM is built for text over the limits.
// Violations trap.
//
// Runs with tests/fuzz/json_rpc.dict and the flags in json_rpc.options (-max_len=1048576)
// so that deep and wide inputs are reachable; tests/fuzz/corpus/json_rpc/ has seeds
// nested 64, 65, 201 and 70,001 levels deep and with 3,005 and 100,005 values.
#include <mcpsse/json_rpc.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void run(std::string_view text, bool allow_batches) {
    const auto parsed = mcpsse::json_rpc::parse_messages(text, {allow_batches, 64});
    check(!parsed.messages.empty() || !parsed.errors.empty());
    check(allow_batches || !parsed.batch);
    for (const auto& error : parsed.errors) {
        check(error.code == mcpsse::error_code::parse_error || error.code == mcpsse::error_code::invalid_request);
        if (error.code == mcpsse::error_code::parse_error) check(!error.id.has_value());
    }
    for (const auto& message : parsed.messages) {
        const std::string line = mcpsse::json_rpc::serialize(message);
        check(line.find('\n') == std::string::npos);
        const auto again = mcpsse::json_rpc::parse_messages(line);
        check(again.errors.empty() && again.messages.size() == 1);
        check(again.messages.front().index() == message.index());
        check(mcpsse::json_rpc::serialize(again.messages.front()) == line);
    }
}

/// Which of ParseOptions' default limits a text passes first, counted independently of
/// the parser: every object, array and scalar is a value (member names are not), the
/// top-level value is level 1. Counting stops at the first limit passed or at a syntax
/// error, as the parser does.
class LimitCount {
public:
    using json = nlohmann::json;

    /// The limit passed: "max_depth", "max_values", or empty for none.
    std::string_view passed;

    bool null() { return value(); }
    bool boolean(bool) { return value(); }
    bool number_integer(json::number_integer_t) { return value(); }
    bool number_unsigned(json::number_unsigned_t) { return value(); }
    bool number_float(json::number_float_t, const json::string_t&) { return value(); }
    bool string(json::string_t&) { return value(); }
    bool binary(json::binary_t&) { return value(); }
    bool start_object(std::size_t) { return open(); }
    bool start_array(std::size_t) { return open(); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(json::string_t&) { return true; }
    bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }

private:
    bool value() {
        if (++values_ <= limits_.max_values) return true;
        passed = "max_values";
        return false;
    }
    bool open() {
        if (!value()) return false;
        if (++levels_ <= limits_.max_depth) return true;
        passed = "max_depth";
        return false;
    }
    bool close() {
        --levels_;
        return true;
    }

    mcpsse::ParseOptions limits_{};
    std::size_t levels_ = 0;
    std::size_t values_ = 0;
};

/// True when `error` reports a structural limit (`data.limit` is set).
bool is_limit_error(const mcpsse::ErrorResponse& error) {
    return error.data.is_object() && error.data.contains("limit");
}

// The limits against an independent count; then, for text within them, the
// single-message path against validate() on the document: same outcome, same text.
void compare_with_document(std::string_view text) {
    LimitCount count;
    (void)nlohmann::json::sax_parse(text, &count, nlohmann::json::input_format_t::json, true, false);
    const auto parsed = mcpsse::json_rpc::parse_messages(text);
    check(parsed.messages.size() + parsed.errors.size() == 1);
    if (!count.passed.empty()) {
        check(parsed.errors.size() == 1);
        const auto& error = parsed.errors.front();
        check(error.code == mcpsse::error_code::parse_error && !error.id.has_value());
        check(is_limit_error(error) && error.data["limit"] == count.passed);
        return;  // no DOM for text over the limits: nlohmann/json recurses per level
    }
    for (const auto& error : parsed.errors) check(!is_limit_error(error));

    nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
    if (!document.is_discarded() && document.is_array()) return;  // a batch: parsed as a document anyway
    if (document.is_discarded()) {
        check(parsed.errors.size() == 1 && parsed.errors.front().code == mcpsse::error_code::parse_error);
        return;
    }
    auto checked = mcpsse::json_rpc::validate(std::move(document));
    const mcpsse::Message expected = std::holds_alternative<mcpsse::Message>(checked)
                                         ? std::get<mcpsse::Message>(std::move(checked))
                                         : mcpsse::Message{std::get<mcpsse::ErrorResponse>(std::move(checked))};
    const mcpsse::Message got = parsed.messages.empty() ? mcpsse::Message{parsed.errors.front()}
                                                        : parsed.messages.front();
    check(got.index() == expected.index());
    check(mcpsse::json_rpc::serialize(got) == mcpsse::json_rpc::serialize(expected));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    run(text, false);
    run(text, true);
    compare_with_document(text);
    return 0;
}
