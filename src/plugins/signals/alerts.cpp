// Alerting sources: Prometheus Alertmanager (webhook format version 4),
// PagerDuty v3 webhooks, and CloudWatch alarms delivered through SNS.
// Each firing alert becomes one incident-triage task.
#include "core/crypto.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "plugins/signals/common.hpp"
#include "plugins/signals/parsers.hpp"

namespace infra::plugins::signals {
namespace {

AgentTask alert_task(const std::string& provider)
{
    AgentTask t;
    t.type = TaskType::incident_triage;
    t.trigger.source = "alert";
    t.trigger.provider = provider;
    return t;
}

// Runs a whole-body parser with the all-or-nothing and error-naming rules.
template <class Fn>
Status whole_body(core::ByteSource& in, const IngestOptions& opt, Sink& sink, Fn fn)
{
    std::string raw;
    auto body = core::signals::read_body(in, opt, &raw);
    if (!body) return body.error();
    return in_one_batch(in.name(), "payload", sink, [&] { return fn(*body, raw); });
}

class Alertmanager final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "alertmanager"; }
    std::string_view summary() const override { return "Prometheus Alertmanager webhook (version 4)"; }

    int detect(const core::signals::DetectInput& in) const override
    {
        return marker_score(in.prefix, {"\"receiver\"", "\"alerts\"", "\"groupKey\"", "\"fingerprint\""});
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        return whole_body(in, opt, sink, [&](const json& b, const std::string&) -> Status {
            if (!opt.secret.empty()) {
                // Alertmanager authenticates with http_config's bearer token.
                std::string auth = core::signals::header(opt, "Authorization");
                std::string expected = "Bearer " + opt.secret;
                if (!core::crypto::constant_time_equal(auth, expected))
                    return core::fail(Errc::unauthenticated, "missing or wrong bearer token in Authorization");
            }
            std::string version = str(b, "version");
            if (version != "4")
                return field_error("version", "expected webhook format version \"4\", got " +
                                                  (version.empty() ? std::string("none") : core::text::quote(version)));
            auto alerts = b.find("alerts");
            if (alerts == b.end() || !alerts->is_array()) return field_error("alerts", "missing or not a list");
            long long truncated = b.contains("truncatedAlerts") ? line_of(b["truncatedAlerts"]) : 0;
            std::size_t i = 0;
            for (const auto& a : *alerts) {
                std::string field = "alerts[" + std::to_string(i++) + "]";
                if (!a.is_object()) return field_error(field, "expected an object");
                std::string status = str(a, "status");
                if (status != "firing") {
                    sink.skip(field + ": " + (status.empty() ? "no status" : status));
                    continue;
                }
                auto labels = tags_of(core::object_member(a, "labels"));
                auto t = alert_task("alertmanager");
                std::string fp = str(a, "fingerprint");
                if (fp.empty()) fp = core::crypto::sha256_hex(json(labels).dump()).substr(0, 16);
                t.trigger.source_id = fp;
                if (auto ts = core::timeutil::normalize(str(a, "startsAt"))) t.trigger.timestamp = *ts;
                t.context.priority = core::signals::priority_for(
                    core::signals::normalize_severity(labels.count("severity") ? labels["severity"] : ""));
                t.context.environment = core::signals::environment_from_tags(labels);
                for (const char* k : {"terraform_address", "resource", "arn"})
                    if (labels.count(k) && t.context.resource.empty()) t.context.resource = labels[k];
                for (const char* k : {"repository", "repo"})
                    if (labels.count(k) && t.context.repository_id.empty()) t.context.repository_id = labels[k];
                t.payload["alertname"] = labels.count("alertname") ? labels["alertname"] : "";
                t.payload["labels"] = core::object_member(a, "labels");
                t.payload["annotations"] = core::object_member(a, "annotations");
                t.payload["startsAt"] = str(a, "startsAt");
                t.payload["generatorURL"] = str(a, "generatorURL");
                t.payload["fingerprint"] = fp;
                t.payload["receiver"] = str(b, "receiver");
                t.payload["groupKey"] = str(b, "groupKey");
                t.payload["externalURL"] = str(b, "externalURL");
                if (truncated > 0) t.payload["truncatedAlerts"] = truncated;
                t.dedupe_key = core::signals::dedupe_key({"alert", "alertmanager", fp});
                core::signals::finish_task(t, opt);
                sink.task(std::move(t));
            }
            return {};
        });
    }
};

