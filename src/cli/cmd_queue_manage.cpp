// `infra-agent queue retry|cancel|purge`: change what is on the queue.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/task_stream.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

namespace infra::cli {
namespace {

std::string parent_queue(CLI::App* cmd)
{
    auto* opt = cmd->get_parent()->get_option_no_throw("--queue");
    return opt && opt->count() ? opt->as<std::string>() : "";
}

// Runs fn for each id; reports each failure, goes on, returns the worst code.
int each(Context& ctx, CLI::App* cmd, const std::vector<std::string>& ids, const char* done,
         const std::function<core::Status(core::queue::Queue&, const std::string&)>& fn)
{
    auto q = ctx.open_queue(parent_queue(cmd));
    if (!q) return ctx.fail(q.error());
    int worst = exit_code::ok;
    for (const auto& raw : ids) {
        // Accept a unique prefix, like `queue show`.
        auto e = (*q)->show(raw);
        if (!e) {
            worst = worse(worst, ctx.fail(e.error()));
            continue;
        }
        auto st = fn(**q, e->id);
        if (!st) {
            worst = worse(worst, ctx.fail(st.error()));
            continue;
        }
        if (ctx.json()) ctx.record("queue", {{"id", e->id}, {"result", done}});
        else ctx.print(e->id + "  " + done + "\n");
    }
    return worst;
}

struct PurgeOptions {
    std::string older_than = "7d";
    std::vector<std::string> states;
};

int purge(const PurgeOptions& opt, CLI::App* cmd, Context& ctx)
{
    auto retention = core::timeutil::parse_duration(opt.older_than);
    if (!retention) return ctx.fail(core::make_error(core::Errc::usage, "--older-than: " + retention.error().message));
    std::vector<core::queue::State> states;
    for (const auto& s : opt.states) {
        auto st = core::queue::parse_state(s);
        if (!st || !core::queue::is_final(*st))
            return ctx.fail(core::make_error(core::Errc::usage, "--state " + core::text::quote(s) +
                                                                    ": expected succeeded, dead, cancelled or denied"));
        states.push_back(*st);
    }
    auto q = ctx.open_queue(parent_queue(cmd));
    if (!q) return ctx.fail(q.error());
    auto n = (*q)->purge(*retention, states);
    if (!n) return ctx.fail(n.error());
    if (ctx.json()) ctx.record("purge", {{"purged", *n}});
    else ctx.print("purged " + std::to_string(*n) + " finished task" + (*n == 1 ? "" : "s") + "\n");
    return exit_code::ok;
}

}  // namespace

void register_queue_manage(CLI::App& queue, Context& ctx)
{
    auto retry_ids = std::make_shared<std::vector<std::string>>();
    auto* retry = queue.add_subcommand("retry", "Queue dead (or cancelled) tasks again with fresh attempts");
    retry->add_option("ids", *retry_ids, "task ids")->required();
    ctx.on_run(retry, [retry_ids, retry, &ctx] {
        return each(ctx, retry, *retry_ids, "queued", [](auto& q, const std::string& id) { return q.retry(id); });
    });

    auto cancel_ids = std::make_shared<std::vector<std::string>>();
    auto* cancel = queue.add_subcommand("cancel", "Cancel unfinished tasks; a worker holding one loses it");
    cancel->add_option("ids", *cancel_ids, "task ids")->required();
    ctx.on_run(cancel, [cancel_ids, cancel, &ctx] {
        return each(ctx, cancel, *cancel_ids, "cancelled", [](auto& q, const std::string& id) { return q.cancel(id); });
    });

    auto po = std::make_shared<PurgeOptions>();
    auto* pg = queue.add_subcommand("purge", "Delete finished tasks older than the retention");
    pg->add_option("--older-than", po->older_than, "retention (default 7d)");
    pg->add_option("--state", po->states, "only these final states (repeatable)")->allow_extra_args(false);
    ctx.on_run(pg, [po, pg, &ctx] { return purge(*po, pg, ctx); });
}

}  // namespace infra::cli
