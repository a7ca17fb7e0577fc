#pragma once
// Whole JSON containers cut out of a stream and parsed by simdjson: the
// fast path of the streaming reader (json_stream), which keeps nlohmann's
// parser for everything it does not take, and so for every error.

#include "core/input.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::json_slice {

using nlohmann::json;

/// The members of an object to keep, by dotted name: "check_result.result"
/// keeps that member of check_result and no other. A projection reaches
/// through arrays to their elements; an empty one keeps everything.
class Fields {
public:
    Fields() = default;
    explicit Fields(const std::vector<std::string>& names);

    bool empty() const { return m_members.empty(); }

    /// What to keep of member key: nullptr when it is left out.
    const Fields* member(std::string_view key) const;

    /// Leaves out of value what this projection does not keep.
    void prune(json& value) const;

private:
    // Names by length first: most members are told apart without comparing text.
    struct ShortFirst {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const
        {
            return a.size() != b.size() ? a.size() < b.size() : a < b;
        }
    };
    std::map<std::string, Fields, ShortFirst> m_members;
};

/// What take() is asked for.
struct Want {
    std::size_t max_bytes = 0;       ///< the largest container to take
    std::size_t max_depth = 0;       ///< the deepest nesting to take, the container counting 1
    bool value = false;              ///< build its value (else only check it)
    const Fields* fields = nullptr;  ///< the projection of an object's value
    bool keys = false;               ///< an object's keys, for the document's shape
};

/// A container taken: nlohmann's parser reads its last member or element
/// still, and its closing bracket, so that the lexer's state (which names
/// the place of a later syntax error) is what it would have been.
struct Taken {
    json value;                     ///< without its last element, or with its last member as it will be read again
    std::vector<std::string> keys;  ///< an object's keys in document order, repeats included, but the last
};

/// simdjson behind nlohmann's types, for well-formed JSON: what it accepts
/// nlohmann reads as the same value; what it rejects is for nlohmann's
/// parser to explain. One parser's buffers grow to the largest text it has
/// read.
class Parser {
public:
    Parser();
    ~Parser();
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;

    /// The value of text, nested at most max_depth deep, or nothing when
    /// simdjson rejects it. An integer -0 reads as 0 (nlohmann's is signed).
    std::optional<json> parse(std::string_view text, std::size_t max_depth);

    /// The container whose opening bracket src has just given ('[' when
    /// is_array, else '{'), read ahead and parsed whole, with src consumed
    /// up to its last member or element. Nothing, and nothing consumed,
    /// when it is larger or deeper than asked, not well-formed, empty, ends
    /// without a token the lexer would start over at, or holds an integer
    /// -0 (which simdjson cannot tell from 0).
    std::optional<Taken> take(ByteSource& src, bool is_array, const Want& want);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace infra::core::json_slice
