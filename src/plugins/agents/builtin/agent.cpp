#include "plugins/agents/builtin/agent.hpp"
#include "core/json_access.hpp"

#include "core/agent/terraform_check.hpp"
#include "core/agent/tools.hpp"
#include "core/hcl/hcl.hpp"
#include "core/task.hpp"
#include "core/text.hpp"
#include "plugins/agents/builtin/checks.hpp"
#include "plugins/agents/builtin/drift.hpp"
#include "plugins/agents/builtin/module_io.hpp"

#include <filesystem>
#include <map>
#include <set>

namespace infra::plugins::agents {
namespace {

using core::agent::Outcome;
using core::agent::RunContext;
using core::agent::ToolBox;
using nlohmann::json;

std::string parent_dir(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

class Builtin final : public core::agent::Agent {
public:
    explicit Builtin(builtin::Fallback fallback) : m_fallback(std::move(fallback)) {}
    std::string name() const override { return "builtin"; }

    Outcome run(const RunContext& ctx) override
    {
        if (!ctx.workspace) return Outcome::failure("the builtin agent needs a workspace with the Terraform files");
        if (ctx.task.type == core::TaskType::drift_detection) return builtin::run_drift(ctx);
        // A group's findings are fixed in turn, each on what the previous left.
        std::vector<core::TaskFinding> findings = core::findings_of(ctx.task.payload);
        if (findings.empty()) findings.emplace_back();
        ToolBox tools(*ctx.workspace, ctx.decision, ctx.sandbox, ctx.events, ctx.task.id);
        tools.set_deadline(ctx.deadline);
        json report = json::array(), files = json::array(), notes = json::array();
        std::vector<std::string> fixed, failures;
        std::string last;  // the one finding's own summary
        for (const auto& finding : findings) {
            auto one = fix(ctx, tools, finding, findings.size() == 1);
            const std::string& rule = finding.canonical_rule_id;
            json entry = {{"key", finding.key},
                          {"check", rule},
                          {"resource", core::string_member(one.result, "resource", finding.resource)}};
            last = core::string_member(one.result, "summary");
            if (!one.ok) {
                if (one.retryable) return one;
                entry["state"] = "not-fixed";
                entry["reason"] = one.error;
                failures.push_back(rule + ": " + one.error);
            } else if (core::member(one.result, "changed") == true) {
                entry["state"] = "fixed";
                fixed.push_back(rule);
                for (const auto& f : core::member(one.result, "files"))
                    if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
                for (const auto& n : core::member(one.result, "notes")) notes.push_back(n);
            } else {
                entry["state"] = "already-passing";
            }
            if (one.result.contains("terraformFmt")) entry["terraformFmt"] = one.result["terraformFmt"];
            if (one.result.contains("fallback")) entry["fallback"] = one.result["fallback"];  // the llm agent worked it
            report.push_back(std::move(entry));
        }
        if (failures.size() == findings.size()) {
            std::string why = failures.size() == 1 ? failures.front().substr(failures.front().find(": ") + 2) : "";
            for (std::size_t i = 0; why.empty() && i < failures.size(); ++i) why += (i ? "; " : "") + failures[i];
            if (failures.size() > 1) why = "no finding of the group could be fixed: " + why;
            return Outcome::failure(why);
        }
        std::string resource = core::string_member(report[0], "resource");
        std::string summary = last;
        if (findings.size() > 1) {
            summary = fixed.empty() ? "Every finding already passes; nothing to change"
                                    : "Fixed " + std::to_string(fixed.size()) + " of " +
                                          std::to_string(findings.size()) + " findings (";
            for (std::size_t i = 0; i < fixed.size(); ++i) summary += (i ? ", " : "") + fixed[i];
            if (!fixed.empty()) summary += ")" + (resource.empty() ? std::string() : " on " + resource);
        }
        tools.call("finish", {{"summary", summary}});
        json result = {{"changed", !fixed.empty()}, {"findings", report}, {"summary", summary}};
        if (findings.size() == 1) {
            result["check"] = report[0]["check"];
            result["resource"] = resource;
        }
        if (!fixed.empty()) {
            result["files"] = files;
            result["notes"] = notes;
            result["diff"] = tools.diff();
        }
        for (const auto& e : report) {
            if (e.contains("terraformFmt")) result["terraformFmt"] = e["terraformFmt"];
            if (e.contains("fallback")) result["fallback"] = e["fallback"];
        }
        return {true, "", result, true};
    }

private:
    /// Applies the fix of one finding to the workspace, or leaves it as it
    /// was. A finding it has no fix for goes to the fallback agent when it is
    /// the task's only one (alone); in a group it is reported as not fixed.
    Outcome fix(const RunContext& ctx, ToolBox& tools, const core::TaskFinding& finding, bool alone)
    {
        auto no_fix = [&](const std::string& why) {
            return alone ? builtin::hand_over(m_fallback, ctx, why) : Outcome::failure(why);
        };
        const std::string& rule = finding.canonical_rule_id;
        const std::string& file = finding.file;
        std::string resource = !finding.resource.empty() ? finding.resource : ctx.task.context.resource;
        if (rule.empty()) return Outcome::failure("the task has no finding (payload.finding.canonicalRuleId) to fix");
        if (auto all = builtin::checks(); !all) return Outcome::failure(all.error().message + "; " + all.error().hint);
        const builtin::Check* check = builtin::find_check(rule);
        if (!check) return no_fix("the builtin agent has no fix for " + rule);
        if (resource.rfind("module.", 0) == 0)
            return Outcome::failure(resource + " is inside a module: fix the module's source, not this call");
        // Code-scanning and SARIF findings name a file and a line, not a resource.
        auto start_line = finding.start_line;
        if (resource.empty() && (file.empty() || start_line <= 0))
            return Outcome::failure("the finding names no Terraform resource (type.name), nor a file and line");

        // The module is every .tf file of the finding's directory.
        std::string dir = file.empty() ? "." : parent_dir(file);
        builtin::Module module;
        if (auto failed = builtin::read_module(tools, dir, module)) return *failed;
        if (resource.empty()) {
            auto f = module.files.find(file);
            if (f != module.files.end())
                for (const auto& b : f->second.body.blocks)
                    if (b.type == "resource" && b.line <= start_line && start_line <= b.end_line)
                        resource = b.address();
            if (resource.empty())
                return Outcome::failure("no resource block at " + file + ":" + std::to_string(start_line));
        }
        auto dot = resource.find('.');
        if (dot == std::string::npos) return Outcome::failure("the finding names no Terraform resource (type.name)");
        std::string type = resource.substr(0, dot), name = resource.substr(dot + 1);
        if (std::find(check->types.begin(), check->types.end(), type) == check->types.end())
            return no_fix(rule + " is not fixed on " + type + " resources by the builtin agent");
        auto [where, block] = module.find(type, name);
        if (!block) return Outcome::failure(resource + " is not in " + (dir == "." ? "the workspace root" : dir));
        std::string block_file = *where;
        if (!check->fails(module, block_file, *block))
            return {true,
                    "",
                    {{"changed", false},
                     {"check", rule},
                     {"resource", resource},
                     {"summary", resource + " already passes " + rule + "; nothing to change"}},
                    true};

        std::vector<std::string> others = core::other_resources(ctx.task.payload);
        std::set<std::string> elsewhere(others.begin(), others.end());
        builtin::FixContext fc{module, block_file, *block, {}, {}, &elsewhere, {}};
        check->fix(fc);
        if (!fc.left_alone.empty()) return Outcome::failure(fc.left_alone);
        // Variables the fix refers to are declared once, in variables.tf.
        std::string declarations;
        for (const auto& [var, decl] : fc.variables)
            if (!module.has_variable(var) && declarations.find("\"" + var + "\"") == std::string::npos)
                declarations += (declarations.empty() ? "" : "\n") + decl;

        // terraform fmt, in the sandbox, when terraform is installed: the fix
        // must not add formatting problems (a file may have had some already).
        bool use_fmt = ctx.sandbox && tools.allowed("run_command") && core::agent::terraform_installed();
        auto fmt_problems = [&](const std::vector<std::string>& files) -> long {
            std::vector<std::string> argv = {"terraform", "fmt", "-check", "-diff", "-no-color"};
            argv.insert(argv.end(), files.begin(), files.end());
            auto r = tools.call("run_command", {{"argv", argv}});
            if (!r.ok) return -1;
            long n = 0;
            std::string out = core::string_member(r.output, "stdout");
            for (std::size_t pos = 0; (pos = out.find("\n+", pos)) != std::string::npos; ++pos)
                if (out.compare(pos + 1, 3, "+++") != 0) ++n;
            return n;
        };
        std::vector<std::string> edited;
        for (const auto& [path, editor] : module.editors) edited.push_back(path);
        long fmt_before = use_fmt ? fmt_problems(edited) : -1;

        // A fix that fails after writing leaves the files as they were, for the group's next fix.
        std::map<std::string, std::string> before;
        auto undo = [&](std::string why) {
            for (const auto& [path, text] : before) tools.call("write_file", {{"path", path}, {"content", text}});
            return Outcome::failure(std::move(why));
        };
        auto remember = [&](const std::string& path) {
            auto r = tools.call("read_file", {{"path", path}});
            if (!before.count(path)) before[path] = r.ok ? r.output.get<std::string>() : "";
        };
        std::vector<std::string> changed;
        for (auto& [path, editor] : module.editors) {
            auto text = editor->apply(path);
            if (!text) return undo(text.error().message);
            remember(path);
            auto w = tools.call("write_file", {{"path", path}, {"content", *text}});
            if (!w.ok) return Outcome::failure("cannot write " + path + ": " + w.error, !w.refused);
            changed.push_back(path);
        }
        if (!declarations.empty()) {
            std::string vars = dir == "." ? "variables.tf" : dir + "/variables.tf";
            remember(vars);
            auto existing = tools.call("read_file", {{"path", vars}});
            std::string content = existing.ok ? existing.output.get<std::string>() : "";
            if (!content.empty() && content.back() != '\n') content += "\n";
            if (!content.empty()) content += "\n";
            auto w = tools.call("write_file", {{"path", vars}, {"content", content + declarations}});
            if (!w.ok) return Outcome::failure("cannot write " + vars + ": " + w.error, !w.refused);
            changed.push_back(vars);
        }

        // The detector checks the result again: the fix must make it pass.
        builtin::Module after;
        for (const auto& [path, f] : module.files) {
            auto read = tools.call("read_file", {{"path", path}});
            if (!read.ok) return undo("cannot read " + path + " back: " + read.error);
            auto parsed = core::hcl::parse(read.output.get<std::string>(), path);
            if (!parsed) return undo("the fix left " + path + " unparsable: " + parsed.error().message);
            after.files.emplace(path, std::move(*parsed));
        }
        auto [w2, fixed] = after.find(type, name);
        if (!fixed || check->fails(after, *w2, *fixed))
            return undo("the fix did not make " + resource + " pass " + rule);

        std::string fmt_state;
        if (use_fmt && fmt_before >= 0) {
            long fmt_after = fmt_problems(changed);
            if (fmt_after > fmt_before)
                return undo("terraform fmt -check rejects the fixed files (" + std::to_string(fmt_after - fmt_before) +
                            " more lines to reformat)");
            fmt_state = fmt_before == 0 ? "ok" : "ok (formatting that was already off is left as it was)";
        }
        std::string summary = "Fixed " + rule + " (" + check->title + ") on " + resource;
        json result = {{"changed", true},   {"check", rule},        {"resource", resource}, {"files", changed},
                       {"notes", fc.notes}, {"diff", tools.diff()}, {"summary", summary}};
        if (!fmt_state.empty()) result["terraformFmt"] = fmt_state;
        return {true, "", result, true};
    }

private:
    builtin::Fallback m_fallback;
};

}  // namespace

std::shared_ptr<core::agent::Agent> make_builtin(builtin::Fallback fallback)
{
    return std::make_shared<Builtin>(std::move(fallback));
}

}  // namespace infra::plugins::agents
