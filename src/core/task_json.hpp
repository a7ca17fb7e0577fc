#pragma once
// A task as a line of JSON Lines, the form ingest writes: to_json(task)
// dumped compactly, written straight from the task's fields.

#include "core/task.hpp"

#include <string>

namespace infra::core {

/// Appends to_json(task).dump(-1, ' ', false, replace), byte for byte,
/// without building the document on the way (no newline).
void append_task_json(std::string& out, const AgentTask& task);

}  // namespace infra::core
