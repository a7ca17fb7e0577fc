#pragma once
// Runs a program of the host (terraform for `drift`) as the user who runs
// infra-agent, with that user's environment (cloud credentials included),
// in a directory, with a wall-clock limit. Agents never reach this: their
// commands go through the sandbox.

#include "core/result.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace infra::core::host {

struct Request {
    std::vector<std::string> argv;  ///< argv[0] is looked up on PATH
    std::filesystem::path cwd;
    std::map<std::string, std::string> env;  ///< added to the inherited environment
    std::chrono::milliseconds timeout{std::chrono::minutes(30)};
    std::size_t max_output = 64u << 20;  ///< bytes kept of stdout and of stderr each
};

struct Outcome {
    int exit_code = -1;  ///< -1 when killed
    bool timed_out = false;
    std::string out, err;
};

/// Runs to completion. An Error means it could not be started.
Result<Outcome> run(const Request& req);

}  // namespace infra::core::host
