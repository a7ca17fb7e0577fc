#pragma once
// What serve asks of a forge when reviewers act on a bot pull request:
// whether a login is a member of a team now (approvals.groups.<group>.
// github_team or .gitlab_group), and to answer them with a comment.

#include "core/result.hpp"

#include <cstdint>
#include <string>

namespace infra::core::change {

class Reviewers {
public:
    virtual ~Reviewers() = default;
    /// github, gitlab
    virtual std::string name() const = 0;
    /// Whether login is an active member of team (ORG/TEAM-SLUG on GitHub,
    /// the group's full path on GitLab) now, asked with a token for repository.
    virtual Result<bool> is_member(const std::string& team, const std::string& login,
                                   const std::string& repository) = 0;
    /// Posts body as a comment on pull request (merge request) number of repository.
    virtual Status comment(const std::string& repository, std::int64_t number, const std::string& body) = 0;
};

}  // namespace infra::core::change
