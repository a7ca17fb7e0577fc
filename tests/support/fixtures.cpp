#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace infra::test {

std::filesystem::path fixture(const std::string& rel)
{
    return std::filesystem::path(INFRA_TEST_FIXTURES) / rel;
}

std::filesystem::path sample(const std::string& rel)
{
    return fixture("samples") / rel;
}

std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot read " << p;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::filesystem::path& p, const std::string& text)
{
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << text;
}

TempDir::TempDir()
{
    std::string tmpl = (std::filesystem::temp_directory_path() / "infra-agent-test-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (!made) throw std::runtime_error("mkdtemp failed");
    m_path = made;
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

}  // namespace infra::test
