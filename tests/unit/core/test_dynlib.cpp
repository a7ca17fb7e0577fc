// Libraries opened when first needed: what is loaded is called, and what
// cannot be says what needs it and what to install.
#include "core/dynlib.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace infra::core {
namespace {

TEST(Dynlib, BindsTheFunctionsOfALibraryByName)
{
    std::size_t (*strlen_fn)(const char*) = nullptr;
    auto st = dynlib::load("measuring", "libc.so.6", "libc6", [&](void* handle, std::string& missing) {
        dynlib::bind(handle, strlen_fn, "strlen", missing);
    });
    ASSERT_TRUE(st) << st.error().message;
    ASSERT_NE(strlen_fn, nullptr);
    EXPECT_EQ(strlen_fn("four"), 4u);
}

TEST(Dynlib, AMissingLibraryNamesWhatNeedsItAndThePackage)
{
    auto st = dynlib::load("the frobnicator", "libinfra-agent-absent.so.9", "libabsent9",
                           [](void*, std::string&) { FAIL() << "nothing to bind in a library that is not there"; });
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, Errc::unavailable);
    EXPECT_EQ(st.error().message.rfind("the frobnicator needs libinfra-agent-absent.so.9, which cannot be loaded: ", 0),
              0u)
        << st.error().message;
    EXPECT_EQ(st.error().hint, "install it: apt install libabsent9");
}

TEST(Dynlib, AMissingFunctionIsNamed)
{
    void (*absent)() = nullptr;
    std::size_t (*strlen_fn)(const char*) = nullptr;
    auto st = dynlib::load("measuring", "libc.so.6", "libc6", [&](void* handle, std::string& missing) {
        dynlib::bind(handle, strlen_fn, "strlen", missing);
        dynlib::bind(handle, absent, "infra_agent_no_such_function", missing);
    });
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "measuring needs libc.so.6, which lacks infra_agent_no_such_function");
    EXPECT_NE(st.error().hint.find("apt install libc6"), std::string::npos);
}

}  // namespace
}  // namespace infra::core
