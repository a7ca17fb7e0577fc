// Git through libgit2 against real repositories: a bare repository on disk
// and a smart-HTTP remote served by `git http-backend`, with credentials
// minted by the broker and checked by the server.
#include "core/creds/broker.hpp"
#include "core/git.hpp"
#include "core/home.hpp"
#include "core/state.hpp"
#include "plugins/credentials/providers.hpp"
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace infra {
namespace {

namespace fs = std::filesystem;
using core::git::Checkout;

/// A bare repository "acme.git" with one commit on main, and a helper clone.
class GitTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        fs::create_directories(dir / "remote");
        test::git(dir / "remote", "init -q --bare acme.git");
        test::git(dir.path(), "init -q seed");
        test::write_file(dir / "seed" / "main.tf", "resource \"terraform_data\" \"a\" {}\n");
        test::write_file(dir / "seed" / "old.tf", "# to be deleted\n");
        test::git(dir / "seed", "add -A");
        test::git(dir / "seed", "commit -q -m initial");
        test::git(dir / "seed", "push -q " + bare().string() + " main");
    }
    fs::path bare() const { return dir / "remote" / "acme.git"; }

    core::git::Identity bot;
    core::git::PushOptions push_opts()
    {
        core::git::PushOptions o;
        o.bot_email = bot.email;
        return o;
    }

    /// Clones, edits and commits a fix on branch; returns the checkout.
    Checkout fix(const std::string& url, const std::string& into, const std::string& content, const std::string& branch,
                 const core::git::Auth& auth = {})
    {
        auto co = core::git::clone(url, dir / into, "", auth);
        EXPECT_TRUE(co) << co.error().message;
        if (!co) return {};
        test::write_file(co->dir / "main.tf", content);
        fs::remove(co->dir / "old.tf");
        fs::create_directories(co->dir / ".terraform" / "providers");
        test::write_file(co->dir / ".terraform" / "providers" / "x", "working data");
        test::write_file(co->dir / "plan.tfplan", "binary");
        auto id =
            core::git::commit_all(*co, branch, "fix: encrypt the bucket\n\nBecause CKV_AWS_19.", bot,
                                  {"01TASK", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "sha256:abc"});
        EXPECT_TRUE(id) << id.error().message;
        EXPECT_EQ(id->size(), 40u);
        return *co;
    }
    test::TempDir dir;
};

TEST_F(GitTest, BranchNamesAreDeterministic)
{
    EXPECT_EQ(core::git::branch_name("compliance-remediation",
                                     "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"),
              "infra-agent/compliance-remediation/9f86d081884c7d65");
    // A key that is not a digest is named by a digest of all of it: keys that
    // share their hex digits do not share a branch.
    EXPECT_EQ(core::git::branch_name("Drift Detection", "sha256:ab").substr(0, 28), "infra-agent/drift-detection/");
    EXPECT_EQ(core::git::branch_name("Drift Detection", "sha256:ab").size(), 44u);
    EXPECT_NE(core::git::branch_name("x", "k-0123-4567"), core::git::branch_name("x", "x-0123-x-4567-x"));
    EXPECT_EQ(core::git::branch_name("x", "k-0123-4567"), core::git::branch_name("x", "k-0123-4567"));
}

