// The GitLab forge: one merge request per bot branch through the REST API
// (/api/v4), created or updated, with labels, and a note when a later run
// updates it.
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "plugins/forges/api.hpp"
#include "plugins/forges/forges.hpp"

namespace infra::plugins::forges {
namespace {

class GitLab final : public core::change::Forge {
public:
    explicit GitLab(GitLabSettings s) : m_s(std::move(s)) { m_s.base_url = base_url(std::move(m_s.base_url)); }
    std::string name() const override { return "gitlab"; }

    core::Result<PullRequest> open_or_update(const PrRequest& req, const std::optional<PullRequest>& existing) override
    {
        if (req.repository.find('/') == std::string::npos)
            return core::fail(Errc::invalid_input, "the gitlab forge needs a group/project repository, not " +
                                                       core::text::quote(req.repository));
        auto token = m_s.token(req.repository, req.task_id);
        if (!token) return core::fail(token.error());
        std::string project = "/projects/" + url_encode(req.repository);
        std::string labels;
        for (const auto& l : req.labels) labels += (labels.empty() ? "" : ",") + l;

        std::int64_t iid = existing ? existing->number : 0;
        if (!iid) {
            auto found = call(*token, "GET",
                              project + "/merge_requests?state=opened&source_branch=" + url_encode(req.branch), json());
            if (!found) return core::fail(found.error());
            if (found->is_array())
                for (const auto& mr : *found)
                    if (mr.is_object() && core::string_member(mr, "source_branch") == req.branch)
                        iid = core::int_member(mr, "iid");
        }
        json answer;
        if (iid) {
            auto upd =
                call(*token, "PUT", project + "/merge_requests/" + std::to_string(iid),
                     {{"title", req.title}, {"description", req.body}, {"labels", labels}, {"state_event", "reopen"}});
            if (!upd) return core::fail(upd.error());
            answer = *upd;
            if (!req.update_comment.empty()) {
                auto n = call(*token, "POST", project + "/merge_requests/" + std::to_string(iid) + "/notes",
                              {{"body", req.update_comment}});
                if (!n) return core::fail(n.error());
            }
        } else {
            auto made = call(*token, "POST", project + "/merge_requests",
                             {{"source_branch", req.branch},
                              {"target_branch", req.base},
                              {"title", req.title},
                              {"description", req.body},
                              {"labels", labels},
                              {"remove_source_branch", true}});
            if (!made) return core::fail(made.error());
            answer = *made;
            iid = core::int_member(answer, "iid");
            if (!iid) return core::fail(Errc::unavailable, "GitLab answered without a merge request iid");
        }
        PullRequest pr = core::change::record_for(name(), req, existing);
        pr.number = iid;
        pr.url = core::string_member(answer, "web_url");
        return pr;
    }

    core::Result<core::change::PrStatus> status(const PullRequest& pr) override
    {
        auto got = call_for(pr, "GET", "", json());
        if (!got) return core::fail(got.error());
        std::string state = core::string_member(*got, "state");
        core::change::PrStatus s;
        s.state = state == "merged" ? "merged" : state == "closed" || state == "locked" ? "closed" : "open";
        s.head_commit = core::string_member(*got, "sha");
        s.by =
            core::string_member(core::object_member(*got, state == "merged" ? "merged_by" : "closed_by"), "username");
        return s;
    }

    core::Status comment(const PullRequest& pr, const std::string& text) override
    {
        return status_of(call_for(pr, "POST", "/notes", {{"body", text}}));
    }

    core::Status close(const PullRequest& pr, const std::string& text) override
    {
        if (auto c = comment(pr, text); !c) return c;
        return status_of(call_for(pr, "PUT", "", {{"state_event", "close"}}));
    }

    core::Status reopen(const PullRequest& pr) override
    {
        return status_of(call_for(pr, "PUT", "", {{"state_event", "reopen"}}));
    }

private:
    /// A call on one merge request (path below it), with a token for it.
    core::Result<json> call_for(const PullRequest& pr, const std::string& method, const std::string& path,
                                const json& body)
    {
        auto token = m_s.token(pr.repository, pr.task_id);
        if (!token) return core::fail(token.error());
        return call(*token, method,
                    "/projects/" + url_encode(pr.repository) + "/merge_requests/" + std::to_string(pr.number) + path,
                    body);
    }

    core::Result<json> call(const std::string& token, const std::string& method, const std::string& path,
                            const json& body)
    {
        return call_api(
            {"GitLab", m_s.base_url, token, {{"Accept", "application/json"}, {"User-Agent", "infra-agent"}}}, method,
            path, body);
    }

    GitLabSettings m_s;
};

}  // namespace

std::unique_ptr<core::change::Forge> make_gitlab(GitLabSettings settings)
{
    return std::make_unique<GitLab>(std::move(settings));
}

}  // namespace infra::plugins::forges
