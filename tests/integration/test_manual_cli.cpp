// The manual, the completions and the examples, through the binary, kept in
// step with the command tree: every command and option the binary's own
// --help lists is completed by bash, zsh and fish and documented in its
// manual page; `help CMD` and the page carry the same examples and exit
// codes; every flag an example uses exists.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace infra {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

struct Command {
    std::vector<std::string> path;
    std::set<std::string> options;  ///< long names
    std::vector<std::string> subcommands;
};

/// The command tree as `--help` prints it, walked through the binary.
void walk(const std::vector<std::string>& path, std::vector<Command>& out)
{
    std::vector<std::string> args = path;
    args.push_back("--help");
    auto r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Command c{path, {}, {}};
    bool subs = false;
    static const std::regex k_option(R"(^  (?:-\w, ?)?(--[a-z][a-z0-9-]*))");
    static const std::regex k_sub(R"(^  ([a-z][a-z0-9-]*) {2,})");
    for (const auto& line : lines_of(r.out)) {
        if (line.rfind("Subcommands:", 0) == 0) subs = true;
        else if (!line.empty() && line[0] != ' ') subs = false;
        std::smatch m;
        if (subs && std::regex_search(line, m, k_sub)) c.subcommands.push_back(m[1]);
        else if (!subs && std::regex_search(line, m, k_option)) c.options.insert(m[1]);
    }
    out.push_back(c);
    for (const auto& s : c.subcommands) {
        if (s == "help") continue;
        auto p = path;
        p.push_back(s);
        walk(p, out);
    }
}

std::vector<Command> tree()
{
    std::vector<Command> out;
    walk({}, out);
    return out;
}

std::string joined(const std::vector<std::string>& path, const std::string& sep)
{
    std::string s;
    for (const auto& p : path) s += sep + p;
    return s;
}

/// roff as text: the escapes the manual uses undone.
std::string unroff(std::string s)
{
    for (auto [from, to] :
         {std::pair{"\\-", "-"}, {"\\e", "\\"}, {"\\&", ""}, {"\\fB", ""}, {"\\fR", ""}, {"\\fI", ""}}) {
        for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + std::string_view(to).size()))
            s.replace(at, std::string_view(from).size(), to);
    }
    return s;
}

