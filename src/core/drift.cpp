#include "core/drift.hpp"

#include "core/change/providers.hpp"
#include "core/hcl/hcl.hpp"
#include "core/host.hpp"
#include "core/ids.hpp"
#include "core/json_access.hpp"
#include "core/signals/tasks.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace infra::core::drift {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// True when a sensitivity (or unknown-ness) mark holds anywhere in v:
/// terraform marks an attribute with true, or an object or list of marks.
bool marked(const json& v)
{
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_object() || v.is_array())
        for (const auto& x : v)
            if (marked(x)) return true;
    return false;
}

const json& mark_of(const json& marks, const std::string& key)
{
    static const json none;
    if (marks.is_boolean()) return marks;
    return marks.is_object() && marks.contains(key) ? marks[key] : none;
}

/// The attributes whose values differ between from and to (old and new).
/// sensitive holds the marks of both sides (before_sensitive, after_sensitive).
json attribute_changes(const json& from, const json& to, const json& sensitive, const json& unknown)
{
    json out = json::array();
    std::set<std::string> keys;
    for (const json* o : {&from, &to})
        if (o->is_object())
            for (const auto& [k, v] : o->items()) keys.insert(k);
    for (const auto& k : keys) {
        if (marked(mark_of(unknown, k))) continue;
        const json& a = member(from, k.c_str());
        const json& b = member(to, k.c_str());
        if (a == b) continue;
        if (marked(mark_of(sensitive[0], k)) || marked(mark_of(sensitive[1], k)))
            out.push_back({{"name", k}, {"sensitive", true}});
        else out.push_back({{"name", k}, {"old", a}, {"new", b}});
    }
    return out;
}

std::vector<std::string> actions_of(const json& rc)
{
    std::vector<std::string> out;
    for (const auto& a : array_member(member(rc, "change"), "actions"))
        if (a.is_string()) out.push_back(a.get<std::string>());
    return out;
}

