#include "core/events/query.hpp"

#include "core/json_access.hpp"
#include "core/store/db.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace infra::core::events {

Result<std::optional<std::string>> task_with_prefix(store::Db& db, const std::string& prefix)
{
    // Ids that start with prefix sort below prefix + U+10FFFF (in UTF-8).
    auto s =
        db.prepare("SELECT DISTINCT task_id FROM events WHERE task_id >= ? AND task_id < ? ORDER BY task_id LIMIT 2");
    if (!s) return s.error();
    s->bind(1, prefix).bind(2, prefix + "\xf4\x8f\xbf\xbf");
    std::vector<std::string> out;
    for (;;) {
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back(s->text(0));
        if (out.back() == prefix) return std::optional<std::string>(prefix);
    }
    if (out.size() > 1)
        return fail(Errc::usage, "task prefix " + text::quote(prefix) + " is ambiguous", "give more of the id");
    if (out.empty()) return std::optional<std::string>();
    return std::optional<std::string>(out.front());
}

namespace {

Status each(store::Stmt& s, const std::function<Status(const audit::Record&)>& visit)
{
    for (;;) {
        auto row = s.step();
        if (!row) return row.error();
        if (!*row) return {};
        audit::Record r = audit::read_record(s);
        r.event.data = json::parse(r.data_text, nullptr, false);
        if (r.event.data.is_discarded()) r.event.data = r.data_text;
        if (auto st = visit(r); !st) return st;
    }
}

}  // namespace

Status query(store::Db& db, const Filter& f, const std::function<Status(const audit::Record&)>& visit)
{
    // One snapshot, streamed rather than held whole (on PostgreSQL, through
    // a cursor); a follower's next query sees what came since.
    auto snapshot = store::Snapshot::begin(db);
    if (!snapshot) return snapshot.error();
    std::string sql = std::string(audit::k_select) + "WHERE seq > ?1";
    if (!f.task.empty()) sql += " AND task_id = ?2";
    if (!f.since.empty()) sql += " AND time >= ?3";
    if (!f.until.empty()) sql += " AND time <= ?4";
    // Exact type names go to the index; globs are matched below.
    bool exact = !f.types.empty() && std::none_of(f.types.begin(), f.types.end(), [](const std::string& t) {
        return t.find_first_of("*?") != std::string::npos;
    });
    if (exact) {
        sql += " AND type IN (";
        for (std::size_t i = 0; i < f.types.size(); ++i) sql += (i ? ",?" : "?") + std::to_string(10 + i);
        sql += ")";
    }
    sql += " ORDER BY seq";
    auto s = db.prepare(sql);
    if (!s) return s.error();
    s->bind(1, f.after_seq);
    if (!f.task.empty()) s->bind(2, f.task);
    if (!f.since.empty()) s->bind(3, f.since);
    if (!f.until.empty()) s->bind(4, f.until);
    if (exact)
        for (std::size_t i = 0; i < f.types.size(); ++i) s->bind(static_cast<int>(10 + i), f.types[i]);
    std::size_t n = 0;
    return each(*s, [&](const audit::Record& r) -> Status {
        if (!exact && !f.types.empty() && std::none_of(f.types.begin(), f.types.end(), [&](const std::string& g) {
                return text::glob_match(g, r.event.type);
            }))
            return {};
        if (f.limit && n >= f.limit) return {};
        ++n;
        return visit(r);
    });
}

const std::string& SpanNode::name() const
{
    static const std::string none;
    const json& n = member(event.data, "name");
    return n.is_string() ? n.get_ref<const std::string&>() : none;
}

std::int64_t SpanNode::start_ns() const
{
    return int_member(event.data, "startTimeUnixNano", 0);
}
std::int64_t SpanNode::end_ns() const
{
    return int_member(event.data, "endTimeUnixNano", 0);
}

const char* const k_events_of_task = "WHERE task_id = ? ORDER BY seq";
const char* const k_untasked_spans_of_trace = "WHERE trace_id = ? AND type = 'span' AND task_id IS NULL ORDER BY seq";

namespace {

// The task's spans and those of no task in the traces its events belong to,
// by span id (of two with one id, the later).
Result<std::map<std::string, Event>> spans_around(store::Db& db, const std::string& task_id)
{
    std::map<std::int64_t, Event> found;  // by seq
    std::set<std::string> traces;
    auto of_task = db.prepare(std::string(audit::k_select) + k_events_of_task);
    if (!of_task) return of_task.error();
    of_task->bind(1, task_id);
    auto st = each(*of_task, [&](const audit::Record& r) -> Status {
        if (!r.event.trace_id.empty()) traces.insert(r.event.trace_id);
        if (r.event.type == "span") found.emplace(r.seq, r.event);
        return {};
    });
    if (!st) return st.error();
    auto untasked = db.prepare(std::string(audit::k_select) + k_untasked_spans_of_trace);
    if (!untasked) return untasked.error();
    for (const auto& t : traces) {
        untasked->reset();
        untasked->bind(1, t);
        st = each(*untasked, [&](const audit::Record& r) -> Status {
            found.emplace(r.seq, r.event);
            return {};
        });
        if (!st) return st.error();
    }
    std::map<std::string, Event> spans;
    for (auto& [seq, e] : found) {
        std::string id = e.span_id;
        spans[id] = std::move(e);
    }
    return spans;
}

}  // namespace

