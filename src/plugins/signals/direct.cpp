// Sources that come from people and programs rather than tools: chat
// messages, AgentTasks posted to the API, and named schedules from config.
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "plugins/signals/common.hpp"
#include "plugins/signals/parsers.hpp"

namespace infra::plugins::signals {
namespace {

constexpr std::size_t k_max_message = 16 * 1024;

Status any_shape(const DocumentShape&, std::size_t)
{
    return {};
}

class Chat final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "chat"; }
    std::string_view summary() const override
    {
        return "a chat message: plain text, or JSON Lines of {message, user, channel, requestsChange}";
    }
    int detect(const core::signals::DetectInput& in) const override
    {
        return marker_score(in.prefix, {"\"message\"", "\"user\""}) / 2;
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        auto prefix = core::text::trim(in.peek_prefix(1024));
        if (!prefix.empty() && prefix.front() == '{') {
            core::json_stream::Selection sel{{""}, {}};
            auto record = [&opt](Record&& r, const Context&, Sink& out) -> Status {
                if (!r.value.is_object()) return field_error("message", "expected an object");
                auto m = r.value.find("message");
                if (m == r.value.end() || !m->is_string()) return field_error("message", "missing or not a string");
                const auto& rc = core::member(r.value, "requestsChange");
                if (!rc.is_null() && !rc.is_boolean()) return field_error("requestsChange", "expected true or false");
                bool change = rc.is_boolean() && rc.get<bool>();
                return emit(m->get<std::string>(), str(r.value, "user"), str(r.value, "channel"), change, opt, out);
            };
            return core::signals::stream_records(in, sel, opt, sink, record, any_shape);
        }
        auto text = in.read_all(k_max_message);
        if (!text) return text.error();
        sink.begin();
        auto st = emit(std::string(core::text::trim(*text)), "", "", false, opt, sink);
        if (!st) {
            sink.abort();
            return st;
        }
        sink.commit();
        return {};
    }

private:
    static Status emit(const std::string& message, const std::string& user, const std::string& channel, bool change,
                       const IngestOptions& opt, Sink& sink)
    {
        if (core::text::trim(message).empty()) return field_error("message", "empty");
        if (message.size() > k_max_message)
            return field_error("message", "longer than " + std::to_string(k_max_message) + " bytes");
        AgentTask t;
        t.type = TaskType::chat;
        t.trigger.source = "user";
        t.trigger.provider = "chat";
        t.trigger.timestamp = core::timeutil::now_rfc3339();
        t.payload["message"] = message;
        if (!user.empty()) t.payload["user"] = user;
        if (!channel.empty()) t.payload["channel"] = channel;
        t.payload["requestsChange"] = change;
        // Every message is its own conversation turn: unique, never merged.
        t.id = core::ids::new_ulid();
        t.trigger.source_id = t.id;
        t.dedupe_key = core::signals::dedupe_key({"chat", user, t.id});
        core::signals::finish_task(t, opt);
        sink.task(std::move(t));
        return {};
    }
};

class Api final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "api"; }
    std::string_view summary() const override { return "AgentTask JSON (JSON Lines or a list), validated"; }
    int detect(const core::signals::DetectInput& in) const override
    {
        return marker_score(in.prefix, {"\"type\"", "\"trigger\"", "\"context\"", "\"payload\""});
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        core::json_stream::Selection sel{{"", "*"}, {}};
        auto record = [&opt](Record&& r, const Context&, Sink& out) -> Status {
            auto t = core::task_from_json(r.value, /*complete=*/false);
            if (!t) return t.error();
            if (t->trigger.source.empty()) t->trigger.source = "api";
            if (t->dedupe_key.empty()) {
                // Same type, repository, resource and payload: the same work.
                t->dedupe_key = core::signals::dedupe_key({"api", core::to_string(t->type),
                                                           core::text::lower(t->context.repository_id),
                                                           t->context.resource, t->payload.dump()});
            }
            core::signals::finish_task(*t, opt);
            out.task(std::move(*t));
            return {};
        };
        return core::signals::stream_records(in, sel, opt, sink, record, any_shape);
    }
};

class Schedule final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "schedule"; }
    std::string_view summary() const override
    {
        return "a tick of a named schedule from config: {\"schedule\": NAME, \"firedAt\": TIME}";
    }
    int detect(const core::signals::DetectInput& in) const override
    {
        return marker_score(in.prefix, {"\"schedule\"", "\"firedAt\""});
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        core::json_stream::Selection sel{{""}, {}};
        auto record = [&opt](Record&& r, const Context&, Sink& out) -> Status {
            if (!r.value.is_object()) return field_error("tick", "expected an object");
            std::string name = str(r.value, "schedule");
            if (name.empty()) return field_error("schedule", "missing");
            const json* found = nullptr;
            std::string known;
            if (opt.schedules.is_array())
                for (const auto& s : opt.schedules) {
                    known += (known.empty() ? "" : ", ") + str(s, "name");
                    if (str(s, "name") == name) found = &s;
                }
            if (!found)
                return core::fail(Errc::invalid_input, "no schedule named " + core::text::quote(name) + " in config",
                                  known.empty() ? "add one under 'schedules:' in config.yaml"
                                                : "known schedules: " + known);
            const json& signal = core::object_member(*found, "signal");
            if (!signal.is_object()) return field_error("schedules." + name + ".signal", "expected an object");
            json j = signal;
            j["trigger"] = {{"source", "schedule"}, {"provider", "schedule"}, {"sourceId", name}};
            std::string fired = str(r.value, "firedAt");
            if (!fired.empty()) j["trigger"]["timestamp"] = fired;
            if (!j.contains("context")) j["context"] = json::object();
            if (!j.contains("payload")) j["payload"] = json::object();
            j["payload"]["schedule"] = name;
            auto t = core::task_from_json(j, /*complete=*/false);
            if (!t) {
                core::Error e = t.error();
                e.message = "schedules." + name + ".signal: " + e.message;
                return e;
            }
            t->dedupe_key = core::signals::dedupe_key({"schedule", name});
            core::signals::finish_task(*t, opt);
            out.task(std::move(*t));
            return {};
        };
        return core::signals::stream_records(in, sel, opt, sink, record, any_shape);
    }
};

}  // namespace

std::unique_ptr<core::signals::SignalParser> make_chat()
{
    return std::make_unique<Chat>();
}
std::unique_ptr<core::signals::SignalParser> make_api()
{
    return std::make_unique<Api>();
}
std::unique_ptr<core::signals::SignalParser> make_schedule()
{
    return std::make_unique<Schedule>();
}

}  // namespace infra::plugins::signals
