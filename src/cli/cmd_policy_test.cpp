// `infra-agent policy test [DIR]`: run the *_test.yaml files beside the policies.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/policy/testing.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

struct Options {
    std::string dir;
    PolicyFlags policies;
    std::string run;  // only tests whose name contains this
};

int run(const Options& opt, Context& ctx)
{
    PolicyFlags flags = opt.policies;
    if (!opt.dir.empty()) flags.dirs.insert(flags.dirs.begin(), opt.dir);
    auto dirs = ctx.policy_dirs(flags.dirs, flags.no_bundle);
    if (!dirs) return ctx.fail(dirs.error());
    auto set = core::policy::load(*dirs, ctx.policy_cache_dir());
    for (const auto& f : set.findings) std::fprintf(stderr, "%s\n", f.str().c_str());
    // Tests come from DIR when given, else from every policy directory; a
    // later test file of the same name replaces an earlier one.
    std::vector<std::filesystem::path> files;
    for (const auto& f : set.test_files) {
        if (!opt.dir.empty() && f.string().rfind(std::filesystem::path(opt.dir).string(), 0) != 0) continue;
        auto same =
            std::find_if(files.begin(), files.end(), [&](const auto& g) { return g.filename() == f.filename(); });
        if (same != files.end()) *same = f;
        else files.push_back(f);
    }
    auto engine = core::policy::Engine::compile(std::move(set));
    if (!engine) return ctx.fail(engine.error());
    std::vector<core::policy::LintFinding> findings;
    auto cases = core::policy::run_tests(**engine, files, findings);
    for (const auto& f : findings) std::fprintf(stderr, "%s\n", f.str().c_str());
    std::size_t passed = 0, failed = 0;
    bool json = ctx.json(Output::value);
    for (const auto& c : cases) {
        if (!opt.run.empty() && c.name.find(opt.run) == std::string::npos) continue;
        (c.passed ? passed : failed)++;
        if (json) {
            ctx.record("test", {{"suite", c.suite},
                                {"name", c.name},
                                {"file", c.where.str()},
                                {"passed", c.passed},
                                {"failures", c.failures}});
            continue;
        }
        ctx.print(std::string(c.passed ? "PASS " : "FAIL ") + c.suite + ": " + c.name + "\n");
        if (!c.passed) {
            ctx.print("     " + c.where.str() + "\n");
            for (const auto& f : c.failures) ctx.print("     " + f + "\n");
        }
    }
    if (json)
        ctx.record("summary", {{"passed", passed},
                               {"failed", failed},
                               {"errors", findings.size()},
                               {"policyDigest", (*engine)->digest()}});
    else
        ctx.print(std::to_string(passed) + " passed, " + std::to_string(failed) + " failed" +
                  (findings.empty() ? "" : ", " + std::to_string(findings.size()) + " errors") + "\n");
    if (!findings.empty()) return exit_code::data;
    if (passed + failed == 0) {
        spdlog::warn("no policy tests found");
        return exit_code::ok;
    }
    return failed ? exit_code::denied : exit_code::ok;
}

}  // namespace

void register_policy_test(CLI::App& policy, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = policy.add_subcommand("test", "Run policy tests (*_test.yaml beside the policies)");
    cmd->footer("A test file (kind PolicyTest) lists tasks and the decision fields expected for them.\n"
                "Exit 0 when every test passes, 3 when one fails, 65 for a malformed file.");
    cmd->add_option("dir", opt->dir, "a policy directory whose tests to run (loaded over the bundle)");
    opt->policies.add_to(cmd);
    cmd->add_option("--run", opt->run, "only tests whose name contains this text");
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
