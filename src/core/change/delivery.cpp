#include "core/change/delivery.hpp"
#include "core/change/paths.hpp"
#include "core/events/trace.hpp"
#include "core/workspace.hpp"

#include "core/json_access.hpp"
#include "core/task.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

namespace infra::core::change {
namespace {

/// A directory of work_root removed when the scope ends (unless kept).
struct ScratchDir {
    ScratchDir(std::filesystem::path r, std::filesystem::path d, bool k)
        : root(std::move(r)), dir(std::move(d)), keep(k)
    {
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir()
    {
        if (!keep) (void)remove_tree_inside(root, dir);
    }
    std::filesystem::path root, dir;
    bool keep = false;
};

/// "3 files changed, 10 insertions(+), 2 deletions(-)" from a unified diff.
std::string diffstat(const std::string& diff)
{
    int files = 0, plus = 0, minus = 0;
    std::size_t pos = 0;
    while (pos < diff.size()) {
        auto eol = diff.find('\n', pos);
        std::string_view line(diff.data() + pos, (eol == std::string::npos ? diff.size() : eol) - pos);
        if (line.rfind("+++ ", 0) == 0) ++files;
        else if (line.rfind("--- ", 0) == 0) {
        } else if (!line.empty() && line[0] == '+') ++plus;
        else if (!line.empty() && line[0] == '-') ++minus;
        pos = eol == std::string::npos ? diff.size() : eol + 1;
    }
    return std::to_string(files) + " file" + (files == 1 ? "" : "s") + " changed, " + std::to_string(plus) +
           " insertion" + (plus == 1 ? "" : "s") + "(+), " + std::to_string(minus) + " deletion" +
           (minus == 1 ? "" : "s") + "(-)";
}

/// The bot branch of a task: named by its dedupe key (a finding's, or its group's).
std::string branch_for(const AgentTask& task)
{
    return git::branch_name(std::string(to_string(task.type)), task.dedupe_key.empty() ? task.id : task.dedupe_key);
}

/// A span of the delivery, when it records them.
std::unique_ptr<events::Span> open_span(events::EventSink* events, const char* name, const std::string& task_id,
                                        json attributes)
{
    if (!events) return nullptr;
    return std::make_unique<events::Span>(*events, name, task_id, std::move(attributes));
}

/// The W3C traceparent the task carries; empty when none.
std::string traceparent_of(const AgentTask& task)
{
    return task.traceparent.value_or("");
}

/// The findings a pull request carries: those of the task its agent did not
/// leave unfixed.
json carried_findings(const AgentTask& task, const agent::Report& said)
{
    json out = json::array();
    for (const auto& f : findings_of(task.payload)) {
        std::string key = f.key.empty() ? task.dedupe_key : f.key;
        bool unfixed = false;
        for (const auto& r : said.findings) unfixed = unfixed || (r.key == key && r.state == "not-fixed");
        if (!unfixed) out.push_back({{"key", key}, {"content", f.content}, {"rule", f.canonical_rule_id}});
    }
    return out;
}

}  // namespace

std::string repository_name(const std::string& url)
{
    std::string u = url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    if (u.size() > 4 && u.substr(u.size() - 4) == ".git") u.resize(u.size() - 4);
    // scp-like git@host:owner/name
    auto colon = u.find(':');
    if (colon != std::string::npos && u.find("://") == std::string::npos) u = u.substr(colon + 1);
    auto last = u.rfind('/');
    if (last == std::string::npos) return u;
    auto prev = u.rfind('/', last - 1);
    std::string owner =
        u.substr(prev == std::string::npos ? 0 : prev + 1, last - (prev == std::string::npos ? 0 : prev + 1));
    std::string name = u.substr(last + 1);
    return owner.empty() ? name : owner + "/" + name;
}

std::string repository_id(const Config& config, const std::string& flag, const std::string& checkout)
{
    if (!flag.empty()) return flag;
    std::string id = config.get_or("repository.id", config.get_or("git.repository", ""));
    if (id.empty() && !checkout.empty()) id = repository_name(checkout);
    return id;
}

namespace {

/// "the findings" section of a group's body: each finding and what became of it.
std::string findings_section(const std::vector<TaskFinding>& findings, const agent::Report& said)
{
    std::string out = "## Findings\n\n";
    for (const auto& f : findings) {
        std::string state = "not attempted", reason;
        if (const agent::FindingReport* r = said.finding(f.key)) {
            state = text::one_line(r->state);
            reason = text::one_line(r->reason);
        }
        std::string where = f.location();
        out += "- **" + state + "**: `" + f.canonical_rule_id + "` " + f.title;
        if (!f.resource.empty()) out += " on `" + f.resource + "`";
        if (!where.empty()) out += " (`" + where + "`)";
        if (!reason.empty()) out += ": " + reason;
        out += "\n";
    }
    return out + "\n";
}

/// The pull request's title: what it fixes, and where.
std::string title_of(const AgentTask& task, const std::vector<TaskFinding>& findings, const agent::Report& said)
{
    bool many = findings.size() > 1;
    std::string rule = findings.empty() ? "" : findings.front().canonical_rule_id;
    std::string resource = task.context.resource;
    if (resource.empty() && !many && !findings.empty()) resource = findings.front().resource;
    std::string title;
    if (many) {
        TaskGroup group = group_of(task.payload);
        std::string what = group.by == "rule"  ? "for " + group.value
                           : !resource.empty() ? "on " + resource
                                               : "in " + group.value;
        title = "infra-agent: fix " + std::to_string(findings.size()) + " findings " + what;
    } else if (!rule.empty()) title = "infra-agent: fix " + rule + (resource.empty() ? "" : " on " + resource);
    else if (!said.summary.empty()) title = "infra-agent: " + text::one_line(said.summary);
    else title = "infra-agent: " + std::string(to_string(task.type)) + " " + task.id;
    if (title.size() > 250) title = title.substr(0, 247) + "...";
    return title;
}

/// "the finding" section of a single finding's body: its fields, and the scanner that reported it.
std::string finding_section(const AgentTask& task, const TaskFinding& f)
{
    std::string out = "## Finding\n\n";
    for (auto [k, v] : {std::pair{"canonicalRuleId", &f.canonical_rule_id},
                        {"ruleId", &f.rule_id},
                        {"title", &f.title},
                        {"severity", &f.severity},
                        {"file", &f.file},
                        {"resource", &f.resource}})
        if (!v->empty()) out += "- **" + std::string(k) + "**: `" + *v + "`\n";
    if (!task.trigger.provider.empty()) out += "- **reported by**: " + task.trigger.provider + "\n";
    return out + "\n";
}

/// What the agent wrote, as a quotation: shown as its words, it cannot pass
/// for a section of the description (a "## Validation" of its own).
std::string quoted(const std::string& words)
{
    std::string out;
    for (const auto& line : text::split(std::string(text::trim(words)), '\n'))
        out += line.empty() ? ">\n" : "> " + line + "\n";
    return out + "\n";
}

/// The body's head: who opened it, what the agent said and found, and the
/// finding or findings it is about.
std::string body_head(const AgentTask& task, const std::vector<TaskFinding>& findings, const agent::Report& said)
{
    std::string head = "This pull request was opened by infra-agent for task `" + task.id + "`.\n\n";
    if (!said.summary.empty()) head += quoted(said.summary);
    // What the agent found, as it wrote it (a drift task's attributes, old and new).
    if (!said.details.empty()) head += quoted(said.details);
    if (findings.size() > 1) head += findings_section(findings, said);
    else if (!findings.empty()) head += finding_section(task, findings.front());
    if (!said.notes.empty()) {
        head += "## Notes\n\n";
        for (const auto& n : said.notes) head += "- " + text::one_line(n) + "\n";
        head += "\n";
    }
    return head;
}

/// "the validation" section: each step, where it ran, what was skipped, and the plans kept.
std::string validation_section(const AgentTask& task, const Report& validation)
{
    std::string out = "## Validation\n\n";
    for (const auto& s : validation.steps)
        out += "- " + std::string(s.ok ? "passed" : "FAILED") + ": `" + s.name + "`\n";
    for (const auto& s : validation.steps)
        if (!s.url.empty()) out += "  - " + s.url + "\n";
    for (const auto& s : validation.skipped) out += "- " + s + "\n";
    if (validation.providers.is_object() && !validation.providers.empty())
        out += "\nProviders and modules came from what the base commit locks, installed outside the sandbox; "
               "terraform ran without network.\n";
    if (!validation.plan_summary.empty()) out += "\nPlan: " + validation.plan_summary + "\n";
    if (validation.plan.is_object())
        for (const auto& [dir, p] : validation.plan.items())
            if (const json& saved = member(p, "savedPlan"); saved.is_object())
                out += "\nSaved plan" + (dir == "." ? std::string() : " of `" + dir + "`") + ": sha256 `" +
                       string_member(saved, "sha256") + "`. Only this plan is applied, by `infra-agent apply " +
                       task.id + "` once every required approval names it.\n";
    return out + "\n";
}

/// "the provenance" section: the task, its trace, and the policy that decided.
std::string provenance_section(const AgentTask& task, const policy::Decision& decision)
{
    std::string out = "## Provenance\n\n";
    out += "- Task: `" + task.id + "`\n";
    std::string trace = traceparent_of(task);
    if (!trace.empty()) out += "- Trace: `" + trace + "`\n";
    out += "- Policy: tier " + std::to_string(decision.tier) + ", digest `" + decision.policy_digest + "`\n";
    std::vector<std::string> rules = decision.rule_names();
    if (!rules.empty()) {
        out += "- Matched rules:";
        for (const auto& r : rules) out += " `" + r + "`";
        out += "\n";
    }
    return out;
}

/// head, the change's diffstat and diff, and tail, kept under k_max_body
/// characters: the diff is cut first.
std::string fit_body(const std::string& head, const std::string& diff, const std::string& tail)
{
    std::string change = "## Change\n\n" + diffstat(diff) + "\n\n";
    std::string fence_open = "```diff\n", fence_close = "```\n\n";
    std::size_t fixed = head.size() + change.size() + fence_open.size() + fence_close.size() + tail.size();
    std::string cut_note = "\n... (diff cut to fit the pull request; see the branch for all of it)\n";
    std::string shown = diff;
    if (fixed + shown.size() > k_max_body) {
        std::size_t room = k_max_body > fixed + cut_note.size() + 64 ? k_max_body - fixed - cut_note.size() - 64 : 0;
        shown = diff.substr(0, room);
        auto nl = shown.rfind('\n');
        shown = (nl == std::string::npos ? std::string() : shown.substr(0, nl + 1)) + cut_note;
    }
    std::string body = head + change + fence_open + shown + fence_close + tail;
    if (body.size() > k_max_body) body = body.substr(0, k_max_body - 4) + "\n...";
    return body;
}

}  // namespace

std::pair<std::string, std::string> describe(const AgentTask& task, const policy::Decision& decision,
                                             const agent::Report& said, const Report* validation,
                                             const std::string& diff)
{
    std::vector<TaskFinding> findings = findings_of(task.payload);
    std::string tail = validation ? validation_section(task, *validation) : "";
    tail += provenance_section(task, decision);
    return {title_of(task, findings, said), fit_body(body_head(task, findings, said), diff, tail)};
}

std::string trace_id_of(const std::string& traceparent)
{
    auto ctx = events::parse_traceparent(traceparent);
    return ctx ? ctx->trace_id : events::current_context().trace_id;
}

Result<git::Checkout> Delivery::prepare(const AgentTask& task, int attempt)
{
    if (m_opt.repo_url.empty())
        return fail(Errc::usage, "no repository to clone", "pass --repo URL, or set git.repo in config.yaml");
    const std::string& id = task.id;
    // A worker pinned to one repository never applies another repository's task to it.
    const std::string& named = task.context.repository_id;
    if (!m_opt.repository.empty() && !named.empty() && named != m_opt.repository)
        return fail(Errc::denied,
                    "task " + id + " is for " + named + ", and this worker delivers to " + m_opt.repository);
    auto dir = m_opt.work_root / (id + "-" + std::to_string(attempt));
    for (const auto& old : {dir, git::git_dir_for(dir)})
        if (auto st = remove_tree_inside(m_opt.work_root, old); !st) return fail(st.error());
    std::error_code ec;
    std::filesystem::create_directories(m_opt.work_root, ec);
    git::Auth auth;
    std::string repo = repository_for(named);
    std::string trace = trace_id_of(traceparent_of(task));
    if (m_opt.mint) auth.token = [this, repo, id, trace]() { return m_opt.mint("git:fetch:repo=" + repo, id, trace); };
    auth.ssh_key = m_opt.ssh_key;
    auth.ssh_known_hosts = m_opt.ssh_known_hosts;
    auto span = open_span(m_opt.events, "git.clone", id, {{"git.base", m_opt.base}});
    auto co = git::clone(m_opt.repo_url, dir, m_opt.base, auth);
    if (span) {
        if (co) span->set("git.commit", co->base_commit);
        else span->fail(co.error().message);
    }
    return co;
}

namespace {

/// One change on its way from a worktree to a pull request: what the steps
/// of Delivery::deliver share.
struct Proposal {
    const AgentTask& task;
    const policy::Decision& decision;
    const git::Checkout& co;
    agent::Report said;
    std::string trace, repo, branch;
    std::vector<std::string> changed = {};  ///< the files of the change, as git's status of the worktree says
    std::string diff = {};
    bool remote = false;                            ///< validation runs remote pipelines on the pushed branch
    std::optional<ScratchDir> base = std::nullopt;  ///< the base commit's files, while validation may need them
    bool base_written = false;
    json out = json::object();  ///< what happened, for the task's result under "change"
};

/// A change refused: recorded (change.refused, with the files it touched), and returned.
Error refuse(const DeliveryOptions& opt, const Proposal& p, Error e)
{
    if (opt.events) opt.events->emit({"change.refused", p.task.id, "", {{"reason", e.message}, {"paths", p.changed}}});
    return e;
}

/// What the change is: what git's status of the worktree says, never what
/// the agent reports, and its diff. A change touches only the files the
/// decision allows, and what validation reads must be what is committed:
/// no link that leads out, no special file, no Terraform file that
/// .gitignore hides from the commit while terraform reads it.
Status take_change(const DeliveryOptions& opt, Proposal& p)
{
    const std::string& id = p.task.id;
    // Git metadata the agent made in the worktree is no part of any change.
    auto stripped = git::remove_metadata_from_tree(p.co);
    if (!stripped) return fail(stripped.error());
    if (!stripped->empty() && opt.events) opt.events->emit({"change.metadata-removed", id, "", {{"paths", *stripped}}});
    auto changed = git::changed_paths(p.co);
    if (!changed) return fail(changed.error());
    p.changed = std::move(*changed);
    if (auto allowed = check_changed_paths(p.changed, p.task, p.decision); !allowed)
        return fail(refuse(opt, p, allowed.error()));
    if (auto unsafe = unsafe_entries(p.co.dir); !unsafe.empty())
        return fail(refuse(opt, p,
                           make_error(Errc::denied, "the worktree holds a link that leads outside it, or a file that "
                                                    "is not a regular file: " +
                                                        text::quote(unsafe.front()))));
    auto ignored = git::ignored_paths(p.co);
    if (!ignored) return fail(ignored.error());
    for (const auto& path : *ignored)
        if (is_terraform_file(path))
            return fail(
                refuse(opt, p,
                       make_error(Errc::denied,
                                  "the worktree holds " + text::quote(path) +
                                      ", which terraform reads and .gitignore leaves out of the commit",
                                  "a change is validated as it is committed: remove the file, or stop ignoring it")));
    auto diff = git::diff_worktree(p.co);
    if (!diff) return fail(diff.error());
    p.diff = std::move(*diff);
    return {};
}

/// How validation runs for this change: on the files it touched, compared
/// with the base commit; against the real state for a drift, and at tier 4
/// with its plans kept.
Result<ValidationOptions> validation_for(const DeliveryOptions& opt, Proposal& p)
{
    const std::string& id = p.task.id;
    const git::Checkout& co = p.co;
    ValidationOptions vopt = opt.validation;
    vopt.changed = p.changed;
    vopt.base_content = [&co](const std::string& path) -> std::optional<std::string> {
        auto content = git::file_at_base(co, path);
        return content ? *content : std::nullopt;
    };
    vopt.events = opt.events;
    vopt.compare_with_base = true;
    // The base commit's files, written out once when validation first needs
    // them (the trusted side installs the providers they lock), in work_root
    // whatever checkout this is (pr open's is a person's), and only for as
    // long as this delivery validates.
    p.base.emplace(opt.work_root, opt.work_root / (id + ".base"), opt.keep_worktrees);
    vopt.base_tree = [&opt, &p, base_dir = p.base->dir]() -> Result<std::filesystem::path> {
        if (!p.base_written) {
            if (auto st = remove_tree_inside(opt.work_root, base_dir); !st) return fail(st.error());
            if (auto st = git::export_base(p.co, base_dir); !st) return fail(st.error());
            p.base_written = true;
        }
        return base_dir;
    };
    p.remote = has_pipelines(vopt.steps);
    if (p.remote && !git::has_origin(co))
        return fail(Errc::usage, "validation.steps names remote pipelines, and the repository has no remote to push to",
                    "remote pipelines run on the pushed branch: clone from a remote (git.repo)");
    if (p.remote && !opt.pipelines)
        return fail(Errc::internal, "remote pipelines are configured, and no runner is set up");
    // Drift is judged against the state it drifted from, when the sandbox can read it.
    if (p.task.type == TaskType::drift_detection && !vopt.state_dirs.empty()) vopt.backend = true;
    if (p.decision.tier >= 4 && !opt.plans_root.empty()) {
        // The plan reviewers approve is the one `apply` runs: keep it, made against the real state.
        vopt.plans_dir = opt.plans_root / id;
        vopt.backend = true;
        if (auto st = remove_tree_inside(opt.plans_root, vopt.plans_dir); !st) return fail(st.error());
    }
    return vopt;
}

/// Validates the change in its Terraform roots, in a span of its own. A
/// change of no file (a drift revert) is planned in the task's root.
Result<Report> run_validation(const DeliveryOptions& opt, const Proposal& p, const ValidationOptions& vopt)
{
    auto vspan = open_span(opt.events, "validation", p.task.id, json::object());
    bool drift = p.task.type == TaskType::drift_detection;
    auto roots = p.changed.empty() && drift ? std::vector<std::string>{task_root(p.task)} : terraform_roots(p.changed);
    auto report = validate(p.co.dir, roots, p.task, p.decision, vopt);
    if (!report) return fail(report.error());
    if (vspan) {
        vspan->set("validation.ran", report->ran);
        vspan->set("validation.plan_summary", report->plan_summary);
        if (!report->ok) vspan->fail(report->failure);
        vspan->end();
    }
    return report;
}

/// What validation found, in the delivery's result (when it ran), with the
/// plans it kept.
void record_validation(json& out, const Report& report, const std::filesystem::path& plans_dir)
{
    if (!report.ran) return;
    json steps = json::array();
    for (const auto& s : report.steps) steps.push_back({{"name", s.name}, {"dir", s.dir}, {"ok", s.ok}});
    out["validation"] = {
        {"ok", report.ok}, {"changes", report.changes}, {"planSummary", report.plan_summary}, {"plan", report.plan},
        {"steps", steps},  {"skipped", report.skipped}, {"providers", report.providers}};
    json saved = json::object();
    for (const auto& [dir, p] : report.plan.items())
        if (p.contains("savedPlan")) saved[dir] = p["savedPlan"];
    if (!saved.empty()) out["savedPlans"] = {{"dir", plans_dir.string()}, {"roots", saved}};
}

/// Nothing is committed that did not pass validation, and the commit is of
/// exactly what was checked and validated.
Status check_validated(const DeliveryOptions& opt, const Proposal& p, const Report& report)
{
    // The task's error is all that its queue entry and remediate's line keep: the hint goes with it.
    if (!report.ok)
        return fail(Errc::denied,
                    "validation failed: " + report.failure + (report.hint.empty() ? "" : " (" + report.hint + ")"));
    if (p.decision.requires_validation && !report.ran && !p.remote)
        return fail(Errc::denied,
                    "policy requires validation, and nothing validated the change: terraform is not on PATH "
                    "(install it: https://developer.hashicorp.com/terraform/install; or set validation.steps in "
                    "config.yaml)");
    auto after = git::changed_paths(p.co);
    if (!after) return fail(after.error());
    // The same files, and the same in them: a command validation ran (a
    // provider's program at plan time) may not rewrite what was checked.
    auto diff = git::diff_worktree(p.co);
    if (!diff) return fail(diff.error());
    if (*after != p.changed || *diff != p.diff) {
        std::string extra;
        for (const auto& path : *after)
            if (std::find(p.changed.begin(), p.changed.end(), path) == p.changed.end()) extra = path;
        return fail(
            refuse(opt, p,
                   make_error(Errc::denied, "the files of the change changed during validation" +
                                                (extra.empty() ? std::string() : " (" + text::quote(extra) + ")") +
                                                ": nothing is committed that was not validated")));
    }
    if (auto unsafe = unsafe_entries(p.co.dir); !unsafe.empty())
        return fail(refuse(opt, p,
                           make_error(Errc::denied, "validation left a link that leads outside the worktree: " +
                                                        text::quote(unsafe.front()))));
    return {};
}

/// Commits the change on its bot branch with the task's trailers; the
/// commit, empty when there was nothing to commit.
Result<std::string> commit_change(const DeliveryOptions& opt, const Proposal& p, const std::string& title)
{
    const std::string& id = p.task.id;
    auto cspan = open_span(opt.events, "git.commit", id, {{"git.branch", p.branch}});
    auto commit = git::commit_all(p.co, p.branch, title + "\n\n" + p.said.summary, opt.identity,
                                  {id, traceparent_of(p.task), p.decision.policy_digest});
    if (!commit) {
        if (cspan) cspan->fail(commit.error().message);
        return fail(commit.error());
    }
    if (cspan) {
        cspan->set("git.commit", *commit);
        cspan->end();
    }
    return commit;
}

/// Pushes the branch with a credential minted for it alone; a local
/// repository without a remote keeps the branch as the proposal.
Status push_change(const DeliveryOptions& opt, Proposal& p, const std::string& commit)
{
    if (!git::has_origin(p.co)) {
        p.out["commit"] = commit;
        p.out["pushed"] = false;
        return {};
    }
    git::PushOptions po;
    po.protected_patterns = opt.protected_patterns;
    po.bot_email = opt.identity.email;
    po.auth.ssh_key = opt.ssh_key;
    po.auth.ssh_known_hosts = opt.ssh_known_hosts;
    if (opt.mint)
        po.auth.token = [&opt, repo = p.repo, branch = p.branch, id = p.task.id, trace = p.trace]() {
            return opt.mint("git:push:repo=" + repo + ",branch=" + branch, id, trace);
        };
    auto pspan = open_span(opt.events, "git.push", p.task.id, {{"git.branch", p.branch}});
    auto pushed = git::push(p.co, p.branch, po);
    if (!pushed) {
        if (pspan) pspan->fail(pushed.error().message);
        return fail(pushed.error());
    }
    if (pspan) {
        pspan->set("git.unchanged", pushed->unchanged);
        pspan->end();
    }
    p.out["commit"] = pushed->commit;
    p.out["pushed"] = !pushed->unchanged;
    if (!pushed->previous.empty()) p.out["previousCommit"] = pushed->previous;
    return {};
}

/// Opens the branch's pull request, or updates its open one, and records
/// it; a merged or closed one stays as it is, and the branch gets a new one.
Status open_pull_request(const DeliveryOptions& opt, Proposal& p, const std::string& title, const std::string& body)
{
    const std::string& id = p.task.id;
    bool unchanged = !p.out["pushed"].get<bool>() && p.out.contains("previousCommit");
    std::string head = p.out["commit"].get<std::string>();
    auto existing = opt.store->find(opt.forge->name(), p.repo, p.branch);
    if (!existing) return fail(existing.error());
    PrRequest req{p.repo,
                  p.branch,
                  p.co.base_branch,
                  title,
                  body,
                  opt.labels,
                  head,
                  id,
                  p.task.dedupe_key,
                  p.diff,
                  carried_findings(p.task, p.said),
                  ""};
    std::optional<PullRequest> current = *existing && (*existing)->state == "open" ? *existing : std::nullopt;
    if (current)
        req.update_comment =
            unchanged ? "infra-agent ran again for task `" + id + "` and arrived at the same change."
                      : "infra-agent updated this pull request for task `" + id + "` (now " + head.substr(0, 12) + ").";
    auto prspan =
        open_span(opt.events, "pr.open", id,
                  {{"forge", opt.forge->name()}, {"git.branch", p.branch}, {"update", current ? true : false}});
    auto pr = opt.forge->open_or_update(req, current);
    if (!pr) {
        if (prspan) prspan->fail(pr.error().message);
        return fail(pr.error());
    }
    if (prspan) {
        prspan->set("pr.url", pr->url);
        prspan->set("pr.number", pr->number);
        prspan->end();
    }
    if (*existing && !current) {
        pr->id = (*existing)->id;  // one record per branch: its current pull request
        req.update_comment = "a new pull request for the branch: #" + std::to_string(pr->number) + " (the last was " +
                             (*existing)->state + ")";
    }
    if (auto s = opt.store->save(*pr, !*existing, req.update_comment); !s) return fail(s.error());
    p.out["state"] = current ? "updated" : "opened";
    p.out["pullRequest"] = pr->to_json(false);
    spdlog::debug("task {}: pull request {} {} ({})", id, pr->url, current ? "updated" : "opened", p.branch);
    return {};
}

}  // namespace

Result<json> Delivery::deliver(const AgentTask& task, const policy::Decision& decision, const git::Checkout& co,
                               const agent::Outcome& outcome)
{
    if (decision.tier < 2)
        return json{
            {"reason", "tier " + std::to_string(decision.tier) + " may only recommend: no branch or pull request"},
            {"state", "not-proposed"}};
    Proposal p{task,
               decision,
               co,
               agent::read_report(outcome.result),
               trace_id_of(traceparent_of(task)),
               repository_for(task.context.repository_id),
               branch_for(task)};
    if (auto st = take_change(m_opt, p); !st) return fail(st.error());
    // Validation first: nothing is committed that did not pass.
    auto vopt = validation_for(m_opt, p);
    if (!vopt) return fail(vopt.error());
    auto report = run_validation(m_opt, p, *vopt);
    if (!report) return fail(report.error());
    record_validation(p.out, *report, vopt->plans_dir);
    if (auto st = check_validated(m_opt, p, *report); !st) return fail(st.error());
    auto title = describe(task, decision, p.said, nullptr, p.diff).first;
    auto commit = commit_change(m_opt, p, title);
    if (!commit) return fail(commit.error());
    p.out["branch"] = p.branch;
    if (commit->empty() && decision.drift_mode == "revert" && p.out.contains("savedPlans")) {
        // Nothing to commit and a plan kept (a drift revert): the plan of the
        // base commit as it is undoes the drift; apply checks the base has not moved.
        p.out["branch"] = co.base_branch;
        p.out["commit"] = co.base_commit;
        p.out["state"] = "plan-saved";
        return p.out;
    }
    if (commit->empty()) {
        p.out["state"] = "no-change";
        p.out["reason"] = "the agent left the repository as it was";
        return p.out;
    }
    if (auto st = push_change(m_opt, p, *commit); !st) return fail(st.error());
    if (p.remote) {
        // The organisation's CI judges the pushed branch; its verdict joins the report.
        auto ran = run_pipelines(vopt->steps, *m_opt.pipelines,
                                 {p.repo, p.branch, p.out["commit"].get<std::string>(), task.id, p.trace}, *report,
                                 m_opt.events, vopt->plans_dir);
        if (!ran) return fail(ran.error());
        record_validation(p.out, *report, vopt->plans_dir);
        if (!report->ok) return fail(Errc::denied, "validation failed: " + report->failure);
    }
    std::string body = describe(task, decision, p.said, report->ran ? &*report : nullptr, p.diff).second;
    if (!m_opt.forge || !m_opt.store) {
        p.out["state"] = "pushed";
        return p.out;
    }
    std::lock_guard lock(m_mutex);
    if (auto st = open_pull_request(m_opt, p, title, body); !st) return fail(st.error());
    return p.out;
}

Result<std::optional<Delivery::Wait>> Delivery::over_limit(const AgentTask& task)
{
    if ((!m_opt.max_open && !m_opt.max_per_hour) || !m_opt.forge || !m_opt.store) return std::optional<Wait>();
    std::lock_guard lock(m_mutex);
    std::string repo = repository_for(task.context.repository_id);
    auto mine = m_opt.store->find(m_opt.forge->name(), repo, branch_for(task));
    if (!mine) return fail(mine.error());
    if (*mine && (*mine)->state == "open") return std::optional<Wait>();
    auto all = m_opt.store->list("", repo, 100000);
    if (!all) return fail(all.error());
    std::int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    std::int64_t hour = 3600 * 1000, oldest_in_hour = now;
    int open = 0, this_hour = 0;
    for (const auto& p : *all) {
        if (p.forge != m_opt.forge->name()) continue;
        open += p.state == "open";
        if (p.created_ms > now - hour) {
            ++this_hour;
            oldest_in_hour = std::min(oldest_in_hour, p.created_ms);
        }
    }
    if (m_opt.max_open && open >= m_opt.max_open)
        return std::optional<Wait>(Wait{"waiting: " + std::to_string(open) + " bot pull requests are open in " + repo +
                                            " (pr.max_open " + std::to_string(m_opt.max_open) +
                                            "); it goes out as others merge or close",
                                        m_opt.limit_recheck});
    if (m_opt.max_per_hour && this_hour >= m_opt.max_per_hour)
        return std::optional<Wait>(
            Wait{"waiting: " + std::to_string(this_hour) + " bot pull requests were opened in " + repo +
                     " in the last hour (pr.max_per_hour " + std::to_string(m_opt.max_per_hour) + ")",
                 std::chrono::milliseconds(std::max<std::int64_t>(oldest_in_hour + hour - now, 1000))});
    return std::optional<Wait>();
}

std::string Delivery::repository_for(const std::string& repository_id) const
{
    if (!m_opt.repository.empty()) return m_opt.repository;
    return repository_id.empty() ? repository_name(m_opt.repo_url) : repository_id;
}

void Delivery::cleanup(const git::Checkout& co)
{
    if (m_opt.keep_worktrees || co.dir.empty()) return;
    for (const auto& dir : {co.dir, co.git_dir})
        if (!dir.empty())
            if (auto st = remove_tree_inside(m_opt.work_root, dir); !st) spdlog::warn("{}", st.error().message);
}

}  // namespace infra::core::change
