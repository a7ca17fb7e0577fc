#include "core/remediate.hpp"

#include "core/agent/report.hpp"
#include "core/change/open_follow.hpp"
#include "core/events/trace.hpp"
#include "core/input.hpp"
#include "core/intake.hpp"
#include "core/json_access.hpp"
#include "core/open_intake.hpp"
#include "core/sandbox_choice.hpp"
#include "core/signals/group.hpp"
#include "core/signals/ingest.hpp"
#include "core/signals/request.hpp"
#include "core/worker.hpp"

#include <map>

namespace infra::core::remediate {
namespace {

std::string describe_finding(const TaskFinding& f, const std::string& type, const std::string& fallback_resource)
{
    std::string rule = f.canonical_rule_id.empty() ? type : f.canonical_rule_id;
    std::string resource = f.resource.empty() ? fallback_resource : f.resource;
    std::string where = resource.empty() ? f.file : resource;
    return rule + (where.empty() ? "" : " " + where);
}

/// The findings of a task: a group's, else its one (a task without one
/// still gets its line).
std::vector<TaskFinding> findings_of(const AgentTask& t)
{
    auto found = core::findings_of(t.payload);
    if (found.empty()) found.emplace_back();
    return found;
}

/// Fills in what became of a finding from what became of its task.
void settle(FindingOutcome& f, const std::string& key, const TaskOutcome& t)
{
    const auto& change = member(t.result, "change");
    auto said = agent::read_report(t.result);
    const agent::FindingReport* mine = said.finding(key);
    if (t.state == queue::State::succeeded && mine && mine->state == "not-fixed") {
        f.state = "failed";
        f.detail = mine->reason;
        f.verdict = Verdict::failed;
    } else if (t.state == queue::State::succeeded) {
        f.state = change.is_object() ? string_member(change, "state") : "fixed";
        if (mine && mine->state == "already-passing") f.state = "already passes";
        f.pull_request = member(change, "pullRequest");
        f.detail = f.pull_request.is_object()
                       ? string_member(f.pull_request, "url") + " (" + string_member(change, "branch") + ")"
                       : string_member(change, "reason");
        if (f.detail.empty()) f.detail = said.summary;
    } else if (t.state == queue::State::pending_approval) {
        f.state = "waiting for approval";
        f.detail.clear();
        for (const auto& r : t.approvals) f.detail += (f.detail.empty() ? "by " : ", ") + r;
        f.verdict = Verdict::pending;
    } else if (t.waiting) {
        f.state = "waiting";
        f.detail = t.error;
    } else {
        // A lease lost (or given back) before the result was recorded: the attempt was interrupted.
        f.state = t.state == queue::State::dead     ? "failed"
                  : t.state == queue::State::leased ? "interrupted"
                                                    : std::string(queue::to_string(t.state));
        f.detail = t.error;
        f.verdict = Verdict::failed;
    }
}

/// A report written with the scanning machine's absolute paths (tfsec's)
/// names no file of the checkout until --root strips the scanned directory.
void note_absolute_paths(const std::vector<AgentTask>& tasks, const std::function<void(const std::string&)>& note)
{
    for (const auto& t : tasks)
        for (const auto& f : findings_of(t))
            if (!f.file.empty() && f.file.front() == '/') {
                note("the report names files by absolute paths ('" + f.file +
                     "'), outside the repository: pass --root DIR, the directory that was scanned");
                return;
            }
}

/// The tasks the reports make, each failed finding once.
Result<signals::CollectSink> ingest(const Site& site, const Options& o, const signals::IngestOptions& in,
                                    events::EventSink& events)
{
    events::NullSink untraced;
    auto span = std::make_unique<events::Span>(o.dry_run ? untraced : events, "ingest", "",
                                               nlohmann::json{{"signal.files", o.reports}});
    signals::CollectSink found;
    for (const auto& file : o.reports) {
        auto src = ByteSource::open(file);
        if (!src) return fail(src.error());
        auto parser = signals::parser_for(site.signals, o.source, **src, in.headers);
        if (!parser) return fail(parser.error());
        if (auto st = signals::ingest(**parser, **src, in, found); !st) return fail(st.error());
    }
    if (!found.errors.empty()) return fail(found.errors.front());
    if (o.note && o.root.empty()) note_absolute_paths(found.tasks, o.note);
    span->set("signal.tasks", found.tasks.size());
    span->set("signal.skipped", found.skipped.size());
    signals::assign_trace(found.tasks, span->context());
    return found;
}

/// Follows the bot's open pull requests against this report, and holds back
/// the tasks whose findings are taken care of.
Result<std::vector<change::HeldBack>> follow(const Site& site, const Options& o, const std::string& repository,
                                             std::vector<AgentTask>& tasks, events::EventSink* events)
{
    auto setup = change::open_follower(site, o.delivery, events, nullptr);
    if (!setup) return fail(setup.error());
    std::vector<std::string> keys;
    for (const auto& t : tasks)
        for (const auto& f : findings_of(t)) keys.push_back(f.key.empty() ? t.dedupe_key : f.key);
    if (auto st = change::record_report(*setup->delivery->db, repository, keys); !st) return fail(st.error());
    auto followed = setup->follower->reconcile(repository);
    if (!followed) return fail(followed.error());
    if (o.note)
        for (const auto& t : *followed) o.note("pull request #" + std::to_string(t.number) + ": " + t.reason);
    return change::hold_back(tasks, *setup->delivery->db, *setup->delivery->store, setup->delivery->forge->name());
}

/// Runs the tasks with ids in an in-process worker that delivers each
/// change; what became of each task it ran, by id.
Result<std::map<std::string, TaskOutcome>> work(const Site& site, const Options& o, Intake& intake,
                                                const std::vector<std::string>& ids)
{
    std::map<std::string, TaskOutcome> ran;
    auto sandbox = sandbox::choose(site.config, o.sandbox, nullptr);
    if (!sandbox) return fail(sandbox.error());
    auto delivery = change::open_delivery(site, o.delivery, &*sandbox);
    if (!delivery) return fail(delivery.error());
    WorkerOptions w;
    w.drain = true;
    w.sandbox = &*sandbox;
    change::attach_events(**delivery, intake.events);
    w.delivery = (*delivery)->delivery.get();
    w.backoff.base = queue::Millis{200};
    w.keep_outcomes = true;
    if (o.working) o.working(ids.size());
    Worker worker(*intake.queue, site.agents, *intake.events, intake.engine.get(), w);
    auto summary = worker.run();
    if (!summary) return fail(summary.error());
    for (auto& t : summary->tasks) ran[t.id] = std::move(t);
    return ran;
}

/// One line per finding (the findings of a group share its task), with
/// what each line needs until its outcome is known.
struct Lines {
    std::vector<FindingOutcome>& out;
    std::vector<std::string> keys;    ///< each line's finding key
    std::vector<std::string> agents;  ///< each line's agent
    std::vector<std::size_t> first;   ///< each task's first line, then the end of the tasks' lines

