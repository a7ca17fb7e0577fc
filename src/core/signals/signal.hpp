#pragma once
// The ingestion plane's interface: a SignalParser turns one raw signal into
// AgentTasks. Concrete parsers live in src/plugins/signals and are added to
// a Registry by register_builtin().

#include "core/events/trace.hpp"
#include "core/input.hpp"
#include "core/result.hpp"
#include "core/task.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::signals {

/// Settings that apply to every record of one ingest call.
struct IngestOptions {
    std::string repository_id;    ///< owner/name when the signal does not say
    std::string organization_id;  ///< defaults to the repository's owner
    std::string agent_slug;       ///< overrides the default agent for the task type
    std::string environment;      ///< overrides what tags, labels and paths say
    std::string path_root;        ///< stripped from absolute file paths in reports
    /// HTTP headers of a webhook delivery, names in lower case.
    std::map<std::string, std::string> headers;
    /// Shared secret for signature verification; empty = do not verify.
    std::string secret;
    /// Named schedules from config (the `schedules` key) for the schedule source.
    nlohmann::json schedules = nlohmann::json::array();
    /// Process the rest of a stream after a bad record.
    bool keep_going = false;
    /// Largest body a webhook parser reads.
    std::size_t max_body = 25u << 20;
};

/// Receives what a parser makes of its input. Tasks between begin() and
/// commit() belong to one document and are published together or not at all.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void begin() = 0;
    virtual void task(AgentTask&& task) = 0;
    virtual void commit() = 0;
    /// Drops the tasks since begin().
    virtual void abort() = 0;
    /// A record that was not turned into a task on purpose (a passed check,
    /// a resolved alert, an event that is not a signal).
    virtual void skip(const std::string& reason) = 0;
    /// A bad record; with keep_going the parser continues after it.
    virtual void reject(const Error& error) = 0;
};

/// Keeps what a parser makes in memory: the committed tasks, the reasons
/// for skipped records, and the rejected ones.
class CollectSink final : public Sink {
public:
    void begin() override { m_batch.clear(); }
    void task(AgentTask&& t) override { m_batch.push_back(std::move(t)); }
    void commit() override
    {
        for (auto& t : m_batch) tasks.push_back(std::move(t));
        m_batch.clear();
    }
    void abort() override { m_batch.clear(); }
    void skip(const std::string& reason) override { skipped.push_back(reason); }
    void reject(const Error& e) override { errors.push_back(e); }

    std::vector<AgentTask> tasks;
    std::vector<std::string> skipped;
    std::vector<Error> errors;

private:
    std::vector<AgentTask> m_batch;
};

/// What format detection sees: the start of the input and the headers.
struct DetectInput {
    std::string_view prefix;
    const std::map<std::string, std::string>* headers = nullptr;
};

/// Turns one source's raw signals into AgentTasks.
class SignalParser {
public:
    virtual ~SignalParser() = default;
    /// The source name used on the command line ("checkov").
    virtual std::string_view name() const = 0;
    /// One line for help and `ingest --list`.
    virtual std::string_view summary() const = 0;
    /// How sure the parser is that the input is its format, 0 (no) to 100.
    virtual int detect(const DetectInput& in) const = 0;
    /// Parses the whole input. Record-level problems go to sink.reject();
    /// the returned Error is for what ends the read (malformed document,
    /// bad signature, or a rejected record without keep_going).
    virtual Status parse(ByteSource& in, const IngestOptions& opt, Sink& sink) const = 0;
};

/// Signal parsers by name.
class Registry {
public:
    /// Adds a parser; a second one with the same name replaces the first.
    void add(std::unique_ptr<SignalParser> parser);
    /// The parser for a source name, or nullptr.
    const SignalParser* find(std::string_view name) const;
    /// Every parser, in the order added.
    std::vector<const SignalParser*> list() const;
    /// The best match for the input, or an Error that lists the candidates.
    Result<const SignalParser*> detect(const DetectInput& in, const std::string& name) const;

private:
    std::vector<std::unique_ptr<SignalParser>> m_parsers;
};

/// Parses one document held in memory (a webhook body, a schedule tick, a
/// chat line): its tasks and skip reasons, or the first error.
/// With trace, the parse is recorded there as an "ingest" span (a child of
/// the thread's current span), and each task that has no traceparent yet
/// gets the span's.
Result<CollectSink> parse_text(const SignalParser& parser, std::string text, const std::string& name,
                               const IngestOptions& options, events::EventSink* trace = nullptr);

/// Gives every task without a traceparent the one of ctx.
void assign_trace(std::vector<AgentTask>& tasks, const events::SpanContext& ctx);

}  // namespace infra::core::signals
