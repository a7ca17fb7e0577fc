#pragma once
// Runs a signal parser in-process and collects what it produced.

#include "core/signals/signal.hpp"

#include <string>
#include <vector>

namespace infra::test {

/// Everything a parse produced.
struct Ingested {
    std::vector<core::AgentTask> tasks;
    std::vector<std::string> skipped;
    std::vector<core::Error> rejected;
    core::Status status;
    std::size_t aborted = 0;  ///< tasks dropped by abort()
};

/// Parses bytes with the named built-in source.
Ingested ingest(const std::string& source, const std::string& bytes, core::signals::IngestOptions opt = {},
                const std::string& name = "<test>");

/// Parses a file with the named built-in source.
Ingested ingest_file(const std::string& source, const std::string& path, core::signals::IngestOptions opt = {});

/// The registry with every built-in plugin.
const core::signals::Registry& builtin_signals();

}  // namespace infra::test
