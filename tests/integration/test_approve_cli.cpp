// approve and reject through the binary: a production task waits for
// platform-oncall, its requester cannot approve it (under any spelling of
// their name), only members of a group approve for it, a group nobody is
// configured for cannot be approved, one person counts for one group, and
// a rejected task is denied for good.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

/// A state home whose config.yaml lists approval groups (YAML under
/// approvals.groups), or has none when groups is empty.
test::RunOptions home_with_groups(const test::TempDir& dir, const std::string& groups)
{
    test::RunOptions opts;
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    fs::create_directories(dir / "home");
    if (!groups.empty()) test::write_file(dir / "home" / "config.yaml", "approvals:\n  groups:\n" + groups);
    return opts;
}

/// Ingests production findings, lets edit change the first two, enqueues
/// them (both wait for approval) and returns their ids.
std::vector<std::string> park_two(const test::RunOptions& opts, const std::function<void(json&, json&)>& edit)
{
    auto tasks = run_cli({"ingest", "checkov",
                          (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                          "--repo", "acme/infra", "--environment", "production"},
                         opts);
    EXPECT_EQ(tasks.exit_code, 0) << tasks.err;
    auto all = test::json_lines(tasks.out);
    if (all.size() < 2) {
        ADD_FAILURE() << "expected two tasks, got " << all.size();
        return {};
    }
    edit(all[0], all[1]);
    auto o = opts;
    o.stdin_data = all[0].dump() + "\n" + all[1].dump() + "\n";
    auto q = run_cli({"enqueue"}, o);
    EXPECT_EQ(q.exit_code, 4) << q.err;  // both wait for approval
    return {all[0]["id"], all[1]["id"]};
}

TEST(ApproveCli, ApprovalsAreRecordedAndTheRequesterCannotApprove)
{
    test::TempDir dir;
    // alice is a member too: what stops her is that she asked.
    auto opts = home_with_groups(dir, "    platform-oncall: {members: [alice, bob, carol]}\n");
    auto ids = park_two(opts, [](json& first, json&) { first["payload"]["requestedBy"] = "alice"; });
    ASSERT_EQ(ids.size(), 2u);
    std::string first = ids[0], second = ids[1];

    auto self = run_cli({"approve", first, "--as", "alice"}, opts);
    EXPECT_EQ(self.exit_code, 3);
    EXPECT_NE(self.err.find("alice asked for task"), std::string::npos) << self.err;
    EXPECT_EQ(run_cli({"approve", first}, opts).exit_code, 64);  // --as is required

    auto ok = run_cli({"approve", first, "--as", "bob"}, opts);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    auto out = json::parse(ok.out);
    EXPECT_EQ(out["state"], "queued");
    EXPECT_EQ(out["group"], "platform-oncall");
    auto shown = json::parse(run_cli({"queue", "show", first, "--json"}, opts).out);
    ASSERT_EQ(shown["approvals"].size(), 1u);
    EXPECT_EQ(shown["approvals"][0]["by"], "bob");
    EXPECT_GT(shown["approvals"][0].value("atMs", 0LL), 0LL);                    // and when
    EXPECT_EQ(run_cli({"approve", first, "--as", "carol"}, opts).exit_code, 1);  // not waiting any more

    auto no = run_cli({"reject", second, "--as", "carol", "--reason", "change freeze"}, opts);
    ASSERT_EQ(no.exit_code, 0) << no.err;
    EXPECT_EQ(json::parse(no.out)["state"], "denied");
    EXPECT_EQ(json::parse(run_cli({"queue", "show", second, "--json"}, opts).out)["state"], "denied");
    EXPECT_EQ(run_cli({"approve", second, "--as", "bob"}, opts).exit_code, 1);
}

TEST(ApproveCli, TheRequesterCannotApproveUnderAnotherSpellingOfTheirName)
{
    test::TempDir dir;
    auto opts = home_with_groups(dir, "    platform-oncall: {members: [alice, bob, dana-ops]}\n");
    auto ids = park_two(opts, [](json& first, json& second) {
        first["payload"]["requestedBy"] = "alice";
        second["payload"]["sender"] = "Dana-Ops";  // a forge login, as a webhook names it
    });
    ASSERT_EQ(ids.size(), 2u);
    for (std::string as : {"Alice", "ALICE", " alice ", "alice\t"}) {
        auto r = run_cli({"approve", ids[0], "--as", as}, opts);
        EXPECT_EQ(r.exit_code, 3) << as << ": " << r.out << r.err;
        EXPECT_NE(r.err.find("asked for task " + ids[0] + " and cannot approve it"), std::string::npos) << r.err;
    }
    EXPECT_NE(run_cli({"approve", ids[0], "--as", "Alice"}, opts).err.find("'Alice' is 'alice'"), std::string::npos);
    auto forge = run_cli({"approve", ids[1], "--as", "dana-ops"}, opts);
    EXPECT_EQ(forge.exit_code, 3) << forge.err;
    // Nothing was recorded; someone else still can.
    auto shown = json::parse(run_cli({"queue", "show", ids[0], "--json"}, opts).out);
    EXPECT_EQ(shown["state"], "pending-approval");
    EXPECT_TRUE(shown["approvals"].empty());
    auto ok = run_cli({"approve", ids[0], "--as", "Bob"}, opts);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(json::parse(ok.out)["state"], "queued");
}

TEST(ApproveCli, OnlyMembersOfTheGroupApproveForIt)
{
    test::TempDir dir;
    auto opts =
        home_with_groups(dir, "    platform-oncall:\n      members: [bob]\n    security:\n      members: [mallory]\n");
    auto ids = park_two(opts, [](json&, json&) {});
    ASSERT_EQ(ids.size(), 2u);
    auto outsider = run_cli({"approve", ids[0], "--as", "mallory"}, opts);
    EXPECT_EQ(outsider.exit_code, 3) << outsider.out;
    EXPECT_NE(outsider.err.find("'mallory' is not a member of approval group 'platform-oncall'"), std::string::npos)
        << outsider.err;
    EXPECT_NE(outsider.err.find("approvals.groups.platform-oncall.members"), std::string::npos) << outsider.err;
    auto named = run_cli({"approve", ids[0], "--as", "mallory", "--group", "platform-oncall"}, opts);
    EXPECT_EQ(named.exit_code, 3);
    EXPECT_EQ(json::parse(run_cli({"queue", "show", ids[0], "--json"}, opts).out)["state"], "pending-approval");
    // Membership is by identity too: BOB is bob.
    auto member = run_cli({"approve", ids[0], "--as", "BOB"}, opts);
    ASSERT_EQ(member.exit_code, 0) << member.err;
    EXPECT_EQ(json::parse(member.out)["state"], "queued");
}

TEST(ApproveCli, AGroupThatIsNotConfiguredCannotBeApproved)
{
    test::TempDir dir;
    auto opts = home_with_groups(dir, "");
    auto ids = park_two(opts, [](json&, json&) {});
    ASSERT_EQ(ids.size(), 2u);
    auto r = run_cli({"approve", ids[0], "--as", "bob"}, opts);
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_NE(r.err.find("approval group 'platform-oncall' is not configured, so nobody can approve for it"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("hint: list who may approve for it in config.yaml: approvals.groups.platform-oncall.members"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(json::parse(run_cli({"queue", "show", ids[0], "--json"}, opts).out)["state"], "pending-approval");

    // The environment overrides the key like any other.
    auto env = opts;
    env.env["INFRA_AGENT_APPROVALS_GROUPS_PLATFORM_ONCALL_MEMBERS"] = "carol:bob";
    EXPECT_EQ(run_cli({"approve", ids[0], "--as", "bob"}, env).exit_code, 0);

    // A malformed list is refused, naming the key.
    test::write_file(dir / "home" / "config.yaml", "approvals:\n  groups:\n    platform-oncall: {members: 5}\n");
    auto bad = run_cli({"approve", ids[1], "--as", "bob"}, opts);
    EXPECT_EQ(bad.exit_code, 65);
    EXPECT_NE(bad.err.find("approvals.groups.platform-oncall.members: expected a list of names, got number"),
              std::string::npos)
        << bad.err;
}

TEST(ApproveCli, AGroupThatIsAForgeTeamIsApprovedOnThePullRequest)
{
    test::TempDir dir;
    auto opts = home_with_groups(dir, "    platform-oncall: {github_team: acme/platform-oncall}\n");
    auto ids = park_two(opts, [](json&, json&) {});
    ASSERT_EQ(ids.size(), 2u);
    // The team's members are GitHub logins, asked of GitHub when they approve there: not --as names.
    auto here = run_cli({"approve", ids[0], "--as", "bob"}, opts);
    EXPECT_EQ(here.exit_code, 3) << here.out;
    EXPECT_NE(here.err.find("approval group 'platform-oncall' is the GitHub team acme/platform-oncall, and 'bob' is "
                            "not in its members list"),
              std::string::npos)
        << here.err;
    EXPECT_NE(here.err.find("hint: its members approve on the task's pull request"), std::string::npos) << here.err;
    // Listed members approve here as well.
    test::write_file(
        dir / "home" / "config.yaml",
        "approvals:\n  groups:\n    platform-oncall: {members: [bob], github_team: acme/platform-oncall}\n");
    EXPECT_EQ(run_cli({"approve", ids[0], "--as", "bob"}, opts).exit_code, 0);

    // A team that is not ORG/TEAM, a group on two forges, and an unknown key are refused, naming the key.
    for (auto [groups, expected] :
         {std::pair{"{github_team: platform-oncall}",
                    "approvals.groups.platform-oncall.github_team: expected ORG/TEAM-SLUG"},
          {"{github_team: a/b, gitlab_group: a/b}",
           "approvals.groups.platform-oncall: maps to both a GitHub team and a GitLab group"},
          {"{gitlab_group: \"\"}", "approvals.groups.platform-oncall.gitlab_group: expected the group's full path"},
          {"{team: a/b}",
           "approvals.groups.platform-oncall.team: unknown key; expected members, github_team or gitlab_group"}}) {
        test::write_file(dir / "home" / "config.yaml",
                         std::string("approvals:\n  groups:\n    platform-oncall: ") + groups + "\n");
        auto bad = run_cli({"approve", ids[1], "--as", "bob"}, opts);
        EXPECT_EQ(bad.exit_code, 65) << groups;
        EXPECT_NE(bad.err.find(expected), std::string::npos) << bad.err;
    }
    EXPECT_EQ(json::parse(run_cli({"queue", "show", ids[1], "--json"}, opts).out)["state"], "pending-approval");
}

TEST(ApproveCli, OnePersonCountsForOneGroupOfATask)
{
    test::TempDir dir;
    auto opts =
        home_with_groups(dir, "    platform-oncall: {members: [bob, dana]}\n    security: {members: [bob, erin]}\n");
    test::write_file(dir / "home" / "policies" / "security.yaml",
                     "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: security-signs-production}\n"
                     "rules:\n  - name: production-needs-security\n    match: {context.environment: production}\n"
                     "    requiredApprovals: [security]\n");
    auto ids = park_two(opts, [](json&, json&) {});
    ASSERT_EQ(ids.size(), 2u);
    auto shown = json::parse(run_cli({"queue", "show", ids[0], "--json"}, opts).out);
    ASSERT_EQ(shown["requiredApprovals"].size(), 2u) << shown.dump();

    // bob is in both groups: --group says which one he approves for.
    auto which = run_cli({"approve", ids[0], "--as", "bob"}, opts);
    EXPECT_EQ(which.exit_code, 64) << which.out;
    EXPECT_NE(which.err.find("waits for several groups: platform-oncall, security"), std::string::npos) << which.err;
    EXPECT_NE(which.err.find("hint: name the one you approve for with --group"), std::string::npos) << which.err;
    auto one = run_cli({"approve", ids[0], "--as", "bob", "--group", "platform-oncall"}, opts);
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_EQ(json::parse(one.out)["state"], "pending-approval");
    auto two = run_cli({"approve", ids[0], "--as", "Bob", "--group", "security"}, opts);
    EXPECT_EQ(two.exit_code, 3) << two.out;
    EXPECT_NE(two.err.find("Bob already approved task " + ids[0] +
                           " for 'platform-oncall', and one person counts for one group of a task"),
              std::string::npos)
        << two.err;
    EXPECT_NE(two.err.find("hint: another member of 'security' must approve for it"), std::string::npos) << two.err;
    EXPECT_EQ(run_cli({"approve", ids[0], "--as", "bob"}, opts).exit_code, 3);  // the group left is security
    EXPECT_EQ(json::parse(run_cli({"queue", "show", ids[0], "--json"}, opts).out)["state"], "pending-approval");

    auto other = run_cli({"approve", ids[0], "--as", "erin"}, opts);
    ASSERT_EQ(other.exit_code, 0) << other.err;
    EXPECT_EQ(json::parse(other.out)["state"], "queued");
    auto done = json::parse(run_cli({"queue", "show", ids[0], "--json"}, opts).out);
    ASSERT_EQ(done["approvals"].size(), 2u);
    EXPECT_EQ(done["approvals"][0]["by"], "bob");
    EXPECT_EQ(done["approvals"][1]["by"], "erin");

    // With both groups waiting and no --group, a member of only one of them approves for that one.
    auto dana = run_cli({"approve", ids[1], "--as", "dana"}, opts);
    ASSERT_EQ(dana.exit_code, 0) << dana.err;
    EXPECT_EQ(json::parse(dana.out)["group"], "platform-oncall");
}

TEST(ApproveCli, AnErrorThatIsNotAboutTheGroupKeepsItsOwnHint)
{
    test::TempDir dir;
    auto opts = home_with_groups(dir, "    platform-oncall: {members: [bob]}\n");
    auto ids = park_two(opts, [](json&, json&) {});
    ASSERT_EQ(ids.size(), 2u);
    // Both ids start with 0: the prefix names no one task, and no group is at fault.
    auto ambiguous = run_cli({"approve", "0", "--as", "bob"}, opts);
    EXPECT_EQ(ambiguous.exit_code, 64) << ambiguous.out;
    EXPECT_NE(ambiguous.err.find("task id prefix '0' is ambiguous"), std::string::npos) << ambiguous.err;
    EXPECT_EQ(ambiguous.err.find("--group"), std::string::npos) << ambiguous.err;
    auto rejected_one_of_two = run_cli({"reject", "0", "--as", "bob"}, opts);  // reject has no --group
    EXPECT_EQ(rejected_one_of_two.exit_code, 64) << rejected_one_of_two.out;
    EXPECT_NE(rejected_one_of_two.err.find("task id prefix '0' is ambiguous"), std::string::npos)
        << rejected_one_of_two.err;
    EXPECT_EQ(rejected_one_of_two.err.find("--group"), std::string::npos) << rejected_one_of_two.err;

    auto queue = run_cli({"approve", ids[0], "--as", "bob", "--queue", "nonsense://x"}, opts);
    EXPECT_EQ(queue.exit_code, 64) << queue.out;
    EXPECT_NE(queue.err.find("unsupported queue URL 'nonsense://x'"), std::string::npos) << queue.err;
    EXPECT_NE(queue.err.find("hint: supported: postgres://, redis://, sqlite://"), std::string::npos) << queue.err;
    EXPECT_EQ(queue.err.find("--group"), std::string::npos) << queue.err;
    auto rejected = run_cli({"reject", ids[0], "--as", "bob", "--queue", "nonsense://x"}, opts);
    EXPECT_EQ(rejected.exit_code, 64) << rejected.out;
    EXPECT_NE(rejected.err.find("hint: supported: postgres://, redis://, sqlite://"), std::string::npos)
        << rejected.err;
    EXPECT_EQ(json::parse(run_cli({"queue", "show", ids[0], "--json"}, opts).out)["state"], "pending-approval");
}

}  // namespace
}  // namespace infra
