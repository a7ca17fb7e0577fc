// Reviewers on GitLab: whether a username is an active member of a group
// (inherited memberships count), and notes on merge requests.
#include "core/json_access.hpp"
#include "plugins/forges/api.hpp"
#include "plugins/forges/reviewers.hpp"

namespace infra::plugins::forges {
namespace {

class GitLabReviewers final : public core::change::Reviewers {
public:
    explicit GitLabReviewers(ReviewerSettings s) : m_s(std::move(s))
    {
        m_s.base_url = base_url(std::move(m_s.base_url));
    }
    std::string name() const override { return "gitlab"; }

    core::Result<bool> is_member(const std::string& group, const std::string& login,
                                 const std::string& repository) override
    {
        auto token = m_s.member_token(repository, "");
        if (!token) return core::fail(token.error());
        // The search matches names and usernames alike: only the exact username counts.
        auto found = find_api(api(*token), "/groups/" + url_encode(group) + "/members/all?query=" + url_encode(login) +
                                               "&per_page=100");
        if (!found) return core::fail(found.error());
        if (!found->has_value()) return core::fail(Errc::not_found, "GitLab has no group " + group);
        if (!(*found)->is_array())
            return core::fail(Errc::unavailable, "GitLab answered the members of " + group + " with no list");
        for (const auto& m : **found)
            if (m.is_object() && core::string_member(m, "username") == login)
                return core::string_member(m, "state", "active") == "active";
        return false;
    }

    core::Status comment(const std::string& repository, std::int64_t number, const std::string& body) override
    {
        auto token = m_s.comment_token(repository, "");
        if (!token) return core::fail(token.error());
        auto n =
            call_api(api(*token), "POST",
                     "/projects/" + url_encode(repository) + "/merge_requests/" + std::to_string(number) + "/notes",
                     {{"body", body}});
        if (!n) return core::fail(n.error());
        return {};
    }

private:
    ApiCall api(const std::string& token) const
    {
        return {"GitLab", m_s.base_url, token, {{"Accept", "application/json"}, {"User-Agent", "infra-agent"}}};
    }

    ReviewerSettings m_s;
};

}  // namespace

std::unique_ptr<core::change::Reviewers> make_gitlab_reviewers(ReviewerSettings settings)
{
    return std::make_unique<GitLabReviewers>(std::move(settings));
}

}  // namespace infra::plugins::forges
