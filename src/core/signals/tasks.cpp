#include "core/signals/tasks.hpp"

#include "core/crypto.hpp"
#include "core/environment.hpp"
#include "core/ids.hpp"
#include "core/json_slice.hpp"
#include "core/scanner_rules.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <algorithm>
#include <cctype>

namespace infra::core::signals {

std::string dedupe_key(std::initializer_list<std::string_view> parts)
{
    std::string joined;
    for (auto p : parts) {
        joined.append(p);
        joined.push_back('\x1f');  // a separator that never occurs in the parts
    }
    return crypto::sha256_hex(joined).substr(0, 32);
}

std::string normalize_severity(std::string_view s)
{
    std::string v = text::lower(text::trim(s));
    if (v == "critical") return "critical";
    if (v == "high" || v == "error") return "high";
    if (v == "medium" || v == "moderate" || v == "warning") return "medium";
    if (v == "low" || v == "note") return "low";
    if (v == "info" || v == "informational" || v == "none") return "info";
    return "unknown";
}

Priority priority_for(std::string_view severity)
{
    if (severity == "critical") return Priority::critical;
    if (severity == "high") return Priority::high;
    if (severity == "low" || severity == "info") return Priority::low;
    return Priority::normal;
}

std::string normalize_environment(std::string_view s)
{
    // A name that has no canonical form stays as it is, lower-cased: the
    // task that carries it is refused when it is ingested (signals/ingest.hpp).
    auto canonical = canonical_environment(s, "environment");
    std::string v = canonical ? *canonical : text::lower(text::trim(s));
    if (v == "prod" || v == "prd" || v == "production" || v == "live") return "production";
    if (v == "stage" || v == "stg" || v == "staging") return "staging";
    if (v == "dev" || v == "development") return "development";
    return v;
}

std::string environment_from_tags(const std::map<std::string, std::string>& tags)
{
    for (const char* key : {"environment", "env", "stage", "tier"}) {
        for (const auto& [k, v] : tags)
            if (text::lower(k) == key && !text::trim(v).empty()) return normalize_environment(v);
    }
    return {};
}

std::string environment_from_path(std::string_view path)
{
    static constexpr std::string_view k_names[] = {"production",  "prod", "prd", "staging", "stage",  "stg",
                                                   "development", "dev",  "qa",  "test",    "sandbox"};
    auto is = [](std::string_view dir, std::string_view name) {
        return std::equal(dir.begin(), dir.end(), name.begin(), name.end(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == static_cast<unsigned char>(b);
        });
    };
    // Directories only, the deepest first: envs/prod/eu/main.tf -> production.
    for (std::size_t end = path.rfind('/'); end != std::string_view::npos && end > 0;) {
        std::size_t slash = path.rfind('/', end - 1);
        std::size_t start = slash == std::string_view::npos ? 0 : slash + 1;
        for (auto name : k_names)
            if (is(path.substr(start, end - start), name)) return normalize_environment(name);
        end = slash;
    }
    return {};
}

std::string normalize_path(std::string_view path, std::string_view root)
{
    std::string p(path);
    for (auto& c : p)
        if (c == '\\') c = '/';
    if (!root.empty() && !p.empty() && p.front() == '/') {
        std::string r(root);
        while (r.size() > 1 && r.back() == '/') r.pop_back();
        if (p.rfind(r + "/", 0) == 0) p = p.substr(r.size() + 1);
    }
    while (p.rfind("./", 0) == 0) p = p.substr(2);
    return p;
}

std::string default_agent(TaskType t)
{
    switch (t) {
    case TaskType::compliance_remediation:
    case TaskType::drift_detection:
        return "builtin";
    default:
        return "llm";
    }
}

void finish_task(AgentTask& t, const IngestOptions& opt)
{
    if (t.id.empty()) t.id = ids::new_ulid();
    if (t.trigger.timestamp.empty()) t.trigger.timestamp = timeutil::now_rfc3339();
    if (t.context.repository_id.empty()) t.context.repository_id = opt.repository_id;
    if (!opt.organization_id.empty()) t.context.organization_id = opt.organization_id;
    if (t.context.organization_id.empty()) {
        auto slash = t.context.repository_id.find('/');
        if (slash != std::string::npos) t.context.organization_id = t.context.repository_id.substr(0, slash);
    }
    if (!opt.agent_slug.empty()) t.context.agent_slug = opt.agent_slug;
    if (t.context.agent_slug.empty()) t.context.agent_slug = default_agent(t.type);
    if (!opt.environment.empty()) t.context.environment = normalize_environment(opt.environment);
}

AgentTask remediation_task(const Finding& f, const IngestOptions& opt)
{
    AgentTask t;
    t.type = TaskType::compliance_remediation;
    t.trigger.source = "api";
    t.trigger.provider = f.tool;
    std::string canonical = scanner_rules::canonical_id(f.rule_id);
    const scanner_rules::Rule* known = scanner_rules::find(f.rule_id);

    std::string severity = normalize_severity(f.severity);
    if (severity == "unknown" && known) severity = std::string(known->severity);

    std::string file = f.file;
    std::string repo = text::lower(opt.repository_id);
    std::string anchor;
    if (!file.empty() && f.start_line > 0) anchor = file + ":" + std::to_string(f.start_line);
    else if (!f.resource.empty()) anchor = f.resource;
    else anchor = f.source_id;
    t.dedupe_key = dedupe_key({"finding", repo, canonical, anchor});

    t.trigger.source_id = !f.source_id.empty() ? f.source_id : canonical + "@" + anchor;
    if (!f.timestamp.empty())
        if (auto ts = timeutil::normalize(f.timestamp)) t.trigger.timestamp = *ts;

    t.context.priority = priority_for(severity);
    t.context.resource = f.resource;
    t.context.environment = environment_from_tags(f.tags);
    if (t.context.environment.empty()) t.context.environment = environment_from_path(file);

    json finding = json::object();
    finding["tool"] = f.tool;
    finding["ruleId"] = f.rule_id;
    finding["canonicalRuleId"] = canonical;
    std::string title = f.title.empty() && known ? std::string(known->title) : f.title;
    if (!title.empty()) finding["title"] = title;
    if (!f.message.empty() && f.message != title) finding["message"] = f.message;
    finding["severity"] = severity;
    if (!f.resource.empty()) finding["resource"] = f.resource;
    if (!file.empty()) finding["file"] = file;
    if (f.start_line > 0) finding["startLine"] = f.start_line;
    if (f.end_line > 0) finding["endLine"] = std::max(f.end_line, f.start_line);
    if (!f.guideline.empty()) finding["guideline"] = f.guideline;
    if (!f.framework.empty()) finding["framework"] = f.framework;
    if (!f.tags.empty()) finding["tags"] = f.tags;
    for (auto it = f.extra.begin(); it != f.extra.end(); ++it) finding[it.key()] = it.value();
    t.payload["finding"] = std::move(finding);
    finish_task(t, opt);
    return t;
}

std::string header(const IngestOptions& opt, std::string_view name)
{
    auto it = opt.headers.find(text::lower(name));
    return it == opt.headers.end() ? std::string() : it->second;
}

Status stream_records(ByteSource& in, const json_stream::Selection& selection, const IngestOptions& opt, Sink& sink,
                      const RecordFn& fn, const ShapeFn& shape)
{
    json_stream::Reader reader(in, selection);
    for (;;) {
        std::size_t records = 0;
        std::optional<Error> record_error;
        json_stream::Handler h;
        h.begin_document = [&](const json_stream::DocumentShape&) { sink.begin(); };
        h.record = [&](json_stream::Record&& r, const json_stream::Context& ctx) {
            if (record_error && !opt.keep_going) return;
            ++records;
            std::uint64_t line = r.line;
            std::string where = json_stream::to_string(r.path);
            auto st = fn(std::move(r), ctx, sink);
            if (!st) {
                Error e = st.error();
                e.message = "'" + in.name() + "': line " + std::to_string(line) +
                            (where.empty() ? "" : " (" + where + ")") + ": " + e.message;
                if (opt.keep_going) sink.reject(e);
                else if (!record_error) record_error = e;
            }
        };
        std::optional<Error> shape_error;
        h.end_document = [&](const json_stream::DocumentShape& s, const json_stream::Context&) {
            auto st = shape(s, records);
            if (!st) {
                Error e = st.error();
                e.message = "'" + in.name() + "': line " + std::to_string(s.line) + ": " + e.message;
                shape_error = e;
            }
        };
        auto r = reader.next(h);
        if (!r) {
            sink.abort();
            if (!opt.keep_going) return r.error();
            sink.reject(r.error());
            reader.skip_line();
            continue;
        }
        if (!*r) return {};
        if (record_error) {
            sink.abort();
            return *record_error;
        }
        if (shape_error) {
            sink.abort();
            if (!opt.keep_going) return *shape_error;
            sink.reject(*shape_error);
            continue;
        }
        sink.commit();
    }
}

Result<json> read_body(ByteSource& in, const IngestOptions& opt, std::string* raw)
{
    auto body = in.read_all(opt.max_body);
    if (!body) return body.error();
    // simdjson reads a well-formed body several times faster than nlohmann's
    // parser, which reads and explains the others.
    auto fast = json_slice::Parser().parse(*body, json_stream::Limits{}.max_depth);
    auto doc = fast ? Result<json>(std::move(*fast)) : json_stream::parse_document(*body, in.name());
    if (!doc) return doc.error();
    if (!doc->is_object())
        return fail(Errc::invalid_input,
                    "'" + in.name() + "': expected a JSON object, got " + std::string(doc->type_name()));
    if (raw) *raw = std::move(*body);
    return doc;
}

std::string str(const json& j, std::string_view key, std::string fallback)
{
    if (!j.is_object()) return fallback;
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return fallback;
    return it->get<std::string>();
}

std::string str_at(const json& j, const char* pointer, std::string fallback)
{
    try {
        json::json_pointer p(pointer);
        if (!j.contains(p)) return fallback;
        const json& v = j.at(p);
        if (v.is_string()) return v.get<std::string>();
        if (v.is_number()) return v.dump();
        return fallback;
    } catch (const json::exception&) {
        return fallback;
    }
}

}  // namespace infra::core::signals
