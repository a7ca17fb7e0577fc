#pragma once
// Runs the infra-agent binary as a user would, capturing its output.

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

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

namespace infra::test {

/// The infra-agent binary running in the background (serve): stdout is read
/// line by line, stderr collected in a file, and it is stopped with a signal.
class Background {
public:
    Background(const std::vector<std::string>& args, const RunOptions& opt = {});
    ~Background();  ///< SIGKILL if still running
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    /// The next line of stdout, or "" after timeout_ms or at its end.
    std::string read_line(int timeout_ms = 10000);
    /// Sends sig and waits up to timeout_ms; the exit code, or -1.
    int stop(int sig, int timeout_ms = 20000);
    /// What it wrote to stderr so far.
    std::string err() const;
    pid_t pid() const { return m_pid; }

private:
    pid_t m_pid = -1;
    int m_out = -1;
    std::string m_buf;
    std::string m_err_path;
};

}  // namespace infra::test
