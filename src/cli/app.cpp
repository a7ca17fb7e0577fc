// The command table and the top of the command line: global flags, parse
// errors mapped to exit 64, and external infra-agent-<name> commands.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/external.hpp"
#include "cli/manual.hpp"
#include "cli/usage_error.hpp"
#include "plugins/register_builtin.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace infra::cli {
namespace {

// Global options that take a value, so that the command name can be found
// before parsing.
const std::set<std::string> k_valued_globals = {"--home", "--config", "--log-level", "--log-format"};

std::string find_command_name(int argc, char** argv, int& index)
{
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") return {};
        if (a.rfind("-", 0) == 0) {
            if (k_valued_globals.count(a)) ++i;
            continue;
        }
        index = i;
        return a;
    }
    return {};
}

void add_globals(CLI::App& app, Context& ctx)
{
    auto& g = ctx.globals();
    app.add_option("--home", g.home, "state home directory (default: nearest .infra-agent/, else XDG state)")
        ->envname("")
        ->group("Global options");
    app.add_option("--config", g.config, "configuration file (default: <home>/config.yaml)")->group("Global options");
    app.add_flag("--json", g.json, "print JSON (JSON Lines for streams)")->group("Global options");
    app.add_option("--log-level", g.log_level, "trace, debug, info, warn or error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "off"}))
        ->group("Global options");
    app.add_option("--log-format", g.log_format, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->group("Global options");
    app.add_flag("-q,--quiet", g.quiet, "only print errors on stderr")->group("Global options");
    app.add_flag("-v,--verbose", g.verbose, "more detail on stderr (twice for trace)")->group("Global options");
}

/// The command the command line names, when only it needs adding: building
/// the whole tree costs more than many commands' own work. Help, completion
/// and plugins (which tells external commands that built-ins shadow) read
/// every command, and a name that is not a built-in one's (an alias, a
/// typo, an external command) needs them all to be told.
const Command* only_command(const std::string& name)
{
    if (name == "help" || name == "completion" || name == "plugins") return nullptr;
    for (const auto& c : commands())
        if (name == c.name) return &c;
    return nullptr;
}

}  // namespace

std::span<const Command> commands()
{
    static constexpr Command k_commands[] = {
        {"init", register_init},           {"remediate", register_remediate},
        {"ingest", register_ingest},       {"policy", register_policy},
        {"enqueue", register_enqueue},     {"queue", register_queue},
        {"worker", register_worker},       {"run", register_run},
        {"approve", register_approve},     {"apply", register_apply},
        {"drift", register_drift},         {"chat", register_chat},
        {"serve", register_serve},         {"schedule", register_schedule},
        {"events", register_events},       {"trace", register_trace},
        {"audit", register_audit},         {"metrics", register_metrics},
        {"creds", register_creds},         {"validate", register_validate},
        {"providers", register_providers}, {"pr", register_pr},
        {"config", register_config},       {"plugins", register_plugins},
        {"version", register_version},     {"completion", register_completion},
        {"help", register_help},
    };
    return k_commands;
}

int run(int argc, char** argv)
{
    Context ctx;
    CLI::App app{"infra-agent: let agents and fixers work on infrastructure without trusting them", "infra-agent"};
    app.formatter(manual_formatter());
    app.fallthrough();
    app.require_subcommand(0, 1);
    app.set_help_flag("-h,--help", "print help and exit");
    app.footer("Run 'infra-agent help <command>' for a command's help.\n"
               "Executables named infra-agent-<name> on PATH run as 'infra-agent <name>'.");
    bool show_version = false;
    app.add_flag("--version", show_version, "print the version and exit");
    add_globals(app, ctx);

    int index = 0;
    std::string name = find_command_name(argc, argv, index);
    const Command* only = only_command(name);
    for (const auto& c : commands())
        if (!only || &c == only) c.add(app, ctx);

    plugins::register_builtin({ctx.signals(), &ctx.queues(), &ctx.agents(), [&ctx] { return ctx.config(); },
                               &ctx.credentials(), &ctx.forges()});

    // git's convention: an unknown command may be an external one. A
    // built-in command always wins, so a plugin cannot shadow one.
    if (!name.empty() && !find_subcommand(app, name)) {
        if (auto ext = find_external(name)) {
            // Parse only the global flags that precede the command.
            std::vector<std::string> globals_argv;
            for (int i = index - 1; i >= 1; --i) globals_argv.emplace_back(argv[i]);
            try {
                app.parse(globals_argv);
            } catch (const CLI::ParseError& e) {
                ctx.setup_logging();
                spdlog::error("{}", e.what());
                return exit_code::usage;
            }
            ctx.setup_logging();
            std::vector<std::string> rest(argv + index + 1, argv + argc);
            auto cfg_path = ctx.globals().config.empty() ? ctx.home().config_file().string() : ctx.globals().config;
            return exec_external(*ext, rest, ctx.home().dir.string(), cfg_path);
        }
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        ctx.setup_logging();
        return report_usage_error(app, e, index > 0 ? name : std::string{});
    }
    ctx.setup_logging();
    if (show_version) {
        ctx.print("infra-agent " INFRA_AGENT_VERSION "\n");
        return exit_code::ok;
    }
    CLI::App* cmd = &app;
    while (!cmd->get_subcommands().empty()) cmd = cmd->get_subcommands().front();
    const auto* action = ctx.action(cmd);
    if (!action) {
        // A command group (or nothing) without a subcommand: show its help.
        std::fputs(cmd->help().c_str(), stderr);
        return exit_code::usage;
    }
    return (*action)();
}

}  // namespace infra::cli
