#pragma once
// The reviewer side of GitHub and GitLab (core/change/reviewers.hpp): team
// membership asked of the forge's API, and comments on pull requests.

#include "core/change/reviewers.hpp"

#include <functional>
#include <memory>
#include <string>

namespace infra::plugins::forges {

struct ReviewerSettings {
    std::string base_url;  ///< https://api.github.com, https://gitlab.com/api/v4, or the server's own
    std::string accept = "application/vnd.github+json";  ///< GitHub only
    /// Tokens for (repository, task): comment needs forge:pr:repo=R, membership forge:members:repo=R.
    std::function<core::Result<std::string>(const std::string&, const std::string&)> comment_token, member_token;
};

/// GET /orgs/{org}/teams/{team}/memberships/{login} (state active), and issue comments.
std::unique_ptr<core::change::Reviewers> make_github_reviewers(ReviewerSettings settings);

/// GET /groups/{path}/members/all (an active member with that username), and merge request notes.
std::unique_ptr<core::change::Reviewers> make_gitlab_reviewers(ReviewerSettings settings);

}  // namespace infra::plugins::forges
