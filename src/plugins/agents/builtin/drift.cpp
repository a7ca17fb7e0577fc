#include "plugins/agents/builtin/drift.hpp"

#include "core/agent/tools.hpp"
#include "core/hcl/hcl.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "plugins/agents/builtin/checks.hpp"
#include "plugins/agents/builtin/literal.hpp"
#include "plugins/agents/builtin/module_io.hpp"

namespace infra::plugins::agents::builtin {
namespace {

using core::agent::Outcome;
using core::agent::ToolBox;
using nlohmann::json;

/// One drifted attribute (or resource) and what became of it.
struct Item {
    std::string address, attribute;
    json old_value, new_value;
    bool sensitive = false;
    bool codified = false;
    std::string reason;  ///< why it was not codified
};

std::string shown(const Item& i, const json& v)
{
    if (i.sensitive) return "(sensitive)";
    std::string s = hcl_literal(v);
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : c == '`' ? std::string("'") : std::string(1, c);
    return "`" + out + "`";
}

/// Why a resource as a whole is not codified, by its kind.
std::string resource_reason(const std::string& kind)
{
    if (kind == "deleted")
        return "deleted outside Terraform: remove its block to accept that, or revert the drift to create it again";
    if (kind == "not-in-state")
        return "in the code and not in the state: deleted outside Terraform, or never applied; the next apply creates "
               "it";
    if (kind == "not-in-code") return "in the state and not in the code: the next apply destroys it";
    return "terraform reports it as " + kind;
}

/// Decides each drifted attribute of one resource; edits literals (codify).
void judge(const json& resource, Module& module, const std::string& root_name, bool edit, std::vector<Item>& out)
{
    std::string address = core::string_member(resource, "address");
    std::string kind = core::string_member(resource, "kind");
    if (kind != "changed") {
        out.push_back({address, "", {}, {}, false, false, resource_reason(kind)});
        return;
    }
    std::string why;
    const core::hcl::Block* block = nullptr;
    std::string file;
    auto dot = address.find('.');
    if (address.rfind("module.", 0) == 0) why = "inside a module call: its values come from the module's inputs";
    else if (address.find('[') != std::string::npos)
        why = "one instance of a count or for_each: its block serves every instance";
    else if (dot == std::string::npos || address.rfind("data.", 0) == 0) why = "not a managed resource";
    else {
        auto [where, found] = module.find(address.substr(0, dot), address.substr(dot + 1));
        block = found;
        if (where) file = *where;
        if (!block) why = "no resource block for it in " + (root_name == "." ? std::string("the root") : root_name);
    }
    for (const auto& a : core::array_member(resource, "attributes")) {
        Item it{address,
                core::string_member(a, "name"),
                core::member(a, "old"),
                core::member(a, "new"),
                core::bool_member(a, "sensitive"),
                false,
                why};
        if (it.sensitive && it.reason.empty()) it.reason = "sensitive: its value is not shown; set it where it is kept";
        if (!it.reason.empty()) {
            out.push_back(std::move(it));
            continue;
        }
        const std::string& text = module.files.at(file).text;
        const core::hcl::Attribute* attr = block->attribute(it.attribute);
        if (!attr) {
            it.reason = block->block(it.attribute)
                            ? "a nested block: not edited"
                            : "not set in the code: left to its default, or computed by the provider";
        } else if (auto literal = literal_value(attr->expr(text)); !literal) {
            std::string expr(core::text::trim(attr->expr(text)));
            if (expr.size() > 60) expr = expr.substr(0, 57) + "...";
            it.reason = "set from an expression (`" + expr + "`): change the value where it comes from";
        } else {
            it.codified = true;
            if (edit && !same_value(*literal, it.new_value))
                module.editor(file).set(*block, it.attribute, hcl_literal(it.new_value));
        }
        out.push_back(std::move(it));
    }
}

std::string details(const std::string& root, const std::string& mode, const std::vector<Item>& items)
{
    std::string out = "## Drift in `" + root + "`\n\n| resource | attribute | old | new (live) | " + mode +
                      " |\n| --- | --- | --- | --- | --- |\n";
    std::string reasons;
    for (const auto& i : items) {
        std::string done = mode == "codify"   ? (i.codified ? "codified" : "not codified")
                           : mode == "revert" ? "reverted by the plan"
                                              : "reported";
        out += "| `" + i.address + "` | " + (i.attribute.empty() ? "(the resource)" : "`" + i.attribute + "`") + " | " +
               (i.attribute.empty() ? "" : shown(i, i.old_value)) + " | " +
               (i.attribute.empty() ? "" : shown(i, i.new_value)) + " | " + done + " |\n";
        if (!i.codified && mode == "codify")
            reasons += "- `" + i.address + "`" + (i.attribute.empty() ? "" : " `" + i.attribute + "`") + ": " +
                       i.reason + "\n";
    }
    if (!reasons.empty()) out += "\n### Not codified\n\n" + reasons;
    return out;
}

}  // namespace

Outcome run_drift(const core::agent::RunContext& ctx)
{
    const json& payload = ctx.task.payload;
    std::string root = core::root_of(payload);
    if (root.empty()) root = ".";
    const json& resources = core::array_member(payload, "resources");
    std::string mode = ctx.decision.drift_mode.value_or("codify");
    int tier = ctx.decision.tier;
    if (resources.empty())
        return Outcome::failure("the drift task of " + root +
                                " lists no drifted resources (payload.resources): scan the root "
                                "again with infra-agent drift --enqueue");
    if (mode == "revert" && tier != 4)
        return Outcome::failure(
            "drift.mode revert applies a reviewed plan, which needs tier 4 (production with approval "
            "gates), and policy grants tier " +
            std::to_string(tier) +
            ": give the rule tier 4 and "
            "requiredApprovals, or use codify");

    ToolBox tools(*ctx.workspace, ctx.decision, ctx.sandbox, ctx.events, ctx.task.id);
    tools.set_deadline(ctx.deadline);
    Module module;
    if (auto failed = read_module(tools, root, module)) return *failed;

    std::vector<Item> items;
    for (const auto& r : resources) judge(r, module, root, mode == "codify", items);
    std::vector<std::string> changed;
    for (auto& [path, editor] : module.editors) {
        auto text = editor->apply(path);
        if (!text) return Outcome::failure(text.error().message);
        auto w = tools.call("write_file", {{"path", path}, {"content", *text}});
        if (!w.ok) return Outcome::failure("cannot write " + path + ": " + w.error, !w.refused);
        changed.push_back(path);
    }
    json codified = json::array(), left = json::array();
    for (const auto& i : items) {
        json j = {{"address", i.address}};
        if (!i.attribute.empty()) j["attribute"] = i.attribute;
        if (!i.sensitive && !i.attribute.empty()) {
            j["old"] = i.old_value;
            j["new"] = i.new_value;
        }
        if (i.sensitive) j["sensitive"] = true;
        if (i.codified && mode == "codify") codified.push_back(std::move(j));
        else {
            if (mode == "codify") j["reason"] = i.reason;
            left.push_back(std::move(j));
        }
    }
    std::string where = root == "." ? "the root" : root;
    std::string summary =
        mode == "codify" ? "Codify drift in " + where + ": " + std::to_string(codified.size()) + " of " +
                               std::to_string(items.size()) + " drifted values written into the code"
        : mode == "revert"
            ? "Revert drift in " + where + ": the saved plan puts " + std::to_string(resources.size()) +
                  " resources back as the code says, once approved (infra-agent apply " + ctx.task.id + ")"
            : "Drift in " + where + ": " + std::to_string(items.size()) +
                  " drifted values, reported (drift.mode report)";
    tools.call("finish", {{"summary", summary}});
    json result = {
        {"changed", !changed.empty()},           {"mode", mode},       {"root", root},        {"files", changed},
        {"details", details(root, mode, items)}, {"summary", summary}, {"diff", tools.diff()}};
    if (mode == "codify") {
        result["codified"] = std::move(codified);
        result["notCodified"] = std::move(left);
    } else {
        result["drifted"] = std::move(left);
    }
    return {true, "", result, true};
}

}  // namespace infra::plugins::agents::builtin