bool has(const std::vector<std::string>& v, const char* s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

json resource_details(const json& plan)
{
    std::map<std::string, json> by_address;
    std::vector<std::string> order;
    auto entry = [&](const std::string& address, const char* kind) -> json& {
        if (!by_address.count(address)) {
            order.push_back(address);
            by_address[address] = {{"address", address}, {"kind", kind}, {"attributes", json::array()}};
        }
        return by_address[address];
    };
    // Changed outside Terraform, as the refresh found: before was the state, after is live.
    for (const auto& rc : array_member(plan, "resource_drift")) {
        auto acts = actions_of(rc);
        std::string address = string_member(rc, "address");
        const json& c = member(rc, "change");
        if (has(acts, "delete")) {
            entry(address, "deleted");
        } else if (has(acts, "update")) {
            json sensitive = json::array({member(c, "before_sensitive"), member(c, "after_sensitive")});
            entry(address, "changed")["attributes"] =
                attribute_changes(member(c, "before"), member(c, "after"), sensitive, json());
        }
    }
    // What the next apply would do: an update's before is live, its after the code.
    for (const auto& rc : array_member(plan, "resource_changes")) {
        auto acts = actions_of(rc);
        std::string address = string_member(rc, "address");
        const json& c = member(rc, "change");
        bool known = by_address.count(address) > 0;
        if (has(acts, "update") || (has(acts, "create") && has(acts, "delete"))) {
            json sensitive = json::array({member(c, "before_sensitive"), member(c, "after_sensitive")});
            json& e = entry(address, "changed");
            if (string_member(e, "kind") != "changed") continue;
            json found =
                attribute_changes(member(c, "after"), member(c, "before"), sensitive, member(c, "after_unknown"));
            for (auto& a : found) {
                bool seen = false;
                for (const auto& b : e["attributes"]) seen = seen || b["name"] == a["name"];
                if (!seen) e["attributes"].push_back(std::move(a));
            }
        } else if (has(acts, "create") && !known) {
            entry(address, "not-in-state");
        } else if (has(acts, "delete") && !known) {
            entry(address, "not-in-code");
        }
    }
    json out = json::array();
    for (const auto& a : order) out.push_back(std::move(by_address[a]));
    return out;
}

std::vector<fs::path> find_roots(const std::vector<fs::path>& dirs)
{
    std::set<fs::path> with_tf, modules;
    for (const auto& top : dirs) {
        std::error_code ec;
        if (!fs::is_directory(top, ec)) continue;
        auto consider = [&](const fs::path& file) {
            if (file.extension() != ".tf") return;
            fs::path dir = fs::weakly_canonical(file.parent_path(), ec);
            with_tf.insert(dir);
            auto parsed = hcl::parse(read(file), file.string());
            if (!parsed) return;
            for (const auto& b : parsed->body.blocks) {
                if (b.type != "module") continue;
                const hcl::Attribute* src = b.attribute("source");
                if (!src) continue;
                std::string s(text::trim(src->expr(parsed->text)));
                if (s.size() < 2 || s.front() != '"' || s.back() != '"') continue;
                s = s.substr(1, s.size() - 2);
                if (s.rfind("./", 0) == 0 || s.rfind("../", 0) == 0) modules.insert(fs::weakly_canonical(dir / s, ec));
            }
        };
        for (auto it = fs::recursive_directory_iterator(top, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) break;
            const auto name = it->path().filename().string();
            if (it->is_directory(ec) && !name.empty() && name.front() == '.') {
                it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file(ec)) consider(it->path());
        }
    }
    std::vector<fs::path> out;
    for (const auto& d : with_tf)
        if (!modules.count(d)) out.push_back(d);
    return out;
}

void read_plan_stream(std::string_view stream, Report& r)
{
    for (auto& line : text::split(stream, '\n')) {
        if (line.empty() || line.front() != '{') continue;
        json m = json::parse(line, nullptr, false);
        if (!m.is_object()) continue;
        std::string type = string_member(m, "type");
        const json& change = member(m, "change");
        if (type == "planned_change" || type == "resource_drift") {
            json item = {{"address", string_member(member(change, "resource"), "addr")},
                         {"action", string_member(change, "action")}};
            (type == "planned_change" ? r.changes : r.drift).push_back(std::move(item));
        } else if (type == "change_summary") {
            const json& c = member(m, "changes");
            r.add = static_cast<int>(int_member(c, "add"));
            r.change = static_cast<int>(int_member(c, "change"));
            r.remove = static_cast<int>(int_member(c, "remove"));
        } else if (type == "diagnostic") {
            const json& d = member(m, "diagnostic");
            if (string_member(d, "severity") != "error") continue;
            std::string detail = string_member(d, "detail");
            r.error +=
                (r.error.empty() ? "" : "; ") + string_member(d, "summary") + (detail.empty() ? "" : ": " + detail);
        }
    }
    // terraform reports resources as its parallel walk reaches them: in
    // address order, every scan of the same drift says the same thing.
    auto by_address = [](const json& a, const json& b) {
        return std::pair(string_member(a, "address"), string_member(a, "action")) <
               std::pair(string_member(b, "address"), string_member(b, "action"));
    };
    std::stable_sort(r.changes.begin(), r.changes.end(), by_address);
    std::stable_sort(r.drift.begin(), r.drift.end(), by_address);
}

Result<Report> plan(const fs::path& root, const Options& opt)
{
    Report r;
    r.root = root;
    host::Request req;
    req.cwd = root;
    req.timeout = opt.timeout;
    req.env = {{"TF_IN_AUTOMATION", "1"}, {"TF_INPUT", "0"}, {"CHECKPOINT_DISABLE", "1"}};
    std::error_code ec;
    if (!fs::exists(root / ".terraform", ec)) {
        req.argv = {opt.terraform, "init", "-input=false", "-no-color", "-json"};
        auto init = host::run(req);
        if (!init) return init.error();
        if (init->exit_code != 0) {
            // Its first error in one line, without the advice terraform adds for its own user.
            auto diags = change::terraform_diagnostics(init->out, change::Detail::brief);
            r.error =
                "terraform init failed: " +
                (diags.empty() ? std::string(text::trim(init->err.empty() ? init->out : init->err)) : diags.front());
            return r;
        }
    }
    // The plan is saved outside the root (never into the repository) for its JSON.
    fs::path scratch = fs::temp_directory_path(ec) / ("infra-agent-drift-" + ids::new_ulid());
    fs::create_directories(scratch, ec);
    struct Cleanup {
        fs::path dir;
        ~Cleanup()
        {
            std::error_code e;
            fs::remove_all(dir, e);
        }
    } cleanup{scratch};
    std::string plan_file = (scratch / "drift.tfplan").string();
    req.argv = {opt.terraform,  "plan",        "-detailed-exitcode", "-json",
                "-input=false", "-lock=false", "-no-color",          "-out=" + plan_file};
    if (opt.refresh_only) req.argv.push_back("-refresh-only");
    auto p = host::run(req);
    if (!p) return p.error();
    if (p->timed_out) {
        r.error = "terraform plan took longer than " + timeutil::format_duration(opt.timeout);
        return r;
    }
    read_plan_stream(p->out, r);
    if (p->exit_code == 2) {
        r.drifted = true;
        req.argv = {opt.terraform, "show", "-json", "-no-color", plan_file};
        auto shown = host::run(req);
        if (!shown) return shown.error();
        json plan = json::parse(shown->out, nullptr, false);
        if (shown->exit_code != 0 || !plan.is_object()) {
            r.error = "terraform show -json of the plan failed: " + std::string(text::trim(shown->err)).substr(0, 2000);
            return r;
        }
        r.resources = resource_details(plan);
    } else if (p->exit_code != 0) {
        if (r.error.empty()) r.error = std::string(text::trim(p->err)).substr(0, 2000);
        if (r.error.empty()) r.error = "terraform plan exited with " + std::to_string(p->exit_code);
    }
    return r;
}

std::string dedupe_key(const std::string& repository_id, const std::string& name)
{
    return signals::dedupe_key({"drift", text::lower(repository_id), name});
}

AgentTask task_for(const Report& r, const std::string& name, const std::string& repository_id, bool refresh_only)
{
    AgentTask t;
    t.type = TaskType::drift_detection;
    t.trigger.source = "user";
    t.trigger.provider = "terraform";
    t.trigger.source_id = name;
    t.trigger.timestamp = timeutil::now_rfc3339();
    t.context.repository_id = repository_id;
    t.context.resource = name;
    t.payload = {{"root", name},
                 {"summary", {{"add", r.add}, {"change", r.change}, {"remove", r.remove}}},
                 {"changes", r.changes},
                 {"drift", r.drift},
                 {"resources", r.resources},
                 {"refreshOnly", refresh_only}};
    t.id = ids::new_ulid();
    // One open task per root: a later scan of the same root is the same work.
    t.dedupe_key = dedupe_key(repository_id, name);
    signals::IngestOptions opt;
    opt.repository_id = repository_id;
    signals::finish_task(t, opt);
    return t;
}

}  // namespace infra::core::drift