TEST_F(GitTest, CommitsCarryTrailersAndLeaveWorkingDataOut)
{
    std::string branch = "infra-agent/compliance-remediation/abc";
    auto co = fix(bare().string(), "w1", "resource \"terraform_data\" \"a\" { input = 1 }\n", branch);
    auto pushed = core::git::push(co, branch, push_opts());
    ASSERT_TRUE(pushed) << pushed.error().message;
    EXPECT_TRUE(pushed->created);
    std::string files = test::git(bare(), "ls-tree -r --name-only " + branch);
    EXPECT_EQ(files, "main.tf\n");  // old.tf deleted; .terraform and the plan left out
    std::string msg = test::git(bare(), "log -1 --format=%B " + branch);
    auto tr = core::git::trailers_of(msg);
    EXPECT_EQ(tr["Task-Id"], "01TASK");
    EXPECT_EQ(tr["Traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    EXPECT_EQ(tr["Policy-Digest"], "sha256:abc");
    EXPECT_EQ(test::git(bare(), "log -1 --format=%cn/%ce " + branch), "infra-agent/" + bot.email + "\n");
    EXPECT_EQ(test::git(bare(), "rev-parse " + branch + "^"), test::git(bare(), "rev-parse main"));

    // No change, no commit.
    auto again = core::git::clone(bare().string(), dir / "w2", "", {});
    ASSERT_TRUE(again);
    auto none = core::git::commit_all(*again, branch, "nothing", bot, {"T", "", ""});
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, "");
}

TEST_F(GitTest, ASecondRunUpdatesTheBotBranchWithLease)
{
    std::string branch = "infra-agent/compliance-remediation/abc";
    auto first = fix(bare().string(), "w1", "v1\n", branch);
    ASSERT_TRUE(core::git::push(first, branch, push_opts()));

    // The same fix again: nothing to push.
    auto same = fix(bare().string(), "w2", "v1\n", branch);
    auto r = core::git::push(same, branch, push_opts());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->unchanged);

    // A different fix replaces the bot's commit.
    auto second = fix(bare().string(), "w3", "v2\n", branch);
    r = core::git::push(second, branch, push_opts());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->created);
    EXPECT_FALSE(r->unchanged);
    EXPECT_EQ(test::git(bare(), "show " + branch + ":main.tf"), "v2\n");
    EXPECT_EQ(test::git(bare(), "rev-list --count main.." + branch), "1\n");
}

TEST_F(GitTest, APersonsPushStopsTheBot)
{
    std::string branch = "infra-agent/compliance-remediation/abc";
    auto first = fix(bare().string(), "w1", "v1\n", branch);
    ASSERT_TRUE(core::git::push(first, branch, push_opts()));
    test::git(dir.path(), "clone -q " + bare().string() + " person");
    test::git(dir / "person", "checkout -q " + branch);
    test::write_file(dir / "person" / "main.tf", "reviewer's tweak\n");
    test::git(dir / "person", "commit -q -am tweak");
    test::git(dir / "person", "push -q origin " + branch);

    auto second = fix(bare().string(), "w2", "v2\n", branch);
    auto r = core::git::push(second, branch, push_opts());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Errc::conflict);
    EXPECT_NE(r.error().message.find("Person"), std::string::npos) << r.error().message;
    EXPECT_EQ(test::git(bare(), "show " + branch + ":main.tf"), "reviewer's tweak\n");
}

TEST_F(GitTest, RefusesDefaultAndProtectedBranches)
{
    auto co = fix(bare().string(), "w1", "v1\n", "infra-agent/x/1");
    for (std::string b : {"main", "release/1.0", "feature/x"}) {
        auto r = core::git::push(co, b, push_opts());
        ASSERT_FALSE(r) << b;
        EXPECT_EQ(r.error().code, core::Errc::denied) << b;
    }
    // A remote whose default branch is itself under infra-agent/ is refused too.
    test::git(bare(), "symbolic-ref HEAD refs/heads/infra-agent/x/1");
    test::git(bare(), "branch infra-agent/x/1 main");
    auto r = core::git::push(co, "infra-agent/x/1", push_opts());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("default branch"), std::string::npos) << r.error().message;
    EXPECT_EQ(test::git(bare(), "rev-parse infra-agent/x/1"), test::git(bare(), "rev-parse main"));
}

