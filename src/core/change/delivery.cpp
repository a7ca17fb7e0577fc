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
    std::filesystem::path root, dir;
    bool keep = false;
    ~ScratchDir()
    {
        if (!keep) (void)remove_tree_inside(root, dir);
    }
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
            state = r->state;
            reason = r->reason;
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

}  // namespace

std::pair<std::string, std::string> describe(const AgentTask& task, const policy::Decision& decision,
                                             const agent::Report& said, const Report* validation,
                                             const std::string& diff)
{
    std::vector<TaskFinding> findings = findings_of(task.payload);
    const json& group = member(task.payload, "group");
    bool many = findings.size() > 1;
    std::string rule = findings.empty() ? "" : findings.front().canonical_rule_id;
    std::string resource = task.context.resource;
    if (resource.empty() && !many && !findings.empty()) resource = findings.front().resource;
    const std::string& summary = said.summary;
    std::string title;
    if (many) {
        std::string by = string_member(group, "by"), value = string_member(group, "value");
        std::string what = by == "rule" ? "for " + value : !resource.empty() ? "on " + resource : "in " + value;
        title = "infra-agent: fix " + std::to_string(findings.size()) + " findings " + what;
    } else if (!rule.empty()) title = "infra-agent: fix " + rule + (resource.empty() ? "" : " on " + resource);
    else if (!summary.empty()) title = "infra-agent: " + summary;
    else title = "infra-agent: " + std::string(to_string(task.type)) + " " + task.id;
    if (title.size() > 250) title = title.substr(0, 247) + "...";

    std::string head = "This pull request was opened by infra-agent for task `" + task.id + "`.\n\n";
    if (!summary.empty()) head += summary + "\n\n";
    // What the agent found, as it wrote it (a drift task's attributes, old and new).
    if (!said.details.empty()) head += said.details + "\n";
    if (many) {
        head += findings_section(findings, said);
    } else if (!findings.empty()) {
        const TaskFinding& f = findings.front();
        head += "## Finding\n\n";
        for (auto [k, v] : {std::pair{"canonicalRuleId", &f.canonical_rule_id},
                            {"ruleId", &f.rule_id},
                            {"title", &f.title},
                            {"severity", &f.severity},
                            {"file", &f.file},
                            {"resource", &f.resource}})
            if (!v->empty()) head += "- **" + std::string(k) + "**: `" + *v + "`\n";
        if (!task.trigger.provider.empty()) head += "- **reported by**: " + task.trigger.provider + "\n";
        head += "\n";
    }
    if (!said.notes.empty()) {
        head += "## Notes\n\n";
        for (const auto& n : said.notes) head += "- " + n + "\n";
        head += "\n";
    }
    std::string tail;
    if (validation) {
        tail += "## Validation\n\n";
        for (const auto& s : validation->steps)
            tail += "- " + std::string(s.ok ? "passed" : "FAILED") + ": `" + s.name + "`\n";
        for (const auto& s : validation->steps)
            if (!s.url.empty()) tail += "  - " + s.url + "\n";
        for (const auto& s : validation->skipped) tail += "- " + s + "\n";
        if (validation->providers.is_object() && !validation->providers.empty())
            tail += "\nProviders and modules came from what the base commit locks, installed outside the sandbox; "
                    "terraform ran without network.\n";
        if (!validation->plan_summary.empty()) tail += "\nPlan: " + validation->plan_summary + "\n";
        if (validation->plan.is_object())
            for (const auto& [dir, p] : validation->plan.items())
                if (const json& saved = member(p, "savedPlan"); saved.is_object())
                    tail += "\nSaved plan" + (dir == "." ? std::string() : " of `" + dir + "`") + ": sha256 `" +
                            string_member(saved, "sha256") + "`. Only this plan is applied, by `infra-agent apply " +
                            task.id + "` once every required approval names it.\n";
        tail += "\n";
    }
    tail += "## Provenance\n\n";
    tail += "- Task: `" + task.id + "`\n";
    std::string trace = traceparent_of(task);
    if (!trace.empty()) tail += "- Trace: `" + trace + "`\n";
    tail += "- Policy: tier " + std::to_string(decision.tier) + ", digest `" + decision.policy_digest + "`\n";
    std::vector<std::string> rules = decision.rule_names();
    if (!rules.empty()) {
        tail += "- Matched rules:";
        for (const auto& r : rules) tail += " `" + r + "`";
        tail += "\n";
    }

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
    return {title, body};
}

