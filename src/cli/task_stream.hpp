#pragma once
// Reading AgentTasks from a file or stdin (JSON Lines, a document, or a
// list) for the commands that consume them.

#include "cli/context.hpp"
#include "core/task.hpp"

#include <functional>
#include <string>

namespace infra::cli {

/// Calls fn for every valid task of input ("-" for stdin). An invalid
/// record is reported with its file and line; without keep_going it stops
/// the read. Returns the worst exit code of the read (0, 1 or 65); fn's own
/// codes are the caller's to combine.
int for_each_task(Context& ctx, const std::string& input, bool keep_going,
                  const std::function<void(core::AgentTask&&)>& fn);

/// Combines exit codes of a stream: usage and data errors, then runtime
/// failures, then denied (3), then pending (4), then success.
int worse(int a, int b);

}  // namespace infra::cli