    Lines(std::vector<FindingOutcome>& lines, const std::vector<AgentTask>& tasks,
          const std::vector<change::HeldBack>& held)
        : out(lines)
    {
        for (const auto& t : tasks) {
            first.push_back(out.size());
            for (const auto& f : findings_of(t)) {
                out.push_back({t.id, describe_finding(f, std::string(to_string(t.type)), t.context.resource), "", "",
                               nullptr, Verdict::ok});
                keys.push_back(f.key);
                agents.push_back(t.context.agent_slug);
            }
        }
        first.push_back(out.size());
        for (const auto& h : held) {
            out.push_back({"", describe_finding(h.finding, "", ""),
                           h.reason.rfind("declined", 0) == 0 ? "declined" : "left alone", h.reason, nullptr,
                           Verdict::ok});
            keys.push_back(h.key);
            agents.emplace_back();
        }
    }

    /// Says what policy decided of each task's lines; the ids of the tasks
    /// a worker is to run.
    std::vector<std::string> decided(const std::vector<intake::Admitted>& admitted, bool dry_run)
    {
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < admitted.size(); ++i) {
            const auto& a = admitted[i];
            for (std::size_t n = first[i]; n < first[i + 1]; ++n) {
                FindingOutcome& l = out[n];
                l.task_id = a.id;  // the unfinished task it duplicates, when it does
                if (a.state == "denied") {
                    l.state = "denied";
                    l.detail = a.reason;
                    l.verdict = Verdict::denied;
                } else if (dry_run) {
                    l.state = a.state == "pending-approval" ? "would wait for approval" : "would fix";
                    l.detail = "tier " + std::to_string(int_member(a.decision, "tier")) + ", agent " + agents[n];
                    if (a.state == "pending-approval") l.verdict = Verdict::pending;
                } else {
                    if (a.state == "pending-approval") {
                        l.state = "waiting for approval";
                        l.verdict = Verdict::pending;
                    }
                    if (n == first[i]) ids.push_back(a.id);
                }
            }
        }
        return ids;
    }

