// A user's own repository, with a real provider: the repository locks the
// test provider (tests/support/tfprovider, which speaks terraform's plugin
// protocol), terraform on the trusted side downloads it from a provider
// mirror on 127.0.0.1 over HTTPS (the operator's own CLI configuration), and
// validation then runs init, validate and an offline plan in the sandbox,
// which has no network and reads the provider cache alone. A fix that needs
// a provider or a module source the base does not use fails naming it, and a
// mirror whose package does not match the lock file is refused.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

fs::path tfprovider(const std::string& tool)
{
    return fs::path(INFRA_SOURCE_DIR) / "tests/support/tfprovider" / tool;
}

/// serve-mirror on 127.0.0.1: terraform's provider network mirror protocol
/// over HTTPS, with a certificate made at start.
class NetworkMirror {
public:
    NetworkMirror(const fs::path& dir, const fs::path& cert)
    {
        int out[2];
        if (::pipe(out) != 0) return;
        m_pid = ::fork();
        if (m_pid == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            std::string tool = tfprovider("serve-mirror").string();
            ::execl(tool.c_str(), tool.c_str(), "--dir", dir.c_str(), "--port", "0", "--cert-out", cert.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(out[1]);
        char c;
        while (::read(out[0], &c, 1) == 1 && c != '\n') m_url += c;
        ::close(out[0]);
    }
    ~NetworkMirror()
    {
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            ::waitpid(m_pid, nullptr, 0);
        }
    }
    const std::string& url() const { return m_url; }

private:
    pid_t m_pid = -1;
    std::string m_url;
};

class ProvidersCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        // The provider, packed as a registry would serve it, behind HTTPS on loopback.
        auto made =
            test::run_program(tfprovider("make-mirror").string(), {"--layout", "packed", (dir / "mirror").string()});
        ASSERT_EQ(made.exit_code, 0) << made.err;
        mirror = std::make_unique<NetworkMirror>(dir / "mirror", dir / "mirror.pem");
        ASSERT_EQ(mirror->url().rfind("https://127.0.0.1:", 0), 0u) << mirror->url();
        // The operator's terraform configuration: where this machine gets
        // providers (its network). The sandbox never sees it.
        test::write_file(dir / "operator.tfrc",
                         "provider_installation {\n  network_mirror {\n    url = \"" + mirror->url() + "\"\n  }\n}\n");

        // The user's repository: the demo that locks the provider.
        fs::create_directories(dir / "seed");
        for (const char* f : {"main.tf", ".terraform.lock.hcl"})
            fs::copy_file(fs::path(INFRA_TEST_FIXTURES) / "repos/testcloud" / f, dir / "seed" / f);
        seed_commit();

        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = home().string();
        opts.env["TF_CLI_CONFIG_FILE"] = (dir / "operator.tfrc").string();
        opts.env["SSL_CERT_FILE"] = (dir / "mirror.pem").string();
        ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    }

    /// Commits the seed's files (the repository's base) and publishes them
    /// as the remote the worker clones, afresh.
    void seed_commit(const std::string& message = "the repository")
    {
        if (!fs::exists(dir / "seed/.git")) test::git(dir / "seed", "init -q");
        test::git(dir / "seed", "add -A");
        test::git(dir / "seed", "commit -q -m '" + message + "'");
        fs::remove_all(dir / "remote");
        fs::create_directories(dir / "remote");
        test::git(dir / "remote", "clone -q --bare ../seed infra.git");
    }

    fs::path home() const { return dir / "home"; }

    /// The exec agent runs script as the fix; everything else is the default.
    void agent(const std::string& script, const std::string& extra = "")
    {
        test::write_file(home() / "config.yaml",
                         "exec:\n  command: " + json::array({"sh", "-c", script}).dump() + "\n" + extra);
    }

    json remediate_one(const std::string& id)
    {
        json task = {{"id", id},
                     {"type", "compliance-remediation"},
                     {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-12-06T12:00:00Z"}}},
                     {"context",
                      {{"agentSlug", "exec"},
                       {"environment", "staging"},
                       {"repositoryId", "acme/infra"},
                       {"resource", "testcloud_bucket.logs"}}},
                     {"payload",
                      {{"finding",
                        {{"canonicalRuleId", "TEST_PUBLIC_BUCKET"},
                         {"file", "main.tf"},
                         {"resource", "testcloud_bucket.logs"}}}}},
                     {"dedupeKey", "providers-" + id}};
        auto o = opts;
        o.stdin_data = task.dump() + "\n";
        auto q = run_cli({"enqueue"}, o);
        EXPECT_EQ(q.exit_code, 0) << q.err;
        auto w = run_cli({"worker", "--drain", "--json", "--repo", (dir / "remote/infra.git").string()}, opts);
        EXPECT_EQ(w.exit_code, 0) << w.err;
        auto shown = run_cli({"queue", "show", id, "--json"}, opts);
        EXPECT_EQ(shown.exit_code, 0) << shown.err;
        return json::parse(shown.out, nullptr, false);
    }

    test::TempDir dir;
    test::RunOptions opts;
    std::unique_ptr<NetworkMirror> mirror;
};