class PagerDuty final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "pagerduty"; }
    std::string_view summary() const override { return "PagerDuty v3 webhook (incident events)"; }

    int detect(const core::signals::DetectInput& in) const override
    {
        if (in.headers && in.headers->count("x-pagerduty-signature")) return 100;
        return marker_score(in.prefix, {"\"event\"", "\"event_type\"", "\"resource_type\"", "\"occurred_at\""});
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        return whole_body(in, opt, sink, [&](const json& b, const std::string& raw) -> Status {
            if (!opt.secret.empty()) {
                if (auto st = verify(raw, opt); !st) return st;
            }
            auto ev = b.find("event");
            if (ev == b.end() || !ev->is_object()) return field_error("event", "missing or not an object");
            std::string type = str(*ev, "event_type");
            if (type.empty()) return field_error("event.event_type", "missing");
            static const char* k_types[] = {"incident.triggered", "incident.escalated", "incident.reopened",
                                            "incident.priority_updated", "incident.unacknowledged"};
            bool wanted = false;
            for (auto k : k_types) wanted = wanted || type == k;
            if (!wanted) {
                sink.skip("'" + type + "' is not an incident that needs triage");
                return {};
            }
            const json& data = core::object_member(*ev, "data");
            std::string incident = str(data, "id");
            if (incident.empty()) return field_error("event.data.id", "missing");
            auto t = alert_task("pagerduty");
            t.trigger.source_id = str(*ev, "id");
            if (auto ts = core::timeutil::normalize(str(*ev, "occurred_at"))) t.trigger.timestamp = *ts;
            std::string prio = core::text::lower(str_at(data, "/priority/summary"));
            std::string urgency = str(data, "urgency");
            t.context.priority = prio == "p1"                          ? core::Priority::critical
                                 : (prio == "p2" || urgency == "high") ? core::Priority::high
                                 : urgency == "low"                    ? core::Priority::low
                                                                       : core::Priority::normal;
            t.payload["eventType"] = type;
            t.payload["incidentId"] = incident;
            t.payload["number"] = data.value("number", json());
            t.payload["title"] = str(data, "title");
            t.payload["status"] = str(data, "status");
            t.payload["urgency"] = urgency;
            t.payload["priority"] = str_at(data, "/priority/summary");
            t.payload["service"] = str_at(data, "/service/summary");
            t.payload["url"] = str(data, "html_url");
            t.dedupe_key = core::signals::dedupe_key({"alert", "pagerduty", incident});
            core::signals::finish_task(t, opt);
            sink.task(std::move(t));
            return {};
        });
    }

private:
    // X-PagerDuty-Signature holds one or more "v1=<hex>" values separated by
    // commas while a secret is being rotated; any one may match.
    static Status verify(const std::string& raw, const IngestOptions& opt)
    {
        std::string header = core::signals::header(opt, "X-PagerDuty-Signature");
        if (header.empty()) return core::fail(Errc::unauthenticated, "missing X-PagerDuty-Signature header");
        std::string expected = "v1=" + core::crypto::hmac_sha256_hex(opt.secret, raw);
        bool ok = false;
        for (auto& sig : core::text::split(header, ','))
            ok = core::crypto::constant_time_equal(core::text::lower(core::text::trim(sig)), expected) || ok;
        if (!ok)
            return core::fail(Errc::unauthenticated, "X-PagerDuty-Signature does not match the body",
                              "check the webhook secret; the body must be passed byte for byte");
        return {};
    }
};

