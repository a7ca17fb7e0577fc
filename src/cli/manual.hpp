#pragma once
// The manual, from the command tree: `help CMD` (the command's help, its
// examples and the exit codes), the manual pages (infra-agent(1) and one
// page per command, with the same text), and the shell completions for
// bash, zsh and fish. Everything is read from the CLI11 tree that parses
// the command line, so none of it can fall out of step with the commands.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace infra::cli {

struct OptionInfo {
    std::vector<std::string> names;  ///< --long and -s forms
    std::string description;
    bool takes_value = false;
    std::vector<std::string> choices;  ///< values to complete, when known
};

struct CommandInfo {
    std::string path;  ///< "policy eval"; "" for infra-agent itself
    std::string name, description, usage, footer;
    std::vector<OptionInfo> options;                               ///< its own, without the global ones
    std::vector<std::pair<std::string, std::string>> positionals;  ///< name, description
    std::vector<CommandInfo> subcommands;
};

/// The tree under app (help and hidden commands left out).
CommandInfo command_tree(CLI::App& app);

/// The global options (valid after any command).
std::vector<OptionInfo> global_options(CLI::App& app);

/// Examples of a top-level command: (command line, what it does).
const std::vector<std::pair<std::string, std::string>>& examples_of(const std::string& command);

/// What `help CMD` and `CMD --help` print: CLI11's help of cmd, its
/// examples, the exit codes (through manual_formatter()).
std::string help_text(CLI::App& cmd);

/// The help formatter that adds a command's examples and the exit codes
/// after its footer; set on the root before commands are added, so that
/// every command inherits it.
std::shared_ptr<CLI::Formatter> manual_formatter();

/// The manual page of a top-level command (or of infra-agent for the root), in roff.
std::string man_page(CLI::App& app, const std::string& command, const std::string& version);

/// Writes infra-agent.1 and infra-agent-CMD.1 for every command into dir.
std::vector<std::filesystem::path> write_man_pages(CLI::App& app, const std::filesystem::path& dir,
                                                   const std::string& version);

/// The completion script for shell (bash, zsh or fish).
std::string completion_script(CLI::App& app, const std::string& shell);

}  // namespace infra::cli
