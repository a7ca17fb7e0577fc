#include "cli/usage_error.hpp"

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace infra::cli {
namespace {

/// Edits (insert, delete, replace, or swap two neighbours) from a to b.
std::size_t edit_distance(const std::string& a, const std::string& b)
{
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

/// The command line's words for a command: "infra-agent queue".
std::string command_path(const CLI::App& cmd)
{
    std::string path = cmd.get_name();
    for (const CLI::App* up = cmd.get_parent(); up; up = up->get_parent()) path = up->get_name() + " " + path;
    return path;
}

/// The innermost command the line named before the error.
CLI::App& deepest_parsed(CLI::App& app)
{
    CLI::App* cmd = &app;
    while (!cmd->get_subcommands().empty()) cmd = cmd->get_subcommands().front();
    return *cmd;
}

std::vector<std::string> subcommand_names(CLI::App& cmd)
{
    std::vector<std::string> names;
    for (const CLI::App* sub : cmd.get_subcommands([](CLI::App*) { return true; }))
        if (!sub->get_name().empty()) names.push_back(sub->get_name());
    return names;
}

/// "'remedate' is not an infra-agent command", with the nearest name.
void report_unknown_command(const std::string& word, CLI::App& parent)
{
    spdlog::error("'{}' is not an {} command", word, command_path(parent));
    auto nearest = nearest_name(word, subcommand_names(parent));
    if (!nearest.empty()) spdlog::error("hint: did you mean '{} {}'?", command_path(parent), nearest);
}

}  // namespace

std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates)
{
    std::string best;
    std::size_t best_distance = std::max<std::size_t>(1, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        auto d = edit_distance(word, c);
        if (d < best_distance) best = c, best_distance = d;
    }
    return best;
}

int report_usage_error(CLI::App& app, const CLI::ParseError& error, const std::string& command)
{
    CLI::App& cmd = deepest_parsed(app);
    if (&cmd == &app && !command.empty() && !find_subcommand(app, command)) {
        report_unknown_command(command, app);
        if (nearest_name(command, subcommand_names(app)).empty())
            spdlog::error("hint: run 'infra-agent --help' for the commands and their flags");
        return exit_code::usage;
    }
    const auto* extras = dynamic_cast<const CLI::ExtrasError*>(&error);
    // An argument a command group does not take is what it took for a
    // subcommand's name; the top command (fallthrough) holds the extras.
    auto args = app.remaining();
    if (extras && !cmd.get_subcommands([](CLI::App*) { return true; }).empty() && !args.empty() &&
        args.front().rfind("-", 0) != 0) {
        report_unknown_command(args.front(), cmd);
    } else {
        spdlog::error("{}", error.what());
    }
    spdlog::error("hint: run '{} --help' for its usage and flags", command_path(cmd));
    return exit_code::usage;
}

}  // namespace infra::cli
