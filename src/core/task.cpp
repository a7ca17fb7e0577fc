#include "core/task.hpp"

#include "core/environment.hpp"
#include "core/ids.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <array>

namespace infra::core {
namespace {

constexpr std::array<std::pair<TaskType, std::string_view>, 5> k_types{{
    {TaskType::compliance_remediation, "compliance-remediation"},
    {TaskType::drift_detection, "drift-detection"},
    {TaskType::pr_review, "pr-review"},
    {TaskType::chat, "chat"},
    {TaskType::incident_triage, "incident-triage"},
}};

constexpr std::array<std::string_view, 4> k_priorities{"low", "normal", "high", "critical"};
constexpr std::array<std::string_view, 5> k_sources{"webhook", "schedule", "user", "api", "alert"};

Error field_error(const std::string& field, const std::string& what)
{
    return make_error(Errc::invalid_input, field + ": " + what);
}

std::string type_name(const json& j)
{
    return j.is_null() ? "null" : j.type_name();
}

// Reads an optional string field; a present non-string is an error.
Result<std::string> get_string(const json& obj, const char* key, const std::string& field, bool required)
{
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        if (required) return field_error(field, "missing");
        return std::string();
    }
    if (!it->is_string()) return field_error(field, "expected a string, got " + type_name(*it));
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > 4096) return field_error(field, "longer than 4096 characters");
    return s;
}

bool safe_id(std::string_view s)
{
    if (s.empty() || s.size() > 128) return false;
    for (char c : s) {
        bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& names)
{
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
        if (i) out += i + 1 == N ? " or " : ", ";
        out += names[i];
    }
    return out;
}

// Reads the task's trigger (trigger.*) into out.
Status read_trigger(const json& j, bool complete, Trigger& out)
{
    auto trig_it = j.find("trigger");
    if (trig_it == j.end()) return field_error("trigger", "missing");
    if (!trig_it->is_object()) return field_error("trigger", "expected an object, got " + type_name(*trig_it));
    const json& trig = *trig_it;
    auto source = get_string(trig, "source", "trigger.source", true);
    if (!source) return source.error();
    bool known = false;
    for (auto s : k_sources) known = known || s == *source;
    if (!known)
        return field_error("trigger.source", "expected one of " + one_of(k_sources) + ", got " + text::quote(*source));
    out.source = *source;
    auto provider = get_string(trig, "provider", "trigger.provider", true);
    if (!provider) return provider.error();
    if (provider->empty()) return field_error("trigger.provider", "empty");
    out.provider = *provider;
    if (auto sid = trig.find("sourceId"); sid != trig.end() && sid->is_number()) {
        out.source_id = sid->dump();  // PR and issue numbers arrive as numbers
    } else {
        auto s = get_string(trig, "sourceId", "trigger.sourceId", false);
        if (!s) return s.error();
        out.source_id = *s;
    }
    auto ts = get_string(trig, "timestamp", "trigger.timestamp", complete);
    if (!ts) return ts.error();
    if (!ts->empty()) {
        auto norm = timeutil::normalize(*ts);
        if (!norm)
            return field_error("trigger.timestamp",
                               "expected an RFC 3339 time such as 2026-11-24T12:00:00Z, got " + text::quote(*ts));
        out.timestamp = *norm;
    }
    return {};
}

// Reads the task's context (context.*) into out, the environment in its
// one spelling.
Status read_context(const json& j, TaskContext& out)
{
    auto ctx_it = j.find("context");
    if (ctx_it == j.end()) return field_error("context", "missing");
    if (!ctx_it->is_object()) return field_error("context", "expected an object, got " + type_name(*ctx_it));
    const json& ctx = *ctx_it;
    struct {
        const char* key;
        std::string* field;
    } strings[] = {{"organizationId", &out.organization_id},
                   {"repositoryId", &out.repository_id},
                   {"agentSlug", &out.agent_slug},
                   {"environment", &out.environment},
                   {"resource", &out.resource}};
    for (auto& f : strings) {
        auto v = get_string(ctx, f.key, std::string("context.") + f.key, false);
        if (!v) return v.error();
        *f.field = *v;
    }
    // One spelling of each environment, whichever way the task came in:
    // policy compares it by equality, so "Production " must not slip past
    // a gate on "production".
    if (auto env = canonical_environment(out.environment, "context.environment"); !env) return env.error();
    else out.environment = std::move(*env);
    auto prio = get_string(ctx, "priority", "context.priority", false);
    if (!prio) return prio.error();
    if (!prio->empty()) {
        auto p = parse_priority(*prio);
        if (!p)
            return field_error("context.priority",
                               "expected one of " + one_of(k_priorities) + ", got " + text::quote(*prio));
        out.priority = *p;
    }
    return {};
}

}  // namespace

bool valid_task_id(std::string_view s)
{
    if (s.empty() || s.size() > k_max_task_id) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) && c != '-' &&
            c != '_')
            return false;
    return true;
}

std::string_view to_string(TaskType t)
{
    for (auto& [k, v] : k_types)
        if (k == t) return v;
    return "unknown";
}

std::string_view to_string(Priority p)
{
    return k_priorities[static_cast<std::size_t>(p)];
}

std::optional<TaskType> parse_task_type(std::string_view s)
{
    for (auto& [k, v] : k_types)
        if (v == s) return k;
    return std::nullopt;
}

std::optional<Priority> parse_priority(std::string_view s)
{
    for (std::size_t i = 0; i < k_priorities.size(); ++i)
        if (k_priorities[i] == s) return static_cast<Priority>(i);
    return std::nullopt;
}

