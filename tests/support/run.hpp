#pragma once
// Runs the infra-agent binary as a user would, capturing its output.

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace infra::test {

/// What a run printed and returned.
struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

/// How to run it.
struct RunOptions {
    std::string stdin_data;
    std::string cwd;
    /// Environment changes: a value sets, nullopt removes. The environment
    /// starts from the test's own, minus INFRA_AGENT_* variables.
    std::map<std::string, std::optional<std::string>> env;
};

/// Each non-empty line of out, parsed as JSON (fails the test on a bad line).
std::vector<nlohmann::json> json_lines(const std::string& out);

/// Runs the built infra-agent with args.
RunResult run_cli(const std::vector<std::string>& args, const RunOptions& opt = {});

/// Runs any program with args (argv[0] = program).
RunResult run_program(const std::string& program, const std::vector<std::string>& args, const RunOptions& opt = {});

}  // namespace infra::test