TEST_F(GitTest, PushesOverSmartHttpWithAMintedCredential)
{
    auto home = core::Home{dir / "home", ""};
    auto db = core::open_state(home);
    ASSERT_TRUE(db);
    core::creds::Ledger ledger(**db);
    auto key = plugins::credentials::load_or_create_key(home.dir / "keys" / "local-creds.key");
    ASSERT_TRUE(key);
    auto provider = plugins::credentials::make_local(*key);
    core::creds::Broker broker(ledger, *provider);
    std::mutex m;
    std::vector<std::string> seen_tokens;
    test::GitHttpServer server(
        dir / "remote", [&](const std::string&, const std::string& password, const std::string& path, bool is_push) {
            std::lock_guard lock(m);
            seen_tokens.push_back(password);
            // The server's gate: reading needs a credential for this repository;
            // pushing needs one that covers pushes to bot branches.
            if (path.rfind("/acme.git/", 0) != 0) return false;
            if (is_push) return broker.verify(password, "git:push:repo=acme,branch=infra-agent/x").has_value();
            auto e = broker.verify(password, std::nullopt);
            return e && core::creds::parse_scope(e->scope)->attr("repo") == "acme";
        });

    int mints = 0;
    core::git::Auth auth;
    auth.token = [&]() -> core::Result<std::string> {
        ++mints;
        auto c = broker.mint({"git:push:repo=acme,branch=infra-agent/*", std::chrono::minutes(10), "01TASK", ""});
        if (!c) return core::fail(c.error());
        return c->secret;
    };
    std::string url = server.url() + "acme.git";
    std::string branch = "infra-agent/compliance-remediation/abc";
    auto co = fix(url, "w1", "over http\n", branch, auth);
    auto opts = push_opts();
    opts.auth = auth;
    auto r = core::git::push(co, branch, opts);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->created);
    EXPECT_EQ(server.pushes(), 1);
    EXPECT_EQ(test::git(bare(), "show " + branch + ":main.tf"), "over http\n");
    EXPECT_GE(mints, 1);
    // One credential, reused: the ledger has a single entry for the task.
    auto rows = ledger.list({"01TASK", "", false, 10}, core::creds::wall_ms());
    ASSERT_TRUE(rows);
    EXPECT_EQ(rows->size(), 1u);
    EXPECT_GT(server.refused(), 0);  // the first request of each operation carries no credential

    // A revoked credential is refused by the server, and the push fails cleanly.
    ASSERT_TRUE(ledger.revoke_matching("git:", "01TASK", core::creds::wall_ms()));
    core::git::PushOptions stale = push_opts();
    stale.auth.token = [&]() -> core::Result<std::string> { return seen_tokens.back(); };
    auto co2 = core::git::clone(bare().string(), dir / "w2", "", {});
    ASSERT_TRUE(co2);
    test::write_file(co2->dir / "main.tf", "v2\n");
    ASSERT_TRUE(core::git::commit_all(*co2, branch, "fix", bot, {"01TASK", "", ""}));
    // As an operator would point it elsewhere: in the metadata beside the tree.
    test::git(co2->git_dir, "remote set-url origin " + url);
    co2->remote_url = url;
    auto denied = core::git::push(*co2, branch, stale);
    ASSERT_FALSE(denied);
    EXPECT_NE(denied.error().message.find("refused the credential"), std::string::npos) << denied.error().message;
    for (const auto& t : seen_tokens) EXPECT_EQ(denied.error().message.find(t.empty() ? "\x01" : t), std::string::npos);
}

TEST_F(GitTest, TheWorkingTreeHoldsNoGitMetadata)
{
    auto co = core::git::clone(bare().string(), dir / "w1", "", {});
    ASSERT_TRUE(co) << co.error().message;
    EXPECT_TRUE(fs::exists(co->dir / "main.tf"));
    EXPECT_FALSE(fs::exists(co->dir / ".git"));
    EXPECT_EQ(co->git_dir, dir / "w1.git");
    EXPECT_TRUE(fs::exists(co->git_dir / "HEAD"));
    EXPECT_EQ(co->remote_url, bare().string());
    EXPECT_TRUE(core::git::is_git_metadata(".git/config"));
    EXPECT_TRUE(core::git::is_git_metadata("sub/.GIT"));
    EXPECT_FALSE(core::git::is_git_metadata(".github/workflows/ci.yml"));
}

