// The examples work as written: the composite GitHub Action's steps run as
// the runner would run them (bash -eo pipefail, inputs through env, inside
// Actions) against a drifted root of the real terraform; the systemd unit
// passes systemd-analyze verify; the crontab's schedules parse; every YAML
// file parses. (The flags every example uses are checked by ManualCli.)
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include "core/cron.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <regex>
#include <sstream>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path k_examples = fs::path(INFRA_SOURCE_DIR) / "examples";

/// ${{ inputs.NAME }} in s, replaced from inputs.
std::string expand_inputs(const std::string& s, const std::map<std::string, std::string>& inputs)
{
    static const std::regex k_expr(R"(\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\})");
    std::string out;
    std::size_t last = 0;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), k_expr); it != std::sregex_iterator(); ++it) {
        out += s.substr(last, it->position() - last);
        auto found = inputs.find((*it)[1]);
        out += found == inputs.end() ? "" : found->second;
        last = it->position() + it->length();
    }
    return out + s.substr(last);
}

struct ActionRun {
    int exit_code = 0;
    std::string out, err;
};

/// Runs the composite action's steps in dir with the given inputs (the
/// action's defaults for the rest), stopping at the first step that fails.
ActionRun run_action(const fs::path& dir, std::map<std::string, std::string> given)
{
    YAML::Node action = YAML::LoadFile((k_examples / "github-actions" / "action.yml").string());
    std::map<std::string, std::string> inputs;
    for (const auto& i : action["inputs"])
        if (i.second["default"]) inputs[i.first.as<std::string>()] = i.second["default"].as<std::string>();
    for (auto& [k, v] : given) inputs[k] = v;
    ActionRun out;
    for (const auto& step : action["runs"]["steps"]) {
        EXPECT_EQ(step["shell"].as<std::string>(), "bash");  // composite steps must name their shell
        test::RunOptions o;
        o.cwd = dir.string();
        o.env["PATH"] = fs::path(INFRA_AGENT_BIN).parent_path().string() + ":" + std::getenv("PATH");
        o.env["GITHUB_ACTIONS"] = "true";
        o.env["GITHUB_STEP_SUMMARY"] = (dir / "summary.md").string();
        o.env["RUNNER_TEMP"] = dir.string();
        o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        if (step["env"])
            for (const auto& e : step["env"])
                o.env[e.first.as<std::string>()] = expand_inputs(e.second.as<std::string>(), inputs);
        auto r = test::run_program(
            "/bin/bash",
            {"--noprofile", "--norc", "-eo", "pipefail", "-c", expand_inputs(step["run"].as<std::string>(), inputs)},
            o);
        out.out += r.out;
        out.err += r.err;
        out.exit_code = r.exit_code;
        if (r.exit_code != 0) break;
    }
    return out;
}

TEST(Examples, TheCompositeActionReportsDriftInTheJobSummaryAndAsSarif)
{
    test::TempDir dir;
    test::write_file(dir / "envs" / "prod" / "main.tf",
                     "resource \"terraform_data\" \"bucket\" {\n  input = \"v1\"\n}\n");
    auto boot = test::run_program(
        "/bin/sh",
        {"-c",
         "cd " + (dir / "envs" / "prod").string() +
             " && terraform init -input=false >/dev/null && terraform apply -auto-approve -input=false >/dev/null"});
    ASSERT_EQ(boot.exit_code, 0) << boot.err;
    test::write_file(dir / "envs" / "prod" / "main.tf",
                     "resource \"terraform_data\" \"bucket\" {\n  input = \"v2\"\n}\n");

    auto r = run_action(dir.path(), {{"command", "drift"}, {"dirs", "envs"}, {"sarif", "drift.sarif"}});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;                 // fail-on-drift: true by default
    EXPECT_NE(r.out.find("infra-agent 0."), std::string::npos);  // the install step found it
    std::string summary = test::read_file(dir / "summary.md");
    EXPECT_NE(summary.find("| envs/prod | drift | 0 | 1 | 0 |"), std::string::npos) << summary;
    EXPECT_NE(r.err.find("::warning file=envs/prod/main.tf,line=1,"), std::string::npos) << r.err;
    auto sarif = json::parse(test::read_file(dir / "drift.sarif"));
    EXPECT_EQ(sarif["version"], "2.1.0");
    EXPECT_EQ(sarif["runs"][0]["results"].size(), 1u);

    auto lenient = run_action(dir.path(), {{"command", "drift"}, {"dirs", "envs"}, {"fail-on-drift", "false"}});
    EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
    auto wrong = run_action(dir.path(), {{"command", "deploy"}});
    EXPECT_EQ(wrong.exit_code, 64);
    EXPECT_NE(wrong.out.find("::error title=infra-agent::unknown command 'deploy'"), std::string::npos) << wrong.out;
}

TEST(Examples, TheSystemdUnitVerifies)
{
    test::TempDir dir;
    std::string unit = test::read_file(k_examples / "systemd" / "infra-agent-serve.service");
    auto at = unit.find("ExecStart=/usr/bin/infra-agent ");
    ASSERT_NE(at, std::string::npos);
    unit.replace(at, std::string("ExecStart=/usr/bin/infra-agent").size(), std::string("ExecStart=") + INFRA_AGENT_BIN);
    test::write_file(dir / "infra-agent-serve.service", unit);
    // The manual page it points to is the one the repository keeps in step with the binary.
    test::RunOptions o;
    o.env["MANPATH"] = (fs::path(INFRA_SOURCE_DIR) / "man").string();
    auto r = test::run_program("/usr/bin/systemd-analyze", {"verify", (dir / "infra-agent-serve.service").string()}, o);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err.find("infra-agent-serve.service:"), std::string::npos) << r.err;
}

TEST(Examples, TheCrontabsSchedulesParseAndEveryYamlFileLoads)
{
    std::istringstream crontab(test::read_file(k_examples / "cron" / "crontab"));
    int schedules = 0;
    for (std::string line; std::getline(crontab, line);) {
        if (line.empty() || line[0] == '#' || line.find('=') < line.find(' ')) continue;  // comments, variables
        std::istringstream fields(line);
        std::string f, expr;
        for (int i = 0; i < 5 && fields >> f; ++i) expr += (i ? " " : "") + f;
        auto parsed = core::cron::Expression::parse(expr);
        EXPECT_TRUE(parsed) << line << ": " << (parsed ? "" : parsed.error().message);
        ++schedules;
    }
    EXPECT_EQ(schedules, 2);
    int files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(k_examples)) {
        auto ext = entry.path().extension();
        if (ext != ".yml" && ext != ".yaml") continue;
        EXPECT_NO_THROW(YAML::LoadFile(entry.path().string())) << entry.path();
        ++files;
    }
    EXPECT_GE(files, 5);
}

}  // namespace
}  // namespace infra
