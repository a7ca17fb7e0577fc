#include "core/task_json.hpp"

#include "core/json_write.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace infra::core {
namespace {

// An object written member by member, closed when it goes out of scope;
// its members are given in the order of their keys, as nlohmann's objects
// (std::map) hold them.
class ObjectWriter {
public:
    explicit ObjectWriter(std::string& out) : m_out(out) { m_out.push_back('{'); }
    ~ObjectWriter() { m_out.push_back('}'); }
    ObjectWriter(const ObjectWriter&) = delete;
    ObjectWriter& operator=(const ObjectWriter&) = delete;

    /// Starts the member key; its value is for the caller to append.
    std::string& key(std::string_view key)
    {
        if (!m_first) m_out.push_back(',');
        m_first = false;
        json_write::append_string(m_out, key);
        m_out.push_back(':');
        return m_out;
    }
    void string(std::string_view key, std::string_view value) { json_write::append_string(this->key(key), value); }

private:
    std::string& m_out;
    bool m_first = true;
};

// The task's own top-level members, in the order of their keys.
enum class Member { context, dedupe_key, id, payload, traceparent, trigger, type };
constexpr std::array<std::pair<Member, std::string_view>, 7> k_members{{{Member::context, "context"},
                                                                        {Member::dedupe_key, "dedupeKey"},
                                                                        {Member::id, "id"},
                                                                        {Member::payload, "payload"},
                                                                        {Member::traceparent, "traceparent"},
                                                                        {Member::trigger, "trigger"},
                                                                        {Member::type, "type"}}};

void append_member(ObjectWriter& w, Member m, std::string_view key, const AgentTask& t)
{
    switch (m) {
    case Member::context: {
        ObjectWriter c(w.key(key));
        const auto& ctx = t.context;
        c.string("agentSlug", ctx.agent_slug);
        if (!ctx.environment.empty()) c.string("environment", ctx.environment);
        c.string("organizationId", ctx.organization_id);
        c.string("priority", to_string(ctx.priority));
        c.string("repositoryId", ctx.repository_id);
        if (!ctx.resource.empty()) c.string("resource", ctx.resource);
        return;
    }
    case Member::dedupe_key:
        w.string(key, t.dedupe_key);
        return;
    case Member::id:
        w.string(key, t.id);
        return;
    case Member::payload:
        json_write::append(w.key(key), t.payload);
        return;
    case Member::traceparent:
        if (t.traceparent) w.string(key, *t.traceparent);
        return;
    case Member::trigger: {
        ObjectWriter g(w.key(key));
        g.string("provider", t.trigger.provider);
        g.string("source", t.trigger.source);
        if (!t.trigger.source_id.empty()) g.string("sourceId", t.trigger.source_id);
        g.string("timestamp", t.trigger.timestamp);
        return;
    }
    case Member::type:
        w.string(key, to_string(t.type));
        return;
    }
}

}  // namespace

void append_task_json(std::string& out, const AgentTask& t)
{
    ObjectWriter w(out);
    // to_json sets the extra members last: one with the name of a task's
    // own member takes its place.
    static const json::object_t k_none;
    const auto& extra = t.extra.is_object() ? t.extra.get_ref<const json::object_t&>() : k_none;
    auto own = k_members.begin();
    for (const auto& [key, value] : extra) {
        for (; own != k_members.end() && own->second <= key; ++own)
            if (own->second != key) append_member(w, own->first, own->second, t);
        json_write::append(w.key(key), value);
    }
    for (; own != k_members.end(); ++own) append_member(w, own->first, own->second, t);
}

}  // namespace infra::core