// Whatever is written into the working tree, the host commits and pushes
// with the metadata and configuration it keeps beside it: a .git directory
// or file in the tree (core.worktree, a remote, an include, a filter) steers
// nothing and is never committed.
TEST_F(GitTest, AGitConfigInTheWorkingTreeSteersNothing)
{
    test::write_file(dir / "keys" / "local-creds.key", "SECRET-KEY-MATERIAL\n");
    auto co = core::git::clone(bare().string(), dir / "w1", "", {});
    ASSERT_TRUE(co) << co.error().message;
    test::write_file(co->dir / "main.tf", "fixed\n");
    test::write_file(co->dir / ".git" / "config",
                     "[core]\n\tworktree = ../../keys\n[remote \"origin\"]\n\turl = http://127.0.0.1:9/evil.git\n"
                     "[include]\n\tpath = ../../keys/local-creds.key\n[filter \"evil\"]\n\tclean = touch " +
                         (dir / "pwned").string() + "\n");
    test::write_file(co->dir / ".gitattributes", "*.tf filter=evil\n");
    std::string branch = "infra-agent/compliance-remediation/steer";
    // The .git in the tree is not even read: the commit is made as if it were not there.
    auto first = core::git::commit_all(*co, branch, "fix", bot, {"01TASK", "", ""});
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_FALSE(fs::exists(dir / "pwned"));
    // A nested one would pose as a repository when staging: it is removed first.
    test::write_file(co->dir / "sub" / ".git", "gitdir: ../../keys\n");
    test::write_file(co->dir / "sub" / "x.tf", "x\n");
    auto removed = core::git::remove_metadata_from_tree(*co);
    ASSERT_TRUE(removed) << removed.error().message;
    std::sort(removed->begin(), removed->end());
    EXPECT_EQ(*removed, (std::vector<std::string>{".git", "sub/.git"}));
    EXPECT_TRUE(fs::exists(dir / "keys" / "local-creds.key"));
    auto id = core::git::commit_all(*co, branch, "fix", bot, {"01TASK", "", ""});
    ASSERT_TRUE(id) << id.error().message;
    auto changed = core::git::changed_paths(*co);
    ASSERT_TRUE(changed) << changed.error().message;
    EXPECT_EQ(*changed, (std::vector<std::string>{".gitattributes", "main.tf", "sub/x.tf"}));
    auto r = core::git::push(*co, branch, push_opts());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(test::git(bare(), "ls-tree -r --name-only " + branch), ".gitattributes\nmain.tf\nold.tf\nsub/x.tf\n");
    EXPECT_EQ(test::git(bare(), "show " + branch + ":main.tf"), "fixed\n");
    EXPECT_FALSE(fs::exists(dir / "pwned"));
    EXPECT_EQ(test::git(bare(), "log --all --format=%H -- local-creds.key"), "");
}

// Credentials go to the URL the repository was cloned from and nowhere
// else: not to a host a redirect names, not to a remote rewritten later.
TEST_F(GitTest, CredentialsGoOnlyToTheConfiguredRemote)
{
    std::mutex m;
    std::vector<std::string> evil_auth;
    httplib::Server evil;
    evil.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(m);
        evil_auth.push_back(req.get_header_value("Authorization"));
        res.status = 401;
        res.set_header("WWW-Authenticate", "Basic realm=\"evil\"");
    });
    int evil_port = evil.bind_to_any_port("127.0.0.1");
    std::thread evil_thread([&] { evil.listen_after_bind(); });
    httplib::Server redirector;
    redirector.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
        res.set_redirect("http://127.0.0.1:" + std::to_string(evil_port) + req.path + "?" + "service=git-receive-pack",
                         302);
    });
    int redirect_port = redirector.bind_to_any_port("127.0.0.1");
    std::thread redirect_thread([&] { redirector.listen_after_bind(); });

    test::GitHttpServer server(dir / "remote", [&](const std::string&, const std::string& password, const std::string&,
                                                   bool) { return password == "the-token"; });
    int mints = 0;
    core::git::Auth auth;
    auth.token = [&]() -> core::Result<std::string> {
        ++mints;
        return std::string("the-token");
    };
    std::string url = server.url() + "acme.git";
    std::string branch = "infra-agent/compliance-remediation/creds";
    auto co = fix(url, "w1", "v1\n", branch, auth);
    ASSERT_FALSE(co.dir.empty());
    auto opts = push_opts();
    opts.auth = auth;

    // Origin rewritten under the host's feet: refused before anything is sent.
    std::string evil_url = "http://127.0.0.1:" + std::to_string(evil_port) + "/acme.git";
    test::git(co.git_dir, "remote set-url origin " + evil_url);
    auto rewritten = core::git::push(co, branch, opts);
    ASSERT_FALSE(rewritten);
    EXPECT_NE(rewritten.error().message.find("cloned from"), std::string::npos) << rewritten.error().message;

    // A remote that redirects elsewhere: not followed, and no credential leaves.
    std::string redirecting = "http://127.0.0.1:" + std::to_string(redirect_port) + "/acme.git";
    test::git(co.git_dir, "remote set-url origin " + redirecting);
    co.remote_url = redirecting;
    auto redirected = core::git::push(co, branch, opts);
    EXPECT_FALSE(redirected);

    // The configured remote gets its credential.
    test::git(co.git_dir, "remote set-url origin " + url);
    co.remote_url = url;
    auto pushed = core::git::push(co, branch, opts);
    ASSERT_TRUE(pushed) << pushed.error().message;
    EXPECT_EQ(server.pushes(), 1);

    evil.stop();
    redirector.stop();
    evil_thread.join();
    redirect_thread.join();
    std::lock_guard lock(m);
    for (const auto& a : evil_auth) EXPECT_EQ(a, "") << "the evil server got a credential";
}

