// `infra-agent events`: the audit log's events, filtered by task, type and
// time, as JSON Lines (or a table on a terminal); --follow keeps printing
// new ones as they are recorded, like `tail -f`.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/events/query.hpp"
#include "core/json_access.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <chrono>
#include <cstdio>
#include <thread>

namespace infra::cli {
namespace {

struct Options {
    std::string task;
    std::vector<std::string> types;
    std::string since, until;
    std::size_t limit = 0;
    std::int64_t after = 0;
    bool follow = false;
};

/// An RFC 3339 time, or a duration before now (15m, 2h, 7d).
core::Result<std::string> time_bound(const std::string& flag, const std::string& value)
{
    if (value.empty()) return std::string();
    if (auto t = core::timeutil::parse_rfc3339(value)) return core::timeutil::format_rfc3339(*t);
    auto d = core::timeutil::parse_duration(value);
    if (!d)
        return core::fail(core::Errc::usage, flag + ": expected an RFC 3339 time or a duration such as 15m, got " +
                                                 core::text::quote(value));
    return core::timeutil::format_rfc3339(core::timeutil::Clock::now() - *d);
}

std::string summary(const core::events::Event& e)
{
    const auto& d = e.data;
    if (e.type == "span") {
        std::string out = core::string_member(d, "name");
        char ms[32];
        const auto& took = core::member(d, "durationMs");
        std::snprintf(ms, sizeof ms, "  %.1f ms", took.is_number() ? took.get<double>() : 0.0);
        out += ms;
        if (core::string_member(d, "status") == "error") out += "  error: " + core::string_member(d, "error");
        return out;
    }
    std::string out = d.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return out.size() > 100 ? out.substr(0, 97) + "..." : out;
}

int events(Options opt, Context& ctx)
{
    core::events::Filter f;
    f.types = opt.types;
    f.limit = opt.limit;
    f.after_seq = opt.after;
    auto since = time_bound("--since", opt.since);
    if (!since) return ctx.fail(since.error());
    auto until = time_bound("--until", opt.until);
    if (!until) return ctx.fail(until.error());
    f.since = *since;
    f.until = *until;
    if (opt.follow && !f.until.empty())
        return ctx.fail(core::make_error(core::Errc::usage, "--follow and --until exclude each other"));
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    if (!opt.task.empty()) {
        auto id = core::events::task_with_prefix(**db, opt.task);
        if (!id) return ctx.fail(id.error());
        // A task with no events yet (or none at all): nothing to show, which
        // --follow waits for.
        f.task = id->value_or(opt.task);
        if (!*id && !opt.follow)
            ctx.note("no events of task " + core::text::quote(opt.task) + " ('infra-agent queue ls' lists tasks)");
    }
    bool json = ctx.json();
    auto print = [&](const core::events::audit::Record& r) -> core::Status {
        f.after_seq = r.seq;
        if (json) {
            nlohmann::json j = core::events::to_json(r.event);
            j["seq"] = r.seq;
            ctx.record("event", std::move(j));
        } else {
            ctx.print(r.event.time + "  " + (r.event.task_id.empty() ? std::string(26, ' ') : r.event.task_id) + "  " +
                      r.event.type + "  " + summary(r.event) + "\n");
        }
        return {};
    };
    if (auto st = core::events::query(**db, f, print); !st) return ctx.fail(st.error());
    std::fflush(stdout);
    while (opt.follow) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        f.limit = 0;
        if (auto st = core::events::query(**db, f, print); !st) return ctx.fail(st.error());
        std::fflush(stdout);
    }
    return exit_code::ok;
}

}  // namespace

void register_events(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("events", "Show the audit log's events: what happened to each task, and when");
    cmd->add_option("--task", opt->task, "only this task's events (a unique prefix of its id is enough)");
    cmd->add_option("--type", opt->types, "only events of these types; globs such as 'task.*' or 'span' (repeatable)");
    cmd->add_option("--since", opt->since,
                    "only events at or after this RFC 3339 time, or this long ago (15m, 2h, 7d)");
    cmd->add_option("--until", opt->until, "only events at or before this time (or this long ago)");
    cmd->add_option("--after", opt->after, "only events after this sequence number (resume where you left off)");
    cmd->add_option("--limit", opt->limit, "at most this many events (0: all)");
    cmd->add_flag("-f,--follow", opt->follow, "keep printing events as they are recorded, until interrupted");
    cmd->footer(
        "Each line is one event: {\"seq\", \"event\", \"time\", \"taskId\", \"traceId\", \"spanId\", \"data\"}.\n"
        "Spans are events of type 'span'; 'infra-agent trace TASK' shows them as a tree.");
    ctx.on_run(cmd, [opt, &ctx] { return events(*opt, ctx); });
}

}  // namespace infra::cli
