// What serve reads as a reviewer's action from GitHub's and GitLab's
// webhook bodies, and what it leaves alone: reviews that do not approve,
// comments by bots or without a command, pull request events other than a
// push, merge request updates without new commits.
#include "core/serve/reviews.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace infra::core::serve {
namespace {

using nlohmann::json;

json sample(const std::string& name)
{
    std::ifstream in(std::string(INFRA_TEST_FIXTURES) + "/samples/github/deliveries/" + name + ".body.json");
    return json::parse(in);
}

TEST(ReviewActions, GitHubReviewsCommentsAndPushes)
{
    json review = sample("pull_request.synchronize_1");
    review["action"] = "submitted";
    review["review"] = {
        {"state", "approved"}, {"commit_id", "ec26c3e5"}, {"user", {{"login", "carol"}, {"type", "User"}}}};
    auto a = github_review_action("pull_request_review", review);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, ReviewAction::Kind::approve);
    EXPECT_EQ(a->repository, "Codertocat/Hello-World");
    EXPECT_EQ(a->number, 2);
    EXPECT_EQ(a->by, "carol");
    EXPECT_EQ(a->commit, "ec26c3e5");
    EXPECT_EQ(a->via, "review");
    review["review"]["state"] = "changes_requested";
    EXPECT_FALSE(github_review_action("pull_request_review", review));

    json comment = sample("issue_comment.created_1");
    comment["comment"]["body"] = "/infra-agent apply\nplease";
    EXPECT_FALSE(github_review_action("issue_comment", comment));  // on an issue, not a pull request
    comment["issue"]["pull_request"] = {{"url", "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}};
    a = github_review_action("issue_comment", comment);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, ReviewAction::Kind::apply);
    EXPECT_EQ(a->by, "Codertocat");
    EXPECT_EQ(a->number, 1);
    comment["comment"]["body"] = "  /infra-agent approve  ";
    EXPECT_EQ(github_review_action("issue_comment", comment)->kind, ReviewAction::Kind::approve);
    EXPECT_EQ(github_review_action("issue_comment", comment)->group, "");
    comment["comment"]["body"] = "/infra-agent approve security  for the bucket\nThe plan is right.";
    EXPECT_EQ(github_review_action("issue_comment", comment)->group, "security");
    for (const char* other : {"/infra-agent approved", "LGTM /infra-agent approve", "/infra-agent fix it"}) {
        comment["comment"]["body"] = other;
        EXPECT_FALSE(github_review_action("issue_comment", comment)) << other;
    }
    comment["comment"]["body"] = "/infra-agent approve";
    comment["comment"]["user"]["type"] = "Bot";
    EXPECT_FALSE(github_review_action("issue_comment", comment));

    json push = sample("pull_request.synchronize_1");
    a = github_review_action("pull_request", push);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, ReviewAction::Kind::push);
    EXPECT_EQ(a->commit, "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
    EXPECT_FALSE(github_review_action("pull_request", sample("pull_request.opened_1")));
    EXPECT_FALSE(github_review_action("push", sample("push.none_1")));
}

TEST(ReviewActions, GitLabApprovalsNotesAndPushes)
{
    json mr = {
        {"object_kind", "merge_request"},
        {"user", {{"id", 31}, {"username", "carol"}, {"name", "Carol"}}},
        {"project", {{"path_with_namespace", "acme/infra"}}},
        {"object_attributes",
         {{"iid", 4}, {"action", "approved"}, {"last_commit", {{"id", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"}}}}}};
    auto a = gitlab_review_action("Merge Request Hook", mr);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, ReviewAction::Kind::approve);
    EXPECT_EQ(a->forge, "gitlab");
    EXPECT_EQ(a->repository, "acme/infra");
    EXPECT_EQ(a->number, 4);
    EXPECT_EQ(a->by, "carol");
    mr["object_attributes"]["action"] = "update";
    EXPECT_FALSE(gitlab_review_action("Merge Request Hook", mr));  // a title or label change
    mr["object_attributes"]["oldrev"] = "b83d6e391c22777fca1ed3012fce84f633d7fed0";
    EXPECT_EQ(gitlab_review_action("Merge Request Hook", mr)->kind, ReviewAction::Kind::push);

    json note = {{"object_kind", "note"},
                 {"user", {{"username", "dana"}}},
                 {"project", {{"path_with_namespace", "acme/infra"}}},
                 {"object_attributes", {{"note", "/infra-agent apply"}, {"noteable_type", "MergeRequest"}}},
                 {"merge_request", {{"iid", 4}}}};
    a = gitlab_review_action("Note Hook", note);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, ReviewAction::Kind::apply);
    EXPECT_EQ(a->number, 4);
    note["object_attributes"]["noteable_type"] = "Issue";
    EXPECT_FALSE(gitlab_review_action("Note Hook", note));
    EXPECT_FALSE(gitlab_review_action("Push Hook", mr));
}

}  // namespace
}  // namespace infra::core::serve
