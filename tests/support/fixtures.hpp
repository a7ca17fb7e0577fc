#pragma once
// Paths to test fixtures and small file helpers shared by the tests.

#include <filesystem>
#include <string>

namespace infra::test {

/// tests/fixtures/<rel>.
std::filesystem::path fixture(const std::string& rel);

/// The sample payloads collected from real tools: tests/fixtures/samples/<rel>.
std::filesystem::path sample(const std::string& rel);

/// The whole content of a file; fails the test when it cannot be read.
std::string read_file(const std::filesystem::path& p);

/// Writes text to a file, creating directories.
void write_file(const std::filesystem::path& p, const std::string& text);

/// A fresh empty directory under the system's temporary directory,
/// removed when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& rel) const { return m_path / rel; }

private:
    std::filesystem::path m_path;
};

}  // namespace infra::test
