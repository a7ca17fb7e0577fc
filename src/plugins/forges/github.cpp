// The GitHub forge: one pull request per bot branch, created or updated
// through the REST API (github.com or GitHub Enterprise's /api/v3), with
// labels, and a comment when a later run updates it.
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "plugins/forges/api.hpp"
#include "plugins/forges/forges.hpp"

namespace infra::plugins::forges {
namespace {

class GitHub final : public core::change::Forge {
public:
    explicit GitHub(GitHubSettings s) : m_s(std::move(s)) { m_s.base_url = base_url(std::move(m_s.base_url)); }
    std::string name() const override { return "github"; }

    core::Result<PullRequest> open_or_update(const PrRequest& req, const std::optional<PullRequest>& existing) override
    {
        auto slash = req.repository.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == req.repository.size())
            return core::fail(Errc::invalid_input, "the github forge needs an owner/name repository, not " +
                                                       core::text::quote(req.repository));
        auto token = m_s.token(req.repository, req.task_id);
        if (!token) return core::fail(token.error());
        std::string repo_path = "/repos/" + req.repository;
        std::string owner = req.repository.substr(0, slash);

        std::int64_t number = existing ? existing->number : 0;
        if (!number) {
            // Opened by another infra-agent (or an earlier state db)? Then update that one.
            auto found = call(*token, "GET", repo_path + "/pulls?state=open&head=" + owner + ":" + req.branch, json());
            if (!found) return core::fail(found.error());
            if (found->is_array())
                for (const auto& p : *found)
                    if (p.is_object() && core::string_member(core::object_member(p, "head"), "ref") == req.branch)
                        number = core::int_member(p, "number");
        }
        json answer;
        if (number) {
            auto upd = call(*token, "PATCH", repo_path + "/pulls/" + std::to_string(number),
                            {{"title", req.title}, {"body", req.body}, {"state", "open"}});
            if (!upd) return core::fail(upd.error());
            answer = *upd;
            if (!req.update_comment.empty()) {
                auto c = call(*token, "POST", repo_path + "/issues/" + std::to_string(number) + "/comments",
                              {{"body", req.update_comment}});
                if (!c) return core::fail(c.error());
            }
        } else {
            auto made = call(*token, "POST", repo_path + "/pulls",
                             {{"title", req.title},
                              {"head", req.branch},
                              {"base", req.base},
                              {"body", req.body},
                              {"maintainer_can_modify", false}});
            if (!made) return core::fail(made.error());
            answer = *made;
            number = core::int_member(answer, "number");
            if (!number) return core::fail(Errc::unavailable, "GitHub answered without a pull request number");
        }
        if (!req.labels.empty()) {
            auto l = call(*token, "POST", repo_path + "/issues/" + std::to_string(number) + "/labels",
                          {{"labels", req.labels}});
            if (!l) return core::fail(l.error());
        }
        PullRequest pr = core::change::record_for(name(), req, existing);
        pr.number = number;
        pr.url = core::string_member(answer, "html_url", m_s.base_url + repo_path + "/pull/" + std::to_string(number));
        return pr;
    }

    core::Result<core::change::PrStatus> status(const PullRequest& pr) override
    {
        auto got = call_for(pr, "GET", "/pulls/" + std::to_string(pr.number), json());
        if (!got) return core::fail(got.error());
        bool merged = core::member(*got, "merged") == true || !core::string_member(*got, "merged_at").empty();
        core::change::PrStatus s;
        s.state = merged ? "merged" : core::string_member(*got, "state") == "closed" ? "closed" : "open";
        s.head_commit = core::string_member(core::object_member(*got, "head"), "sha");
        s.by = core::string_member(core::object_member(*got, "merged_by"), "login");
        return s;
    }

    core::Status comment(const PullRequest& pr, const std::string& text) override
    {
        return status_of(call_for(pr, "POST", "/issues/" + std::to_string(pr.number) + "/comments", {{"body", text}}));
    }

    core::Status close(const PullRequest& pr, const std::string& text) override
    {
        if (auto c = comment(pr, text); !c) return c;
        return status_of(call_for(pr, "PATCH", "/pulls/" + std::to_string(pr.number), {{"state", "closed"}}));
    }

    core::Status reopen(const PullRequest& pr) override
    {
        return status_of(call_for(pr, "PATCH", "/pulls/" + std::to_string(pr.number), {{"state", "open"}}));
    }

private:
    /// A call on one of the repository's pull requests, with a token for it.
    core::Result<json> call_for(const PullRequest& pr, const std::string& method, const std::string& path,
                                const json& body)
    {
        auto token = m_s.token(pr.repository, pr.task_id);
        if (!token) return core::fail(token.error());
        return call(*token, method, "/repos/" + pr.repository + path, body);
    }

    core::Result<json> call(const std::string& token, const std::string& method, const std::string& path,
                            const json& body)
    {
        return call_api(
            {"GitHub",
             m_s.base_url,
             token,
             {{"Accept", m_s.accept}, {"X-GitHub-Api-Version", "2022-11-28"}, {"User-Agent", "infra-agent"}}},
            method, path, body);
    }

    GitHubSettings m_s;
};

}  // namespace

std::unique_ptr<core::change::Forge> make_github(GitHubSettings settings)
{
    return std::make_unique<GitHub>(std::move(settings));
}

}  // namespace infra::plugins::forges
