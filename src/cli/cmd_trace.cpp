// `infra-agent trace TASK`: the task's story as a tree of spans, from the
// signal to the pull request, with durations; --json for the tree as JSON,
// --otlp for an OTLP/JSON export request any OpenTelemetry backend reads.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/events/query.hpp"
#include "core/json_access.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <cstdio>

namespace infra::cli {
namespace {

struct Options {
    std::string task;
    bool otlp = false;
};

std::string duration(std::int64_t ns)
{
    char buf[32];
    double ms = static_cast<double>(ns) / 1e6;
    if (ms < 1) std::snprintf(buf, sizeof buf, "%.0f us", ms * 1000);
    else if (ms < 1000) std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    else std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000);
    return buf;
}

// The few attributes worth a glance, by span.
std::string highlights(const core::events::SpanNode& n)
{
    const auto& a = core::object_member(n.event.data, "attributes");
    std::string out;
    auto add = [&](const std::string& label, const nlohmann::json& v) {
        if (v.is_null() || (v.is_string() && v.get<std::string>().empty()) || (v.is_array() && v.empty())) return;
        std::string text =
            v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out += "  " + label + "=" + text;
    };
    for (const char* key :
         {"signal.source", "stage", "policy.allowed", "policy.tier", "policy.matched_rules", "outcome", "attempt",
          "gen_ai.request.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "credential.scope",
          "credential.ttl_seconds", "step", "git.branch", "pr.url"})
        add(key, core::member(a, key));
    return out;
}

void draw(const core::events::SpanNode& n, const std::string& prefix, bool last, bool root, std::string& out)
{
    std::string line = root ? "" : prefix + (last ? "└─ " : "├─ ");
    line += n.name();
    std::string took = duration(n.end_ns() - n.start_ns());
    std::size_t width = 0;
    for (unsigned char c : line) width += (c & 0xC0) != 0x80;  // display columns, not bytes
    line += std::string(width < 48 ? 48 - width : 1, ' ') + took;
    if (core::string_member(n.event.data, "status") == "error")
        line += "  ERROR " + core::string_member(n.event.data, "error");
    out += line + highlights(n) + "\n";
    std::string below = root ? "" : prefix + (last ? "   " : "│  ");
    for (std::size_t i = 0; i < n.children.size(); ++i)
        draw(n.children[i], below, i + 1 == n.children.size(), false, out);
}

nlohmann::json tree_json(const core::events::SpanNode& n)
{
    nlohmann::json j = {{"name", n.name()},
                        {"traceId", n.event.trace_id},
                        {"spanId", n.event.span_id},
                        {"start", core::timeutil::format_rfc3339_ms(n.start_ns() / 1000000)},
                        {"durationMs", static_cast<double>(n.end_ns() - n.start_ns()) / 1e6},
                        {"status", core::string_member(n.event.data, "status")}};
    if (!n.event.parent_id.empty()) j["parentSpanId"] = n.event.parent_id;
    if (!n.event.task_id.empty()) j["taskId"] = n.event.task_id;
    if (core::string_member(n.event.data, "status") == "error") j["error"] = core::string_member(n.event.data, "error");
    j["attributes"] = core::object_member(n.event.data, "attributes");
    j["children"] = nlohmann::json::array();
    for (const auto& c : n.children) j["children"].push_back(tree_json(c));
    return j;
}

void flatten(const core::events::SpanNode& n, std::vector<core::events::Event>& out)
{
    out.push_back(n.event);
    for (const auto& c : n.children) flatten(c, out);
}

int trace(const Options& opt, Context& ctx)
{
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    auto found = core::events::task_with_prefix(**db, opt.task);
    if (!found) return ctx.fail(found.error());
    if (!*found)
        return ctx.fail(core::make_error(core::Errc::not_found, "no events of task " + core::text::quote(opt.task),
                                         "'infra-agent queue ls' lists tasks"));
    const std::string& id = **found;
    auto roots = core::events::trace_of(**db, id);
    if (!roots) return ctx.fail(roots.error());
    if (roots->empty())
        return ctx.fail(core::make_error(core::Errc::not_found, "task " + id + " has no spans",
                                         "it was recorded before tracing, or by a process with events off"));
    if (opt.otlp) {
        std::vector<core::events::Event> spans;
        for (const auto& r : *roots) flatten(r, spans);
        ctx.emit(core::events::otlp_request(spans));
        return exit_code::ok;
    }
    if (ctx.json()) {
        for (const auto& r : *roots) ctx.record("span", tree_json(r));
        return exit_code::ok;
    }
    std::string out = "task " + id + "  trace " + roots->front().event.trace_id + "\n";
    for (const auto& r : *roots) draw(r, "", true, true, out);
    ctx.print(out);
    return exit_code::ok;
}

}  // namespace

void register_trace(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd =
        app.add_subcommand("trace", "Show a task's trace: every step from the signal to the pull request, timed");
    cmd->add_option("task", opt->task, "task id (a unique prefix is enough)")->required();
    cmd->add_flag("--otlp", opt->otlp, "print the spans as one OTLP/JSON ExportTraceServiceRequest");
    cmd->footer("On a terminal: a tree with durations. Otherwise (or with --json): one JSON tree per root span.\n"
                "The trace id is the one a webhook's traceparent header or a CI job's TRACEPARENT carried in.");
    ctx.on_run(cmd, [opt, &ctx] { return trace(*opt, ctx); });
}

}  // namespace infra::cli
