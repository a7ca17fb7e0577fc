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
#include <optional>
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

/// What one finding is about: the check that fixes it, and the resource
/// block in its module (every .tf file of the finding's directory).
struct Target {
    std::string rule;
    const builtin::Check* check = nullptr;
    std::string dir;  ///< the module's directory, "." for the workspace root
    builtin::Module module;
    std::string resource;  ///< type.name
    std::string type;
    std::string name;
    std::string file;  ///< the file of the block
    const core::hcl::Block* block = nullptr;
};

/// The address of the resource block around a file's line, or "".
std::string resource_at(const builtin::Module& module, const std::string& file, std::int64_t line)
{
    std::string address;
    auto f = module.files.find(file);
    if (f != module.files.end())
        for (const auto& b : f->second.body.blocks)
            if (b.type == "resource" && b.line <= line && line <= b.end_line) address = b.address();
    return address;
}

/// Reads the finding's module into t and finds the resource it names (or
/// the one at its file and line) as t's resource, type and name; nothing
/// on success, else why not.
std::optional<Outcome> locate(const RunContext& ctx, ToolBox& tools, const core::TaskFinding& finding, Target& t)
{
    const std::string& file = finding.file;
    t.resource = !finding.resource.empty() ? finding.resource : ctx.task.context.resource;
    if (t.resource.rfind("module.", 0) == 0)
        return Outcome::failure(t.resource + " is inside a module: fix the module's source, not this call");
    // Code-scanning and SARIF findings name a file and a line, not a resource.
    auto start_line = finding.start_line;
    if (t.resource.empty() && (file.empty() || start_line <= 0))
        return Outcome::failure("the finding names no Terraform resource (type.name), nor a file and line");

    t.dir = file.empty() ? "." : parent_dir(file);
    if (auto failed = builtin::read_module(tools, t.dir, t.module)) return *failed;
    if (t.resource.empty()) {
        t.resource = resource_at(t.module, file, start_line);
        if (t.resource.empty())
            return Outcome::failure("no resource block at " + file + ":" + std::to_string(start_line));
    }
    auto dot = t.resource.find('.');
    if (dot == std::string::npos) return Outcome::failure("the finding names no Terraform resource (type.name)");
    t.type = t.resource.substr(0, dot);
    t.name = t.resource.substr(dot + 1);
    return std::nullopt;
}

Outcome already_passing(const Target& t)
{
    return {true,
            "",
            {{"changed", false},
             {"check", t.rule},
             {"resource", t.resource},
             {"summary", t.resource + " already passes " + t.rule + "; nothing to change"}},
            true};
}

/// The declarations of the variables a fix refers to that the module does
/// not declare yet, each once.
std::string missing_declarations(const builtin::Module& module,
                                 const std::vector<std::pair<std::string, std::string>>& variables)
{
    std::string declarations;
    for (const auto& [var, decl] : variables)
        if (!module.has_variable(var) && declarations.find("\"" + var + "\"") == std::string::npos)
            declarations += (declarations.empty() ? "" : "\n") + decl;
    return declarations;
}

/// terraform fmt, in the sandbox, when terraform is installed: the fix
/// must not add formatting problems (a file may have had some already).
class FmtCheck {
public:
    /// Counts the problems of the module's edited files before the fix is written.
    FmtCheck(const RunContext& ctx, ToolBox& tools, const builtin::Module& module)
        : m_tools(tools), m_used(ctx.sandbox && tools.allowed("run_command") && core::agent::terraform_installed())
    {
        std::vector<std::string> edited;
        for (const auto& [path, editor] : module.editors) edited.push_back(path);
        m_before = m_used ? problems(edited) : -1;
    }

    /// Why the changed files need more reformatting than before, if they do.
    std::optional<std::string> worse(const std::vector<std::string>& changed)
    {
        if (!m_used || m_before < 0) return std::nullopt;
        long after = problems(changed);
        if (after > m_before)
            return "terraform fmt -check rejects the fixed files (" + std::to_string(after - m_before) +
                   " more lines to reformat)";
        m_state = m_before == 0 ? "ok" : "ok (formatting that was already off is left as it was)";
        return std::nullopt;
    }

    /// What the check found for the report; "" when it did not run.
    const std::string& state() const { return m_state; }

private:
    /// The lines terraform fmt would add to the files, or -1 when it could not run.
    long problems(const std::vector<std::string>& files)
    {
        std::vector<std::string> argv = {"terraform", "fmt", "-check", "-diff", "-no-color"};
        argv.insert(argv.end(), files.begin(), files.end());
        auto r = m_tools.call("run_command", {{"argv", argv}});
        if (!r.ok) return -1;
        long n = 0;
        std::string out = core::string_member(r.output, "stdout");
        for (std::size_t pos = 0; (pos = out.find("\n+", pos)) != std::string::npos; ++pos)
            if (out.compare(pos + 1, 3, "+++") != 0) ++n;
        return n;
    }

    ToolBox& m_tools;
    bool m_used;
    long m_before = -1;
    std::string m_state;
};

/// Writes a fix's files through the tools and keeps what they held before,
/// so that a fix that fails after writing leaves the files as they were,
/// for the group's next fix.
class FixWriter {
public:
    explicit FixWriter(ToolBox& tools) : m_tools(tools) {}

