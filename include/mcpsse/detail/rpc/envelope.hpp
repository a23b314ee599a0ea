// mcpsse: the members of one JSON-RPC 2.0 message object, read straight from its text.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace mcpsse::detail {

/// What `json_rpc::validate` needs of a message object (JSON-RPC 2.0 section 4-5):
/// `jsonrpc`, `id` and `method` as scalars, `params`, `result` and `error` as JSON. A
/// member that occurs twice keeps its last value, as a JSON object does in nlohmann/json.
struct Envelope {
    /// How the `id` member was read.
    enum class IdKind : unsigned char {
        absent,    ///< no `id` member
        integer,   ///< an integer that fits in 64 signed bits: `id_integer`
        string,    ///< a string: `id_string`
        null,      ///< `null`
        invalid,   ///< anything else (a float, a boolean, a structure, an integer > 2^63-1)
    };
    /// True when the JSON text was an object (else nothing below was read).
    bool object = false;
    /// True when `jsonrpc` is the string "2.0".
    bool version_ok = false;
    /// True when there is a `method` member.
    bool has_method = false;
    /// True when `method` is a string; its value is then in `method`.
    bool method_is_string = false;
    /// The method name, when `method_is_string`.
    std::string method;
    /// How `id` was read; its value is in `id_integer` or `id_string`.
    IdKind id = IdKind::absent;
    /// The id when `id == IdKind::integer`.
    std::int64_t id_integer = 0;
    /// The id when `id == IdKind::string`.
    std::string id_string;
    /// True when the message has a `params`, `result` or `error` member.
    bool has_params = false;
    bool has_result = false;
    bool has_error = false;
    /// The values of `params`, `result` and `error` (null when absent).
    nlohmann::json params;
    nlohmann::json result;
    nlohmann::json error;
};

/// Which structural limit stopped a SAX pass (`EnvelopeReader`, `JsonShapeCheck`).
enum class JsonLimitHit : unsigned char {
    none,    ///< no limit was reached
    depth,   ///< arrays and objects nested deeper than the maximum depth
    values,  ///< more JSON values than the maximum count
};

/// The depth and value-count bookkeeping shared by the SAX passes: `open()` before a
/// structure's content, `close()` after it, `value()` for every scalar. Each returns
/// false once a limit is passed, which stops nlohmann/json's parser before it reads
/// further (and before any DOM value of deeper or further input exists).
class JsonShapeLimits {
public:
    /// `max_depth`: structures open at once (levels; the top-level value is level 1).
    /// `max_values`: JSON values in the text (objects, arrays and scalars; keys are not
    /// values).
    JsonShapeLimits(std::size_t max_depth, std::size_t max_values) noexcept
        : max_depth_(max_depth), max_values_(max_values) {}

    /// The limit that stopped the pass, if any.
    [[nodiscard]] JsonLimitHit hit() const noexcept { return hit_; }

protected:
    bool count_value() noexcept {
        if (++values_ <= max_values_) return true;
        hit_ = JsonLimitHit::values;
        return false;
    }
    bool count_open() noexcept {
        if (!count_value()) return false;
        if (++levels_ <= max_depth_) return true;
        hit_ = JsonLimitHit::depth;
        return false;
    }
    void count_close() noexcept { --levels_; }

private:
    std::size_t max_depth_;
    std::size_t max_values_;
    std::size_t levels_ = 0;
    std::size_t values_ = 0;
    JsonLimitHit hit_ = JsonLimitHit::none;
};

/// A SAX handler that only checks a JSON text's shape against `JsonShapeLimits` (used
/// before a batch is parsed as a document). Not thread-safe: one per parse.
class JsonShapeCheck : public JsonShapeLimits {
public:
    using json = nlohmann::json;
    using JsonShapeLimits::JsonShapeLimits;

    bool null() { return count_value(); }
    bool boolean(bool) { return count_value(); }
    bool number_integer(json::number_integer_t) { return count_value(); }
    bool number_unsigned(json::number_unsigned_t) { return count_value(); }
    bool number_float(json::number_float_t, const json::string_t&) { return count_value(); }
    bool string(json::string_t&) { return count_value(); }
    bool binary(json::binary_t&) { return count_value(); }
    bool start_object(std::size_t) { return count_open(); }
    bool start_array(std::size_t) { return count_open(); }
    bool end_object() {
        count_close();
        return true;
    }
    bool end_array() {
        count_close();
        return true;
    }
    bool key(json::string_t&) { return true; }
    bool parse_error(std::size_t, const std::string&, const json::exception&) { return false; }
};

/// A SAX handler for `nlohmann::json::sax_parse` that reads one JSON-RPC message object
/// into an `Envelope` without building the object itself: the envelope scalars are
/// taken as they come, `params`, `result` and `error` are built as JSON, and other
/// members are checked for syntax only. A top-level array (a batch) stops the parse
/// with `batch` set, so the caller can parse it as a document instead; a syntax error
/// stops it with `batch` false; nesting deeper than `max_depth` or more than
/// `max_values` values stop it with `hit()` saying which. Not thread-safe: one reader
/// per parse.
class EnvelopeReader : public JsonShapeLimits {
public:
    using json = nlohmann::json;

    /// A reader that enforces `max_depth` (levels) and `max_values` (count).
    EnvelopeReader(std::size_t max_depth, std::size_t max_values) noexcept : JsonShapeLimits(max_depth, max_values) {}

    /// The members read (valid once `sax_parse` returned true).
    Envelope envelope;
    /// True when the parse stopped because the text is an array.
    bool batch = false;

