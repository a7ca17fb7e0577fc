// `infra-agent help [COMMAND...]`: the help of a command, with its examples
// and the exit codes; `--man` prints the same as a manual page, and
// `--man-dir DIR` writes every page (what the build installs).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/external.hpp"
#include "cli/manual.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

struct Options {
    std::vector<std::string> words;
    bool man = false;
    std::string man_dir;
};

int run(const Options& opt, CLI::App& app, Context& ctx)
{
    if (!opt.man_dir.empty()) {
        auto written = write_man_pages(app, opt.man_dir, INFRA_AGENT_VERSION);
        for (const auto& p : written) ctx.print(p.string() + "\n");
        return exit_code::ok;
    }
    CLI::App* cmd = &app;
    for (const auto& w : opt.words) {
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
    if (opt.man) {
        if (opt.words.size() > 1) {
            spdlog::error("manual pages are per command: infra-agent help --man {}", opt.words.front());
            return exit_code::usage;
        }
        ctx.print(man_page(app, opt.words.empty() ? "" : opt.words.front(), INFRA_AGENT_VERSION));
        return exit_code::ok;
    }
    ctx.print(help_text(*cmd));
    return exit_code::ok;
}

}  // namespace

void register_help(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("help", "Show the help of a command: infra-agent help policy eval");
    cmd->add_option("command", opt->words, "the command (and subcommand)");
    cmd->add_flag("--man", opt->man, "print the command's manual page (roff) instead");
    cmd->add_option("--man-dir", opt->man_dir,
                    "write infra-agent.1 and infra-agent-COMMAND.1 for every command into this directory");
    ctx.on_run(cmd, [opt, &app, &ctx] { return run(*opt, app, ctx); });
}

}  // namespace infra::cli