    /// Writes each file the module's editors changed; nothing on success, else why not.
    std::optional<Outcome> write_edits(builtin::Module& module)
    {
        for (auto& [path, editor] : module.editors) {
            auto text = editor->apply(path);
            if (!text) return undo(text.error().message);
            remember(path);
            auto w = m_tools.call("write_file", {{"path", path}, {"content", *text}});
            if (!w.ok) return Outcome::failure("cannot write " + path + ": " + w.error, !w.refused);
            m_changed.push_back(path);
        }
        return std::nullopt;
    }

    /// Variables the fix refers to are declared once, in the module's
    /// variables.tf; nothing on success, else why not.
    std::optional<Outcome> add_declarations(const std::string& dir, const std::string& declarations)
    {
        if (declarations.empty()) return std::nullopt;
        std::string vars = dir == "." ? "variables.tf" : dir + "/variables.tf";
        remember(vars);
        auto existing = m_tools.call("read_file", {{"path", vars}});
        std::string content = existing.ok ? existing.output.get<std::string>() : "";
        if (!content.empty() && content.back() != '\n') content += "\n";
        if (!content.empty()) content += "\n";
        auto w = m_tools.call("write_file", {{"path", vars}, {"content", content + declarations}});
        if (!w.ok) return Outcome::failure("cannot write " + vars + ": " + w.error, !w.refused);
        m_changed.push_back(vars);
        return std::nullopt;
    }

    /// Writes back what the written files held before; a failure saying why.
    Outcome undo(std::string why)
    {
        for (const auto& [path, text] : m_before) m_tools.call("write_file", {{"path", path}, {"content", text}});
        return Outcome::failure(std::move(why));
    }

    const std::vector<std::string>& changed() const { return m_changed; }

private:
    void remember(const std::string& path)
    {
        auto r = m_tools.call("read_file", {{"path", path}});
        if (!m_before.count(path)) m_before[path] = r.ok ? r.output.get<std::string>() : "";
    }

    ToolBox& m_tools;
    std::map<std::string, std::string> m_before;
    std::vector<std::string> m_changed;
};

/// The detector checks the result again: why the written module does not
/// make the resource pass, if it does not.
std::optional<std::string> recheck(ToolBox& tools, const Target& t)
{
    builtin::Module after;
    for (const auto& [path, f] : t.module.files) {
        auto read = tools.call("read_file", {{"path", path}});
        if (!read.ok) return "cannot read " + path + " back: " + read.error;
        auto parsed = core::hcl::parse(read.output.get<std::string>(), path);
        if (!parsed) return "the fix left " + path + " unparsable: " + parsed.error().message;
        after.files.emplace(path, std::move(*parsed));
    }
    auto [file, fixed] = after.find(t.type, t.name);
    if (!fixed || t.check->fails(after, *file, *fixed)) return "the fix did not make " + t.resource + " pass " + t.rule;
    return std::nullopt;
}

/// Applies the check's fix to the block, writes it and checks it again.
Outcome apply_fix(const RunContext& ctx, ToolBox& tools, Target& t)
{
    std::vector<std::string> others = core::other_resources(ctx.task.payload);
    std::set<std::string> elsewhere(others.begin(), others.end());
    builtin::FixContext fc{t.module, t.file, *t.block, {}, {}, &elsewhere, {}};
    t.check->fix(fc);
    if (!fc.left_alone.empty()) return Outcome::failure(fc.left_alone);
    std::string declarations = missing_declarations(t.module, fc.variables);

    FmtCheck fmt(ctx, tools, t.module);
    FixWriter writer(tools);
    if (auto failed = writer.write_edits(t.module)) return *failed;
    if (auto failed = writer.add_declarations(t.dir, declarations)) return *failed;
    if (auto why = recheck(tools, t)) return writer.undo(*why);
    if (auto why = fmt.worse(writer.changed())) return writer.undo(*why);

    std::string summary = "Fixed " + t.rule + " (" + t.check->title + ") on " + t.resource;
    json result = {{"changed", true},   {"check", t.rule},      {"resource", t.resource}, {"files", writer.changed()},
                   {"notes", fc.notes}, {"diff", tools.diff()}, {"summary", summary}};
    if (!fmt.state().empty()) result["terraformFmt"] = fmt.state();
    return {true, "", result, true};
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
        Target t;
        t.rule = finding.canonical_rule_id;
        if (t.rule.empty()) return Outcome::failure("the task has no finding (payload.finding.canonicalRuleId) to fix");
        if (auto all = builtin::checks(); !all) return Outcome::failure(all.error().message + "; " + all.error().hint);
        t.check = builtin::find_check(t.rule);
        if (!t.check) return no_fix("the builtin agent has no fix for " + t.rule);
        if (auto failed = locate(ctx, tools, finding, t)) return *failed;
        if (std::find(t.check->types.begin(), t.check->types.end(), t.type) == t.check->types.end())
            return no_fix(t.rule + " is not fixed on " + t.type + " resources by the builtin agent");
        auto [where, block] = t.module.find(t.type, t.name);
        if (!block) return Outcome::failure(t.resource + " is not in " + (t.dir == "." ? "the workspace root" : t.dir));
        t.file = *where;
        t.block = block;
        if (!t.check->fails(t.module, t.file, *t.block)) return already_passing(t);
        return apply_fix(ctx, tools, t);
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
