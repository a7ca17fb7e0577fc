#include "cli/remediate_view.hpp"

#include "cli/task_stream.hpp"
#include "core/agent/report.hpp"
#include "core/json_access.hpp"
#include "core/report.hpp"

#include <cstdio>

namespace infra::cli {

void say(FindingLine& l, const core::TaskOutcome& t)
{
    const auto& change = core::member(t.result, "change");
    auto said = core::agent::read_report(t.result);
    const core::agent::FindingReport* mine = said.finding(l.key);
    if (t.state == core::queue::State::succeeded && mine && mine->state == "not-fixed") {
        l.state = "failed";
        l.detail = mine->reason;
        l.code = exit_code::failure;
    } else if (t.state == core::queue::State::succeeded) {
        l.state = change.is_object() ? core::string_member(change, "state") : "fixed";
        if (mine && mine->state == "already-passing") l.state = "already passes";
        l.pr = core::member(change, "pullRequest");
        l.detail = l.pr.is_object()
                       ? core::string_member(l.pr, "url") + " (" + core::string_member(change, "branch") + ")"
                       : core::string_member(change, "reason");
        if (l.detail.empty()) l.detail = said.summary;
    } else if (t.state == core::queue::State::pending_approval) {
        l.state = "waiting for approval";
        l.detail.clear();
        for (const auto& r : t.approvals) l.detail += (l.detail.empty() ? "by " : ", ") + r;
        l.code = exit_code::pending;
    } else if (t.waiting) {
        l.state = "waiting";
        l.detail = t.error;
    } else {
        // A lease lost (or given back) before the result was recorded: the attempt was interrupted.
        l.state = t.state == core::queue::State::dead     ? "failed"
                  : t.state == core::queue::State::leased ? "interrupted"
                                                          : std::string(core::queue::to_string(t.state));
        l.detail = t.error;
        l.code = exit_code::failure;
    }
}

int show_findings(Context& ctx, const std::vector<FindingLine>& lines, const std::string& asked)
{
    int worst = exit_code::ok;
    std::string format = asked.empty() ? (ctx.json() ? "json" : "text") : asked;
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : lines) {
        worst = worse(worst, l.code);
        rows.push_back({l.what, l.state,
                        l.pr.is_object()
                            ? "[" + core::string_member(l.pr, "url") + "](" + core::string_member(l.pr, "url") + ")"
                            : l.detail});
        if (l.code == exit_code::failure || l.code == exit_code::denied) {
            if (core::report::in_github_actions())
                std::fprintf(
                    stderr, "%s\n",
                    core::report::actions_annotation({"infra-agent/remediate", "infra-agent could not fix a finding",
                                                      "error", l.what + ": " + l.state + ": " + l.detail, "", 0, ""})
                        .c_str());
        }
        if (format == "markdown") continue;
        if (format == "json") {
            nlohmann::json j = {{"taskId", l.task_id}, {"finding", l.what}, {"state", l.state}, {"detail", l.detail}};
            if (l.pr.is_object()) j["pullRequest"] = l.pr;
            ctx.record("finding", std::move(j));
        } else {
            ctx.print(l.what + ": " + l.state + (l.detail.empty() ? "" : ": " + l.detail) + "\n");
        }
    }
    std::string markdown = "### infra-agent remediate\n\n" +
                           core::report::markdown_table({"finding", "outcome", "pull request or reason"}, rows);
    if (format == "markdown") ctx.print(markdown);
    if (core::report::in_github_actions()) core::report::append_step_summary(markdown);
    return worst;
}

}  // namespace infra::cli