TEST(ManualCli, CompletionsCoverEveryCommandAndOptionInEachShell)
{
    auto commands = tree();
    ASSERT_GT(commands.size(), 40u);
    std::map<std::string, std::string> script;
    for (const char* shell : {"bash", "zsh", "fish"}) {
        auto r = run_cli({"completion", shell});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        script[shell] = r.out;
    }
    for (const auto& c : commands) {
        std::string path = joined(c.path, "/");
        if (!path.empty()) {
            EXPECT_NE(script["bash"].find("'" + path + "')"), std::string::npos) << "bash lacks " << path;
            EXPECT_NE(script["zsh"].find("('" + path + "')"), std::string::npos) << "zsh lacks " << path;
            EXPECT_NE(script["fish"].find("'" + path + "'"), std::string::npos) << "fish lacks " << path;
            EXPECT_NE(script["zsh"].find("'" + c.path.back() + ":"), std::string::npos) << "zsh lacks " << path;
            EXPECT_NE(script["fish"].find("-a '" + c.path.back() + "'"), std::string::npos) << "fish lacks " << path;
        }
        for (const auto& o : c.options) {
            EXPECT_NE(script["bash"].find(o), std::string::npos) << "bash lacks " << path << " " << o;
            EXPECT_NE(script["zsh"].find("'" + o + ":"), std::string::npos) << "zsh lacks " << path << " " << o;
            EXPECT_NE(script["fish"].find("-l " + o.substr(2)), std::string::npos) << "fish lacks " << path << " " << o;
        }
    }

    // bash, as it completes: the words, the cursor, the function.
    test::TempDir dir;
    test::write_file(dir / "c.bash", script["bash"]);
    auto bash = [&](const std::string& words, int cword) {
        auto r = test::run_program("/bin/bash", {"-c", "source " + (dir / "c.bash").string() + "; COMP_WORDS=(" +
                                                           words + "); COMP_CWORD=" + std::to_string(cword) +
                                                           "; _infra_agent; echo \"${COMPREPLY[*]}\""});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out;
    };
    EXPECT_EQ(bash("infra-agent pol", 1), "policy\n");
    EXPECT_EQ(bash("infra-agent policy ev", 2), "eval\n");
    EXPECT_EQ(bash("infra-agent worker --conc", 2), "--concurrency\n");
    EXPECT_EQ(bash("infra-agent queue ls --state dea", 4), "dead\n");
    EXPECT_EQ(bash("infra-agent --log-level wa", 2), "warn\n");
    EXPECT_EQ(bash("infra-agent help app", 2), "approve apply\n");

    // zsh and fish read their scripts; fish completes as a user would see it.
    test::write_file(dir / "_infra-agent", script["zsh"]);
    auto zsh = test::run_program("/usr/bin/zsh", {"-n", (dir / "_infra-agent").string()});
    EXPECT_EQ(zsh.exit_code, 0) << zsh.err;
    auto zsh_load = test::run_program("/usr/bin/zsh", {"-fc", "fpath=(" + dir.path().string() +
                                                                  " $fpath); autoload -Uz compinit; compinit -u -D; "
                                                                  "(( $+_comps[infra-agent] )) && echo registered"});
    EXPECT_EQ(zsh_load.out, "registered\n") << zsh_load.err;
    test::write_file(dir / "infra-agent.fish", script["fish"]);
    auto fish = [&](const std::string& line) {
        auto r = test::run_program(
            "/usr/bin/fish",
            {"--no-config", "-c", "source " + (dir / "infra-agent.fish").string() + "; complete -C '" + line + "'"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out;
    };
    EXPECT_NE(fish("infra-agent pol").find("policy\tDecide, test, lint and review policies"), std::string::npos)
        << fish("infra-agent pol");
    EXPECT_NE(fish("infra-agent policy ").find("eval\t"), std::string::npos);
    EXPECT_EQ(fish("infra-agent policy ").find("worker"), std::string::npos);  // only policy's subcommands
    EXPECT_NE(fish("infra-agent worker --sandbox ").find("bwrap"), std::string::npos);
    EXPECT_NE(fish("infra-agent apply --").find("--keep-worktree"), std::string::npos);
}

TEST(ManualCli, EveryCommandHasAManualPageWithTheHelpsExamplesAndExitCodes)
{
    test::TempDir dir;
    auto written = run_cli({"help", "--man-dir", (dir / "man1").string()});
    ASSERT_EQ(written.exit_code, 0) << written.err;
    auto commands = tree();
    for (const auto& c : commands) {
        if (c.path.size() != 1) continue;
        const std::string& name = c.path[0];
        fs::path page = dir / "man1" / ("infra-agent-" + name + ".1");
        ASSERT_TRUE(fs::exists(page)) << page;
        std::string text = unroff(test::read_file(page));
        for (const auto& o : c.options)
            if (o != "--help") {
                EXPECT_NE(text.find(o), std::string::npos) << name << " page lacks " << o;
            }
        // `help CMD` and the page say the same: its examples and the exit codes.
        auto help = run_cli({"help", name});
        ASSERT_EQ(help.exit_code, 0);
        // A command line that names a command builds only its part of the
        // tree: what it says about the command is the same.
        auto own = run_cli({name, "--help"});
        EXPECT_EQ(own.exit_code, 0) << name;
        EXPECT_EQ(own.out, help.out) << name;
        int examples = 0;
        for (const auto& line : lines_of(help.out)) {
            if (line.rfind("  $ ", 0) == 0) {
                ++examples;
                EXPECT_NE(text.find(line.substr(4)), std::string::npos) << name << " page lacks the example " << line;
            }
        }
        EXPECT_GT(examples, 0) << name << " has no examples";
        EXPECT_NE(help.out.find("Exit status:"), std::string::npos);
        EXPECT_NE(text.find(".SH EXIT STATUS"), std::string::npos);
        EXPECT_NE(text.find("pending: waits for human approval"), std::string::npos);
        // And man renders it without complaint.
        test::RunOptions o;
        o.env["MANWIDTH"] = "100";
        auto man = test::run_program("/usr/bin/man", {"--warnings", "-l", page.string()}, o);
        EXPECT_EQ(man.exit_code, 0) << name << ": " << man.err;
        EXPECT_TRUE(man.err.empty()) << name << ": " << man.err;
        EXPECT_NE(man.out.find("infra-agent " + name), std::string::npos);
    }
    // The copy kept in the repository for reading is the same (scripts/gen-man refreshes it).
    for (const auto& entry : fs::directory_iterator(dir / "man1")) {
        fs::path kept = fs::path(INFRA_SOURCE_DIR) / "man" / "man1" / entry.path().filename();
        EXPECT_TRUE(fs::exists(kept) && test::read_file(kept) == test::read_file(entry.path()))
            << kept << " is not what the binary generates: run scripts/gen-man";
    }
    EXPECT_EQ(
        std::distance(fs::directory_iterator(fs::path(INFRA_SOURCE_DIR) / "man" / "man1"), fs::directory_iterator()),
        std::distance(fs::directory_iterator(dir / "man1"), fs::directory_iterator()));
    std::string root = test::read_file(dir / "man1" / "infra-agent.1");
    for (const auto& c : commands)
        if (c.path.size() == 1) {
            EXPECT_NE(root.find("infra\\-agent\\-" + c.path[0]), std::string::npos) << c.path[0];
        }
}

/// Checks every infra-agent invocation in text (a shell line, a pipeline, a
/// CI script): its command path exists, and so does each --flag it uses.
/// Returns how many flags were checked.
int check_invocations(const std::string& text, const std::string& where, const std::vector<Command>& commands)
{
    std::map<std::string, const Command*> by_path;
    for (const auto& c : commands) {
        std::string key = joined(c.path, " ");
        by_path[key.empty() ? key : key.substr(1)] = &c;
    }
    const std::set<std::string>& globals = by_path[""]->options;
    int checked = 0;
    std::size_t at = 0;
    while ((at = text.find("infra-agent ", at)) != std::string::npos) {
        bool word_start = at == 0 || std::string(" \t|;&($`\n").find(text[at - 1]) != std::string::npos;
        std::size_t end = text.find_first_of("|;&)\n", at);
        std::string segment = text.substr(at + 12, end == std::string::npos ? std::string::npos : end - at - 12);
        at += 12;
        if (!word_start) continue;
        std::istringstream words(segment);
        std::string w, path;
        bool in_path = true;
        while (words >> w) {
            if (w.rfind(">", 0) == 0 || w.rfind("2>", 0) == 0 || w.rfind("#", 0) == 0)
                break;  // a redirection, a comment
            if (in_path && by_path.count(path.empty() ? w : path + " " + w)) {
                path = path.empty() ? w : path + " " + w;
                continue;
            }
            if (w.rfind("--", 0) == 0) {
                std::string flag = w.substr(0, w.find('='));
                EXPECT_TRUE(by_path[path]->options.count(flag) || globals.count(flag))
                    << where << ": 'infra-agent " << segment << "': infra-agent " << path << " has no " << flag;
                ++checked;
            }
            if (w.rfind("-", 0) != 0) in_path = false;
        }
    }
    return checked;
}

TEST(ManualCli, TheTopPageSaysItsNameOnceInItsNameLine)
{
    // whatis and apropos show this line: "infra-agent - infra-agent: let ..." said the name twice.
    test::TempDir dir;
    ASSERT_EQ(run_cli({"help", "--man-dir", (dir / "man1").string()}).exit_code, 0);
    std::string page = test::read_file(dir / "man1" / "infra-agent.1");
    EXPECT_NE(page.find(".SH NAME\ninfra\\-agent \\- let agents and fixers work on infrastructure"), std::string::npos)
        << page.substr(0, 300);
}

TEST(ManualCli, EveryFlagAnExampleUsesExists)
{
    auto commands = tree();
    int checked = 0;
    for (const auto& c : commands) {
        if (c.path.size() != 1) continue;
        auto help = run_cli({"help", c.path[0]});
        for (const auto& line : lines_of(help.out))
            if (line.rfind("  $ ", 0) == 0) checked += check_invocations(line.substr(4), "help " + c.path[0], commands);
    }
    EXPECT_GT(checked, 30);

    // The example files (workflows, CI jobs, crontab, units) and the README too.
    int in_files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(INFRA_SOURCE_DIR) / "examples")) {
        if (!entry.is_regular_file() || entry.path().extension() == ".json") continue;
        in_files += check_invocations(test::read_file(entry.path()), entry.path().filename().string(), commands);
    }
    EXPECT_GT(in_files, 10);
    EXPECT_GT(check_invocations(test::read_file(fs::path(INFRA_SOURCE_DIR) / "README.md"), "README.md", commands), 40);
}

}  // namespace
TEST(ManualCli, InstallingFromABuildTreeWithTheBinaryInstallsThePagesAndCompletions)
{
    // What the README's first command leaves (a tree where only the binary
    // was built, as scripts/quickstart builds it) is enough to install from.
    test::TempDir prefix;
    auto r = test::run_program(INFRA_CMAKE, {"--install", INFRA_BUILD_DIR, "--prefix", prefix.path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    fs::path bin = prefix / "bin/infra-agent";
    ASSERT_TRUE(fs::exists(bin)) << r.out;
    test::TempDir pages;
    ASSERT_EQ(test::run_program(bin.string(), {"help", "--man-dir", pages.path().string()}).exit_code, 0);
    std::size_t expected = 0;
    for (const auto& page : fs::directory_iterator(pages.path())) {
        ++expected;
        EXPECT_TRUE(fs::exists(prefix / "share/man/man1" / (page.path().filename().string() + ".gz"))) << page.path();
    }
    EXPECT_GT(expected, 20u);
    for (const auto& [shell, file] :
         std::map<std::string, std::string>{{"bash", "share/bash-completion/completions/infra-agent"},
                                            {"zsh", "share/zsh/vendor-completions/_infra-agent"},
                                            {"fish", "share/fish/vendor_completions.d/infra-agent.fish"}})
        EXPECT_EQ(test::read_file(prefix / file), run_cli({"completion", shell}).out) << file;
    EXPECT_TRUE(fs::exists(prefix / "share/infra-agent/policies/00-tiers.yaml"));
}

}  // namespace infra
