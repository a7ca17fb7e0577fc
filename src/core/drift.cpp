#include "core/drift.hpp"

#include "core/exec.hpp"
#include "core/hcl/hcl.hpp"
#include "core/ids.hpp"
#include "core/json_access.hpp"
#include "core/signals/build.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <fstream>
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

}  // namespace

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
            json item = {{"address", string_member(member(change, "resource"), "addr")}, {"action", string_member(change, "action")}};
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
            r.error += (r.error.empty() ? "" : "; ") + string_member(d, "summary") + (detail.empty() ? "" : ": " + detail);
        }
    }
}

Result<Report> plan(const fs::path& root, const Options& opt)
{
    Report r;
    r.root = root;
    exec::Request req;
    req.cwd = root;
    req.timeout = opt.timeout;
    req.env = {{"TF_IN_AUTOMATION", "1"}, {"TF_INPUT", "0"}, {"CHECKPOINT_DISABLE", "1"}};
    std::error_code ec;
    if (!fs::exists(root / ".terraform", ec)) {
        req.argv = {opt.terraform, "init", "-input=false", "-no-color"};
        auto init = exec::run(req);
        if (!init) return init.error();
        if (init->exit_code != 0) {
            r.error = "terraform init failed: " + std::string(text::trim(init->err.empty() ? init->out : init->err));
            return r;
        }
    }
    req.argv = {opt.terraform, "plan", "-detailed-exitcode", "-json", "-input=false", "-lock=false", "-no-color"};
    if (opt.refresh_only) req.argv.push_back("-refresh-only");
    auto p = exec::run(req);
    if (!p) return p.error();
    if (p->timed_out) {
        r.error = "terraform plan took longer than " + timeutil::format_duration(opt.timeout);
        return r;
    }
    read_plan_stream(p->out, r);
    if (p->exit_code == 2) {
        r.drifted = true;
    } else if (p->exit_code != 0) {
        if (r.error.empty()) r.error = std::string(text::trim(p->err)).substr(0, 2000);
        if (r.error.empty()) r.error = "terraform plan exited with " + std::to_string(p->exit_code);
    }
    return r;
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
                 {"refreshOnly", refresh_only}};
    t.id = ids::new_ulid();
    // One open task per root: a later scan of the same root is the same work.
    t.dedupe_key = signals::dedupe_key({"drift", text::lower(repository_id), name});
    signals::IngestOptions opt;
    opt.repository_id = repository_id;
    signals::finish_task(t, opt);
    return t;
}

}  // namespace infra::core::drift
