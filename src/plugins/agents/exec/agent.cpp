#include "plugins/agents/exec/agent.hpp"
#include "core/json_access.hpp"

#include "core/agent/changes.hpp"
#include "core/agent/terraform_check.hpp"
#include "core/log.hpp"

namespace infra::plugins::agents {
namespace {

using core::agent::Outcome;
using core::agent::RunContext;
using nlohmann::json;

class Exec final : public core::agent::Agent {
public:
    explicit Exec(std::function<core::Result<std::vector<std::string>>()> command) : m_command(std::move(command)) {}
    std::string name() const override { return "exec"; }

    Outcome run(const RunContext& ctx) override
    {
        if (!ctx.workspace) return Outcome::failure("the exec agent needs a workspace");
        if (!ctx.sandbox)
            return Outcome::failure("the exec agent runs its command in the sandbox, and none is available");
        auto argv = m_command();
        if (!argv)
            return Outcome::failure(argv.error().message +
                                    (argv.error().hint.empty() ? "" : " (" + argv.error().hint + ")"));
        const std::string& task_id = ctx.task.id;
        auto before = core::agent::snapshot(*ctx.workspace);
        if (!before) return Outcome::failure(before.error().message);

        core::sandbox::Request req;
        req.argv = *argv;
        req.workspace = ctx.workspace->root();
        // What the command reads on stdin (docs/agents.md): the task JSON
        // with its decision and the policy digest, on one line.
        json input = core::to_json(ctx.task);
        input["decision"] = core::policy::to_json(ctx.decision);
        if (!ctx.policy_digest.is_null()) input["policyDigest"] = ctx.policy_digest;
        req.stdin_data = input.dump() + "\n";
        req.env = {{"CHECKPOINT_DISABLE", "1"}};
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return Outcome::failure("stopped: the time limit passed before the command started", true);
        req.limits.wall = left;
        ctx.events.emit({"task.tool", task_id, "", {{"tool", "exec"}, {"argv", *argv}}});
        auto r = ctx.sandbox->run(req);
        if (!r) return Outcome::failure(r.error().message, true);

        auto changes = core::agent::changes_since(*before, *ctx.workspace);
        if (!changes) return Outcome::failure(changes.error().message);
        json result = {{"agent", "exec"},
                       {"exitCode", r->exit_code},
                       {"durationMs", r->ms},
                       {"stdout", core::log::redact(r->out.substr(0, 16384))},
                       {"stderr", core::log::redact(r->err.substr(0, 16384))},
                       {"files", changes->files},
                       {"changed", !changes->files.empty()},
                       {"diff", changes->diff}};
        if (!changes->unsafe.empty()) {
            ctx.events.emit({"task.tool-refused", task_id, "", {{"tool", "exec"}, {"unsafe", changes->unsafe}}});
            return {false,
                    "the command left files that point outside the workspace or are not regular files: " +
                        changes->unsafe.front(),
                    result, false};
        }
        if (r->timed_out) return {false, "the command ran past the time limit and was killed", result, true};
        if (r->exit_code != 0)
            return {false,
                    "the command exited with " +
                        (r->signal ? "signal " + std::to_string(r->signal) : std::to_string(r->exit_code)),
                    result, true};
        auto v = core::agent::check_terraform(*ctx.workspace, changes->files, ctx.sandbox, ctx.deadline);
        if (!v) return {false, v.error().message, result, false};
        // The summary is the last line the command printed.
        std::string out = r->out;
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        auto nl = out.rfind('\n');
        std::string last = nl == std::string::npos ? out : out.substr(nl + 1);
        result["summary"] = core::log::redact(last.substr(0, 500));
        return {true, "", result, true};
    }

private:
    std::function<core::Result<std::vector<std::string>>()> m_command;
};

}  // namespace

std::shared_ptr<core::agent::Agent> make_exec(std::function<core::Result<std::vector<std::string>>()> command)
{
    return std::make_shared<Exec>(std::move(command));
}

}  // namespace infra::plugins::agents
