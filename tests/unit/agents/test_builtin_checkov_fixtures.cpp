// The builtin agent's detector against Checkov's own pass/fail fixtures,
// then its fix on every failing resource.
#include "core/config.hpp"
#include "core/hcl/hcl.hpp"
#include "plugins/agents/builtin/checks.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

using namespace infra;
using infra::plugins::agents::builtin::Check;
using infra::plugins::agents::builtin::find_check;
using infra::plugins::agents::builtin::FixContext;
using infra::plugins::agents::builtin::Module;
using infra::test::read_file;
using infra::test::sample;

namespace {

struct Case {
    std::string dir;     // below checkov-fixtures/tests/terraform
    std::string check;   // canonical id
    std::string expect;  // the .py test or expected.yaml
};

std::set<std::string> py_set(const std::string& text, const std::string& name)
{
    std::set<std::string> out;
    auto start = text.find(name + " = {");
    if (start == std::string::npos) return out;
    auto end = text.find('}', start);
    std::regex item("\"([^\"]+)\"");
    std::string body = text.substr(start, end - start);
    for (auto it = std::sregex_iterator(body.begin(), body.end(), item); it != std::sregex_iterator(); ++it)
        out.insert((*it)[1]);
    return out;
}

Module load(const std::filesystem::path& dir)
{
    Module m;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".tf") continue;
        auto f = core::hcl::parse(read_file(e.path()), e.path().filename().string());
        EXPECT_TRUE(f) << f.error().message;
        if (f) m.files.emplace(e.path().filename().string(), std::move(*f));
    }
    return m;
}

// Resources Checkov names with an index (for_each) are out of the
// detector's reach: it reads one file, it does not evaluate Terraform.
bool plain(const std::string& address)
{
    return address.find('[') == std::string::npos;
}

}  // namespace

class CheckovFixtures : public ::testing::TestWithParam<Case> {};

TEST_P(CheckovFixtures, DetectorAgreesAndFixMakesFailuresPass)
{
    const Case& c = GetParam();
    auto base = sample("terraform/checkov-fixtures/tests/terraform") / c.dir;
    std::set<std::string> pass, fail;
    std::string expect;
    if (c.expect.size() > 3 && c.expect.substr(c.expect.size() - 3) == ".py") {
        expect = read_file(base.parent_path() / c.expect);
        pass = py_set(expect, "passing_resources");
        fail = py_set(expect, "failing_resources");
    } else {
        expect = read_file(base / c.expect);
        auto j = core::yaml_to_json(expect, c.expect);
        ASSERT_TRUE(j);
        for (const auto& r : (*j)["pass"]) pass.insert(r.get<std::string>());
        for (const auto& r : (*j)["fail"]) fail.insert(r.get<std::string>());
    }
    ASSERT_FALSE(fail.empty()) << c.dir;
    // A name in both lists comes from another directory of the fixture.
    for (auto it = pass.begin(); it != pass.end();) {
        if (fail.erase(*it)) it = pass.erase(it);
        else ++it;
    }
    const Check* check = find_check(c.check);
    ASSERT_NE(check, nullptr);
    Module m = load(base);
    int compared = 0;
    for (const auto& [addresses, want_fail] : {std::pair{pass, false}, std::pair{fail, true}}) {
        for (const auto& address : addresses) {
            if (!plain(address)) continue;
            auto dot = address.find('.');
            auto [file, block] = m.find(address.substr(0, dot), address.substr(dot + 1));
            ASSERT_NE(block, nullptr) << address;
            EXPECT_EQ(check->fails(m, *file, *block), want_fail) << c.check << " on " << address;
            ++compared;
        }
    }
    EXPECT_GT(compared, 1);
    // Fix each failing resource on a fresh copy; the detector must pass it after.
    for (const auto& address : fail) {
        if (!plain(address)) continue;
        Module fresh = load(base);
        auto dot = address.find('.');
        auto [file, block] = fresh.find(address.substr(0, dot), address.substr(dot + 1));
        FixContext fc{fresh, *file, *block, {}, {}, nullptr, {}};
        check->fix(fc);
        Module after;
        for (auto& [path, f] : fresh.files) {
            std::string text = f.text;
            if (fresh.editors.count(path)) {
                auto edited = fresh.editors.at(path)->apply(path);
                ASSERT_TRUE(edited) << edited.error().message;
                text = *edited;
            }
            auto parsed = core::hcl::parse(text, path);
            ASSERT_TRUE(parsed) << parsed.error().message;
            after.files.emplace(path, std::move(*parsed));
        }
        auto [f2, fixed] = after.find(address.substr(0, dot), address.substr(dot + 1));
        ASSERT_NE(fixed, nullptr);
        EXPECT_FALSE(check->fails(after, *f2, *fixed)) << "after fixing " << address << ":\n"
                                                       << after.files.at(*f2).text;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Builtin, CheckovFixtures,
    ::testing::Values(Case{"checks/resource/aws/example_EBSEncryption", "CKV_AWS_3", "test_EBSEncryption.py"},
                      Case{"checks/resource/aws/example_RDSEncryption", "CKV_AWS_16", "test_RDSEncryption.py"},
                      Case{"checks/resource/aws/example_SecurityGroupUnrestrictedIngress22", "CKV_AWS_24",
                           "test_SecurityGroupUnrestrictedIngress22.py"},
                      Case{"checks/resource/aws/example_SecurityGroupUnrestrictedIngress3389", "CKV_AWS_25",
                           "test_SecurityGroupUnrestrictedIngress3389.py"},
                      Case{"checks/resource/aws/example_LaunchConfigurationEBSEncryption", "CKV_AWS_8",
                           "test_LaunchConfigurationEBSEncryption.py"},
                      Case{"graph/checks/resources/S3BucketEncryption", "CKV_AWS_19", "expected.yaml"},
                      Case{"graph/checks/resources/S3KMSEncryptedByDefault", "CKV_AWS_145", "expected.yaml"},
                      Case{"graph/checks/resources/S3BucketVersioning", "CKV_AWS_21", "expected.yaml"},
                      Case{"graph/checks/resources/S3BucketLogging", "CKV_AWS_18", "expected.yaml"},
                      Case{"graph/checks/resources/S3BucketHasPublicAccessBlock", "CKV2_AWS_6", "expected.yaml"},
                      Case{"graph/checks/resources/S3PublicACLRead", "CKV_AWS_20", "expected.yaml"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.check; });