std::unique_ptr<events::Span> Delivery::open_span(const char* name, const std::string& task_id, json attributes) const
{
    if (!m_opt.events) return nullptr;
    return std::make_unique<events::Span>(*m_opt.events, name, task_id, std::move(attributes));
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
    auto span = open_span("git.clone", id, {{"git.base", m_opt.base}});
    auto co = git::clone(m_opt.repo_url, dir, m_opt.base, auth);
    if (span) {
        if (co) span->set("git.commit", co->base_commit);
        else span->fail(co.error().message);
    }
    return co;
}

Result<json> Delivery::deliver(const AgentTask& task, const policy::Decision& decision, const git::Checkout& co,
                               const agent::Outcome& outcome)
{
    json out = json::object();
    int tier = decision.tier;
    if (tier < 2) {
        out["state"] = "not-proposed";
        out["reason"] = "tier " + std::to_string(tier) + " may only recommend: no branch or pull request";
        return out;
    }
    const std::string& id = task.id;
    std::string trace = trace_id_of(traceparent_of(task));
    std::string repo = repository_for(task.context.repository_id);
    std::string branch = branch_for(task);
    agent::Report said = agent::read_report(outcome.result);

    // Git metadata the agent made in the worktree is no part of any change.
    auto stripped = git::remove_metadata_from_tree(co);
    if (!stripped) return fail(stripped.error());
    if (!stripped->empty() && m_opt.events)
        m_opt.events->emit({"change.metadata-removed", id, "", {{"paths", *stripped}}});
    // What changed is what git's status of the worktree says, never what the
    // agent reports; and a change touches only the files the decision allows.
    auto changed_paths = git::changed_paths(co);
    if (!changed_paths) return fail(changed_paths.error());
    const std::vector<std::string>& changed = *changed_paths;
    auto refuse = [&](const Error& e) -> Result<json> {
        if (m_opt.events) m_opt.events->emit({"change.refused", id, "", {{"reason", e.message}, {"paths", changed}}});
        return fail(e);
    };
    if (auto allowed = check_changed_paths(changed, task, decision); !allowed) return refuse(allowed.error());
    // What validation reads must be what is committed: no link that leads
    // out, no special file, no Terraform file that .gitignore hides from
    // the commit while terraform reads it.
    if (auto unsafe = unsafe_entries(co.dir); !unsafe.empty())
        return refuse(
            make_error(Errc::denied, "the worktree holds a link that leads outside it, or a file that is not a "
                                     "regular file: " +
                                         text::quote(unsafe.front())));
    auto ignored = git::ignored_paths(co);
    if (!ignored) return fail(ignored.error());
    for (const auto& p : *ignored)
        if (is_terraform_file(p))
            return refuse(make_error(Errc::denied,
                                     "the worktree holds " + text::quote(p) +
                                         ", which terraform reads and .gitignore leaves out of the commit",
                                     "a change is validated as it is committed: remove the file, or stop ignoring it"));
    auto git_diff = git::diff_worktree(co);
    if (!git_diff) return fail(git_diff.error());
    const std::string& diff = *git_diff;

    // Validation first: nothing is committed that did not pass.
    bool required = decision.requires_validation;
    ValidationOptions vopt = m_opt.validation;
    vopt.changed = changed;
    vopt.base_content = [&co](const std::string& path) -> std::optional<std::string> {
        auto content = git::file_at_base(co, path);
        return content ? *content : std::nullopt;
    };
    vopt.events = m_opt.events;
    vopt.compare_with_base = true;
    // The base commit's files, written out once when validation first needs
    // them (the trusted side installs the providers they lock), in work_root
    // whatever checkout this is (pr open's is a person's), and only for as
    // long as this delivery validates.
    ScratchDir base{m_opt.work_root, m_opt.work_root / (id + ".base"), m_opt.keep_worktrees};
    const auto& base_dir = base.dir;
    bool base_written = false;
    vopt.base_tree = [&, base_dir]() -> Result<std::filesystem::path> {
        if (!base_written) {
            if (auto st = remove_tree_inside(m_opt.work_root, base_dir); !st) return fail(st.error());
            if (auto st = git::export_base(co, base_dir); !st) return fail(st.error());
            base_written = true;
        }
        return base_dir;
    };
    bool remote = has_pipelines(vopt.steps);
    if (remote && !git::has_origin(co))
        return fail(Errc::usage, "validation.steps names remote pipelines, and the repository has no remote to push to",
                    "remote pipelines run on the pushed branch: clone from a remote (git.repo)");
    if (remote && !m_opt.pipelines)
        return fail(Errc::internal, "remote pipelines are configured, and no runner is set up");
    // Drift is judged against the state it drifted from, when the sandbox can read it.
    bool drift = task.type == TaskType::drift_detection;
    if (drift && !vopt.state_dirs.empty()) vopt.backend = true;
    if (tier >= 4 && !m_opt.plans_root.empty()) {
        // The plan reviewers approve is the one `apply` runs: keep it, made against the real state.
        vopt.plans_dir = m_opt.plans_root / id;
        vopt.backend = true;
        if (auto st = remove_tree_inside(m_opt.plans_root, vopt.plans_dir); !st) return fail(st.error());
    }
    auto vspan = open_span("validation", id, json::object());
    // A change of no file (a drift revert) is planned in the task's root.
    auto roots = changed.empty() && drift ? std::vector<std::string>{task_root(task)} : terraform_roots(changed);
    auto report = validate(co.dir, roots, task, decision, vopt);
    if (!report) return fail(report.error());
    if (vspan) {
        vspan->set("validation.ran", report->ran);
        vspan->set("validation.plan_summary", report->plan_summary);
        if (!report->ok) vspan->fail(report->failure);
        vspan->end();
    }
    auto record_validation = [&] {
        if (!report->ran) return;
        json steps = json::array();
        for (const auto& s : report->steps) steps.push_back({{"name", s.name}, {"dir", s.dir}, {"ok", s.ok}});
        out["validation"] = {{"ok", report->ok},
                             {"changes", report->changes},
                             {"planSummary", report->plan_summary},
                             {"plan", report->plan},
                             {"steps", steps},
                             {"skipped", report->skipped},
                             {"providers", report->providers}};
        json saved = json::object();
        for (const auto& [dir, p] : report->plan.items())
            if (p.contains("savedPlan")) saved[dir] = p["savedPlan"];
        if (!saved.empty()) out["savedPlans"] = {{"dir", vopt.plans_dir.string()}, {"roots", saved}};
    };
    record_validation();
    if (!report->ok) return fail(Errc::denied, "validation failed: " + report->failure);
    if (required && !report->ran && !remote)
        return fail(Errc::denied, "policy requires validation, and there is nothing to validate with",
                    "install terraform, or set validation.steps in config.yaml");
    // The commit is of exactly what was checked and validated.
    auto after = git::changed_paths(co);
    if (!after) return fail(after.error());
    if (*after != changed) {
        std::string extra;
        for (const auto& p : *after)
            if (std::find(changed.begin(), changed.end(), p) == changed.end()) extra = p;
        return refuse(make_error(Errc::denied, "the files of the change changed during validation" +
                                                   (extra.empty() ? std::string() : " (" + text::quote(extra) + ")") +
                                                   ": nothing is committed that was not validated"));
    }
    if (auto unsafe = unsafe_entries(co.dir); !unsafe.empty())
        return refuse(make_error(Errc::denied, "validation left a link that leads outside the worktree: " +
                                                   text::quote(unsafe.front())));
    auto title = describe(task, decision, said, nullptr, diff).first;

    auto cspan = open_span("git.commit", id, {{"git.branch", branch}});
    auto commit = git::commit_all(co, branch, title + "\n\n" + said.summary, m_opt.identity,
                                  {id, traceparent_of(task), decision.policy_digest});
    if (!commit) {
        if (cspan) cspan->fail(commit.error().message);
        return fail(commit.error());
    }
    if (cspan) {
        cspan->set("git.commit", *commit);
        cspan->end();
    }
    out["branch"] = branch;
    if (commit->empty() && decision.drift_mode == "revert" && out.contains("savedPlans")) {
        // Nothing to commit and a plan kept (a drift revert): the plan of the
        // base commit as it is undoes the drift; apply checks the base has not moved.
        out["branch"] = co.base_branch;
        out["commit"] = co.base_commit;
        out["state"] = "plan-saved";
        return out;
    }
    if (commit->empty()) {
        out["state"] = "no-change";
        out["reason"] = "the agent left the repository as it was";
        return out;
    }
    if (!git::has_origin(co)) {
        // A local repository without a remote: the branch is the proposal.
        out["commit"] = *commit;
        out["pushed"] = false;
    } else {
        git::PushOptions po;
        po.protected_patterns = m_opt.protected_patterns;
        po.bot_email = m_opt.identity.email;
        po.auth.ssh_key = m_opt.ssh_key;
        po.auth.ssh_known_hosts = m_opt.ssh_known_hosts;
        if (m_opt.mint)
            po.auth.token = [this, repo, branch, id, trace]() {
                return m_opt.mint("git:push:repo=" + repo + ",branch=" + branch, id, trace);
            };
        auto pspan = open_span("git.push", id, {{"git.branch", branch}});
        auto pushed = git::push(co, branch, po);
        if (!pushed) {
            if (pspan) pspan->fail(pushed.error().message);
            return fail(pushed.error());
        }
        if (pspan) {
            pspan->set("git.unchanged", pushed->unchanged);
            pspan->end();
        }
        out["commit"] = pushed->commit;
        out["pushed"] = !pushed->unchanged;
        if (!pushed->previous.empty()) out["previousCommit"] = pushed->previous;
    }
    bool unchanged = !out["pushed"].get<bool>() && out.contains("previousCommit");
    std::string head = out["commit"].get<std::string>();

    if (remote) {
        // The organisation's CI judges the pushed branch; its verdict joins the report.
        auto ran = run_pipelines(vopt.steps, *m_opt.pipelines, {repo, branch, head, id, trace}, *report, m_opt.events,
                                 vopt.plans_dir);
        if (!ran) return fail(ran.error());
        record_validation();
        if (!report->ok) return fail(Errc::denied, "validation failed: " + report->failure);
    }
    std::string body = describe(task, decision, said, report->ran ? &*report : nullptr, diff).second;

    if (!m_opt.forge || !m_opt.store) {
        out["state"] = "pushed";
        return out;
    }
    std::lock_guard lock(m_mutex);
    auto existing = m_opt.store->find(m_opt.forge->name(), repo, branch);
    if (!existing) return fail(existing.error());
    PrRequest req{repo,
                  branch,
                  co.base_branch,
                  title,
                  body,
                  m_opt.labels,
                  head,
                  id,
                  task.dedupe_key,
                  diff,
                  carried_findings(task, said),
                  ""};
    // A merged or closed pull request stays as it is: the branch gets a new one.
    std::optional<PullRequest> current = *existing && (*existing)->state == "open" ? *existing : std::nullopt;
    if (current)
        req.update_comment =
            unchanged ? "infra-agent ran again for task `" + id + "` and arrived at the same change."
                      : "infra-agent updated this pull request for task `" + id + "` (now " + head.substr(0, 12) + ").";
    auto prspan = open_span(
        "pr.open", id, {{"forge", m_opt.forge->name()}, {"git.branch", branch}, {"update", current ? true : false}});
    auto pr = m_opt.forge->open_or_update(req, current);
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
    if (auto s = m_opt.store->save(*pr, !*existing, req.update_comment); !s) return fail(s.error());
    out["state"] = current ? "updated" : "opened";
    out["pullRequest"] = pr->to_json(false);
    spdlog::debug("task {}: pull request {} {} ({})", id, pr->url, current ? "updated" : "opened", branch);
    return out;
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