    bool null() { return scalar(json(nullptr), Envelope::IdKind::null); }
    bool boolean(bool value) { return scalar(json(value), Envelope::IdKind::invalid); }
    bool number_integer(json::number_integer_t value) {
        if (depth_ == 1 && member_ == Member::id) {
            envelope.id = Envelope::IdKind::integer;
            envelope.id_integer = value;
            return count_value();
        }
        return scalar(json(value), Envelope::IdKind::invalid);
    }
    bool number_unsigned(json::number_unsigned_t value) {
        if (depth_ == 1 && member_ == Member::id) {
            if (value > static_cast<json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) {
                envelope.id = Envelope::IdKind::invalid;
            } else {
                envelope.id = Envelope::IdKind::integer;
                envelope.id_integer = static_cast<std::int64_t>(value);
            }
            return count_value();
        }
        return scalar(json(value), Envelope::IdKind::invalid);
    }
    bool number_float(json::number_float_t value, const json::string_t& /*text*/) {
        return scalar(json(value), Envelope::IdKind::invalid);
    }
    bool string(json::string_t& value) {
        if (depth_ == 1) {
            switch (member_) {
            case Member::id:
                envelope.id = Envelope::IdKind::string;
                envelope.id_string = value;
                return count_value();
            case Member::jsonrpc:
                envelope.version_ok = value == "2.0";
                return count_value();
            case Member::method:
                envelope.method_is_string = true;
                envelope.method = value;
                return count_value();
            default:
                break;
            }
        }
        return scalar(json(value), Envelope::IdKind::invalid);
    }
    bool binary(json::binary_t& value) { return scalar(json(value), Envelope::IdKind::invalid); }

    bool start_object(std::size_t /*elements*/) { return count_open() && open(json::value_t::object); }
    bool start_array(std::size_t /*elements*/) {
        if (depth_ == 0) {
            batch = true;
            return false;
        }
        return count_open() && open(json::value_t::array);
    }
    bool end_object() { return close(); }
    bool end_array() { return close(); }

    bool key(json::string_t& name) {
        if (depth_ == 1) {
            select(name);
        } else if (building()) {
            pending_ = &(*top())[name];
        }
        return true;
    }

    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/, const json::exception& /*error*/) {
        return false;
    }

private:
    enum class Member : unsigned char { other, jsonrpc, id, method };  // the members read as scalars

    // The member a key at depth 1 names (compared by length first: one comparison per
    // key); its earlier value, if any, is forgotten.
    void select(const json::string_t& name) {
        member_ = Member::other;
        target_ = nullptr;
        switch (name.size()) {
        case 2:
            if (name == "id") {
                member_ = Member::id;
                envelope.id = Envelope::IdKind::invalid;  // set by the value
            }
            break;
        case 5:
            if (name == "error") build(envelope.has_error, envelope.error);
            break;
        case 6:
            if (name == "method") {
                member_ = Member::method;
                envelope.has_method = true;
                envelope.method_is_string = false;
                envelope.method.clear();
            } else if (name == "params") {
                build(envelope.has_params, envelope.params);
            } else if (name == "result") {
                build(envelope.has_result, envelope.result);
            }
            break;
        case 7:
            if (name == "jsonrpc") {
                member_ = Member::jsonrpc;
                envelope.version_ok = false;
            }
            break;
        default:
            break;
        }
    }

    // The member being read is `params`, `result` or `error`: its value is built as JSON.
    void build(bool& present, json& value) noexcept {
        present = true;
        target_ = &value;
    }

    // True while the value being read belongs to params, result or error.
    [[nodiscard]] bool building() const noexcept { return target_ != nullptr && depth_ >= 1; }

    // A scalar: the top-level value (then not an object), a member's value or part of one.
    bool scalar(json&& value, Envelope::IdKind id_kind) {
        if (!count_value()) return false;
        if (depth_ == 0) return true;  // a top-level scalar: envelope.object stays false
        if (depth_ == 1) {
            if (member_ == Member::id) envelope.id = id_kind;
            if (target_ != nullptr) *target_ = std::move(value);
            return true;
        }
        if (building()) place(std::move(value));
        return true;
    }

    bool open(json::value_t type) {
        if (depth_ == 0) {
            envelope.object = true;
        } else if (depth_ == 1 && target_ != nullptr) {
            *target_ = json(type);
            push(target_);
        } else if (depth_ >= 2 && building()) {
            push(place(json(type)));
        }
        // jsonrpc, id or method as a structure: version_ok, method_is_string stay false
        // and id stays invalid; its content, like another member's, is only checked.
        ++depth_;
        return true;
    }

    bool close() {
        count_close();
        --depth_;
        if (depth_ >= 1 && building()) pop();
        return true;
    }

    // Adds `value` to the innermost open structure being built; returns where it went.
    json* place(json&& value) {
        json* parent = top();
        if (parent->is_array()) {
            parent->push_back(std::move(value));
            return &parent->back();
        }
        *pending_ = std::move(value);
        return pending_;
    }

    // The open structures being built, innermost last: a few inline, deeper ones in a vector.
    void push(json* value) {
        if (open_count_ < inline_open_.size()) inline_open_[open_count_] = value;
        else deep_open_.push_back(value);
        ++open_count_;
    }
    void pop() {
        --open_count_;
        if (open_count_ >= inline_open_.size()) deep_open_.pop_back();
    }
    [[nodiscard]] json* top() const {
        const std::size_t i = open_count_ - 1;
        return i < inline_open_.size() ? inline_open_[i] : deep_open_.back();
    }

    std::size_t depth_ = 0;  // structures open around the current event (1: inside the message)
    Member member_ = Member::other;
    json* target_ = nullptr;   // the Envelope member being built, if any
    json* pending_ = nullptr;  // the object element the last key selected
    std::array<json*, 16> inline_open_{};
    std::vector<json*> deep_open_;
    std::size_t open_count_ = 0;
};

}  // namespace mcpsse::detail
