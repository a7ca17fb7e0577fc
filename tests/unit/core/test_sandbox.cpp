// The sandbox against what hostile commands try: the network, the host's
// files and environment, fork and memory bombs, endless runs, floods.
#include "core/sandbox.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace infra::core::sandbox;
using infra::test::TempDir;
using infra::test::write_file;

namespace {

struct SandboxTest : ::testing::Test {
    TempDir dir;
    std::optional<Sandbox> box;
    void SetUp() override
    {
        auto s = Sandbox::create(Mode::bwrap);
        ASSERT_TRUE(s) << s.error().message;
        box = *s;
        std::filesystem::create_directories(dir / "ws");
        write_file(dir / "ws/main.tf", "x");
    }
    Outcome sh(const std::string& script, Limits limits = {})
    {
        Request r;
        r.argv = {"/bin/bash", "-c", script};
        r.workspace = dir / "ws";
        r.limits = limits;
        auto o = box->run(r);
        EXPECT_TRUE(o) << o.error().message;
        return o ? *o : Outcome{};
    }
};

}  // namespace

TEST_F(SandboxTest, WorkspaceIsWritableAndTheSystemIsNot)
{
    // The root outside the binds is a private, throw-away tmpfs.
    auto o = sh("cat main.tf; echo y > new.tf; touch /usr/evil 2>/dev/null || echo ro; echo z > /etc-file; pwd");
    EXPECT_EQ(o.exit_code, 0) << o.err;
    EXPECT_EQ(o.out, "xro\n/workspace\n");
    EXPECT_FALSE(std::filesystem::exists("/etc-file"));
    EXPECT_EQ(infra::test::read_file(dir / "ws/new.tf"), "y\n");
    EXPECT_FALSE(std::filesystem::exists("/usr/evil"));
}

