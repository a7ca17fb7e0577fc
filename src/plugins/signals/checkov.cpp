// Checkov `-o json` reports: one object per framework, or a list of them
// when several frameworks ran. Each failed check becomes one task.
#include "core/json_access.hpp"
#include "plugins/signals/common.hpp"
#include "plugins/signals/parsers.hpp"

namespace infra::plugins::signals {
namespace {

// check_result.result as the report writes it, or FAILED when it has none:
// what str_at(c, "/check_result/result", "FAILED") reads, without parsing
// the pointer for every check.
std::string result_of(const json& check)
{
    const json& v = core::member(core::member(check, "check_result"), "result");
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    return "FAILED";
}

class Checkov final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "checkov"; }
    std::string_view summary() const override { return "Checkov JSON report (-o json), one or several frameworks"; }

    int detect(const core::signals::DetectInput& in) const override
    {
        return marker_score(in.prefix, {"\"check_type\"", "\"results\"", "\"failed_checks\"", "\"checkov_version\""}) +
               (in.prefix.find("\"check_id\"") != std::string_view::npos ? 10 : 0);
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        core::json_stream::Selection sel{{"results.failed_checks.*", "*.results.failed_checks.*"},
                                         {"check_type", "*.check_type"}};
        // What to_task reads: a record's other members (code blocks, the
        // evaluated entity) are most of the report, and never built.
        sel.fields = {"check_id",  "check_result.result", "check_name",     "severity",
                      "resource",  "file_path",           "repo_file_path", "file_line_range",
                      "guideline", "entity_tags",         "bc_check_id",    "caller_file_path"};
        // A report has its framework, or (before checkov 2) its results
        // beside their summary; tfsec's report has 'results' alone.
        auto shape = [](const DocumentShape& s, std::size_t) -> Status {
            bool framework =
                has_any_key(s, {"check_type"}) || (has_any_key(s, {"results"}) && has_any_key(s, {"summary"}));
            bool ok = (s.root == json::value_t::object && (framework || has_any_key(s, {"checkov_version"}))) ||
                      (s.root == json::value_t::array && (s.keys.empty() || framework));
            if (!ok)
                return core::fail(Errc::invalid_input, "not a Checkov report: expected an object with 'check_type' and "
                                                       "'results', or a list of them");
            return {};
        };
        return core::signals::stream_records(in, sel, opt, sink, tasks_by(opt, to_task), shape);
    }

private:
    static Status to_task(const Record& r, const Context& ctx, const IngestOptions& opt, Sink& out)
    {
        const json& c = r.value;
        if (!c.is_object()) return field_error("failed_checks[]", "expected an object");
        Finding f;
        f.tool = "checkov";
        f.rule_id = core::signals::str(c, "check_id");
        if (f.rule_id.empty()) return field_error("check_id", "missing");
        std::string result = result_of(c);
        if (result != "FAILED") {
            out.skip(f.rule_id + ": result is " + result);
            return {};
        }
        f.title = core::signals::str(c, "check_name");
        f.severity = core::signals::str(c, "severity");
        f.resource = core::signals::str(c, "resource");
        // Both paths are relative (to the repository, and to the scan root)
        // but written with a leading "/".
        std::string path = core::signals::str(c, "repo_file_path", core::signals::str(c, "file_path"));
        if (opt.path_root.empty() && !path.empty() && path.front() == '/') path.erase(0, 1);
        f.file = core::signals::normalize_path(path, opt.path_root);
        if (auto range = c.find("file_line_range"); range != c.end() && range->is_array() && range->size() == 2) {
            f.start_line = line_of((*range)[0]);
            f.end_line = line_of((*range)[1]);
        }
        f.guideline = core::signals::str(c, "guideline");
        const json& framework = ctx.lookup(r.path.size() == 4 ? "*.check_type" : "check_type", r.path);
        if (framework.is_string()) f.framework = framework.get<std::string>();
        if (auto tags = c.find("entity_tags"); tags != c.end()) f.tags = tags_of(*tags);
        if (auto bc = core::signals::str(c, "bc_check_id"); !bc.empty()) f.extra["bcCheckId"] = bc;
        if (auto caller = core::signals::str(c, "caller_file_path"); !caller.empty())
            f.extra["callerFile"] = core::signals::normalize_path(caller, opt.path_root);
        out.task(core::signals::remediation_task(f, opt));
        return {};
    }
};

}  // namespace

std::unique_ptr<core::signals::SignalParser> make_checkov()
{
    return std::make_unique<Checkov>();
}

}  // namespace infra::plugins::signals
