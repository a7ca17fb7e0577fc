// `infra-agent plugins`: external infra-agent-<name> commands on PATH and
// the built-in plugins of each registry.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/external.hpp"
#include "plugins/agents/builtin/checks.hpp"
#include "plugins/agents/builtin/coverage.hpp"

namespace infra::cli {
namespace {

int run(CLI::App& app, Context& ctx)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : find_externals()) {
        bool shadowed = find_subcommand(app, e.name) != nullptr;
        nlohmann::json j = {{"kind", "command"}, {"name", e.name}, {"path", e.path}, {"active", !shadowed}};
        if (shadowed) j["note"] = "ignored: a built-in command has this name";
        out.push_back(j);
    }
    for (const auto* p : ctx.signals().list())
        out.push_back({{"kind", "signal"}, {"name", p->name()}, {"path", "builtin"}, {"active", true}});
    if (ctx.json(Output::value)) {
        for (const auto& j : out) ctx.record("plugin", j);
        return exit_code::ok;
    }
    for (const auto& j : out) {
        std::string kind = j["kind"], name = j["name"], path = j["path"];
        kind.resize(9, ' ');
        name.resize(std::max<std::size_t>(name.size() + 1, 14), ' ');
        ctx.print(kind + name + path + (j.contains("note") ? "  (" + j["note"].get<std::string>() + ")" : "") + "\n");
    }
    return exit_code::ok;
}

// The coverage table of docs/agents.md (scripts/gen-fix-table).
int fix_table(Context& ctx)
{
    auto checks = plugins::agents::builtin::checks();
    if (!checks) return ctx.fail(checks.error());
    ctx.print(plugins::agents::builtin::coverage_table(**checks));
    return exit_code::ok;
}

}  // namespace

void register_plugins(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand("plugins", "List external infra-agent-<name> commands and built-in plugins");
    auto table = std::make_shared<bool>(false);
    cmd->add_flag("--fix-table", *table, "print the builtin agent's coverage table (Markdown)")->group("");
    ctx.on_run(cmd, [&app, &ctx, table] { return *table ? fix_table(ctx) : run(app, ctx); });
}

}  // namespace infra::cli
