// `infra-agent init [DIR]`: create a state home, like `git init`.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

#include <cstdlib>
#include <filesystem>

namespace infra::cli {
namespace {

struct Options {
    std::string dir;
};

int run(const Options& opt, Context& ctx)
{
    namespace fs = std::filesystem;
    fs::path target;
    if (!opt.dir.empty()) target = fs::path(opt.dir) / ".infra-agent";
    else if (!ctx.globals().home.empty()) target = ctx.globals().home;
    else if (const char* env = std::getenv("INFRA_AGENT_HOME"); env && *env) target = fs::absolute(env);
    else target = fs::current_path() / ".infra-agent";
    // state.url from the environment, or from a config.yaml already there.
    core::Home home{target, "init"};
    auto cfg = core::Config::load(home.config_file(), false);
    if (!cfg) return ctx.fail(cfg.error());
    if (auto st = core::configure_state(home, *cfg); !st) return ctx.fail(st.error());
    auto r = core::init_home(target, home.state_url);
    if (!r) return ctx.fail(r.error());
    if (ctx.json(Output::value)) {
        ctx.record("init", {{"home", r->dir.string()},
                            {"created", r->created},
                            {"config", (r->dir / "config.yaml").string()},
                            {"stateDb", home.state_url.empty() ? (r->dir / "state.db").string()
                                                               : core::text::redact_url(home.state_url)},
                            {"schemaVersion", r->schema_version}});
    } else {
        ctx.print(std::string(r->created ? "Initialized" : "Reinitialized existing") + " infra-agent state home in " +
                  r->dir.string() + "/\n");
    }
    return exit_code::ok;
}

}  // namespace

void register_init(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("init", "Create a state home (.infra-agent/ with state.db and config.yaml)");
    cmd->footer(
        "Creates DIR/.infra-agent (default: the current directory), or the --home or $INFRA_AGENT_HOME directory.\n"
        "Running it again is safe: it keeps existing files and migrates the database.");
    cmd->add_option("dir", opt->dir, "directory to create .infra-agent/ in");
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
