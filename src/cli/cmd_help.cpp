// `infra-agent help [COMMAND...]`: the help of a command.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/external.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

int run(const std::vector<std::string>& words, CLI::App& app, Context& ctx)
{
    CLI::App* cmd = &app;
    for (const auto& w : words) {
        CLI::App* sub = find_subcommand(*cmd, w);
        if (!sub) {
            if (cmd == &app) {
                if (auto ext = find_external(w)) return exec_external(*ext, {"--help"}, ctx.home().dir.string(), "");
            }
            spdlog::error("no such command: {}", core::text::quote(w));
            return exit_code::usage;
        }
        cmd = sub;
    }
    // The usage line names the whole command, as `--help` prints it.
    std::string prefix;
    for (CLI::App* p = cmd->get_parent(); p; p = p->get_parent()) prefix = p->get_name() + (prefix.empty() ? "" : " ") + prefix;
    ctx.print(cmd->help(prefix));
    return exit_code::ok;
}

}  // namespace

void register_help(CLI::App& app, Context& ctx)
{
    auto words = std::make_shared<std::vector<std::string>>();
    auto* cmd = app.add_subcommand("help", "Show the help of a command: infra-agent help policy eval");
    cmd->add_option("command", *words, "the command (and subcommand)");
    ctx.on_run(cmd, [words, &app, &ctx] { return run(*words, app, ctx); });
}

}  // namespace infra::cli