    /// Says what became of each task: what the worker ran it says; a task
    /// it did not run (one that waits for approval, or duplicates one
    /// already queued) the queue says.
    void settled(const std::map<std::string, TaskOutcome>& ran, queue::Queue& queue)
    {
        for (std::size_t n = 0; n < out.size(); ++n) {
            FindingOutcome& l = out[n];
            if (!l.state.empty() && l.state != "waiting for approval") continue;
            auto known = ran.find(l.task_id);
            auto outcome = known != ran.end() ? Result<TaskOutcome>(known->second) : outcome_of(queue, l.task_id);
            if (outcome) {
                settle(l, keys[n], *outcome);
            } else {
                l.state = "unknown";
                l.detail = "cannot read task " + l.task_id + " back from the queue: " + outcome.error().message;
                l.verdict = Verdict::failed;
            }
        }
    }
};

}  // namespace

Result<Outcome> run(const Site& site, const Options& o)
{
    std::string repo = o.delivery.repo.empty() ? site.config.get_or("git.repo", "") : o.delivery.repo;
    std::string repository = change::repository_id(site.config, "", repo);
    signals::IngestOptions in;
    in.repository_id = repository;
    in.agent_slug = o.agent;
    in.path_root = o.root;
    auto intake = open_intake(site, o.policies, "");
    if (!intake) return fail(intake.error());
    events::EventSink* events = (*intake)->events;

    events::ContextScope in_trace(events::process_root_context());
    auto found = ingest(site, o, in, *events);
    if (!found) return fail(found.error());
    Outcome out;
    out.skipped = found->skipped.size();
    if (found->tasks.empty()) return out;

    auto group_by = signals::parse_group_by(site.config.get_or("pr.group_by", "resource"));
    if (!group_by) return fail(group_by.error());
    std::vector<AgentTask> tasks = signals::group_findings(std::move(found->tasks), *group_by);
    std::vector<change::HeldBack> held;
    if (!o.dry_run) {
        auto kept = follow(site, o, repository, tasks, events);
        if (!kept) return fail(kept.error());
        held = std::move(*kept);
    }
    Lines lines(out.findings, tasks, held);
    intake::Options io;
    io.stage = "remediate";
    io.dry_run = o.dry_run;
    auto admitted = (*intake)->admit(std::move(tasks), io);
    if (!admitted) return fail(admitted.error());
    std::vector<std::string> ids = lines.decided(*admitted, o.dry_run);

    std::map<std::string, TaskOutcome> ran;
    if (!o.dry_run && !ids.empty()) {
        auto worked = work(site, o, **intake, ids);
        if (!worked) return fail(worked.error());
        ran = std::move(*worked);
    }
    events->flush();
    lines.settled(ran, *(*intake)->queue);
    return out;
}

}  // namespace infra::core::remediate
