#pragma once
// git's external-command convention: an executable infra-agent-<name> on
// PATH becomes `infra-agent <name>`.

#include <optional>
#include <string>
#include <vector>

namespace infra::cli {

/// An external command found on PATH.
struct External {
    std::string name;  ///< the part after "infra-agent-"
    std::string path;
};

/// Every infra-agent-<name> executable on PATH; the first one wins for a name.
std::vector<External> find_externals();

/// The executable for name, if there is one on PATH.
std::optional<External> find_external(const std::string& name);

/// Replaces the process with the external command; returns only on failure
/// (with an exit code). home and config are passed in INFRA_AGENT_HOME and
/// INFRA_AGENT_CONFIG.
int exec_external(const External& cmd, const std::vector<std::string>& args, const std::string& home,
                  const std::string& config);

}  // namespace infra::cli
