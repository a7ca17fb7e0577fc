// The command-line contract of CLI.md, checked on the real binary: exit
// codes, help, version, state home, config, external commands, logs.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

using infra::test::read_file;
using infra::test::run_cli;
using infra::test::RunOptions;
using infra::test::TempDir;
using infra::test::write_file;

namespace {

RunOptions in_dir(const TempDir& dir)
{
    RunOptions o;
    o.cwd = dir.path().string();
    o.env["HOME"] = dir.path().string();
    o.env["XDG_STATE_HOME"] = (dir / "xdg").string();
    return o;
}

}  // namespace

TEST(Cli, VersionPlainAndJson)
{
    auto r = run_cli({"version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("infra-agent ", 0), 0u);
    auto j = run_cli({"version", "--json"});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    auto v = nlohmann::json::parse(j.out);
    EXPECT_EQ(v["formatVersion"], 1);
    EXPECT_EQ(v["type"], "version") << "a record names what it is";
    EXPECT_TRUE(v["libraries"].contains("sqlite"));
    EXPECT_EQ(run_cli({"--version"}).exit_code, 0);
}

TEST(Cli, AnUnknownForgeIsNamedWithTheForgesThereAre)
{
    TempDir dir;
    auto o = in_dir(dir);
    ASSERT_EQ(run_cli({"init"}, o).exit_code, 0);
    auto r = run_cli({"worker", "--once", "--repo", dir.path().string(), "--forge", "nope"}, o);
    EXPECT_EQ(r.exit_code, 65) << r.err;
    EXPECT_NE(r.err.find("unknown forge 'nope'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("forges: github, gitlab, local"), std::string::npos) << r.err;
}

TEST(Cli, AMistypedCommandIsNamedWithTheNearestOneAndTheHelpToRead)
{
    auto top = run_cli({"remedate", "report.json"});
    EXPECT_EQ(top.exit_code, 64);
    EXPECT_NE(top.err.find("error: 'remedate' is not an infra-agent command"), std::string::npos) << top.err;
    EXPECT_NE(top.err.find("hint: did you mean 'infra-agent remediate'?"), std::string::npos) << top.err;
    auto sub = run_cli({"queue", "lss"});
    EXPECT_EQ(sub.exit_code, 64);
    EXPECT_NE(sub.err.find("error: 'lss' is not an infra-agent queue command"), std::string::npos) << sub.err;
    EXPECT_NE(sub.err.find("hint: did you mean 'infra-agent queue ls'?"), std::string::npos) << sub.err;
    // Other usage errors point at the help of the command that was given.
    auto shell = run_cli({"completion", "tcsh"});
    EXPECT_EQ(shell.exit_code, 64);
    EXPECT_NE(shell.err.find("hint: run 'infra-agent completion --help'"), std::string::npos) << shell.err;
    auto trace = run_cli({"trace"});
    EXPECT_EQ(trace.exit_code, 64);
    EXPECT_NE(trace.err.find("hint: run 'infra-agent trace --help'"), std::string::npos) << trace.err;
    // Nothing near: the list of commands.
    auto far = run_cli({"frobnicate"});
    EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
    EXPECT_NE(far.err.find("hint: run 'infra-agent --help'"), std::string::npos) << far.err;
}

TEST(Cli, HelpEverywhere)
{
    auto top = run_cli({"--help"});
    EXPECT_EQ(top.exit_code, 0);
    EXPECT_NE(top.out.find("ingest"), std::string::npos);
    for (auto cmd : {"init", "ingest", "config", "plugins", "version", "help"}) {
        auto r = run_cli({cmd, "--help"});
        EXPECT_EQ(r.exit_code, 0) << cmd;
        EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd << r.out;
        auto h = run_cli({"help", cmd});
        EXPECT_EQ(h.exit_code, 0) << cmd;
        EXPECT_EQ(h.out, r.out) << cmd;
    }
    EXPECT_EQ(run_cli({"help", "nonsense"}).exit_code, 64);
}

TEST(Cli, UsageErrorsExit64)
{
    auto unknown = run_cli({"frobnicate"});
    EXPECT_EQ(unknown.exit_code, 64);
    EXPECT_NE(unknown.err.find("infra-agent: error: 'frobnicate' is not an infra-agent command"), std::string::npos)
        << unknown.err;
    EXPECT_EQ(run_cli({"ingest", "--no-such-flag"}).exit_code, 64);
    EXPECT_EQ(run_cli({"ingest"}).exit_code, 64);
    EXPECT_EQ(run_cli({"ingest", "nosource", "-"}).exit_code, 64);
    EXPECT_EQ(run_cli({"--log-level", "loud", "version"}).exit_code, 64);
    EXPECT_EQ(run_cli({}).exit_code, 64);
}

TEST(Cli, InitCreatesAHomeThatIsDiscoveredFromSubdirectories)
{
    TempDir dir;
    auto o = in_dir(dir);
    auto r = run_cli({"init"}, o);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Initialized infra-agent state home in " + (dir / ".infra-agent").string()),
              std::string::npos);
    EXPECT_TRUE(std::filesystem::exists(dir / ".infra-agent/state.db"));
    auto again = run_cli({"init"}, o);
    EXPECT_NE(again.out.find("Reinitialized existing"), std::string::npos);

    std::filesystem::create_directories(dir / "a/b");
    o.cwd = (dir / "a/b").string();
    auto p = run_cli({"config", "path", "--json"}, o);
    ASSERT_EQ(p.exit_code, 0) << p.err;
    auto j = nlohmann::json::parse(p.out);
    EXPECT_EQ(j["home"], (dir / ".infra-agent").string());
    EXPECT_EQ(j["homeOrigin"], "discovered");

    o.env["INFRA_AGENT_HOME"] = (dir / "elsewhere").string();
    j = nlohmann::json::parse(run_cli({"config", "path", "--json"}, o).out);
    EXPECT_EQ(j["homeOrigin"], "INFRA_AGENT_HOME");
    j = nlohmann::json::parse(run_cli({"--home", (dir / "flag").string(), "config", "path", "--json"}, o).out);
    EXPECT_EQ(j["homeOrigin"], "--home");
}

TEST(Cli, InitHonoursInfraAgentHomeLikeEveryOtherCommand)
{
    TempDir dir;
    auto o = in_dir(dir);
    o.env["INFRA_AGENT_HOME"] = (dir / "x").string();
    auto r = run_cli({"init"}, o);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(std::filesystem::exists(dir / "x/state.db"));
    EXPECT_FALSE(std::filesystem::exists(dir / ".infra-agent"));
    auto j = nlohmann::json::parse(run_cli({"config", "path", "--json"}, o).out);
    EXPECT_EQ(j["home"], (dir / "x").string());
    EXPECT_EQ(j["homeOrigin"], "INFRA_AGENT_HOME");

    // An explicit --home still wins over the variable.
    auto flag = run_cli({"--home", (dir / "flag").string(), "init"}, o);
    ASSERT_EQ(flag.exit_code, 0) << flag.err;
    EXPECT_TRUE(std::filesystem::exists(dir / "flag/state.db"));
}

TEST(Cli, SingleValuesArePrintedAloneInAPipe)
{
    TempDir dir;
    auto o = in_dir(dir);
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    ASSERT_EQ(run_cli({"init"}, o).exit_code, 0);
    // TOKEN=$(infra-agent creds mint SCOPE): the token, and nothing else.
    auto minted = run_cli({"creds", "mint", "git:fetch:repo=acme/infra", "--task", "T1"}, o);
    ASSERT_EQ(minted.exit_code, 0) << minted.err;
    ASSERT_FALSE(minted.out.empty());
    EXPECT_EQ(minted.out.back(), '\n');
    std::string token = minted.out.substr(0, minted.out.size() - 1);
    EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2) << minted.out;  // a JWT
    EXPECT_EQ(token.find_first_of("{ \n"), std::string::npos) << minted.out;
    auto piped = o;
    piped.stdin_data = minted.out;  // infra-agent creds mint SCOPE | infra-agent creds verify
    auto verified = run_cli({"creds", "verify", "--json"}, piped);
    EXPECT_EQ(verified.exit_code, 0) << verified.err;
    // The ledger entry only with --json.
    auto entry = run_cli({"creds", "mint", "git:fetch:repo=acme/infra", "--task", "T2", "--json"}, o);
    ASSERT_EQ(entry.exit_code, 0) << entry.err;
    EXPECT_FALSE(nlohmann::json::parse(entry.out)["token"].get<std::string>().empty());
}

TEST(Cli, ConfigFileAndEnvironmentOverrides)
{
    TempDir dir;
    auto o = in_dir(dir);
    ASSERT_EQ(run_cli({"init"}, o).exit_code, 0);
    write_file(dir / ".infra-agent/config.yaml", "queue:\n  url: sqlite://a.db\n");
    auto g = run_cli({"config", "get", "queue.url"}, o);
    EXPECT_EQ(g.out, "sqlite://a.db\n");
    o.env["INFRA_AGENT_QUEUE_URL"] = "postgres://db/x";
    EXPECT_EQ(run_cli({"config", "get", "queue.url"}, o).out, "postgres://db/x\n");
    EXPECT_EQ(run_cli({"config", "get", "forge.kind"}, o).exit_code, 1);

    // What the file sets is listed; a file that sets nothing says so rather than printing nothing.
    auto fresh = run_cli({"config", "list"}, in_dir(dir));
    EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
    EXPECT_EQ(fresh.out, "queue.url=sqlite://a.db\n");
    write_file(dir / ".infra-agent/config.yaml", "# nothing set\n");
    auto empty = run_cli({"config", "list"}, in_dir(dir));
    EXPECT_EQ(empty.exit_code, 0) << empty.err;
    EXPECT_EQ(empty.out, "");
    EXPECT_NE(empty.err.find("no key is set in " + (dir / ".infra-agent/config.yaml").string() + " or the environment"),
              std::string::npos)
        << empty.err;

    write_file(dir / ".infra-agent/config.yaml", "queue: [\n");
    auto broken = run_cli({"config", "list"}, o);
    EXPECT_EQ(broken.exit_code, 65);
    EXPECT_NE(broken.err.find("config.yaml': line 2"), std::string::npos) << broken.err;
}

TEST(Cli, ExternalCommandsRunAndCannotShadowBuiltins)
{
    TempDir dir;
    auto o = in_dir(dir);
    std::filesystem::create_directories(dir / "bin");
    write_file(dir / "bin/infra-agent-hello",
               "#!/bin/sh\necho \"hello $1 home=$INFRA_AGENT_HOME config=$INFRA_AGENT_CONFIG\"\nexit 7\n");
    write_file(dir / "bin/infra-agent-version", "#!/bin/sh\necho shadowed\n");
    ::chmod((dir / "bin/infra-agent-hello").c_str(), 0755);
    ::chmod((dir / "bin/infra-agent-version").c_str(), 0755);
    o.env["PATH"] = (dir / "bin").string() + ":/usr/bin:/bin";
    auto r = run_cli({"--home", (dir / "h").string(), "hello", "world"}, o);
    EXPECT_EQ(r.exit_code, 7);
    EXPECT_EQ(r.out, "hello world home=" + (dir / "h").string() + " config=" + (dir / "h/config.yaml").string() + "\n");

    auto v = run_cli({"version"}, o);
    EXPECT_EQ(v.out.rfind("infra-agent ", 0), 0u);  // the built-in, not the script

    auto p = run_cli({"plugins", "--json"}, o);
    ASSERT_EQ(p.exit_code, 0);
    EXPECT_NE(p.out.find(R"("name":"hello")"), std::string::npos);
    EXPECT_NE(p.out.find("ignored: a built-in command has this name"), std::string::npos);
}

TEST(Cli, LogsGoToStderrAsTextOrJson)
{
    auto r = run_cli({"--log-format", "json", "ingest", "nosource"});
    EXPECT_EQ(r.exit_code, 64);
    EXPECT_TRUE(r.out.empty());
    auto line = r.err.substr(0, r.err.find('\n'));
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["level"], "error");
    EXPECT_NE(j["msg"].get<std::string>().find("unknown source 'nosource'"), std::string::npos);

    RunOptions o;
    o.env["NO_COLOR"] = "1";
    auto plain = run_cli({"ingest", "nosource"}, o);
    EXPECT_EQ(plain.err.find("\033["), std::string::npos);
    EXPECT_EQ(plain.err.rfind("infra-agent: error: unknown source 'nosource'", 0), 0u) << plain.err;
}