/// An OpenSSH server on 127.0.0.1 for one test, accepting one key.
class SshServer {
public:
    explicit SshServer(const fs::path& dir) : m_dir(dir)
    {
        std::error_code ec;
        fs::create_directories("/run/sshd", ec);  // sshd's privilege separation directory, when run as root
        for (const char* k : {"host_key", "user_key"})
            test::run_program("/usr/bin/ssh-keygen", {"-q", "-t", "ed25519", "-N", "", "-f", (dir / k).string()});
        fs::copy_file(dir / "user_key.pub", dir / "authorized_keys");
        port = 20000 + ::getpid() % 20000;
        test::write_file(dir / "sshd_config",
                         "Port " + std::to_string(port) + "\nListenAddress 127.0.0.1\nHostKey " +
                             (dir / "host_key").string() + "\nAuthorizedKeysFile " +
                             (dir / "authorized_keys").string() +
                             "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                             "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nPidFile " +
                             (dir / "sshd.pid").string() + "\n");
        m_pid = ::fork();
        if (m_pid == 0) {
            std::string cfg = (dir / "sshd_config").string();
            int log = ::open((dir / "sshd.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            ::dup2(log, 2);
            ::execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 100 && !ready; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<std::uint16_t>(port));
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ready = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(fd);
            if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    bool ready = false;
    ~SshServer()
    {
        ::kill(m_pid, SIGTERM);
        ::waitpid(m_pid, nullptr, 0);
    }
    int port = 0;

private:
    fs::path m_dir;
    pid_t m_pid = -1;
};

TEST_F(GitTest, PushesOverSshWithTheConfiguredKey)
{
    ASSERT_TRUE(fs::exists("/usr/sbin/sshd")) << "openssh-server is needed (scripts/install-deps --test)";
    fs::create_directories(dir / "ssh");
    SshServer sshd(dir / "ssh");
    ASSERT_TRUE(sshd.ready) << "sshd did not start: " << test::read_file(dir / "ssh" / "sshd.log");
    // sshd lets the user running it log in as itself.
    std::string user = ::getpwuid(::geteuid())->pw_name;
    std::string url = "ssh://" + user + "@127.0.0.1:" + std::to_string(sshd.port) + bare().string();
    // The server's host key is checked against a known_hosts file.
    std::string host_key = test::read_file(dir / "ssh" / "host_key.pub");
    test::write_file(dir / "ssh" / "known_hosts", "[127.0.0.1]:" + std::to_string(sshd.port) + " " + host_key);
    test::write_file(dir / "ssh" / "wrong_hosts",
                     "[127.0.0.1]:" + std::to_string(sshd.port) + " " + test::read_file(dir / "ssh" / "user_key.pub"));
    core::git::Auth auth;
    auth.ssh_key = (dir / "ssh" / "user_key").string();
    auth.ssh_known_hosts = (dir / "ssh" / "wrong_hosts").string();
    auto spoofed = core::git::clone(url, dir / "w0", "", auth);
    ASSERT_FALSE(spoofed);
    EXPECT_NE(spoofed.error().message.find("host key"), std::string::npos) << spoofed.error().message;
    auth.ssh_known_hosts = (dir / "ssh" / "known_hosts").string();
    std::string branch = "infra-agent/compliance-remediation/ssh";
    auto co = fix(url, "w1", "over ssh\n", branch, auth);
    auto opts = push_opts();
    opts.auth = auth;
    auto r = core::git::push(co, branch, opts);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->created);
    EXPECT_EQ(test::git(bare(), "show " + branch + ":main.tf"), "over ssh\n");

    // Another key is refused, cleanly.
    test::run_program("/usr/bin/ssh-keygen",
                      {"-q", "-t", "ed25519", "-N", "", "-f", (dir / "ssh" / "other_key").string()});
    core::git::Auth other = auth;
    other.ssh_key = (dir / "ssh" / "other_key").string();
    auto refused = core::git::clone(url, dir / "w2", "", other);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, core::Errc::unavailable);
}

}  // namespace
}  // namespace infra
