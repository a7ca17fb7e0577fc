#include "core/diff.hpp"
#include "core/workspace.hpp"
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace infra::core;
using infra::test::TempDir;
using infra::test::write_file;

TEST(Workspace, RefusesEscapes)
{
    TempDir dir;
    write_file(dir / "ws/main.tf", "x");
    write_file(dir / "secret", "s");
    std::filesystem::create_directories(dir / "ws/sub");
    std::filesystem::create_symlink(dir / "secret", dir / "ws/link");
    std::filesystem::create_symlink(dir.path(), dir / "ws/sub/up");
    auto ws = Workspace::open(dir / "ws");
    ASSERT_TRUE(ws);
    EXPECT_EQ(*ws->read("main.tf"), "x");
    EXPECT_EQ(ws->read("../secret").error().code, Errc::denied);
    EXPECT_EQ(ws->read("/etc/passwd").error().code, Errc::denied);
    EXPECT_EQ(ws->read("link").error().code, Errc::denied);
    EXPECT_EQ(ws->read("sub/up/secret").error().code, Errc::denied);
    EXPECT_EQ(ws->write("link", "y").error().code, Errc::denied);
    EXPECT_EQ(ws->write("sub/up/evil", "y").error().code, Errc::denied);
    EXPECT_FALSE(std::filesystem::exists(dir / "evil"));
    EXPECT_EQ(infra::test::read_file(dir / "secret"), "s");
    ASSERT_TRUE(ws->write("new/dir/file.tf", "z"));
    EXPECT_EQ(*ws->read("new/dir/file.tf"), "z");
    auto files = ws->list();
    ASSERT_TRUE(files);
    EXPECT_EQ(*files, (std::vector<std::string>{"main.tf", "new/dir/file.tf"}));
}

TEST(Workspace, GitMetadataIsOutOfReach)
{
    TempDir dir;
    write_file(dir / "ws/main.tf", "x");
    write_file(dir / "ws/.git/config", "[core]\n");
    std::filesystem::create_symlink(".git", dir / "ws/meta");
    auto ws = Workspace::open(dir / "ws");
    ASSERT_TRUE(ws);
    for (const char* p :
         {".git/config", ".GIT/config", "sub/.git/config", ".git/hooks/pre-commit", "meta/config", "meta/hooks/x"}) {
        auto w = ws->write(p, "[core]\n\tworktree = ../../keys\n");
        ASSERT_FALSE(w) << p;
        EXPECT_EQ(w.error().code, Errc::denied) << p;
        EXPECT_NE(w.error().message.find("git metadata"), std::string::npos) << w.error().message;
        EXPECT_FALSE(ws->read(p)) << p;
    }
    EXPECT_EQ(infra::test::read_file(dir / "ws/.git/config"), "[core]\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "ws/.git/hooks"));
    EXPECT_FALSE(std::filesystem::exists(dir / "ws/sub"));
    EXPECT_TRUE(ws->write(".github-notes.tf", "ok"));  // only the component .git itself is metadata
}

TEST(Workspace, RecursiveDeletesStayInside)
{
    TempDir dir;
    write_file(dir / "home/worktrees/T-1/main.tf", "x");
    write_file(dir / "home/state.db", "keep");
    write_file(dir / "victim/.terraform/keep", "keep");
    std::filesystem::create_symlink(dir / "victim", dir / "home/worktrees/link");
    auto root = dir / "home/worktrees";
    EXPECT_TRUE(remove_tree_inside(root, root / "T-1"));
    EXPECT_FALSE(std::filesystem::exists(root / "T-1"));
    EXPECT_TRUE(remove_tree_inside(root, root / "missing"));
    for (auto bad : {root / "..", root / ".", root, root / "../..", root / "T-2/../..", root / "link/.terraform"}) {
        auto r = remove_tree_inside(root, bad);
        EXPECT_FALSE(r) << bad;
    }
    EXPECT_TRUE(std::filesystem::exists(dir / "home/state.db"));
    EXPECT_TRUE(std::filesystem::exists(dir / "victim/.terraform/keep"));
    // A symlink inside is removed itself, never what it names.
    EXPECT_TRUE(remove_tree_inside(root, root / "link"));
    EXPECT_FALSE(std::filesystem::exists(root / "link"));
    EXPECT_TRUE(std::filesystem::exists(dir / "victim/.terraform/keep"));
}

TEST(Diff, AppliesWithGitApply)
{
    std::mt19937 rng(3);
    for (int round = 0; round < 20; ++round) {
        std::string before, after;
        for (int i = 0; i < 60; ++i) before += "line " + std::to_string(i) + "\n";
        std::vector<std::string> lines;
        for (int i = 0; i < 60; ++i) lines.push_back("line " + std::to_string(i) + "\n");
        for (int e = 0; e < 4; ++e) {
            std::size_t at = rng() % lines.size();
            switch (rng() % 3) {
            case 0:
                lines.erase(lines.begin() + static_cast<long>(at));
                break;
            case 1:
                lines.insert(lines.begin() + static_cast<long>(at), "new " + std::to_string(rng() % 100) + "\n");
                break;
            default:
                lines[at] = "changed " + std::to_string(at) + "\n";
            }
        }
        for (auto& l : lines) after += l;
        std::string d = diff::unified(before, after, "f.txt");
        ASSERT_FALSE(d.empty());
        TempDir dir;
        write_file(dir / "f.txt", before);
        write_file(dir / "p.diff", d);
        infra::test::RunOptions o;
        o.cwd = dir.path().string();
        auto r = infra::test::run_program("/usr/bin/git", {"apply", "p.diff"}, o);
        ASSERT_EQ(r.exit_code, 0) << r.err << d;
        EXPECT_EQ(infra::test::read_file(dir / "f.txt"), after) << d;
    }
    EXPECT_EQ(diff::unified("a\n", "a\n", "x"), "");
}