json to_json(const AgentTask& t)
{
    json j = json::object();
    j["id"] = t.id;
    j["type"] = to_string(t.type);
    json trig = {{"source", t.trigger.source}, {"provider", t.trigger.provider}};
    if (!t.trigger.source_id.empty()) trig["sourceId"] = t.trigger.source_id;
    trig["timestamp"] = t.trigger.timestamp;
    j["trigger"] = std::move(trig);
    json ctx = json::object();
    ctx["organizationId"] = t.context.organization_id;
    ctx["repositoryId"] = t.context.repository_id;
    ctx["agentSlug"] = t.context.agent_slug;
    ctx["priority"] = to_string(t.context.priority);
    if (!t.context.environment.empty()) ctx["environment"] = t.context.environment;
    if (!t.context.resource.empty()) ctx["resource"] = t.context.resource;
    j["context"] = std::move(ctx);
    j["payload"] = t.payload;
    j["dedupeKey"] = t.dedupe_key;
    if (t.traceparent) j["traceparent"] = *t.traceparent;
    for (auto it = t.extra.begin(); it != t.extra.end(); ++it) j[it.key()] = it.value();
    return j;
}

Result<AgentTask> task_from_json(const json& j, bool complete)
{
    if (!j.is_object()) return field_error("task", "expected an object, got " + type_name(j));
    AgentTask t;

    auto id = get_string(j, "id", "id", complete);
    if (!id) return id.error();
    if (!id->empty() && !valid_task_id(*id))
        return field_error("id", "expected 1 to " + std::to_string(k_max_task_id) +
                                     " ASCII letters, digits, '-' or '_', got " +
                                     text::quote(id->size() > 80 ? id->substr(0, 80) + "..." : *id));
    t.id = *id;

    auto type = get_string(j, "type", "type", true);
    if (!type) return type.error();
    auto tt = parse_task_type(*type);
    if (!tt) {
        std::array<std::string_view, 5> names{};
        for (std::size_t i = 0; i < 5; ++i) names[i] = k_types[i].second;
        return field_error("type", "expected one of " + one_of(names) + ", got " + text::quote(*type));
    }
    t.type = *tt;

    if (auto st = read_trigger(j, complete, t.trigger); !st) return st.error();
    if (auto st = read_context(j, t.context); !st) return st.error();

    if (auto p = j.find("payload"); p != j.end() && !p->is_null()) {
        if (!p->is_object()) return field_error("payload", "expected an object, got " + type_name(*p));
        t.payload = *p;
    }

    auto dk = get_string(j, "dedupeKey", "dedupeKey", complete);
    if (!dk) return dk.error();
    if (!dk->empty() && !safe_id(*dk))
        return field_error("dedupeKey",
                           "expected up to 128 letters, digits, '-', '_', '.' or ':', got " + text::quote(*dk));
    t.dedupe_key = *dk;

    if (auto tp = j.find("traceparent"); tp != j.end() && !tp->is_null()) {
        auto s = get_string(j, "traceparent", "traceparent", true);
        if (!s) return s.error();
        t.traceparent = std::move(*s);
    }

    for (auto it = j.begin(); it != j.end(); ++it) {
        const auto& k = it.key();
        if (k == "id" || k == "type" || k == "trigger" || k == "context" || k == "payload" || k == "dedupeKey" ||
            k == "traceparent")
            continue;
        t.extra[k] = it.value();
    }
    return t;
}

std::string fingerprint(const AgentTask& task)
{
    return task.dedupe_key.substr(0, 12);
}

std::string TaskFinding::location() const
{
    return start_line > 0 && !file.empty() ? file + ":" + std::to_string(start_line) : file;
}

TaskFinding finding_from_json(const json& f)
{
    TaskFinding out;
    out.tool = string_member(f, "tool");
    out.rule_id = string_member(f, "ruleId");
    out.canonical_rule_id = string_member(f, "canonicalRuleId");
    out.title = string_member(f, "title");
    out.message = string_member(f, "message");
    out.severity = string_member(f, "severity");
    out.resource = string_member(f, "resource");
    out.file = string_member(f, "file");
    out.start_line = int_member(f, "startLine");
    out.end_line = int_member(f, "endLine");
    out.key = string_member(f, "key");
    out.content = string_member(f, "content");
    if (f.is_object()) out.raw = f;
    return out;
}

std::vector<TaskFinding> findings_of(const json& payload)
{
    std::vector<TaskFinding> out;
    const json& group = member(payload, "findings");
    if (group.is_array() && !group.empty()) {
        for (const auto& f : group)
            if (f.is_object()) out.push_back(finding_from_json(f));
    } else if (const json& one = member(payload, "finding"); one.is_object()) {
        out.push_back(finding_from_json(one));
    }
    return out;
}

TaskGroup group_of(const json& payload)
{
    const json& group = member(payload, "group");
    return {string_member(group, "by"), string_member(group, "value")};
}

std::string root_of(const json& payload)
{
    std::string root = string_member(payload, "root");
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    return root;
}

std::vector<std::string> drifted_addresses(const json& payload)
{
    std::vector<std::string> out;
    for (const char* list : {"drift", "resources"})
        for (const auto& d : array_member(payload, list))
            if (auto a = string_member(d, "address"); !a.empty()) out.push_back(std::move(a));
    return out;
}

std::vector<std::string> other_resources(const json& payload)
{
    return strings_member(payload, "otherResources");
}

}  // namespace infra::core
