// The differential test: every check the builtin agent claims, against the
// pass/fail expectations of Checkov's own tests (tests/fixtures/samples/
// terraform/checkov-aws). On every resource of a check's fixtures the
// detector must agree with Checkov; every failing resource, once fixed, must
// pass the detector, stay `terraform fmt` clean (the real terraform), and
// leave every other resource of its file byte for byte as it was.
#include "core/hcl/hcl.hpp"
#include "core/host.hpp"
#include "core/scanner_rules.hpp"
#include "core/text.hpp"
#include "plugins/agents/builtin/checks.hpp"
#include "plugins/agents/builtin/coverage.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>

using namespace infra;
using infra::plugins::agents::builtin::Check;
using infra::plugins::agents::builtin::FixContext;
using infra::plugins::agents::builtin::Module;
using infra::test::read_file;
using infra::test::sample;
namespace fs = std::filesystem;

namespace {

// Claimed checks that Checkov's AWS folder has no example for; the S3 ones
// are proven against Checkov's graph fixtures (test_builtin_checkov_fixtures).
const std::set<std::string> k_outside_oracle = {
    "CKV2_AWS_6", "CKV2_AWS_61", "CKV_AWS_17", "CKV_AWS_18", "CKV_AWS_19", "CKV_AWS_20",  "CKV_AWS_21",  "CKV_AWS_35",
    "CKV_AWS_36", "CKV_AWS_53",  "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV_AWS_126", "CKV_AWS_135", "CKV_AWS_145"};

struct Oracle {
    fs::path dir;
    std::vector<std::string> passing, failing;
};

std::map<std::string, Oracle> oracles(const fs::path& root)
{
    std::map<std::string, Oracle> out;
    for (const auto& e : fs::directory_iterator(root)) {
        if (!fs::exists(e.path() / "expected.json")) continue;
        auto j = nlohmann::json::parse(read_file(e.path() / "expected.json"));
        out[j.at("id").get<std::string>()] = {e.path(), j.at("passing"), j.at("failing")};
    }
    return out;
}

// Each directory with .tf files is a module of its own.
std::vector<Module> load_modules(const fs::path& dir)
{
    std::vector<Module> out;
    std::vector<fs::path> dirs = {dir};
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_directory()) dirs.push_back(e.path());
    for (const auto& d : dirs) {
        Module m;
        for (const auto& e : fs::directory_iterator(d)) {
            if (e.path().extension() != ".tf") continue;
            auto f = core::hcl::parse(read_file(e.path()), fs::relative(e.path(), dir).string());
            EXPECT_TRUE(f) << f.error().message;
            if (f) m.files.emplace(fs::relative(e.path(), dir).string(), std::move(*f));
        }
        if (!m.files.empty()) out.push_back(std::move(m));
    }
    return out;
}

struct Found {
    const Module* module = nullptr;
    const std::string* file = nullptr;
    const core::hcl::Block* block = nullptr;
};

Found find(const std::vector<Module>& modules, const std::string& address)
{
    auto dot = address.find('.');
    for (const auto& m : modules) {
        auto [file, block] = m.find(address.substr(0, dot), address.substr(dot + 1));
        if (block) return {&m, file, block};
    }
    return {};
}

std::string key(const core::hcl::Block& b)
{
    std::string k = b.type;
    for (const auto& l : b.labels) k += " " + l;
    return k;
}

bool refers_to(const std::string& text, const std::string& address)
{
    return text.find(address + ".") != std::string::npos;
}

// Top-level blocks of before that after lost or changed, other than the
// fixed resource and the resources that refer to it (its companions).
std::vector<std::string> changed_others(const core::hcl::File& before, const core::hcl::File& after,
                                        const std::string& address)
{
    std::multiset<std::pair<std::string, std::string>> now;
    for (const auto& b : after.body.blocks) now.emplace(key(b), after.text.substr(b.line_start, b.end - b.line_start));
    std::vector<std::string> out;
    for (const auto& b : before.body.blocks) {
        std::string text = before.text.substr(b.line_start, b.end - b.line_start);
        if (b.address() == address || refers_to(text, address)) continue;
        if (!now.count({key(b), text})) out.push_back(key(b));
    }
    return out;
}

std::string safe(std::string s)
{
    for (auto& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
    return s;
}

// The files terraform fmt would change, below dir.
std::set<fs::path> unformatted(const fs::path& dir)
{
    core::host::Request req;
    req.argv = {"terraform", "fmt", "-check", "-list=true", "-recursive", "."};
    req.cwd = dir;
    auto r = core::host::run(req);
    std::set<fs::path> out;
    for (const auto& line : core::text::split(r ? r->out : "", '\n'))
        if (!line.empty()) out.insert((dir / line).lexically_normal());
    return out;
}

}  // namespace