TEST_F(ProvidersCli, ARepositoryThatLocksAProviderGetsAValidatedPullRequestOffline)
{
    agent("sed -i 's/public-read/private/' main.tf && echo made the logs bucket private");
    auto task = remediate_one("01PROVIDERS000000000000001");
    ASSERT_EQ(task["state"], "succeeded") << task.dump(2);
    const json& change = task["result"]["change"];
    EXPECT_EQ(change["state"], "opened") << change.dump();
    // Every default step ran in the sandbox and passed: init, validate and an
    // offline plan of the configuration, its scope checked.
    std::vector<std::string> ran;
    for (const auto& s : change["validation"]["steps"]) {
        EXPECT_TRUE(s["ok"].get<bool>()) << s.dump();
        ran.push_back(s["name"]);
    }
    EXPECT_EQ(ran, (std::vector<std::string>{"terraform fmt", "terraform init", "terraform validate", "terraform plan",
                                             "terraform show"}));
    // Against the base commit's own plan, the change updates one bucket: in scope.
    EXPECT_EQ(change["validation"]["planSummary"], "0 to add, 1 to change, 0 to destroy") << change.dump();
    EXPECT_EQ(change["validation"]["plan"]["."]["comparedWithBase"], true) << change.dump();
    EXPECT_EQ(change["validation"]["plan"]["."]["resources"][0]["address"], "testcloud_bucket.logs") << change.dump();
    EXPECT_TRUE(change["validation"]["providers"].contains(".")) << change.dump();
    EXPECT_TRUE(change["validation"]["skipped"].empty()) << change.dump();
    // The provider came from the mirror into the cache under the state home.
    EXPECT_TRUE(
        fs::exists(home() / "providers/cache/registry.terraform.io/infra-agent-test/testcloud/0.1.0/linux_amd64"));

    auto pr = run_cli({"pr", "show", "1", "--json"}, opts);
    ASSERT_EQ(pr.exit_code, 0) << pr.err;
    std::string body = json::parse(pr.out)["body"];
    EXPECT_NE(body.find("passed: `terraform plan`"), std::string::npos) << body;
    EXPECT_NE(body.find("terraform ran without network"), std::string::npos) << body;
    EXPECT_NE(json::parse(pr.out)["diff"].get<std::string>().find("+  acl        = \"private\""), std::string::npos)
        << pr.out;

    // A second task needs no network at all: the cache is filled. With the
    // mirror gone from the operator's configuration, it still validates.
    test::write_file(dir / "operator.tfrc", "provider_installation {\n  filesystem_mirror {\n    path = \"" +
                                                (dir / "nowhere").string() + "\"\n  }\n}\n");
    agent("sed -i 's/versioning = false/versioning = true/' main.tf && echo versioned");
    auto again = remediate_one("01PROVIDERS000000000000002");
    EXPECT_EQ(again["state"], "succeeded") << again.dump(2);
}

// A provider that checks its credentials when it is configured (as the AWS
// provider does) cannot plan in the sandbox: the plan is reported as not run
// and why, and everything else still validates the change.
TEST_F(ProvidersCli, APlanThatNeedsCredentialsIsReportedAsNotRun)
{
    std::string main_tf = test::read_file(dir / "seed/main.tf");
    auto at = main_tf.find("provider \"testcloud\" {}");
    ASSERT_NE(at, std::string::npos);
    main_tf.replace(at, std::string("provider \"testcloud\" {}").size(),
                    "provider \"testcloud\" {\n  credentials_required = true\n}");
    test::write_file(dir / "seed/main.tf", main_tf);
    seed_commit("a provider that needs credentials");

    agent("sed -i 's/public-read/private/' main.tf && echo private");
    auto task = remediate_one("01PROVIDERS000000000000007");
    ASSERT_EQ(task["state"], "succeeded") << task.dump(2);
    const json& v = task["result"]["change"]["validation"];
    ASSERT_EQ(v["skipped"].size(), 1u) << v.dump();
    std::string skipped = v["skipped"][0];
    EXPECT_NE(
        skipped.find(
            "terraform plan: not run: a provider needs credentials to plan (Error: No valid credential sources found"),
        std::string::npos)
        << skipped;
    std::vector<std::string> ran;
    for (const auto& s : v["steps"]) ran.push_back(s["name"]);
    EXPECT_EQ(ran, (std::vector<std::string>{"terraform fmt", "terraform init", "terraform validate"}));
    auto pr = run_cli({"pr", "show", "1", "--json"}, opts);
    ASSERT_EQ(pr.exit_code, 0) << pr.err;
    std::string body = json::parse(pr.out)["body"];
    EXPECT_NE(body.find("- terraform plan: not run: a provider needs credentials"), std::string::npos) << body;
}

