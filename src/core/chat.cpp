#include "core/chat.hpp"

#include "core/agent/report.hpp"
#include "core/git.hpp"
#include "core/json_access.hpp"
#include "core/open_intake.hpp"
#include "core/sandbox_choice.hpp"
#include "core/worker.hpp"
#include "core/workspace.hpp"

namespace infra::core::chat {
namespace {

/// The task a message makes, decided and queued.
Result<intake::Admitted> admit(const Site& site, const Request& r, const std::optional<std::filesystem::path>& top,
                               Intake& intake)
{
    signals::IngestOptions in;
    in.repository_id = change::repository_id(site.config, "", top ? top->string() : "");
    nlohmann::json line = {{"message", r.message}, {"user", r.user}, {"requestsChange", r.change}};
    auto found = signals::parse_text(*site.signals.find("chat"), line.dump(), "chat", in, intake.events);
    if (!found) return fail(found.error());
    intake::Options io;
    io.stage = "chat";
    auto admitted = intake.admit(std::move(found->tasks), io);
    if (!admitted) return fail(admitted.error());
    return std::move(admitted->front());
}

/// Runs the queue's ready tasks in an in-process worker: the checkout (or
/// the directory) is the workspace; a requested change goes out as a branch
/// and pull request. What became of the task with this id.
Result<TaskOutcome> work(const Site& site, Request& r, const std::optional<std::filesystem::path>& top, Intake& intake,
                         const std::string& id)
{
    auto sandbox = sandbox::choose(site.config, r.sandbox, nullptr);
    if (!sandbox) return fail(sandbox.error());
    auto ws = Workspace::open(top ? *top : r.directory);
    if (!ws) return fail(ws.error());
    std::unique_ptr<change::DeliverySetup> delivery;
    WorkerOptions w;
    w.drain = true;
    w.sandbox = &*sandbox;
    w.keep_outcomes = true;
    if (r.change) {
        if (r.delivery.repo.empty() && site.config.get_or("git.repo", "").empty()) {
            if (!top)
                return fail(Errc::usage, "a change needs a repository", "run chat in a checkout, or pass --repo URL");
            r.delivery.repo = top->string();
        }
        auto d = change::open_delivery(site, r.delivery, &*sandbox);
        if (!d) return fail(d.error());
        delivery = std::move(*d);
        change::attach_events(*delivery, intake.events);
        w.delivery = delivery->delivery.get();
    } else {
        if (auto st = check_state_home_outside(*ws, site.home.dir); !st) return fail(st.error());
        w.workspace = &*ws;
    }
    if (r.thinking) r.thinking();
    Worker worker(*intake.queue, site.agents, *intake.events, intake.engine.get(), w);
    auto summary = worker.run();
    intake.events->flush();
    if (!summary) return fail(summary.error());
    for (auto& t : summary->tasks)
        if (t.id == id) return std::move(t);
    return outcome_of(*intake.queue, id);
}

}  // namespace

Result<Answer> ask(const Site& site, Request r)
{
    if (site.config.get_or("llm.model", "").empty())
        return fail(Errc::usage, "no model is configured for chat",
                    "set llm.model in config.yaml (or INFRA_AGENT_LLM_MODEL), with the key in OPENAI_API_KEY or\n"
                    "ANTHROPIC_API_KEY; for a local server such as Ollama set llm.base_url: http://127.0.0.1:11434/v1");
    auto top = git::find_worktree(r.directory);
    auto intake = open_intake(site, r.policies, "");
    if (!intake) return fail(intake.error());
    events::ContextScope in_trace(events::process_root_context());
    auto a = admit(site, r, top, **intake);
    if (!a) return fail(a.error());
    Answer out;
    out.task_id = a->id;
    if (a->state == "denied") return fail(Errc::denied, "policy denies this chat: " + a->reason);
    if (a->state == "pending-approval") {
        out.approvals = a->approvals;
        return out;
    }
    auto done = work(site, r, top, **intake, a->id);
    if (!done) return fail(done.error());
    if (done->state != queue::State::succeeded)
        return fail(Errc::unavailable, "the agent did not answer: " + done->error);
    out.reply = agent::read_report(done->result).summary;
    out.pull_request = member(member(done->result, "change"), "pullRequest");
    if (!out.pull_request.is_object()) out.pull_request = nullptr;
    return out;
}

}  // namespace infra::core::chat
