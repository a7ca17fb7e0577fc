// `infra-agent queue ls|show|stats`: look at the queue, dead letters included.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

namespace infra::cli {
namespace {

/// How long ago an epoch-milliseconds time was ("5m"), or how far ahead ("in 30s").
std::string age(std::int64_t ms)
{
    auto d = core::queue::now_ms() - ms;
    if (d < 0) return "in " + core::timeutil::format_duration(std::chrono::milliseconds(-d / 1000 * 1000));
    return core::timeutil::format_duration(std::chrono::milliseconds(d / 1000 * 1000));
}

/// A queue entry as a record's fields: the record's "type" is its kind
/// ("task"), so the task's type is "taskType".
nlohmann::json entry_fields(const core::queue::Entry& e, bool full)
{
    auto j = core::queue::to_json(e, full);
    j["taskType"] = std::move(j["type"]);
    j.erase("type");
    return j;
}

struct LsOptions {
    std::string queue;
    std::vector<std::string> states;
    std::string type;
    std::size_t limit = 50;
};

int ls(const LsOptions& opt, Context& ctx)
{
    core::queue::ListFilter f;
    for (const auto& s : opt.states) {
        auto st = core::queue::parse_state(s);
        if (!st)
            return ctx.fail(
                core::make_error(core::Errc::usage, "unknown state " + core::text::quote(s),
                                 "states: pending-approval, queued, leased, succeeded, dead, cancelled, denied"));
        f.states.push_back(*st);
    }
    f.type = opt.type;
    f.limit = opt.limit;
    auto q = ctx.open_queue(opt.queue);
    if (!q) return ctx.fail(q.error());
    auto entries = (*q)->list(f);
    if (!entries) return ctx.fail(entries.error());
    if (ctx.json()) {
        for (const auto& e : *entries) ctx.record("task", entry_fields(e, false));
        return exit_code::ok;
    }
    char line[512];
    std::snprintf(line, sizeof line, "%-26s  %-22s  %-16s  %-8s  %-5s  %-6s  %s\n", "ID", "TYPE", "STATE", "PRIORITY",
                  "TRIES", "AGE", "NOTE");
    ctx.print(line);
    for (const auto& e : *entries) {
        std::string note = e.state == core::queue::State::leased ? "leased by " + e.lease_owner : e.last_error;
        if (e.state == core::queue::State::pending_approval) {
            note = "waits for";
            for (const auto& r : e.required_approvals) note += " " + r;
        }
        std::snprintf(line, sizeof line, "%-26s  %-22s  %-16s  %-8s  %2d/%-2d  %-6s  %s\n", e.id.c_str(),
                      e.type.c_str(), std::string(core::queue::to_string(e.state)).c_str(),
                      std::string(core::to_string(e.priority)).c_str(), e.attempts, e.max_attempts,
                      age(e.created_ms).c_str(), note.substr(0, 80).c_str());
        ctx.print(line);
    }
    return exit_code::ok;
}

int show(const std::string& id, const std::string& queue, Context& ctx)
{
    auto q = ctx.open_queue(queue);
    if (!q) return ctx.fail(q.error());
    auto e = (*q)->show(id);
    if (!e) return ctx.fail(e.error());
    auto j = entry_fields(*e, true);
    if (ctx.json()) ctx.record("task", std::move(j));
    else ctx.print(j.dump(2) + "\n");
    return exit_code::ok;
}

int stats(const std::string& queue, Context& ctx)
{
    auto q = ctx.open_queue(queue);
    if (!q) return ctx.fail(q.error());
    auto s = (*q)->stats();
    if (!s) return ctx.fail(s.error());
    nlohmann::json j = {{"states", s->by_state},
                        {"ready", s->ready},
                        {"delayed", s->delayed},
                        {"expiredLeases", s->expired_leases},
                        {"oldestReadyMs", s->oldest_ready_ms}};
    if (ctx.json()) {
        ctx.record("stats", std::move(j));
        return exit_code::ok;
    }
    for (const char* st : {"pending-approval", "queued", "leased", "succeeded", "dead", "cancelled", "denied"}) {
        auto it = s->by_state.find(st);
        char line[128];
        std::snprintf(line, sizeof line, "%-17s %8lld\n", st,
                      static_cast<long long>(it == s->by_state.end() ? 0 : it->second));
        ctx.print(line);
    }
    ctx.print("ready now " + std::to_string(s->ready) + ", delayed " + std::to_string(s->delayed) +
              ", expired leases " + std::to_string(s->expired_leases) + "\n");
    return exit_code::ok;
}

}  // namespace

void register_queue(CLI::App& app, Context& ctx)
{
    auto* queue = app.add_subcommand("queue", "Inspect and manage the queue, dead letters included");
    auto url = std::make_shared<std::string>();
    queue->add_option("--queue", *url, "queue URL (default: queue.url, else the state db)");

    auto lo = std::make_shared<LsOptions>();
    auto* lsc = queue->add_subcommand("ls", "List tasks, newest first");
    lsc->add_option("--state", lo->states, "only tasks in this state (repeatable)")->allow_extra_args(false);
    lsc->add_option("--type", lo->type, "only tasks of this type");
    lsc->add_option("--limit", lo->limit, "at most this many (default 50)");
    ctx.on_run(lsc, [lo, url, &ctx] {
        lo->queue = *url;
        return ls(*lo, ctx);
    });

    auto id = std::make_shared<std::string>();
    auto* sh = queue->add_subcommand("show", "Show one task with its payload, decision and result");
    sh->add_option("id", *id, "task id (a unique prefix is enough)")->required();
    ctx.on_run(sh, [id, url, &ctx] { return show(*id, *url, ctx); });

    auto* st = queue->add_subcommand("stats", "Count tasks by state");
    ctx.on_run(st, [url, &ctx] { return stats(*url, ctx); });

    register_queue_manage(*queue, ctx);
}

}  // namespace infra::cli