TEST(CheckovOracle, EveryClaimedCheckAgreesWithCheckovAndItsFixesHold)
{
    auto all = plugins::agents::builtin::checks();
    ASSERT_TRUE(all) << all.error().message;
    auto root = sample("terraform/checkov-aws");
    auto expected = oracles(root);
    ASSERT_GE(expected.size(), 270u);

    // terraform fmt the fixtures first (one process), so that a fix is held
    // to a clean file whatever the fixture's own formatting.
    test::TempDir tmp;
    fs::copy(root, tmp / "fixtures", fs::copy_options::recursive);
    core::host::Request fmt;
    fmt.argv = {"terraform", "fmt", "-recursive", (tmp / "fixtures").string()};
    auto formatted = core::host::run(fmt);
    ASSERT_TRUE(formatted && formatted->exit_code == 0) << "terraform fmt failed on the fixtures";

    std::set<std::string> outside;
    int claimed = 0, compared = 0, fixed = 0;
    std::map<fs::path, std::string> written;  // a fixed copy -> what it proves
    for (const Check& check : **all) {
        auto o = expected.find(check.id);
        if (o == expected.end()) {
            outside.insert(check.id);
            continue;
        }
        ++claimed;
        fs::path dir = tmp / "fixtures" / o->second.dir.filename();
        auto modules = load_modules(dir);
        int seen = 0;
        for (const auto& [addresses, want] :
             {std::pair{&o->second.passing, false}, std::pair{&o->second.failing, true}})
            for (const auto& address : *addresses) {
                if (address.find('[') != std::string::npos) continue;  // for_each instances: Terraform evaluates those
                Found f = find(modules, address);
                ASSERT_NE(f.block, nullptr) << check.id << ": " << address << " is not in " << dir;
                EXPECT_EQ(check.fails(*f.module, *f.file, *f.block), want)
                    << check.id << " (" << o->second.dir.filename().string() << ") disagrees with Checkov on "
                    << address;
                ++seen;
            }
        EXPECT_GT(seen, 0) << check.id << ": no resource of its fixture could be compared";
        compared += seen;

        for (const auto& address : o->second.failing) {
            if (address.find('[') != std::string::npos) continue;
            Found f = find(modules, address);
            if (!f.block) continue;
            Module copy;
            copy.files = f.module->files;
            auto [file, block] = copy.find(f.block->labels[0], f.block->labels[1]);
            FixContext fc{copy, *file, *block, {}, {}, nullptr, {}};
            check.fix(fc);
            Module after;
            for (const auto& [path, parsed] : copy.files) {
                std::string text = parsed.text;
                if (copy.editors.count(path)) {
                    auto edited = copy.editors.at(path)->apply(path);
                    ASSERT_TRUE(edited) << check.id << " on " << address << ": " << edited.error().message;
                    text = *edited;
                    fs::path out = tmp / "fixed" / safe(check.id + "-" + address) / path;
                    test::write_file(out, text);
                    written[out.lexically_normal()] = check.id + " on " + address + " (" + path + ")";
                }
                auto reparsed = core::hcl::parse(text, path);
                ASSERT_TRUE(reparsed) << reparsed.error().message;
                after.files.emplace(path, std::move(*reparsed));
                auto changed = changed_others(parsed, after.files.at(path), address);
                EXPECT_TRUE(changed.empty()) << check.id << " on " << address << " changed " << changed.front();
            }
            auto [file2, block2] = after.find(f.block->labels[0], f.block->labels[1]);
            ASSERT_NE(block2, nullptr);
            EXPECT_FALSE(check.fails(after, *file2, *block2))
                << check.id << ": " << address << " still fails after its fix:\n"
                << after.files.at(*file2).text;
            EXPECT_TRUE(copy.editors.size() > 0) << check.id << ": the fix of " << address << " edited nothing";
            ++fixed;
        }
    }

    auto before = unformatted(tmp / "fixtures");
    for (const auto& p : unformatted(tmp / "fixed")) {
        ASSERT_TRUE(written.count(p)) << p;
        EXPECT_TRUE(false) << "terraform fmt would reformat the fix of " << written[p];
    }
    EXPECT_TRUE(before.empty()) << "terraform fmt left " << before.begin()->string() << " unformatted";
    EXPECT_EQ(outside, k_outside_oracle) << "a claimed check with no example in Checkov's AWS folder";
    EXPECT_GE(claimed, 120) << "claimed checks proven against Checkov's examples";
    std::cout << claimed << " checks proven on " << compared << " resources, " << fixed << " fixes\n";
}

TEST(FixCoverage, TheTableInTheDocsIsGeneratedFromTheChecks)
{
    auto all = plugins::agents::builtin::checks();
    ASSERT_TRUE(all) << all.error().message;
    std::string docs = read_file(fs::path(INFRA_SOURCE_DIR) / "docs/agents.md");
    const std::string start = "<!-- fix-table:start -->\n", end = "<!-- fix-table:end -->";
    auto a = docs.find(start), b = docs.find(end);
    ASSERT_NE(a, std::string::npos);
    ASSERT_NE(b, std::string::npos);
    bool current =
        docs.substr(a + start.size(), b - a - start.size()) == plugins::agents::builtin::coverage_table(**all);
    EXPECT_TRUE(current) << "docs/agents.md's coverage table is stale: run scripts/gen-fix-table";
}

TEST(FixCoverage, EveryCatalogueAliasNamesItsOwnCheckAndEveryCatalogueFixExists)
{
    auto all = plugins::agents::builtin::checks();
    ASSERT_TRUE(all) << all.error().message;
    for (const auto& r : core::scanner_rules::catalogue())
        for (auto alias : r.aliases) {
            const auto* found = core::scanner_rules::find(alias);
            ASSERT_NE(found, nullptr) << alias;
            EXPECT_EQ(found->id, r.id) << alias << " names two checks";
            EXPECT_EQ(core::scanner_rules::canonical_id(alias), std::string(r.id));
        }
    // A Trivy id of a check the agent fixes reaches that check.
    EXPECT_NE(plugins::agents::builtin::find_check(core::scanner_rules::canonical_id("AVD-AWS-0096")), nullptr);
    EXPECT_NE(
        plugins::agents::builtin::find_check(core::scanner_rules::canonical_id("aws-elastic-search-enforce-https")),
        nullptr);
}
