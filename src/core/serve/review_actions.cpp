// Reading what a reviewer did out of GitHub's and GitLab's webhook bodies:
// GitHub pull_request_review, issue_comment and pull_request synchronize;
// GitLab Merge Request Hook (approved, approval, update with new commits)
// and Note Hook on a merge request.
#include "core/json_access.hpp"
#include "core/serve/reviews.hpp"
#include "core/text.hpp"

namespace infra::core::serve {
namespace {

using json = nlohmann::json;

/// A comment whose first line is `/infra-agent approve [GROUP]` or
/// `/infra-agent apply`, read into a: false when it is neither.
bool command_in(const std::string& comment, ReviewAction& a)
{
    std::string line(text::trim(std::string_view(comment).substr(0, comment.find('\n'))));
    const std::string prefix = "/infra-agent ";
    if (line.rfind(prefix, 0) != 0) return false;
    std::string rest(text::trim(std::string_view(line).substr(prefix.size())));
    std::string word = rest.substr(0, rest.find(' '));
    std::string group =
        word.size() < rest.size() ? std::string(text::trim(std::string_view(rest).substr(word.size()))) : "";
    if (word == "approve") {
        a.kind = ReviewAction::Kind::approve;
        a.group = group.substr(0, group.find(' '));
        return true;
    }
    if (word == "apply") {
        a.kind = ReviewAction::Kind::apply;
        return true;
    }
    return false;
}

std::string login_of(const json& user)
{
    return string_member(user, "login", string_member(user, "username"));
}

}  // namespace

std::optional<ReviewAction> github_review_action(const std::string& event, const json& body)
{
    if (!body.is_object()) return std::nullopt;
    std::string action = string_member(body, "action");
    ReviewAction a;
    a.forge = "github";
    a.repository = string_member(object_member(body, "repository"), "full_name");
    if (event == "pull_request_review") {
        const json& review = object_member(body, "review");
        if (action != "submitted" || text::lower(string_member(review, "state")) != "approved") return std::nullopt;
        a.kind = ReviewAction::Kind::approve;
        a.number = int_member(object_member(body, "pull_request"), "number");
        a.by = login_of(object_member(review, "user"));
        a.commit = string_member(review, "commit_id");
        a.via = "review";
    } else if (event == "issue_comment") {
        const json& issue = object_member(body, "issue");
        const json& comment = object_member(body, "comment");
        if (action != "created" || !issue.contains("pull_request")) return std::nullopt;
        if (string_member(object_member(comment, "user"), "type") == "Bot") return std::nullopt;
        if (!command_in(string_member(comment, "body"), a)) return std::nullopt;
        a.number = int_member(issue, "number");
        a.by = login_of(object_member(comment, "user"));
        a.via = "comment";
    } else if (event == "pull_request") {
        if (action != "synchronize") return std::nullopt;
        const json& pr = object_member(body, "pull_request");
        a.kind = ReviewAction::Kind::push;
        a.number = int_member(body, "number", int_member(pr, "number"));
        a.by = login_of(object_member(body, "sender"));
        a.commit = string_member(body, "after", string_member(object_member(pr, "head"), "sha"));
        a.via = "push";
    } else {
        return std::nullopt;
    }
    if (a.repository.empty() || a.number <= 0 || a.by.empty()) return std::nullopt;
    return a;
}

std::optional<ReviewAction> gitlab_review_action(const std::string& event, const json& body)
{
    if (!body.is_object()) return std::nullopt;
    const json& attrs = object_member(body, "object_attributes");
    ReviewAction a;
    a.forge = "gitlab";
    a.repository = string_member(object_member(body, "project"), "path_with_namespace");
    a.by = login_of(object_member(body, "user"));
    if (event == "Merge Request Hook") {
        std::string action = string_member(attrs, "action");
        a.number = int_member(attrs, "iid");
        a.commit = string_member(object_member(attrs, "last_commit"), "id");
        if (action == "approved" || action == "approval") {
            a.kind = ReviewAction::Kind::approve;
            a.via = "approval";
        } else if (action == "update" && !string_member(attrs, "oldrev").empty()) {
            a.kind = ReviewAction::Kind::push;
            a.via = "push";
        } else {
            return std::nullopt;
        }
    } else if (event == "Note Hook") {
        if (string_member(attrs, "noteable_type") != "MergeRequest") return std::nullopt;
        if (!command_in(string_member(attrs, "note"), a)) return std::nullopt;
        a.number = int_member(object_member(body, "merge_request"), "iid");
        a.via = "note";
    } else {
        return std::nullopt;
    }
    if (a.repository.empty() || a.number <= 0 || a.by.empty()) return std::nullopt;
    return a;
}

}  // namespace infra::core::serve
