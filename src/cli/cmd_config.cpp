// `infra-agent config list|get|path`: the resolved configuration.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/text.hpp"

namespace infra::cli {
namespace {

const char* origin_name(core::ConfigOrigin o)
{
    switch (o) {
    case core::ConfigOrigin::environment:
        return "env";
    case core::ConfigOrigin::default_value:
        return "default";
    default:
        return "file";
    }
}

int list(Context& ctx)
{
    auto cfg = ctx.config();
    if (!cfg) return ctx.fail(cfg.error());
    nlohmann::json out = nlohmann::json::object();
    auto settings = (*cfg)->list();
    if (settings.empty() && !ctx.json(Output::value))
        ctx.note("no key is set in " + (*cfg)->file().string() +
                 " or the environment: every key has its default (README.md, Configuration)");
    for (const auto& [key, v] : settings) {
        // A listing ends up in logs: passwords in URLs show as ***
        // (`config get KEY` prints a value as it is, for scripts).
        std::string value = v.first.find("://") == std::string::npos ? v.first : core::text::redact_url(v.first);
        if (ctx.json(Output::value)) out[key] = {{"value", value}, {"origin", origin_name(v.second)}};
        else ctx.print(key + "=" + value + (v.second == core::ConfigOrigin::environment ? "  (env)" : "") + "\n");
    }
    if (ctx.json(Output::value)) ctx.record("config", std::move(out));
    return exit_code::ok;
}

int get(const std::string& key, Context& ctx)
{
    auto cfg = ctx.config();
    if (!cfg) return ctx.fail(cfg.error());
    auto v = (*cfg)->get(key);
    if (!v) return exit_code::failure;  // like `git config KEY`: unset is exit 1, silently
    if (ctx.json(Output::value)) ctx.record("setting", {{"key", key}, {"value", *v}});
    else ctx.print(*v + "\n");
    return exit_code::ok;
}

int path(Context& ctx)
{
    auto cfg = ctx.config();
    if (!cfg) return ctx.fail(cfg.error());
    const auto& home = ctx.home();
    std::string state = core::text::redact_url(home.state_location());
    const char* engine = home.state_is_remote() ? "postgresql" : "sqlite";
    if (ctx.json(Output::value))
        ctx.record("paths", {{"home", home.dir.string()},
                             {"homeOrigin", home.origin},
                             {"config", (*cfg)->file().string()},
                             {"state", state},
                             {"stateEngine", engine}});
    else
        ctx.print("home:   " + home.dir.string() + " (" + home.origin + ")\nconfig: " + (*cfg)->file().string() +
                  "\nstate:  " + state + " (" + engine + ")\n");
    return exit_code::ok;
}

}  // namespace

void register_config(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand("config", "Show the resolved configuration");
    cmd->footer("Every key can be overridden by INFRA_AGENT_<KEY> (upper case, '.' -> '_').");
    auto* ls = cmd->add_subcommand("list", "Print every key that the file or the environment sets");
    ctx.on_run(ls, [&ctx] { return list(ctx); });
    auto key = std::make_shared<std::string>();
    auto* g = cmd->add_subcommand("get", "Print one key's value (exit 1 when unset)");
    g->add_option("key", *key, "dotted key, e.g. queue.url")->required();
    ctx.on_run(g, [key, &ctx] { return get(*key, ctx); });
    auto* p = cmd->add_subcommand("path", "Print the state home, the config file and the state store in use");
    ctx.on_run(p, [&ctx] { return path(ctx); });
}

}  // namespace infra::cli
