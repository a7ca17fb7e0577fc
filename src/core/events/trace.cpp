#include "core/events/trace.hpp"

#include "core/crypto.hpp"
#include "core/json_access.hpp"
#include "core/timeutil.hpp"

#include <cstdlib>

namespace infra::core::events {
namespace {

thread_local SpanContext t_current;

bool is_lower_hex(std::string_view s)
{
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

bool all_zero(std::string_view s)
{
    return s.find_first_not_of('0') == std::string_view::npos;
}

std::string random_hex(std::size_t bytes)
{
    unsigned char buf[16];
    crypto::pooled_random_bytes(buf, bytes);
    return crypto::to_hex(std::string_view(reinterpret_cast<const char*>(buf), bytes));
}

json span_data(const std::string& name, std::int64_t start_ns, std::int64_t end_ns, const std::string& error,
               json attributes)
{
    json d = {{"name", name},
              {"startTimeUnixNano", start_ns},
              {"endTimeUnixNano", end_ns},
              {"durationMs", static_cast<double>(end_ns - start_ns) / 1e6},
              {"status", error.empty() ? "ok" : "error"}};
    if (!error.empty()) d["error"] = error;
    d["attributes"] = std::move(attributes);
    return d;
}

}  // namespace

std::optional<SpanContext> parse_traceparent(std::string_view h)
{
    // version "-" trace-id "-" parent-id "-" flags: 2+1+32+1+16+1+2 = 55.
    // A later version may append fields after another "-".
    if (h.size() < 55 || (h.size() > 55 && h[55] != '-')) return std::nullopt;
    if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
    auto version = h.substr(0, 2), trace = h.substr(3, 32), span = h.substr(36, 16), flags = h.substr(53, 2);
    if (!is_lower_hex(version) || version == "ff" || !is_lower_hex(trace) || !is_lower_hex(span) ||
        !is_lower_hex(flags))
        return std::nullopt;
    if (version == "00" && h.size() != 55) return std::nullopt;
    if (all_zero(trace) || all_zero(span)) return std::nullopt;
    return SpanContext{std::string(trace), std::string(span)};
}

std::string to_traceparent(const SpanContext& ctx)
{
    if (ctx.trace_id.empty() || ctx.span_id.empty()) return {};
    return "00-" + ctx.trace_id + "-" + ctx.span_id + "-01";
}

std::string new_trace_id()
{
    return random_hex(16);
}
std::string new_span_id()
{
    return random_hex(8);
}

const SpanContext& current_context()
{
    return t_current;
}

ContextScope::ContextScope(SpanContext ctx) : m_saved(std::move(t_current))
{
    t_current = std::move(ctx);
}
ContextScope::~ContextScope()
{
    t_current = std::move(m_saved);
}

SpanContext process_root_context()
{
    if (const char* env = std::getenv("TRACEPARENT"))
        if (auto ctx = parse_traceparent(env)) return *ctx;
    return {new_trace_id(), ""};
}

std::int64_t now_unix_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Span::Span(EventSink& sink, std::string name, std::string task_id, json attributes)
    : m_sink(sink), m_name(std::move(name)), m_task_id(std::move(task_id)), m_attributes(std::move(attributes)),
      m_parent(t_current), m_start_ns(now_unix_ns())
{
    m_ctx.trace_id = m_parent.empty() ? new_trace_id() : m_parent.trace_id;
    m_ctx.span_id = new_span_id();
    t_current = m_ctx;
}

Span::~Span()
{
    end();
}

void Span::set(const std::string& key, json value)
{
    m_attributes[key] = std::move(value);
}

void Span::fail(std::string_view message)
{
    m_error = message.empty() ? "error" : std::string(message);
}

void Span::end()
{
    if (m_ended) return;
    m_ended = true;
    // Spans end in the order they opened on a thread; restoring the parent
    // keeps that order even if one is ended early.
    if (t_current.span_id == m_ctx.span_id) t_current = m_parent;
    Event e{"span", m_task_id, "", span_data(m_name, m_start_ns, now_unix_ns(), m_error, std::move(m_attributes))};
    e.trace_id = m_ctx.trace_id;
    e.span_id = m_ctx.span_id;
    e.parent_id = m_parent.span_id;
    m_sink.emit(std::move(e));
}

void describe_decision(Span& span, const json& d)
{
    span.set("policy.allowed", bool_member(d, "allowed"));
    span.set("policy.tier", int_member(d, "tier", 0));
    span.set("policy.reason", string_member(d, "reason"));
    span.set("policy.matched_rules", strings_member(d, "matchedRules"));
    auto approvals = strings_member(d, "requiredApprovals");
    if (!approvals.empty()) span.set("policy.required_approvals", approvals);
    span.set("policy.digest", string_member(d, "policyDigest"));
}

void record_span(EventSink& sink, const std::string& name, const std::string& task_id, const SpanContext& parent,
                 std::int64_t start_unix_ns, std::int64_t end_unix_ns, json attributes, const std::string& span_id,
                 const std::string& error)
{
    Event e{"span", task_id, "",
            span_data(name, start_unix_ns, std::max(start_unix_ns, end_unix_ns), error, std::move(attributes))};
    e.trace_id = parent.empty() ? new_trace_id() : parent.trace_id;
    e.span_id = span_id.empty() ? new_span_id() : span_id;
    e.parent_id = parent.span_id;
    sink.emit(std::move(e));
}

}  // namespace infra::core::events
