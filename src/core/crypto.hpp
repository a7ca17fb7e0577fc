#pragma once
// Hashes, MACs and randomness from OpenSSL, behind a small interface.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace infra::core::crypto {

/// SHA-256 of data as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

/// Raw 32-byte SHA-256 of data.
std::string sha256_raw(std::string_view data);

/// HMAC-SHA256(key, data) as 64 lower-case hex digits.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Raw 32-byte HMAC-SHA256(key, data).
std::string hmac_sha256_raw(std::string_view key, std::string_view data);

/// Compares two strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

/// Lower-case hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

/// Base64url without padding (RFC 4648 section 5), as JWTs and tokens use.
std::string base64url_encode(std::string_view bytes);

/// Decodes base64url (padding optional); nullopt on any other character.
std::optional<std::string> base64url_decode(std::string_view text);

/// Fills out with n cryptographically secure random bytes.
void random_bytes(void* out, std::size_t n);

/// The same, read ahead: each thread keeps 4 KiB from the system's generator
/// and hands them out, so ids (trace, span, task) cost no call into OpenSSL
/// each. A forked child never hands out what its parent read ahead. For ids
/// and jitter; keys and tokens read random_bytes.
void pooled_random_bytes(void* out, std::size_t n);

}  // namespace infra::core::crypto
