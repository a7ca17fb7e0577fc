// Prowler OCSF JSON (Detection Finding, class_uid 2004): a JSON array of
// findings, or one finding per line. FAIL findings become tasks; PASS and
// MANUAL are skipped.
#include "plugins/signals/common.hpp"
#include "plugins/signals/parsers.hpp"

namespace infra::plugins::signals {
namespace {

class Prowler final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "prowler"; }
    std::string_view summary() const override { return "Prowler OCSF JSON (detection findings)"; }

    int detect(const core::signals::DetectInput& in) const override
    {
        return marker_score(in.prefix, {"\"class_uid\"", "\"finding_info\"", "\"status_code\"", "\"event_code\""});
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        core::json_stream::Selection sel{{"", "*"}, {}};
        auto shape = [](const DocumentShape& s, std::size_t) -> Status {
            if (s.root != json::value_t::object && s.root != json::value_t::array)
                return core::fail(Errc::invalid_input,
                                  "not a Prowler OCSF report: expected a finding or a list of them");
            return {};
        };
        auto record = [&opt](Record&& r, const Context&, Sink& out) -> Status {
            const json& m = r.value;
            if (!m.is_object()) return field_error("finding", "expected an object");
            if (!m.contains("metadata") && !m.contains("class_uid") && !m.contains("finding_info"))
                return core::fail(Errc::invalid_input, "not a Prowler OCSF report: expected findings, objects with "
                                                       "'metadata', 'status_code' and 'finding_info'");
            auto cls = m.find("class_uid");
            if (cls != m.end() && cls->is_number() && cls->get<int>() != 2004)
                return field_error("class_uid", "expected 2004 (Detection Finding), got " + cls->dump());
            Finding f;
            f.tool = "prowler";
            f.rule_id = str_at(m, "/metadata/event_code");
            if (f.rule_id.empty()) return field_error("metadata.event_code", "missing");
            std::string status = str(m, "status_code");
            if (status.empty()) return field_error("status_code", "missing");
            if (status != "FAIL") {
                out.skip(f.rule_id + ": status is " + status);
                return {};
            }
            f.title = str_at(m, "/finding_info/title");
            f.message = str(m, "status_detail", str(m, "message"));
            f.severity = str(m, "severity");
            f.guideline = str_at(m, "/unmapped/related_url");
            f.source_id = str_at(m, "/finding_info/uid");
            f.timestamp = str_at(m, "/finding_info/created_time_dt");
            std::string provider = str_at(m, "/cloud/provider");
            f.framework = provider.empty() ? "cloud" : "cloud:" + provider;
            if (auto res = m.find("resources"); res != m.end() && res->is_array() && !res->empty()) {
                const json& r0 = (*res)[0];
                f.resource = str(r0, "uid", str(r0, "name"));
                if (auto region = str(r0, "region"); !region.empty()) f.extra["region"] = region;
                if (auto t = r0.find("labels"); t != r0.end()) f.tags = tags_of(*t);
                const json* tags = nullptr;
                if (auto d = r0.find("data"); d != r0.end() && d->is_object())
                    if (auto md = d->find("metadata"); md != d->end() && md->is_object())
                        if (auto tg = md->find("tags"); tg != md->end()) tags = &*tg;
                if (tags)
                    for (auto& [k, v] : tags_of(*tags)) f.tags[k] = v;
            }
            if (auto acct = str_at(m, "/cloud/account/uid"); !acct.empty()) f.extra["account"] = acct;
            if (auto rem = str_at(m, "/remediation/desc"); !rem.empty()) f.extra["resolution"] = rem;
            if (auto comp = m.find("unmapped"); comp != m.end() && comp->is_object()) {
                auto c = comp->find("compliance");
                if (c != comp->end() && c->is_object() && !c->empty()) f.extra["compliance"] = *c;
            }
            out.task(core::signals::remediation_task(f, opt));
            return {};
        };
        return core::signals::stream_records(in, sel, opt, sink, record, shape);
    }
};

}  // namespace

std::unique_ptr<core::signals::SignalParser> make_prowler()
{
    return std::make_unique<Prowler>();
}

}  // namespace infra::plugins::signals
