#pragma once
// The one way a signal parser is run. Parsers build AgentTasks in memory
// (from a scanner's tags, an alert's labels, a webhook's payload), so
// their tasks do not pass through task_from_json; this puts every task a
// parser makes through the same checks before anything downstream sees it.
// `ingest`, `remediate` and parse_text (serve's webhooks and REST API, the
// scheduler, `chat`, `schedule`) all run parsers through here.

#include "core/signals/signal.hpp"

namespace infra::core::signals {

/// Runs parser over in into sink. Each task is brought to its canonical
/// form (core/environment.hpp) before sink gets it; a task that cannot be
/// (an environment with a non-ASCII character) is a bad record: with
/// options.keep_going it is rejected and the rest goes on, else the read
/// ends with its error and nothing of its document is published.
Status ingest(const SignalParser& parser, ByteSource& in, const IngestOptions& options, Sink& sink);

}  // namespace infra::core::signals
