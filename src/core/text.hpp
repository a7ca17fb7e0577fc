#pragma once
// Small string helpers shared across core.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::text {

/// ASCII lower case.
std::string lower(std::string_view s);

/// s without leading and trailing ASCII white space.
std::string_view trim(std::string_view s);

/// s trimmed, with every run of white space (line breaks and paragraphs
/// included) as one space: a multi-line message as one line.
std::string one_line(std::string_view s);

/// Splits s at every sep; empty pieces are kept.
std::vector<std::string> split(std::string_view s, char sep);

/// Shell-style glob: '*' matches any run of characters, '?' one character.
bool glob_match(std::string_view pattern, std::string_view s);

/// The offset of the first byte of s that is not valid UTF-8, if any.
std::optional<std::size_t> invalid_utf8(std::string_view s);

/// True when JSON writes s between its quotes byte for byte: printable
/// ASCII without '"' or '\\'.
bool json_verbatim(std::string_view s);

/// s quoted for a message: 'value', with control characters escaped and
/// the text cut at max characters so an error never floods a terminal.
std::string quote(std::string_view s, std::size_t max = 80);

/// A URL fit for messages and logs: a password in its user information
/// (scheme://user:password@host) becomes "***".
std::string redact_url(const std::string& url);

}  // namespace infra::core::text
