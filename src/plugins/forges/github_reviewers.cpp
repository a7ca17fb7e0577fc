// Reviewers on GitHub: a team's membership of a login, as GitHub has it
// when asked (members of child teams count, invitations do not), and
// comments on pull requests (issue comments).
#include "core/json_access.hpp"
#include "plugins/forges/api.hpp"
#include "plugins/forges/reviewers.hpp"

namespace infra::plugins::forges {
namespace {

class GitHubReviewers final : public core::change::Reviewers {
public:
    explicit GitHubReviewers(ReviewerSettings s) : m_s(std::move(s))
    {
        m_s.base_url = base_url(std::move(m_s.base_url));
    }
    std::string name() const override { return "github"; }

    core::Result<bool> is_member(const std::string& team, const std::string& login,
                                 const std::string& repository) override
    {
        auto slash = team.find('/');
        if (slash == std::string::npos)
            return core::fail(Errc::invalid_input, "GitHub team " + team + " is not ORG/TEAM-SLUG");
        auto token = m_s.member_token(repository, "");
        if (!token) return core::fail(token.error());
        auto found =
            find_api(api(*token), "/orgs/" + url_encode(team.substr(0, slash)) + "/teams/" +
                                      url_encode(team.substr(slash + 1)) + "/memberships/" + url_encode(login));
        if (!found) return core::fail(found.error());
        return found->has_value() && core::string_member(**found, "state") == "active";
    }

    core::Status comment(const std::string& repository, std::int64_t number, const std::string& body) override
    {
        auto token = m_s.comment_token(repository, "");
        if (!token) return core::fail(token.error());
        auto c = call_api(api(*token), "POST",
                          "/repos/" + repository + "/issues/" + std::to_string(number) + "/comments", {{"body", body}});
        if (!c) return core::fail(c.error());
        return {};
    }

private:
    ApiCall api(const std::string& token) const
    {
        return {"GitHub",
                m_s.base_url,
                token,
                {{"Accept", m_s.accept}, {"X-GitHub-Api-Version", "2022-11-28"}, {"User-Agent", "infra-agent"}}};
    }

    ReviewerSettings m_s;
};

}  // namespace

std::unique_ptr<core::change::Reviewers> make_github_reviewers(ReviewerSettings settings)
{
    return std::make_unique<GitHubReviewers>(std::move(settings));
}

}  // namespace infra::plugins::forges
