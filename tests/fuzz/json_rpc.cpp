// libFuzzer target: JSON-RPC 2.0 parsing and validation (include/mcpsse/json_rpc.hpp).
//
// Invariants, checked for arbitrary bytes with batches both allowed and refused:
// parsing never throws; every input yields at least one message or one error; an
// error is -32700 (without id) or -32600; a batch is reported only when allowed;
// every valid message serializes to one line of JSON that parses back to a message
// of the same kind whose serialization is identical; a text that is not a batch gives
// what `validate` gives for the whole parsed document (the single-message path reads
// the object without building it). Violations trap.
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

// The single-message path against validate() on the document: same outcome, same text.
void compare_with_document(std::string_view text) {
    nlohmann::json document = nlohmann::json::parse(text, nullptr, false);
    if (!document.is_discarded() && document.is_array()) return;  // a batch: parsed as a document anyway
    const auto parsed = mcpsse::json_rpc::parse_messages(text);
    check(parsed.messages.size() + parsed.errors.size() == 1);
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
