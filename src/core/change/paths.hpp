#pragma once
// Which files a change may touch. An agent's change is judged by the paths
// git's status of the worktree shows, never by what the agent says it did:
// by default only Terraform files under the task's root, never CI
// definitions or git's own files unless policy names them explicitly.

#include "core/policy/policy.hpp"
#include "core/result.hpp"
#include "core/task.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::change {

/// The directories a task's change belongs to: the directory of each of
/// its findings' files (a group's findings, else payload.finding), else
/// payload.root (a drifted root), else "." (the whole repository); "." too
/// when a finding names no file.
std::vector<std::string> task_roots(const AgentTask& task);

/// The first of task_roots: the root a drift task is planned in.
std::string task_root(const AgentTask& task);

/// True for files that judge or steer changes rather than describe
/// infrastructure: CI definitions (.github/, .gitlab-ci.yml, .gitlab/,
/// .circleci/, .buildkite/, .gitea/, .forgejo/, Jenkinsfile,
/// azure-pipelines.yml, bitbucket-pipelines.yml, .drone.yml, .travis.yml,
/// .woodpecker*, atlantis.yaml, .pre-commit-config.yaml, .tflint.hcl,
/// CODEOWNERS) and git's own files (.gitattributes, .gitmodules,
/// .gitignore), at any depth.
bool is_protected_path(std::string_view path);

/// True for the files terraform reads as configuration or variables:
/// *.tf, *.tf.json, *.tfvars, *.tfvars.json.
bool is_terraform_file(std::string_view path);

/// Entries below dir that a change must not carry, whoever made them:
/// symlinks that lead outside dir (or that cannot be resolved) and special
/// files (fifos, sockets, devices); ".git" and ".terraform" are not looked
/// into.
std::vector<std::string> unsafe_entries(const std::filesystem::path& dir);

/// Matches a path against a glob: '*' and '?' stay within one directory,
/// '**' spans directories ("modules/**/*.tf").
bool path_glob_match(std::string_view glob, std::string_view path);

/// Checks every changed path against what the decision allows: the globs
/// of constraints.allowedPaths when it is set, else the Terraform files
/// (*.tf, *.tf.json, *.tfvars, *.tfvars.json) under the task's root. A
/// protected path passes only when a glob names it literally (the glob's
/// text before its first wildcard already reaches into the protected
/// file or directory). Errc::denied names the first path refused and why.
Status check_changed_paths(const std::vector<std::string>& changed, const AgentTask& task,
                           const policy::Decision& decision);

}  // namespace infra::core::change
