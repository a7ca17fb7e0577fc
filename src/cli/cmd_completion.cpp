// `infra-agent completion bash|zsh|fish`: the shell completion script,
// generated from the command tree (commands, subcommands, options and the
// values of the options that take one of a few words).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/manual.hpp"

namespace infra::cli {

void register_completion(CLI::App& app, Context& ctx)
{
    auto shell = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("completion", "Print the shell completion script for bash, zsh or fish");
    cmd->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
    cmd->footer("bash: source it, or put it in /usr/share/bash-completion/completions/infra-agent.\n"
                "zsh:  put it as _infra-agent in a directory of $fpath, then compinit.\n"
                "fish: put it in ~/.config/fish/completions/infra-agent.fish.\n"
                "The packages install all three.");
    ctx.on_run(cmd, [shell, &app, &ctx] {
        ctx.print(completion_script(app, *shell));
        return exit_code::ok;
    });
}

}  // namespace infra::cli