Result<std::vector<SpanNode>> trace_of(store::Db& db, const std::string& task_id)
{
    auto around = spans_around(db, task_id);
    if (!around) return around.error();
    std::map<std::string, Event>& spans = *around;
    // Keep the task's spans, their ancestors and their descendants: a trace
    // shared by many tasks (one webhook delivery) shows this task's story,
    // never another task's spans.
    std::set<std::string> keep;
    std::multimap<std::string, std::string> children;  // parent -> child
    for (const auto& [id, e] : spans) children.emplace(e.parent_id, id);
    std::vector<std::string> todo;
    for (const auto& [id, e] : spans)
        if (e.task_id == task_id) todo.push_back(id);
    std::vector<std::string> down = todo;
    while (!down.empty()) {
        std::string id = down.back();
        down.pop_back();
        if (!keep.insert(id).second) continue;
        auto [a, b] = children.equal_range(id);
        for (auto it = a; it != b; ++it)
            if (spans[it->second].task_id.empty() || spans[it->second].task_id == task_id) down.push_back(it->second);
    }
    for (const auto& id : todo)
        for (auto p = spans[id].parent_id; !p.empty() && spans.count(p) && keep.insert(p).second;
             p = spans[p].parent_id) {
        }
    // Build the trees.
    std::function<SpanNode(const std::string&)> build = [&](const std::string& id) {
        SpanNode n{spans[id], {}};
        auto [a, b] = children.equal_range(id);
        for (auto it = a; it != b; ++it)
            if (keep.count(it->second)) n.children.push_back(build(it->second));
        std::sort(n.children.begin(), n.children.end(),
                  [](const SpanNode& x, const SpanNode& y) { return x.start_ns() < y.start_ns(); });
        return n;
    };
    std::vector<SpanNode> roots;
    for (const auto& id : keep) {
        const Event& e = spans[id];
        if (e.parent_id.empty() || !keep.count(e.parent_id)) roots.push_back(build(id));
    }
    std::sort(roots.begin(), roots.end(),
              [](const SpanNode& x, const SpanNode& y) { return x.start_ns() < y.start_ns(); });
    return roots;
}

namespace {

json otlp_value(const json& v)
{
    if (v.is_string()) return {{"stringValue", v}};
    if (v.is_boolean()) return {{"boolValue", v}};
    if (v.is_number_integer()) return {{"intValue", std::to_string(v.get<std::int64_t>())}};
    if (v.is_number()) return {{"doubleValue", v}};
    if (v.is_array()) {
        json values = json::array();
        for (const auto& x : v) values.push_back(otlp_value(x));
        return {{"arrayValue", {{"values", values}}}};
    }
    if (v.is_object()) {
        json values = json::array();
        for (const auto& [k, x] : v.items()) values.push_back({{"key", k}, {"value", otlp_value(x)}});
        return {{"kvlistValue", {{"values", values}}}};
    }
    return {{"stringValue", ""}};
}

}  // namespace

json otlp_span(const Event& e)
{
    const json& d = e.data;
    json attributes = json::array();
    if (!e.task_id.empty()) attributes.push_back({{"key", "infra_agent.task.id"}, {"value", otlp_value(e.task_id)}});
    for (const auto& [k, v] : object_member(d, "attributes").items())
        attributes.push_back({{"key", k}, {"value", otlp_value(v)}});
    bool failed = string_member(d, "status") == "error";
    json status = {{"code", failed ? 2 : 1}};  // STATUS_CODE_ERROR / STATUS_CODE_OK
    if (failed) status["message"] = string_member(d, "error");
    json span = {{"traceId", e.trace_id},
                 {"spanId", e.span_id},
                 {"name", string_member(d, "name")},
                 {"kind", 1},  // SPAN_KIND_INTERNAL
                 {"startTimeUnixNano", std::to_string(int_member(d, "startTimeUnixNano", 0))},
                 {"endTimeUnixNano", std::to_string(int_member(d, "endTimeUnixNano", 0))},
                 {"attributes", attributes},
                 {"status", status}};
    if (!e.parent_id.empty()) span["parentSpanId"] = e.parent_id;
    return span;
}

json otlp_request(const std::vector<Event>& spans)
{
    json list = json::array();
    for (const auto& e : spans) list.push_back(otlp_span(e));
    return {{"resourceSpans",
             json::array(
                 {{{"resource",
                    {{"attributes",
                      json::array({{{"key", "service.name"}, {"value", {{"stringValue", "infra-agent"}}}},
                                   {{"key", "service.version"}, {"value", {{"stringValue", INFRA_AGENT_VERSION}}}}})}}},
                   {"scopeSpans", json::array({{{"scope", {{"name", "infra-agent"}, {"version", INFRA_AGENT_VERSION}}},
                                                {"spans", list}}})}}})}};
}

}  // namespace infra::core::events
