#pragma once
// `remediate` as one call: scanner reports in, what became of each finding
// out. It ingests the reports, groups the findings (pr.group_by), follows
// the bot's open pull requests against the report (what was merged, closed
// or fixed elsewhere, and what a person took over, is not proposed again),
// decides and queues, runs an in-process worker that delivers each change,
// and reads back what became of every finding.

#include "core/change/open_delivery.hpp"
#include "core/site.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace infra::core::remediate {

struct Options {
    std::vector<std::string> reports;  ///< files, or "-" for stdin
    std::string source;                ///< their format; empty: detected
    std::string root;                  ///< the directory the scanner scanned, stripped from absolute paths
    std::string agent;                 ///< the agent for every finding; empty: each task type's
    bool dry_run = false;              ///< decide and say what would happen; queue and change nothing
    std::string sandbox;               ///< bwrap or none; empty: sandbox.mode, else bwrap
    change::DeliveryOverrides delivery;
    PolicySources policies;
    /// Told what happened on the way (a pull request followed); may be null.
    std::function<void(const std::string&)> note;
    /// Told how many tasks the worker is about to run; may be null.
    std::function<void(std::size_t)> working;
};

/// How a finding ended, from best to worst.
enum class Verdict { ok, pending, denied, failed };

/// What became of one finding.
struct FindingOutcome {
    std::string task_id;  ///< its task (the unfinished one it duplicates, when it does); empty when held back
    std::string what;     ///< the rule and the resource (or file): "CKV_AWS_20 aws_s3_bucket.logs"
    std::string state;    ///< opened, updated, already passes, failed, denied, waiting for approval, left alone ...
    std::string detail;   ///< the pull request's URL and branch, or why
    nlohmann::json pull_request;  ///< the pull request, when one was opened or updated
    Verdict verdict = Verdict::ok;
};

struct Outcome {
    std::vector<FindingOutcome> findings;  ///< empty when the reports hold no failed finding
    std::size_t skipped = 0;               ///< records of the reports that are no failed finding
};

Result<Outcome> run(const Site& site, const Options& options);

}  // namespace infra::core::remediate
