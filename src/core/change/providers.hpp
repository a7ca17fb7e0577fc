#pragma once
// Providers and modules for the offline sandbox. Validation runs terraform
// with no network, so the providers a repository uses must already be on
// this machine. The trusted side (the worker, outside the sandbox, with its
// own network and the operator's terraform CLI configuration) installs what
// the base commit locks in .terraform.lock.hcl (without a lock file: what
// its required_providers allow) into a provider cache under the state home,
// shared by tasks and runs, keyed by provider, version and platform, and
// checked against the lock file's hashes by terraform itself. Never from
// the agent's files: a change that needs a provider or version the base
// does not lock, or a module source the base does not use, fails in the
// sandbox, where only the cache is reachable (read-only, as a filesystem
// mirror) and terraform's diagnostic names what is missing.

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace infra::core::change {

/// What the sandboxed steps of one root get.
struct PreparedRoot {
    std::filesystem::path mirror;              ///< terraform installs providers only from here
    std::filesystem::path cli_config;          ///< TF_CLI_CONFIG_FILE for the sandboxed steps
    std::vector<std::filesystem::path> binds;  ///< every directory to bind read-only (mirror and config)
    /// The base's remote modules as the trusted init fetched them
    /// (<root>/.terraform/modules of the base copy); empty when it has none.
    std::filesystem::path modules;
};

struct ProviderOptions {
    /// <home>/providers: the cache (cache/, a terraform plugin cache
    /// directory, which is also an unpacked filesystem mirror) and the CLI
    /// configurations the sandbox reads.
    std::filesystem::path dir;
    /// validation.provider_mirror: an existing filesystem mirror the
    /// operator keeps (air-gapped sites). When set, nothing is downloaded:
    /// the sandbox installs from it alone.
    std::filesystem::path operator_mirror;
    std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

class ProviderCache {
public:
    explicit ProviderCache(ProviderOptions opt) : m_opt(std::move(opt)) {}

    const ProviderOptions& options() const { return m_opt; }

    /// Makes the providers (and remote modules) of one root of the base
    /// available offline: base_root is that root in a copy of the base
    /// commit's files, which this may change (terraform writes its .terraform
    /// there). Runs `terraform init -backend=false` on the host with the
    /// plugin cache, one run at a time per cache (terraform's cache is not
    /// safe for concurrent installs). Errc::unavailable with terraform's own
    /// diagnostics, naming the provider, when it cannot.
    Result<PreparedRoot> prepare(const std::filesystem::path& base_root);

private:
    Result<PreparedRoot> describe() const;
    ProviderOptions m_opt;
};

/// Terraform's diagnostics in a command's output (a -json stream of lines
/// with "type":"diagnostic", or one document with "diagnostics"), each as
/// "Error: SUMMARY: DETAIL (FILE:LINE)", whole; errors first. Empty when
/// the output holds none. Brief keeps the first paragraph of each detail
/// alone, leaving out the advice terraform adds for its own user (such as
/// to run `terraform providers`, which nobody can in the sandbox).
enum class Detail { whole, brief };
std::vector<std::string> terraform_diagnostics(const std::string& output, Detail detail = Detail::whole);

}  // namespace infra::core::change
