#pragma once
// `drift` as one call: plans every Terraform root under some directories,
// says for each whether it drifted, makes a drift-detection task of every
// root that did, and (when asked to queue them) admits those tasks and
// closes the open pull requests of roots that no longer drift.

#include "core/change/forge.hpp"
#include "core/drift.hpp"
#include "core/intake.hpp"
#include "core/report.hpp"
#include "core/site.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace infra::core::drift {

struct ScanOptions {
    std::vector<std::filesystem::path> dirs;  ///< where to look for roots
    std::filesystem::path directory;          ///< where the scan runs: roots are named from its checkout's top
    bool refresh_only = false;
    std::string repository;  ///< the tasks' repository id; empty: repository.id, else the checkout's remote
    bool enqueue = false;    ///< admit the tasks and close what no longer drifts
    std::string queue;       ///< with enqueue: the queue URL (empty: queue.url, else the state db)
    PolicySources policies;
};

/// One root as a scan saw it.
struct Root {
    enum class Status { clean, drifted, failed };
    std::string name;  ///< relative to the checkout's top (else the directory): "." or "envs/prod"
    Status status = Status::clean;
    int add = 0, change = 0, remove = 0;
    std::string error;  ///< failed: terraform's error diagnostics
};

/// An open pull request closed because its root no longer drifts.
struct Closed {
    std::string root;
    change::PullRequest pull_request;
};

struct Scan {
    std::vector<Root> roots;                ///< empty when the directories hold no root
    std::vector<report::Finding> findings;  ///< each drifted resource, and each root whose plan failed
    std::vector<AgentTask> tasks;           ///< one a drifted root; moved into admitted with enqueue
    std::vector<intake::Admitted> admitted;
    std::vector<Closed> closed;
};

/// Each root is told to `planned` as soon as its plan ends (may be null).
/// An error means a directory is missing, terraform could not run, or
/// queueing failed; a root whose plan failed is a Root, not an error.
Result<Scan> scan(const Site& site, const ScanOptions& options, const std::function<void(const Root&)>& planned);

}  // namespace infra::core::drift