// A root variable with no value and no default (an account id, say) has
// its value only where the owner runs terraform: the plan is reported as not
// run, naming the variables, and everything else still validates the change.
TEST_F(ProvidersCli, APlanThatNeedsRootVariablesIsReportedAsNotRunNamingThem)
{
    test::write_file(dir / "seed/variables.tf",
                     "variable \"account_id\" {\n  type = string\n}\n\nvariable \"owner\" {}\n");
    seed_commit("variables the owner sets");

    agent("sed -i 's/public-read/private/' main.tf && echo private");
    auto task = remediate_one("01PROVIDERS000000000000009");
    ASSERT_EQ(task["state"], "succeeded") << task.dump(2);
    const json& v = task["result"]["change"]["validation"];
    ASSERT_EQ(v["skipped"].size(), 1u) << v.dump();
    EXPECT_EQ(v["skipped"][0], "terraform plan: not run: root variables have no value (account_id, owner): the plan "
                               "needs them set, by a default or a committed *.auto.tfvars file")
        << v.dump();
    std::vector<std::string> ran;
    for (const auto& s : v["steps"]) ran.push_back(s["name"]);
    EXPECT_EQ(ran, (std::vector<std::string>{"terraform fmt", "terraform init", "terraform validate"}));

    // Given values, the same change is planned.
    test::write_file(dir / "seed/owner.auto.tfvars", "account_id = \"123456789012\"\nowner      = \"platform\"\n");
    seed_commit("values the owner set");
    agent("sed -i 's/versioning = false/versioning = true/' main.tf && echo versioned");
    auto planned = remediate_one("01PROVIDERS00000000000000A");
    ASSERT_EQ(planned["state"], "succeeded") << planned.dump(2);
    EXPECT_TRUE(planned["result"]["change"]["validation"]["skipped"].empty()) << planned.dump(2);
    EXPECT_TRUE(planned["result"]["change"]["validation"]["plan"].contains(".")) << planned.dump(2);
}

TEST_F(ProvidersCli, AFixThatNeedsAnotherProviderOrModuleFailsNamingIt)
{
    agent("sed -i 's/public-read/private/' main.tf && printf 'resource \"extra_thing\" \"x\" {}\\n' >> main.tf && "
          "echo added a provider");
    auto task = remediate_one("01PROVIDERS000000000000003");
    EXPECT_EQ(task["state"], "dead") << task.dump(2);
    std::string error = task["lastError"];
    EXPECT_NE(error.find("validation failed: terraform init failed: Error: "), std::string::npos) << error;
    EXPECT_NE(error.find("hashicorp/extra"), std::string::npos) << error;
    EXPECT_NE(error.find("must first be added to the base branch"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;

    agent("sed -i 's/public-read/private/' main.tf && printf 'module \"net\" {\\n  source = "
          "\"git::https://example.invalid/net.git\"\\n}\\n'"
          " >> main.tf && echo added a module");
    task = remediate_one("01PROVIDERS000000000000004");
    EXPECT_EQ(task["state"], "dead") << task.dump(2);
    error = task["lastError"];
    EXPECT_NE(error.find("terraform init failed"), std::string::npos) << error;
    EXPECT_NE(error.find("example.invalid/net.git"), std::string::npos) << error;
    EXPECT_TRUE(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).empty());
}

TEST_F(ProvidersCli, APlanThatChangesResourcesOutsideTheTasksScopeFails)
{
    // Fixing the logs bucket, the agent also turns off another bucket's
    // versioning and drops the bucket policy: both outside the task's scope.
    agent("sed -i 's/public-read/private/; s/versioning = true/versioning = false/' main.tf && "
          "sed -i '/resource \"testcloud_bucket_policy\"/,/^}/d' main.tf && echo too much");
    auto task = remediate_one("01PROVIDERS000000000000008");
    EXPECT_EQ(task["state"], "dead") << task.dump(2);
    std::string error = task["lastError"];
    EXPECT_NE(error.find("plan scope failed: scope: testcloud_bucket.artifacts (update) is outside the task's scope"),
              std::string::npos)
        << error;
    EXPECT_TRUE(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).empty());
}