class CloudWatch final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "cloudwatch"; }
    std::string_view summary() const override { return "CloudWatch alarm state change delivered through SNS"; }

    int detect(const core::signals::DetectInput& in) const override
    {
        int s = marker_score(in.prefix, {"\"TopicArn\"", "\"Message\"", "\"Type\""});
        if (in.prefix.find("AlarmName") != std::string_view::npos) s += 40;
        if (in.headers && in.headers->count("x-amz-sns-message-type")) s += 50;
        return s;
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        return whole_body(in, opt, sink, [&](const json& b, const std::string&) -> Status {
            // A Lambda event carries SNS messages in Records[].Sns; an HTTP(S)
            // subscription posts the SNS message itself.
            if (auto recs = b.find("Records"); recs != b.end()) {
                if (!recs->is_array()) return field_error("Records", "expected a list");
                std::size_t i = 0;
                for (const auto& r : *recs) {
                    std::string field = "Records[" + std::to_string(i++) + "].Sns";
                    if (!r.is_object() || !r.contains("Sns")) return field_error(field, "missing");
                    if (auto st = notification(r["Sns"], field, opt, sink); !st) return st;
                }
                return {};
            }
            return notification(b, "", opt, sink);
        });
    }

private:
    static Status notification(const json& sns, const std::string& field, const IngestOptions& opt, Sink& sink)
    {
        auto name = [&](const char* k) { return field.empty() ? std::string(k) : field + "." + k; };
        std::string type = str(sns, "Type");
        if (type == "SubscriptionConfirmation") {
            sink.skip("SNS subscription confirmation: confirm it at " + str(sns, "SubscribeURL"));
            return {};
        }
        if (type != "Notification")
            return field_error(name("Type"), "expected an SNS Notification, got " +
                                                 (type.empty() ? std::string("none") : core::text::quote(type)));
        std::string message = str(sns, "Message");
        auto parsed = core::json_stream::parse_document(message, name("Message"));
        json alarm = parsed ? std::move(*parsed) : json();
        if (!alarm.is_object() || !alarm.contains("AlarmName"))
            return field_error(name("Message"), "not a CloudWatch alarm state change (no JSON with AlarmName)");
        std::string state = str(alarm, "NewStateValue");
        std::string alarm_name = str(alarm, "AlarmName");
        if (state != "ALARM") {
            sink.skip("alarm '" + alarm_name + "' is " + (state.empty() ? "in no state" : state));
            return {};
        }
        auto t = alert_task("cloudwatch");
        t.trigger.source_id = str(sns, "MessageId");
        if (auto ts = core::timeutil::normalize(str(alarm, "StateChangeTime"))) t.trigger.timestamp = *ts;
        std::string arn = str(alarm, "AlarmArn");
        t.context.resource = arn;
        t.payload["alarmName"] = alarm_name;
        t.payload["description"] = str(alarm, "AlarmDescription");
        t.payload["reason"] = str(alarm, "NewStateReason");
        t.payload["oldState"] = str(alarm, "OldStateValue");
        t.payload["region"] = str(alarm, "Region");
        t.payload["accountId"] = str(alarm, "AWSAccountId");
        t.payload["topicArn"] = str(sns, "TopicArn");
        if (alarm.contains("Trigger")) t.payload["trigger"] = alarm["Trigger"];
        t.dedupe_key = core::signals::dedupe_key({"alert", "cloudwatch", arn.empty() ? alarm_name : arn});
        core::signals::finish_task(t, opt);
        sink.task(std::move(t));
        return {};
    }
};

}  // namespace

std::unique_ptr<core::signals::SignalParser> make_alertmanager()
{
    return std::make_unique<Alertmanager>();
}
std::unique_ptr<core::signals::SignalParser> make_pagerduty()
{
    return std::make_unique<PagerDuty>();
}
std::unique_ptr<core::signals::SignalParser> make_cloudwatch()
{
    return std::make_unique<CloudWatch>();
}

}  // namespace infra::plugins::signals
