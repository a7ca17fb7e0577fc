// SARIF 2.1.0 from any tool. Results of kind "fail" (the default) become
// tasks; suppressed, absent (fixed) and passing results are skipped.
#include "core/scanner_rules.hpp"
#include "core/text.hpp"
#include "plugins/signals/common.hpp"
#include "plugins/signals/parsers.hpp"

namespace infra::plugins::signals {
namespace {

std::string percent_decode(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// A SARIF rule's "security-severity" (a CVSS-like score as a string).
std::string severity_from_score(const json& v)
{
    double score = 0;
    if (v.is_number()) score = v.get<double>();
    else if (v.is_string()) {
        try {
            score = std::stod(v.get<std::string>());
        } catch (...) {
            return {};
        }
    } else {
        return {};
    }
    if (score >= 9.0) return "critical";
    if (score >= 7.0) return "high";
    if (score >= 4.0) return "medium";
    if (score > 0.0) return "low";
    return "info";
}

const json* find_rule(const json& tool, const json& result, const std::string& rule_id)
{
    const json* rules = nullptr;
    if (tool.is_object()) {
        auto d = tool.find("driver");
        if (d != tool.end() && d->is_object()) {
            auto r = d->find("rules");
            if (r != d->end() && r->is_array()) rules = &*r;
        }
    }
    if (!rules) return nullptr;
    if (auto idx = result.find("ruleIndex"); idx != result.end() && idx->is_number_integer()) {
        auto i = idx->get<long long>();
        if (i >= 0 && static_cast<std::size_t>(i) < rules->size()) return &(*rules)[static_cast<std::size_t>(i)];
    }
    for (const auto& r : *rules) {
        if (!r.is_object()) continue;
        auto id = r.find("id");
        if (id != r.end() && id->is_string() && id->get_ref<const std::string&>() == rule_id) return &r;
    }
    return nullptr;
}

class Sarif final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "sarif"; }
    std::string_view summary() const override { return "SARIF 2.1.0 from any tool (code scanning format)"; }

    int detect(const core::signals::DetectInput& in) const override
    {
        int s = marker_score(in.prefix, {"\"runs\"", "\"version\"", "\"results\""});
        if (in.prefix.find("sarif") != std::string_view::npos) s += 40;
        return s;
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        core::json_stream::Selection sel{{"runs.*.results.*"}, {"runs.*.tool", "version"}};
        auto shape = [](const DocumentShape& s, std::size_t) -> Status {
            bool has_runs = false;
            for (const auto& k : s.keys) has_runs = has_runs || k == "runs";
            if (s.root != json::value_t::object || !has_runs)
                return core::fail(Errc::invalid_input, "not a SARIF log: expected an object with 'runs'");
            return {};
        };
        return core::signals::stream_records(in, sel, opt, sink, tasks_by(opt, to_task), shape);
    }

private:
    static Status to_task(const Record& r, const Context& ctx, const IngestOptions& opt, Sink& out)
    {
        const json& res = r.value;
        if (!res.is_object()) return field_error("results[]", "expected an object");
        const json& version = ctx.lookup("version", r.path);
        if (version.is_string() && version.get<std::string>() != "2.1.0")
            return field_error("version", "expected SARIF 2.1.0, got " + core::text::quote(version.get<std::string>()));
        const json& tool = ctx.lookup("runs.*.tool", r.path);

        Finding f;
        f.tool = core::text::lower(str_at(tool, "/driver/name", "sarif"));
        f.rule_id = str(res, "ruleId", str_at(res, "/rule/id"));
        const json* rule = find_rule(tool, res, f.rule_id);
        if (f.rule_id.empty() && rule) f.rule_id = str(*rule, "id");
        if (f.rule_id.empty()) return field_error("ruleId", "missing (and no rule at ruleIndex)");

        std::string kind = str(res, "kind", "fail");
        if (kind != "fail") {
            out.skip(f.rule_id + ": kind is " + kind);
            return {};
        }
        if (str(res, "baselineState") == "absent") {
            out.skip(f.rule_id + ": absent from this run (fixed)");
            return {};
        }
        if (auto sup = res.find("suppressions"); sup != res.end() && sup->is_array()) {
            for (const auto& s : *sup) {
                std::string status = str(s, "status", "accepted");
                if (status == "accepted") {
                    out.skip(f.rule_id + ": suppressed");
                    return {};
                }
            }
        }

        f.message = str_at(res, "/message/text");
        std::string level = str(res, "level");
        if (rule) {
            f.title = str_at(*rule, "/shortDescription/text", str(*rule, "name"));
            f.guideline = str(*rule, "helpUri");
            if (auto props = rule->find("properties"); props != rule->end() && props->is_object())
                if (auto ss = props->find("security-severity"); ss != props->end())
                    f.severity = severity_from_score(*ss);
            if (level.empty()) level = str_at(*rule, "/defaultConfiguration/level");
        }
        if (f.severity.empty() && !core::scanner_rules::find(f.rule_id)) {
            // A level is a coarse severity (Checkov says "error" for every
            // check); the catalogue's severity is better when it knows the rule.
            if (level.empty()) level = "warning";  // SARIF's default level
            f.severity = level == "none" ? "info" : level;
        }

        if (auto locs = res.find("locations"); locs != res.end() && locs->is_array() && !locs->empty()) {
            const json& loc = (*locs)[0];
            std::string uri = str_at(loc, "/physicalLocation/artifactLocation/uri");
            if (uri.rfind("file://", 0) == 0) uri = uri.substr(7);
            f.file = core::signals::normalize_path(percent_decode(uri), opt.path_root);
            if (auto sl = loc.find("physicalLocation"); sl != loc.end() && sl->is_object()) {
                if (auto region = sl->find("region"); region != sl->end() && region->is_object()) {
                    if (auto v = region->find("startLine"); v != region->end()) f.start_line = line_of(*v);
                    if (auto v = region->find("endLine"); v != region->end()) f.end_line = line_of(*v);
                }
            }
            if (auto ll = loc.find("logicalLocations"); ll != loc.end() && ll->is_array() && !ll->empty())
                f.resource = str((*ll)[0], "fullyQualifiedName", str((*ll)[0], "name"));
        }
        f.source_id = str(res, "guid");
        f.extra["format"] = "sarif";
        out.task(core::signals::remediation_task(f, opt));
        return {};
    }
};

}  // namespace

std::unique_ptr<core::signals::SignalParser> make_sarif()
{
    return std::make_unique<Sarif>();
}

}  // namespace infra::plugins::signals
