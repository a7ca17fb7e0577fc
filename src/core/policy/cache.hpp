#pragma once
// The compiled-once cache: the policies of a file that loaded without any
// finding, kept in a compact binary form under the SHA-256 of the file's
// bytes, so that the next process neither parses the YAML nor checks the
// rules again. An edited file has another key, so it is never served stale;
// an entry that is truncated or damaged fails its length or checksum and is
// ignored (and written anew by the loader).

#include "core/policy/policy.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::policy::cache {

/// Where the entry for a file with this text lives in dir.
std::filesystem::path entry(const std::filesystem::path& dir, std::string_view text);

/// Reads the policies of file cached at path into out; false (and out
/// untouched) when there is no whole, intact entry for that file.
bool read(const std::filesystem::path& path, const std::string& file, std::vector<Policy>& out);

/// Decodes an entry's body (what follows its header) into out; false (and
/// out untouched) unless the body is whole and names file. Any bytes are
/// safe to give it.
bool decode(std::string_view body, const std::string& file, std::vector<Policy>& out);

/// Writes the entry through a temporary file renamed into place, so that a
/// reader sees a whole entry or none. A cache that cannot be written is no
/// error: the next process parses the file again.
void write(const std::filesystem::path& path, const std::string& file, const std::vector<Policy>& policies);

}  // namespace infra::core::policy::cache
