#pragma once
// `ingest` as one call: a signal's input read by its parser (named, or
// detected from the input), with the configuration filling in what the
// request leaves out (the repository, webhooks.<source>.secret_env,
// schedules, pr.group_by). The tasks join the sender's trace (a traceparent
// header of the delivery, else TRACEPARENT of a CI job), else start one; the
// read is their parent span, recorded in the state db when there is one.

#include "core/signals/signal.hpp"
#include "core/site.hpp"

#include <string>
#include <string_view>

namespace infra::core::signals {

struct Request {
    std::string source;       ///< the parser's name; empty: detected from the input
    std::string file = "-";   ///< the input; "-" is stdin (for schedule, a schedule's name ticks it now)
    std::string message;      ///< the chat source's message, read instead of the input
    std::string secret;       ///< the webhook secret; empty: secret_file, else webhooks.<source>.secret_env
    std::string secret_file;  ///< a file whose first line is the secret
    std::string repository;   ///< owner/name a report describes; empty: repository.id, else the checkout's
    std::string group_by;     ///< one task a resource, file, root or rule; empty: pr.group_by, else finding
    /// The rest as given: headers (names in lower case), organization,
    /// agent, environment (canonical), path root, keep_going.
    IngestOptions options;
};

/// What a read did, for the caller to say.
struct Read {
    std::string input;        ///< the input's name
    std::string_view parser;  ///< the source that read it
    Status status;            ///< the error the read ended with, if it did
    std::size_t tasks = 0;    ///< tasks published (of documents that were whole)
    std::size_t skipped = 0;  ///< records that are no signal on purpose
    std::size_t rejected = 0;
};

/// The parser of a source name, else the one that recognizes the input
/// (given a webhook delivery's headers).
Result<const SignalParser*> parser_for(const Registry& parsers, const std::string& source, ByteSource& input,
                                       const std::map<std::string, std::string>& headers);

/// Reads the request's input into sink. An error means nothing was read
/// (an unknown source, an unreadable input, a secret not set); an error
/// while reading is the Read's status, after what was whole went to sink.
Result<Read> read(const Site& site, Request request, Sink& sink);

}  // namespace infra::core::signals
