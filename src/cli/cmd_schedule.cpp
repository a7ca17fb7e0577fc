// `infra-agent schedule ls|crontab|run`: the `schedules:` of config. `serve`
// fires them itself; `schedule crontab` writes lines for the system's cron
// instead, each calling `schedule run NAME`, which admits one tick now.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/serve/tick.hpp"
#include "core/text.hpp"

#include <unistd.h>

namespace infra::cli {
namespace {

struct Options {
    std::string name;
    std::string queue;
    PolicyFlags policies;
};

core::Result<std::vector<core::serve::Schedule>> schedules(Context& ctx, nlohmann::json* raw = nullptr)
{
    auto config = ctx.config();
    if (!config) return config.error();
    auto j = (*config)->get_json("schedules");
    if (raw) *raw = j;
    return core::serve::load_schedules(j);
}

int list(Context& ctx)
{
    auto all = schedules(ctx);
    if (!all) return ctx.fail(all.error());
    auto now = core::timeutil::Clock::now();
    bool json = ctx.json();
    for (const auto& s : *all) {
        auto next = s.cron.next_after(now, s.zone);
        std::string when = next ? core::timeutil::format_rfc3339(*next) : "never";
        std::string type = s.signal.value("type", "");
        if (json)
            ctx.record("schedule", {{"name", s.name},
                                    {"cron", s.cron.text()},
                                    {"timezone", s.zone.name()},
                                    {"taskType", type},
                                    {"next", next ? nlohmann::json(when) : nlohmann::json()}});
        else ctx.print(s.name + "  " + s.cron.text() + " (" + s.zone.name() + ")  " + type + "  next " + when + "\n");
    }
    if (all->empty() && !json)
        ctx.note("no schedules: add them under 'schedules:' in " + (*ctx.config())->file().string());
    return exit_code::ok;
}

/// A word for a crontab command line, quoted for sh when it needs it.
std::string sh(const std::string& s)
{
    if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:=+@") ==
                          std::string::npos)
        return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

int crontab(Context& ctx)
{
    auto all = schedules(ctx);
    if (!all) return ctx.fail(all.error());
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string bin = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : "infra-agent";
    std::string home = std::filesystem::absolute(ctx.home().dir).string();
    std::string out = "# infra-agent schedules from " + (*ctx.config())->file().string() +
                      "\n"
                      "# install with: infra-agent schedule crontab | crontab -\n"
                      "# (or run 'infra-agent serve', which fires them itself; not both)\n";
    std::string zone;
    for (const auto& s : *all) {
        // CRON_TZ is honoured by cronie and systemd-cron; Vixie cron uses the system zone.
        if (s.zone.name() != zone) {
            zone = s.zone.name();
            out += "CRON_TZ=" + zone + "\n";
        }
        out += s.cron.text() + " " + sh(bin) + " --home " + sh(home) + " schedule run " + sh(s.name) + "\n";
    }
    ctx.print(out);
    return exit_code::ok;
}

int run_now(const Options& opt, Context& ctx)
{
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    auto admitted = core::serve::fire_now(*site, opt.name, opt.policies, opt.queue);
    if (!admitted) return ctx.fail(admitted.error());
    int worst = exit_code::ok;
    for (const auto& a : *admitted) {
        if (a.state == "denied") worst = worse(worst, exit_code::denied);
        if (a.state == "pending-approval") worst = worse(worst, exit_code::pending);
        if (ctx.json())
            ctx.record("enqueue", {{"schedule", opt.name},
                                   {"id", a.id},
                                   {"state", a.state},
                                   {"duplicate", a.duplicate},
                                   {"reason", a.reason}});
        else
            ctx.print(a.id + "  " + a.state + (a.duplicate ? "  (the last tick's task is still unfinished)" : "") +
                      (a.reason.empty() ? "" : "  " + a.reason) + "\n");
    }
    return worst;
}

}  // namespace

void register_schedule(CLI::App& app, Context& ctx)
{
    auto* cmd =
        app.add_subcommand("schedule", "List the schedules of config, write them as crontab lines, or fire one now");
    cmd->require_subcommand(1);
    auto* ls = cmd->add_subcommand("ls", "List schedules with their next fire time");
    ctx.on_run(ls, [&ctx] { return list(ctx); });
    auto* tab = cmd->add_subcommand("crontab", "Print crontab lines that fire each schedule with 'schedule run'");
    ctx.on_run(tab, [&ctx] { return crontab(ctx); });
    auto opt = std::make_shared<Options>();
    auto* run =
        cmd->add_subcommand("run", "Fire one schedule now: its task is decided and queued (or parked, or denied)");
    run->add_option("name", opt->name, "the schedule's name")->required();
    run->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    opt->policies.add_to(run);
    ctx.on_run(run, [opt, &ctx] { return run_now(*opt, ctx); });
    run->footer("Exit 0 when queued (or already queued and unfinished), 3 when policy denies it, 4 when it waits\n"
                "for approval.");
    cmd->footer("schedules: in config.yaml is a list of {name, cron, timezone, signal}: a five-field cron\n"
                "expression or @hourly/@daily/@weekly/@monthly/@yearly, an IANA time zone (default UTC), and\n"
                "the task to make, e.g. {type: drift-detection, context: {repositoryId: acme/infra}}.");
}

}  // namespace infra::cli
