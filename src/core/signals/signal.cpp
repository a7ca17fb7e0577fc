#include "core/signals/signal.hpp"

#include "core/events/trace.hpp"
#include "core/input.hpp"
#include "core/signals/ingest.hpp"

namespace infra::core::signals {

void Registry::add(std::unique_ptr<SignalParser> parser)
{
    for (auto& p : m_parsers) {
        if (p->name() == parser->name()) {
            p = std::move(parser);
            return;
        }
    }
    m_parsers.push_back(std::move(parser));
}

const SignalParser* Registry::find(std::string_view name) const
{
    for (auto& p : m_parsers)
        if (p->name() == name) return p.get();
    return nullptr;
}

std::vector<const SignalParser*> Registry::list() const
{
    std::vector<const SignalParser*> out;
    for (auto& p : m_parsers) out.push_back(p.get());
    return out;
}

Result<const SignalParser*> Registry::detect(const DetectInput& in, const std::string& name) const
{
    const SignalParser* best = nullptr;
    int best_score = 0;
    bool tie = false;
    for (auto& p : m_parsers) {
        int s = p->detect(in);
        if (s > best_score) {
            best = p.get();
            best_score = s;
            tie = false;
        } else if (s == best_score && s > 0) {
            tie = true;
        }
    }
    if (!best || best_score < 30 || tie) {
        std::string names;
        for (auto& p : m_parsers) names += (names.empty() ? "" : ", ") + std::string(p->name());
        return fail(Errc::invalid_input, "cannot tell the format of '" + name + "'",
                    "name its format, one of " + names +
                        ": 'infra-agent ingest FORMAT FILE', or 'infra-agent remediate --source FORMAT FILE'");
    }
    return best;
}

void assign_trace(std::vector<AgentTask>& tasks, const events::SpanContext& ctx)
{
    if (ctx.empty()) return;
    std::string tp =
        events::to_traceparent(ctx.span_id.empty() ? events::SpanContext{ctx.trace_id, events::new_span_id()} : ctx);
    for (auto& t : tasks)
        if (!t.traceparent) t.traceparent = tp;
}

Result<CollectSink> parse_text(const SignalParser& parser, std::string text, const std::string& name,
                               const IngestOptions& options, events::EventSink* trace)
{
    auto src = ByteSource::from_string(std::move(text), name);
    CollectSink found;
    std::optional<events::Span> span;
    if (trace) span.emplace(*trace, "ingest", "", json{{"signal.source", parser.name()}, {"signal.name", name}});
    auto st = ingest(parser, *src, options, found);
    if (!st) {
        if (span) span->fail(st.error().message);
        return st.error();
    }
    if (!found.errors.empty()) {
        if (span) span->fail(found.errors.front().message);
        return found.errors.front();
    }
    if (span) {
        span->set("signal.tasks", found.tasks.size());
        span->set("signal.skipped", found.skipped.size());
        assign_trace(found.tasks, span->context());
    }
    return found;
}

}  // namespace infra::core::signals
