// Trivy `config -f json` reports (SchemaVersion 2): each failed
// misconfiguration becomes one task. Both id forms (AVD-AWS-0089 before
// trivy-checks v2, AWS-0089 after) map to the same canonical rule.
#include "plugins/signals/common.hpp"
#include "plugins/signals/parsers.hpp"

namespace infra::plugins::signals {
namespace {

class Trivy final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "trivy"; }
    std::string_view summary() const override { return "Trivy JSON report (misconfigurations, SchemaVersion 2)"; }

    int detect(const core::signals::DetectInput& in) const override
    {
        return marker_score(in.prefix, {"\"SchemaVersion\"", "\"Results\"", "\"ArtifactName\""});
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        core::json_stream::Selection sel{{"Results.*.Misconfigurations.*"},
                                         {"Results.*.Target", "Results.*.Type", "SchemaVersion"}};
        auto shape = [](const DocumentShape& s, std::size_t) -> Status {
            bool ok = false;
            for (const auto& k : s.keys) ok = ok || k == "SchemaVersion" || k == "Results";
            if (s.root != json::value_t::object || !ok)
                return core::fail(Errc::invalid_input,
                                  "not a Trivy report: expected an object with 'SchemaVersion' and 'Results'");
            return {};
        };
        auto record = [&opt](Record&& r, const Context& ctx, Sink& out) -> Status {
            const json& m = r.value;
            if (!m.is_object()) return field_error("Misconfigurations[]", "expected an object");
            Finding f;
            f.tool = "trivy";
            f.rule_id = str(m, "ID", str(m, "AVDID"));
            if (f.rule_id.empty()) return field_error("ID", "missing");
            std::string status = str(m, "Status", "FAIL");
            if (status != "FAIL") {
                out.skip(f.rule_id + ": status is " + status);
                return {};
            }
            f.title = str(m, "Title");
            f.message = str(m, "Message", str(m, "Description"));
            f.severity = str(m, "Severity");
            f.guideline = str(m, "PrimaryURL");
            f.resource = str_at(m, "/CauseMetadata/Resource");
            if (auto cm = m.find("CauseMetadata"); cm != m.end() && cm->is_object()) {
                if (auto v = cm->find("StartLine"); v != cm->end()) f.start_line = line_of(*v);
                if (auto v = cm->find("EndLine"); v != cm->end()) f.end_line = line_of(*v);
            }
            const json& target = ctx.lookup("Results.*.Target", r.path);
            if (target.is_string()) f.file = core::signals::normalize_path(target.get<std::string>(), opt.path_root);
            const json& type = ctx.lookup("Results.*.Type", r.path);
            if (type.is_string()) f.framework = type.get<std::string>();
            if (auto res = str(m, "Resolution"); !res.empty()) f.extra["resolution"] = res;
            out.task(core::signals::remediation_task(f, opt));
            return {};
        };
        return core::signals::stream_records(in, sel, opt, sink, record, shape);
    }
};

class Tfsec final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "tfsec"; }
    std::string_view summary() const override { return "tfsec JSON report (--format json)"; }

    int detect(const core::signals::DetectInput& in) const override
    {
        return marker_score(in.prefix, {"\"results\"", "\"rule_id\"", "\"long_id\"", "\"rule_provider\""});
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        core::json_stream::Selection sel{{"results.*"}, {}};
        auto shape = [](const DocumentShape& s, std::size_t) -> Status {
            bool ok = false;
            for (const auto& k : s.keys) ok = ok || k == "results";
            if (s.root != json::value_t::object || !ok)
                return core::fail(Errc::invalid_input, "not a tfsec report: expected an object with 'results'");
            return {};
        };
        auto record = [&opt](Record&& r, const Context&, Sink& out) -> Status {
            const json& m = r.value;
            if (!m.is_object()) return field_error("results[]", "expected an object");
            Finding f;
            f.tool = "tfsec";
            f.rule_id = str(m, "rule_id", str(m, "long_id"));
            if (f.rule_id.empty()) return field_error("rule_id", "missing");
            // tfsec's status: 0 failed, 1 passed, 2 ignored.
            if (auto st = m.find("status"); st != m.end() && st->is_number() && st->get<int>() != 0) {
                out.skip(f.rule_id + ": not failed");
                return {};
            }
            f.title = str(m, "rule_description");
            f.message = str(m, "description");
            f.severity = str(m, "severity");
            f.resource = str(m, "resource");
            f.file = core::signals::normalize_path(str_at(m, "/location/filename"), opt.path_root);
            if (auto loc = m.find("location"); loc != m.end() && loc->is_object()) {
                if (auto v = loc->find("start_line"); v != loc->end()) f.start_line = line_of(*v);
                if (auto v = loc->find("end_line"); v != loc->end()) f.end_line = line_of(*v);
            }
            if (auto links = m.find("links");
                links != m.end() && links->is_array() && !links->empty() && (*links)[0].is_string())
                f.guideline = (*links)[0].get<std::string>();
            if (auto lid = str(m, "long_id"); !lid.empty()) f.extra["longId"] = lid;
            if (auto res = str(m, "resolution"); !res.empty()) f.extra["resolution"] = res;
            f.framework = "terraform";
            out.task(core::signals::remediation_task(f, opt));
            return {};
        };
        return core::signals::stream_records(in, sel, opt, sink, record, shape);
    }
};

}  // namespace

std::unique_ptr<core::signals::SignalParser> make_trivy()
{
    return std::make_unique<Trivy>();
}
std::unique_ptr<core::signals::SignalParser> make_tfsec()
{
    return std::make_unique<Tfsec>();
}

}  // namespace infra::plugins::signals
