#include "core/signals/request.hpp"

#include "core/change/delivery.hpp"
#include "core/events/trace.hpp"
#include "core/input.hpp"
#include "core/log.hpp"
#include "core/signals/group.hpp"
#include "core/signals/ingest.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

#include <filesystem>
#include <fstream>

namespace infra::core::signals {
namespace {

/// Passes tasks on, each with the read's traceparent when it has none, and
/// counts what went by.
class Traced final : public Sink {
public:
    Traced(Sink& next, std::string traceparent) : m_next(next), m_traceparent(std::move(traceparent)) {}

    void begin() override
    {
        m_pending = 0;
        m_next.begin();
    }
    void task(AgentTask&& task) override
    {
        if (!task.traceparent) task.traceparent = m_traceparent;
        ++m_pending;
        m_next.task(std::move(task));
    }
    void commit() override
    {
        m_read.tasks += m_pending;
        m_pending = 0;
        m_next.commit();
    }
    void abort() override
    {
        m_pending = 0;
        m_next.abort();
    }
    void skip(const std::string& reason) override
    {
        ++m_read.skipped;
        m_next.skip(reason);
    }
    void reject(const Error& error) override
    {
        ++m_read.rejected;
        m_next.reject(error);
    }

    Read& counts() { return m_read; }

private:
    Sink& m_next;
    std::string m_traceparent;
    std::size_t m_pending = 0;
    Read m_read;
};

/// The secret from the request, its file, or webhooks.<source>.secret_env.
Result<std::string> secret_of(const Request& r, std::string_view source, const Config& config)
{
    std::string secret = r.secret;
    if (!r.secret_file.empty()) {
        std::ifstream f(r.secret_file);
        if (!f) return fail(Errc::unavailable, "cannot read secret file '" + r.secret_file + "'");
        std::getline(f, secret);
    } else if (secret.empty()) {
        std::string key = "webhooks." + std::string(source) + ".secret_env";
        if (auto env = config.get(key)) {
            const char* v = std::getenv(env->c_str());
            if (!v || !*v) return fail(Errc::unavailable, key + " names '" + *env + "', which is not set");
            secret = v;
        }
    }
    log::add_secret(secret);
    return secret;
}

Result<std::unique_ptr<ByteSource>> open_input(const Request& r)
{
    if (r.source == "schedule" && r.file != "-" && !std::filesystem::exists(r.file))
        return ByteSource::from_string(nlohmann::json{{"schedule", r.file}}.dump(), "schedule '" + r.file + "'");
    if (r.source == "chat" && !r.message.empty()) return ByteSource::from_string(r.message, "--message");
    return ByteSource::open(r.file);
}

/// The read as the span its tasks' traceparent names, when there is a
/// state db to record it in: `trace` then starts at the signal even when
/// ingest runs in a pipeline of its own. Without one, a read stays a pure
/// filter.
void record(const Site& site, const events::SpanContext& parent, const events::SpanContext& step, std::int64_t started,
            const Read& read)
{
    const auto& home = site.home;
    if (read.tasks == 0 || (!home.state_is_remote() && !std::filesystem::exists(home.state_location()))) return;
    auto db = open_state(home);
    if (!db) return;
    auto sink = events::StateSink::open(home.state_location());
    if (!sink) return;
    events::record_span(**sink, "ingest", "", parent, started, events::now_unix_ns(),
                        {{"signal.source", read.parser},
                         {"signal.name", read.input},
                         {"signal.tasks", read.tasks},
                         {"signal.skipped", read.skipped}},
                        step.span_id, read.status ? "" : read.status.error().message);
    (*sink)->flush();
}

}  // namespace

Result<const SignalParser*> parser_for(const Registry& parsers, const std::string& source, ByteSource& input,
                                       const std::map<std::string, std::string>& headers)
{
    if (source.empty()) {
        DetectInput d{input.peek_prefix(64 * 1024), &headers};
        return parsers.detect(d, input.name());
    }
    if (const auto* p = parsers.find(source)) return p;
    return fail(Errc::usage, "unknown source " + text::quote(source),
                "run 'infra-agent ingest --list' for the sources");
}

Result<Read> read(const Site& site, Request r, Sink& sink)
{
    IngestOptions& in = r.options;
    in.repository_id = change::repository_id(site.config, r.repository);
    if (in.organization_id.empty()) in.organization_id = site.config.get_or("repository.organization", "");
    in.schedules = site.config.get_json("schedules");
    auto input = open_input(r);
    if (!input) return fail(input.error());
    auto parser = parser_for(site.signals, r.source, **input, in.headers);
    if (!parser) return fail(parser.error());
    auto secret = secret_of(r, (*parser)->name(), site.config);
    if (!secret) return fail(secret.error());
    in.secret = *secret;
    // A filter keeps one task per finding unless grouping is asked for.
    auto group_by = r.group_by.empty() ? parse_group_by(site.config.get_or("pr.group_by", "finding"))
                                       : parse_group_by(r.group_by, "--group-by");
    if (!group_by) return fail(group_by.error());

    auto sent =
        in.headers.count("traceparent") ? events::parse_traceparent(in.headers.at("traceparent")) : std::nullopt;
    events::SpanContext root = sent ? *sent : events::process_root_context();
    events::SpanContext step{root.trace_id, events::new_span_id()};
    Traced traced(sink, events::to_traceparent(step));
    GroupingSink grouped(traced, *group_by);
    std::int64_t started = events::now_unix_ns();
    Read& out = traced.counts();
    out.input = (*input)->name();
    out.parser = (*parser)->name();
    out.status = ingest(**parser, **input, in, grouped);
    record(site, root, step, started, out);
    return out;
}

}  // namespace infra::core::signals
