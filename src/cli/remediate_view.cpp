#include "cli/remediate_view.hpp"

#include "cli/exit_codes.hpp"
#include "cli/task_stream.hpp"
#include "core/json_access.hpp"
#include "core/report.hpp"

#include <cstdio>

namespace infra::cli {
namespace {

/// The exit code of a finding's verdict.
int code_of(core::remediate::Verdict v)
{
    switch (v) {
    case core::remediate::Verdict::ok:
        return exit_code::ok;
    case core::remediate::Verdict::pending:
        return exit_code::pending;
    case core::remediate::Verdict::denied:
        return exit_code::denied;
    case core::remediate::Verdict::failed:
        return exit_code::failure;
    }
    return exit_code::failure;
}

}  // namespace

int show_findings(Context& ctx, const std::vector<core::remediate::FindingOutcome>& lines, const std::string& asked)
{
    int worst = exit_code::ok;
    std::string format = asked.empty() ? (ctx.json() ? "json" : "text") : asked;
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : lines) {
        worst = worse(worst, code_of(l.verdict));
        const auto& pr = l.pull_request;
        rows.push_back({l.what, l.state,
                        pr.is_object()
                            ? "[" + core::string_member(pr, "url") + "](" + core::string_member(pr, "url") + ")"
                            : l.detail});
        if (l.verdict == core::remediate::Verdict::failed || l.verdict == core::remediate::Verdict::denied) {
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
            if (pr.is_object()) j["pullRequest"] = pr;
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