TEST_F(SandboxTest, ACheckoutsGitMetadataIsHiddenAndCannotBeRewritten)
{
    write_file(dir / "ws/.git/config",
               "[remote \"origin\"]\n\turl = https://x-access-token:SECRET@example.com/a.git\n");
    auto o = sh("cat .git/config 2>&1; echo '[core]' > .git/config 2>/dev/null || echo refused; rm -rf .git "
                "2>/dev/null || echo kept;"
                " mkdir .git/hooks 2>/dev/null || echo ro; ls -A .git | wc -l");
    EXPECT_EQ(o.out.find("SECRET"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("refused"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("ro"), std::string::npos) << o.out;
    EXPECT_EQ(infra::test::read_file(dir / "ws/.git/config"),
              "[remote \"origin\"]\n\turl = https://x-access-token:SECRET@example.com/a.git\n");
    // A .git file (a linked worktree's) is hidden too.
    std::filesystem::remove_all(dir / "ws/.git");
    write_file(dir / "ws/.git", "gitdir: /elsewhere\n");
    o = sh("cat .git; echo 'gitdir: /evil' > .git 2>/dev/null || echo refused");
    EXPECT_EQ(o.out, "refused\n");
    EXPECT_EQ(infra::test::read_file(dir / "ws/.git"), "gitdir: /elsewhere\n");
}

TEST_F(SandboxTest, TheGitMetadataOfRepositoriesInsideTheCheckoutIsHiddenToo)
{
    // A vendored clone, a submodule's .git file, and a .git that is a link
    // to metadata kept elsewhere in the checkout.
    const std::string config = "[remote \"origin\"]\n\turl = https://x-access-token:SECRET@example.com/v.git\n";
    write_file(dir / "ws/vendor/mod/.git/config", config);
    write_file(dir / "ws/modules/net/.git", "gitdir: ../../.git/modules/net\n");
    write_file(dir / "ws/meta/config", config);
    std::filesystem::create_directories(dir / "ws/linked");
    std::filesystem::create_directory_symlink("../meta", dir / "ws/linked/.git");
    auto o = sh("cat vendor/mod/.git/config meta/config 2>&1; "
                "echo '[core]' > vendor/mod/.git/config 2>/dev/null || echo refused-dir; "
                "echo 'gitdir: /evil' > modules/net/.git 2>/dev/null || echo refused-file; "
                "echo '[core]' > meta/config 2>/dev/null || echo refused-link; cat main.tf");
    EXPECT_EQ(o.out.find("SECRET"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("refused-dir\nrefused-file\nrefused-link\nx"), std::string::npos) << o.out;
    EXPECT_EQ(infra::test::read_file(dir / "ws/vendor/mod/.git/config"), config);
    EXPECT_EQ(infra::test::read_file(dir / "ws/modules/net/.git"), "gitdir: ../../.git/modules/net\n");
    EXPECT_EQ(infra::test::read_file(dir / "ws/meta/config"), config);
}

TEST_F(SandboxTest, NoNetworkEvenToTheHostsLoopback)
{
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(s, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    int port = ntohs(a.sin_port);
    auto o =
        sh("(echo hi > /dev/tcp/127.0.0.1/" + std::to_string(port) + ") 2>/dev/null && echo connected || echo blocked");
    ::close(s);
    EXPECT_EQ(o.out, "blocked\n");
}

TEST_F(SandboxTest, SeesNoSecretsOfTheHost)
{
    ::setenv("INFRA_TEST_SECRET", "hunter2", 1);
    write_file("/tmp/infra-agent-host-file", "host");
    auto o = sh("env; ls /root /home 2>&1; cat /tmp/infra-agent-host-file 2>&1; ls /tmp | wc -l; id -u");
    ::unsetenv("INFRA_TEST_SECRET");
    std::filesystem::remove("/tmp/infra-agent-host-file");
    EXPECT_EQ(o.out.find("hunter2"), std::string::npos);
    EXPECT_NE(o.out.find("cannot access '/root'"), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("host\n"), std::string::npos);
    if (::getuid() == 0) {
        auto uid = std::stoul(o.out.substr(o.out.find_last_of('\n', o.out.size() - 2) + 1));
        EXPECT_GE(uid, k_sandbox_uid_base) << o.out;
        EXPECT_LT(uid, k_sandbox_uid_base + k_sandbox_uid_span);
    }
}

TEST_F(SandboxTest, WallClockTimeoutKillsTheWholeTree)
{
    Limits l;
    l.wall = std::chrono::milliseconds(500);
    auto started = std::chrono::steady_clock::now();
    auto o = sh("sleep 1000 & sleep 1000 & sleep 1000; echo never", l);
    EXPECT_TRUE(o.timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_EQ(o.out.find("never"), std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_NE(std::system("pgrep -f '^sleep 1000$' > /dev/null"), 0);  // nothing left behind
}

TEST_F(SandboxTest, ForkBombIsContained)
{
    Limits l;
    l.processes = 64;
    l.wall = std::chrono::milliseconds(3000);
    auto o = sh("b() { b | b & }; b; sleep 1; echo still-here", l);
    // The bomb hits the process limit ("fork: retry" / "Resource temporarily unavailable").
    bool limited = o.err.find("fork") != std::string::npos || o.err.find("unavailable") != std::string::npos;
    EXPECT_TRUE(limited) << o.err.substr(0, 300);
    // The host can still start processes.
    EXPECT_EQ(std::system("true"), 0);
}

TEST_F(SandboxTest, MemoryBombIsStopped)
{
    Limits l;
    l.memory = 256ull << 20;
    auto o = sh("python3 -c 'x = bytearray(1024 * 1024 * 1024); print(len(x))'", l);
    EXPECT_NE(o.exit_code, 0);
    EXPECT_NE(o.err.find("MemoryError"), std::string::npos) << o.err;
}

TEST_F(SandboxTest, OutputIsCappedAndFilesAreLimited)
{
    Limits l;
    l.output = 1000;
    l.file_size = 1 << 20;
    auto o = sh("head -c 5000000 /dev/zero | tr '\\0' a; head -c 5000000 /dev/zero > big.bin; echo done $?", l);
    EXPECT_TRUE(o.out_truncated);
    EXPECT_EQ(o.out.size(), 1000u);
    EXPECT_LE(std::filesystem::file_size(dir / "ws/big.bin"), 1u << 20);
}

TEST(SandboxCreate, WithoutBubblewrapNothingRuns)
{
    auto s = Sandbox::create(Mode::bwrap, "/nonexistent/bwrap");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("bubblewrap (bwrap) is not installed"), std::string::npos);
    EXPECT_NE(s.error().hint.find("never runs unsandboxed"), std::string::npos);
}

TEST_F(SandboxTest, BoundDirectoriesAreWritableAtTheirOwnPathAndNothingBesideThem)
{
    std::filesystem::create_directories(dir / "state");
    std::filesystem::create_directories(dir / "secret");
    write_file(dir / "state/terraform.tfstate", "old");
    write_file(dir / "secret/key", "k");
    Request r;
    std::string state = std::filesystem::canonical(dir / "state").string();
    std::string secret = std::filesystem::canonical(dir / "secret").string();
    r.argv = {"/bin/bash", "-c",
              "cat " + state + "/terraform.tfstate; echo new > " + state + "/terraform.tfstate; cat " + secret +
                  "/key 2>/dev/null || echo hidden"};
    r.workspace = dir / "ws";
    r.binds = {dir / "state"};
    auto o = box->run(r);
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->exit_code, 0) << o->err;
    EXPECT_EQ(o->out, "oldhidden\n");
    EXPECT_EQ(infra::test::read_file(dir / "state/terraform.tfstate"), "new\n");
    // Given back to its owner afterwards, like the workspace.
    struct stat st {};
    ASSERT_EQ(::stat((dir / "state/terraform.tfstate").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, ::getuid());

    r.binds = {dir / "missing"};
    auto missing = box->run(r);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("is not a directory"), std::string::npos);
    r.binds = {"/"};
    EXPECT_FALSE(box->run(r));
    r.binds = {dir.path()};  // around the workspace
    EXPECT_FALSE(box->run(r));
    std::filesystem::create_directories(dir / "ws" / "inner");
    r.binds = {dir / "ws" / "inner"};
    EXPECT_FALSE(box->run(r));
}

TEST_F(SandboxTest, ACommandThatLeavesItsInputUnreadDoesNotEndTheCaller)
{
    // As in the CLI: a write to a pipe nobody reads would end the process.
    auto before = ::signal(SIGPIPE, SIG_DFL);
    Request r;
    r.argv = {"/bin/true"};
    r.workspace = dir / "ws";
    r.stdin_data = std::string(8 << 20, 'x');  // far more than a pipe holds
    auto o = box->run(r);
    ::signal(SIGPIPE, before);
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->exit_code, 0) << o->err;
    // Nothing of it is left behind for the next write either.
    sigset_t pending;
    ::sigpending(&pending);
    EXPECT_EQ(::sigismember(&pending, SIGPIPE), 0);
}

TEST_F(SandboxTest, EachCommandLeavesNoProcessBehindForAnotherToReap)
{
    // bubblewrap's PID-namespace init outlives bubblewrap for a moment; left
    // to PID 1, it stays a zombie of the sandbox user where PID 1 does not
    // reap (a container), and enough of them use up the process limit.
    for (int i = 0; i < 5; ++i) EXPECT_EQ(sh("true").exit_code, 0);
    std::string ws = std::filesystem::canonical(dir / "ws").string();
    uid_t user = ::getuid() == 0
                     ? static_cast<uid_t>(k_sandbox_uid_base + std::hash<std::string>{}(ws) % k_sandbox_uid_span)
                     : ::getuid();
    int zombies = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        std::ifstream in(e.path() / "status");  // a process's, or nothing (gone, or no process)
        std::string status((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (status.find("\nState:\tZ") == std::string::npos || status.find("Name:\tbwrap\n") != 0) continue;
        zombies += status.find("\nUid:\t" + std::to_string(user) + "\t") != std::string::npos;
    }
    EXPECT_EQ(zombies, 0);
}

TEST_F(SandboxTest, ACommandDiesWithTheProcessThatRanIt)
{
    // infra-agent killed (SIGKILL) while a sandboxed command runs: nothing
    // of the command outlives it.
    pid_t runner = ::fork();
    ASSERT_GE(runner, 0);
    if (runner == 0) {
        Request r;
        r.argv = {"sleep", "31.25"};
        r.workspace = dir / "ws";
        (void)box->run(r);
        ::_exit(0);
    }
    auto sleeping = [] {
        int n = 0;
        for (const auto& e : std::filesystem::directory_iterator("/proc")) {
            std::ifstream in(e.path() / "cmdline");
            std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            n += cmdline == std::string("sleep\0"
                                        "31.25\0",
                                        12);
        }
        return n;
    };
    for (int i = 0; i < 100 && sleeping() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(sleeping(), 1);
    ::kill(runner, SIGKILL);
    ::waitpid(runner, nullptr, 0);
    for (int i = 0; i < 100 && sleeping() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(sleeping(), 0);
}

TEST(SandboxNone, FindsAProgramOnTheCommandsPath)
{
    TempDir dir;
    auto box = Sandbox::create(Mode::none);
    ASSERT_TRUE(box);
    Request r;
    r.argv = {"sh", "-c", "echo $PATH"};
    r.workspace = dir.path();
    auto o = box->run(r);
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->exit_code, 0) << o->err;
    EXPECT_EQ(o->out, "/usr/local/bin:/usr/bin:/bin\n");
    r.argv = {"no-such-program-anywhere"};
    auto missing = box->run(r);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message,
              "cannot start the sandbox: cannot run no-such-program-anywhere: No such file or directory");
}

TEST(SandboxStages, WhatAKilledProcessLeftIsRemovedAndNothingElse)
{
    TempDir tmp;
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ASSERT_GT(child, 0);
    ::waitpid(child, nullptr, 0);  // gone: its pid names no process
    std::string dead = std::string(k_stage_prefix) + std::to_string(child) + "-";
    std::string alive = std::string(k_stage_prefix) + std::to_string(::getpid()) + "-";
    auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(48);
    for (const std::string& name : {dead + "left01", dead + "fresh1", alive + "inuse1", dead + "notemp",
                                    std::string(k_stage_prefix) + "XyZ123", std::string("other-dir")}) {
        std::filesystem::create_directories(tmp / name);
        if (name == dead + "notemp") write_file(tmp / name / "file", "x");
        if (name != dead + "fresh1") std::filesystem::last_write_time(tmp / name, old);
    }
    EXPECT_EQ(remove_stale_stages(tmp.path(), std::chrono::hours(24)), 1u);
    EXPECT_FALSE(std::filesystem::exists(tmp / (dead + "left01")));
    for (const std::string& kept : {dead + "fresh1", alive + "inuse1", dead + "notemp",
                                    std::string(k_stage_prefix) + "XyZ123", std::string("other-dir")})
        EXPECT_TRUE(std::filesystem::exists(tmp / kept)) << kept;
}