// Found by a red-team pass: terraform wrote its plan through a link the
// agent left where the plan goes, into a CI workflow that was then committed;
// and a file .gitignore hides was read by validation but left out of the
// commit, so the validated tree was not the committed one.
TEST_F(ProvidersCli, WhatIsValidatedIsWhatIsCommitted)
{
    agent("sed -i 's/public-read/private/' main.tf && mkdir -p .github/workflows && "
          "ln -s .github/workflows/pwn.yml .infra-agent.tfplan && echo fixed");
    auto task = remediate_one("01PROVIDERS000000000000009");
    ASSERT_EQ(task["state"], "succeeded") << task.dump(2);
    std::string branch = task["result"]["change"]["branch"];
    EXPECT_EQ(test::git(dir / "remote/infra.git", "ls-tree -r --name-only " + branch),
              ".terraform.lock.hcl\nmain.tf\n");

    // The base ignores overrides (GitHub's Terraform .gitignore does).
    test::write_file(dir / "seed/.gitignore", "*_override.tf\n");
    seed_commit("ignore overrides");
    agent("sed -i 's/public-read/private/; s/versioning = true/versioning = false/' main.tf && "
          "printf 'resource \"testcloud_bucket\" \"artifacts\" {\n  versioning = true\n}\n' > x_override.tf && echo "
          "hidden");
    task = remediate_one("01PROVIDERS000000000000010");
    EXPECT_EQ(task["state"], "dead") << task.dump(2);
    std::string error = task["lastError"];
    EXPECT_NE(
        error.find("the worktree holds 'x_override.tf', which terraform reads and .gitignore leaves out of the commit"),
        std::string::npos)
        << error;
}

TEST_F(ProvidersCli, AMirrorWhosePackageDoesNotMatchTheLockFileIsRefused)
{
    // The operator's own mirror (air-gapped), holding a provider that is not
    // the one the repository locked.
    auto made =
        test::run_program(tfprovider("make-mirror").string(), {"--layout", "unpacked", (dir / "offline").string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    auto binary = dir / "offline/registry.terraform.io/infra-agent-test/testcloud/0.1.0/linux_amd64/"
                        "terraform-provider-testcloud_v0.1.0";
    ASSERT_TRUE(fs::exists(binary));
    std::ofstream(binary, std::ios::app) << "\n# tampered\n";
    agent("sed -i 's/public-read/private/' main.tf && echo private",
          "validation:\n  provider_mirror: " + (dir / "offline").string() + "\n");
    auto task = remediate_one("01PROVIDERS000000000000005");
    EXPECT_EQ(task["state"], "dead") << task.dump(2);
    std::string error = task["lastError"];
    EXPECT_NE(error.find("terraform init failed"), std::string::npos) << error;
    EXPECT_NE(error.find("infra-agent-test/testcloud"), std::string::npos) << error;
    EXPECT_NE(error.find("checksums"), std::string::npos) << error;
    // Nothing of the tampered package reached the shared cache.
    EXPECT_FALSE(fs::exists(home() / "providers/cache/registry.terraform.io/infra-agent-test/testcloud"));
}

TEST_F(ProvidersCli, TheBasesRemoteModulesAreFetchedOutsideAndUsedOffline)
{
    // A module in a git repository of its own, which only the trusted side can reach.
    fs::create_directories(dir / "modsrc");
    test::write_file(
        dir / "modsrc/main.tf",
        "terraform {\n  required_providers {\n    testcloud = {\n      source = \"infra-agent-test/testcloud\"\n"
        "    }\n  }\n}\n\nvariable \"name\" {\n  type = string\n}\n\nresource \"testcloud_bucket\" \"this\" {\n"
        "  name = var.name\n}\n");
    test::git(dir / "modsrc", "init -q");
    test::git(dir / "modsrc", "add -A");
    test::git(dir / "modsrc", "commit -q -m module");
    test::git(dir.path(), "clone -q --bare modsrc modules.git");
    test::write_file(dir / "seed/modules.tf", "module \"shared\" {\n  source = \"git::file://" +
                                                  (dir / "modules.git").string() +
                                                  "\"\n  name   = \"acme-shared\"\n}\n");
    seed_commit("a shared module");

    agent("sed -i 's/public-read/private/' main.tf && echo private");
    auto task = remediate_one("01PROVIDERS000000000000006");
    ASSERT_EQ(task["state"], "succeeded") << task.dump(2);
    EXPECT_EQ(task["result"]["change"]["validation"]["planSummary"], "0 to add, 1 to change, 0 to destroy")
        << task.dump();
}

TEST_F(ProvidersCli, FetchFillsTheCacheAheadOfTime)
{
    auto f = run_cli({"providers", "fetch", "--json", (dir / "seed").string()}, opts);
    ASSERT_EQ(f.exit_code, 0) << f.err;
    auto out = test::json_lines(f.out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0]["ok"], true);
    EXPECT_TRUE(
        fs::exists(home() / "providers/cache/registry.terraform.io/infra-agent-test/testcloud/0.1.0/linux_amd64"));

    auto missing = run_cli({"providers", "fetch", (dir / "nope").string()}, opts);
    EXPECT_EQ(missing.exit_code, 64) << missing.err;
}

}  // namespace
}  // namespace infra
