#pragma once
// Reading policy files: YAML documents of kind Policy, checked strictly so
// that a rule that cannot be evaluated is an error at load time, never a
// silent skip at decision time.

#include "core/policy/policy.hpp"

#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace infra::core::policy {

/// A problem in a policy or test file.
struct LintFinding {
    Location where;
    bool error = true;  ///< false: a warning
    std::string message;
    /// "file:line:column: error: message".
    std::string str() const;
};

/// Everything read from a set of policy directories.
struct PolicySet {
    std::vector<Policy> policies;                   ///< after overlays: one per name
    std::vector<std::filesystem::path> files;       ///< policy files read
    std::vector<std::filesystem::path> test_files;  ///< *_test.yaml beside them
    std::vector<LintFinding> findings;
    bool ok() const;
    /// The first error as an Error (invalid input), or success.
    Status status() const;
};

/// Parses one YAML text (one or more documents) as policies; findings name
/// file:line:column.
void parse_policies(const std::string& text, const std::string& file, std::vector<Policy>& out,
                    std::vector<LintFinding>& findings);

/// A match's regex as the loader builds it; throws std::regex_error.
std::shared_ptr<const std::regex> build_regex(const std::string& pattern);

/// Reads every *.yaml / *.yml below each directory, in order. A policy in a
/// later directory replaces an earlier one of the same name (an overlay).
/// Files named *_test.yaml are policy tests, listed but not loaded. With a
/// cache_dir, the policies of files read without findings are cached there
/// (policy/cache.hpp), which makes the next cold start skip the YAML parser
/// and the checks.
PolicySet load(const std::vector<std::filesystem::path>& dirs, const std::filesystem::path& cache_dir = {});

/// True for a dotted path that can name a part of a task.
bool known_task_root(std::string_view path);

}  // namespace infra::core::policy
