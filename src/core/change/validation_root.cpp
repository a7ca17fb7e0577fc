#include "core/change/validation_root.hpp"
#include "core/change/paths.hpp"
#include "core/change/providers.hpp"
#include "core/events/trace.hpp"

#include "core/crypto.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/workspace.hpp"

#include <algorithm>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace infra::core::change {
namespace {

constexpr const char* k_plan_file = ".infra-agent.tfplan";

std::string cut(const std::string& s, std::size_t n = 8192)
{
    if (s.size() <= n) return s;
    auto nl = s.rfind('\n', n);  // whole lines only
    return s.substr(0, nl == std::string::npos ? n : nl) + "\n... (the rest is left out)";
}

/// The first diagnostic of a step's text output, whole, as one line: from
/// the first line that says "Error: " to the next diagnostic, the end of the
/// box terraform draws around it, or the end of the output, its detail
/// paragraphs included; a "scope: " line alone; else the first line.
std::string first_diagnostic(const std::string& output)
{
    constexpr std::string_view box_top = "\u2577", box_side = "\u2502", box_bottom = "\u2575";  // ╷ │ ╵
    auto opens = [](std::string_view t) {
        return t.find("Error: ") != std::string_view::npos || t.rfind("scope: ", 0) == 0;
    };
    std::string found, first_line;
    bool detail = false;
    for (const auto& raw : text::split(output, '\n')) {
        std::string_view t = text::trim(raw);
        if (t.rfind(box_top, 0) == 0 || t.rfind(box_bottom, 0) == 0) {
            if (!found.empty()) break;
            continue;
        }
        if (t.rfind(box_side, 0) == 0) t = text::trim(t.substr(box_side.size()));
        if (first_line.empty()) first_line = t;
        if (found.empty()) {
            if (!opens(t)) continue;
            found = t;
            if (t.rfind("scope: ", 0) == 0) break;
        } else if (opens(t) || t.rfind("Warning: ", 0) == 0) {
            break;
        } else if (!t.empty()) {
            found += (detail ? "\n" : ": ") + std::string(t);  // summary: detail, as terraform's JSON reads
            detail = true;
        }
    }
    return text::one_line(found.empty() ? first_line : found);
}

/// Why a plan that failed could not be made here, when every error of its
/// -json output is one that only the owner's environment can answer: a
/// provider that needs credentials to be configured, or a root variable
/// with neither a value nor a default. Nothing when any other error is there.
std::optional<std::string> plan_blocker(const std::string& out)
{
    std::optional<std::string> provider;
    std::vector<std::string> variables;
    for (const auto& line : text::split(out, '\n')) {
        json j = json::parse(line, nullptr, false);
        if (!j.is_object() || string_member(j, "type") != "diagnostic") continue;
        const json& d = member(j, "diagnostic");
        if (string_member(d, "severity") != "error") continue;
        if (string_member(d, "summary") == "No value for required variable") {
            // "The root module input variable \"NAME\" is not set, ..."
            const std::string detail = string_member(d, "detail");
            auto open = detail.find('"');
            auto close = open == std::string::npos ? open : detail.find('"', open + 1);
            variables.push_back(close == std::string::npos ? "?" : detail.substr(open + 1, close - open - 1));
            continue;
        }
        bool is_provider = string_member(d, "address").rfind("provider[", 0) == 0 ||
                           string_member(member(d, "snippet"), "context").rfind("provider \"", 0) == 0;
        if (!is_provider) return std::nullopt;
        if (!provider) provider = terraform_diagnostics(line, Detail::brief).front();
    }
    if (!variables.empty()) {
        std::sort(variables.begin(), variables.end());  // terraform reports them in no fixed order
        variables.erase(std::unique(variables.begin(), variables.end()), variables.end());
        std::string names;
        for (const auto& v : variables) names += (names.empty() ? "" : ", ") + v;
        return "root variables have no value (" + names +
               "): the plan needs them set, by a default or a committed *.auto.tfvars file";
    }
    if (provider) return "a provider needs credentials to plan (" + *provider + ")";
    return std::nullopt;
}

/// The resource changes of a plan made without state that differ from the
/// base commit's plan, as applying the change on top of the base would make
/// them: a resource both create with other values is an update, one only the
/// change creates a create, one only the base creates a delete (the change
/// removed it). Marked as judged for scope (an empty "prior_state").
json plan_difference(const json& change, const json& base)
{
    std::map<std::string, const json*> before;
    if (const json& rcs = member(base, "resource_changes"); rcs.is_array())
        for (const auto& rc : rcs) before[string_member(rc, "address")] = &rc;
    json out = {{"prior_state", json::object()}, {"resource_changes", json::array()}};
    auto same = [](const json& a, const json& b) {
        for (const char* k : {"actions", "after", "after_unknown"})
            if (member(member(a, "change"), k) != member(member(b, "change"), k)) return false;
        return true;
    };
    if (const json& rcs = member(change, "resource_changes"); rcs.is_array())
        for (const auto& rc : rcs) {
            auto it = before.find(string_member(rc, "address"));
            if (it == before.end()) {
                out["resource_changes"].push_back(rc);
                continue;
            }
            const json& b = *it->second;
            before.erase(it);
            if (same(rc, b)) continue;
            json updated = rc;
            updated["change"]["actions"] = json::array({"update"});
            out["resource_changes"].push_back(std::move(updated));
        }
    for (const auto& [address, rc] : before) {
        json removed = *rc;
        removed["change"]["actions"] = json::array({"delete"});
        out["resource_changes"].push_back(std::move(removed));
    }
    return out;
}

/// The base commit's plan of one root, made in the sandbox as the change's
/// was (req is the change's request: limits, binds, environment); null when
/// the base had no such root.
Result<json> plan_base(const std::string& dir, const sandbox::Request& like, const ValidationOptions& opt)
{
    auto base = opt.base_tree();
    if (!base) return fail(base.error());
    std::error_code ec;
    if (!std::filesystem::is_directory(*base / dir, ec)) return json();
    sandbox::Request req = like;
    req.workspace = *base;
    req.stdin_data.clear();
    std::string chdir = "-chdir=" + dir;
    std::string plan_file = ".infra-agent-base.tfplan";
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {"terraform", chdir, "init", "-backend=false", "-input=false", "-no-color"},
             {"terraform", chdir, "plan", "-refresh=false", "-input=false", "-lock=false", "-no-color",
              "-out=" + plan_file},
             {"terraform", chdir, "show", "-json", plan_file}}) {
        req.argv = argv;
        auto r = opt.sandbox->run(req);
        if (!r) return fail(r.error());
        if (r->exit_code != 0)
            return fail(Errc::denied, "the base commit's plan of " + text::quote(dir) + " failed (" + argv[2] +
                                          "), so the change's plan cannot be compared with it: " +
                                          std::string(text::trim(r->err.empty() ? r->out : r->err)));
        if (argv[2] == "show") {
            json plan = json::parse(r->out, nullptr, false);
            if (plan.is_discarded())
                return fail(Errc::denied, "terraform show -json printed no JSON for the base's plan");
            return plan;
        }
    }
    return json();
}

/// The built-in terraform steps whose output is terraform's -json stream.
bool is_json_step(const Step& step)
{
    return step.builtin == "terraform-init" || step.builtin == "terraform-validate" || step.builtin == "terraform-plan";
}

/// A -json stream (or validate's document) as the lines a person reads:
/// each message, and each diagnostic whole.
std::string readable_terraform_output(const std::string& out)
{
    json whole = json::parse(out, nullptr, false);
    if (whole.is_object() && whole.contains("valid")) {
        std::string text = whole.value("valid", false) ? "Success! The configuration is valid.\n" : "";
        for (const auto& d : terraform_diagnostics(out)) text += d + "\n";
        return text;
    }
    std::string text;
    for (const auto& line : text::split(out, '\n')) {
        json j = json::parse(line, nullptr, false);
        if (!j.is_object()) {
            if (!text::trim(line).empty()) text += line + "\n";
            continue;
        }
        if (string_member(j, "type") == "diagnostic") {
            for (const auto& d : terraform_diagnostics(line)) text += d + "\n";
            continue;
        }
        std::string msg = string_member(j, "@message");
        if (!msg.empty() && string_member(j, "type") != "version") text += msg + "\n";
    }
    return text;
}

/// The base's providers and modules for one root, and its modules copied
/// into the worktree's .terraform (which was just emptied), where the
/// sandboxed init finds them installed already.
Result<PreparedRoot> prepare_root(const std::filesystem::path& root, const std::string& dir,
                                  const ValidationOptions& opt)
{
    std::filesystem::path base;
    if (opt.base_tree) {
        auto b = opt.base_tree();
        if (!b) return fail(b.error());
        base = *b / dir;
    }
    std::error_code ec;
    // A root the base did not have: the cache as it is.
    auto p = opt.providers->prepare(!base.empty() && std::filesystem::is_directory(base, ec) ? base
                                                                                             : std::filesystem::path());
    if (!p) return p;
    // validate DIR: the base is the directory itself, modules in place.
    if (!p->modules.empty() && !std::filesystem::equivalent(p->modules.parent_path(), root / dir / ".terraform", ec)) {
        std::filesystem::create_directories(root / dir / ".terraform", ec);
        std::filesystem::copy(p->modules, root / dir / ".terraform" / "modules",
                              std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks,
                              ec);
        if (ec)
            return fail(Errc::unavailable,
                        "cannot copy the base's modules into " + text::quote(dir) + ": " + ec.message());
    }
    return p;
}

/// The same for a plan file terraform wrote.
Result<std::pair<std::string, std::string>> keep_plan(const std::filesystem::path& from,
                                                      const std::filesystem::path& plans_dir, std::size_t index)
{
    // Never through a link: what is kept is the file terraform wrote.
    int fd = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) ::close(fd);
        return fail(Errc::denied, "the plan " + text::quote(from.string()) + " is not a regular file terraform wrote");
    }
    std::string bytes;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) bytes.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return keep_plan_bytes(bytes, plans_dir, index);
}

/// One Terraform root being validated: what the steps of validate() share.
struct RootRun {
    const std::filesystem::path& root;
    const std::string& dir;
    const AgentTask& task;
    const policy::Decision& decision;
    const ValidationOptions& opt;
    Report& report;
    bool many = false;  ///< more than one root: a plan's summary names its own
    std::optional<PreparedRoot> prepared = std::nullopt;
    bool plan_skipped = false;  ///< the plan could not be made here: nothing to show

    /// " in DIR", or nothing for the top.
    std::string in_dir() const { return dir == "." ? std::string() : " in " + dir; }
};

/// A root is a directory of the workspace, whatever names it: never one
/// reached through ".." or a symlink that leads out.
Status check_root(const std::filesystem::path& root, const std::string& dir)
{
    auto ws = Workspace::open(root);
    if (!ws) return fail(ws.error());
    if (dir != ".")
        if (auto inside = ws->resolve(dir); !inside)
            return fail(Errc::denied, "cannot validate the root " + text::quote(dir) + ": " + inside.error().message);
    return {};
}

/// True when the steps run terraform init, validate or plan (the defaults do).
bool wants_providers(const ValidationOptions& opt)
{
    bool wants = opt.steps.empty();
    for (const auto& s : opt.steps)
        if (s.builtin == "terraform-init" || s.builtin == "terraform-validate" || s.builtin == "terraform-plan")
            wants = true;
    return wants;
}

/// Providers and remote modules come from the base commit, installed on
/// the trusted side; the sandbox reads them from the cache alone. False
/// when they cannot be had, which the report says.
bool provide(RootRun& run)
{
    const ValidationOptions& opt = run.opt;
    if (!wants_providers(opt) || !opt.terraform || !opt.providers) return true;
    auto p = prepare_root(run.root, run.dir, opt);
    if (p) {
        run.prepared = std::move(*p);
        return true;
    }
    const Error& e = p.error();
    Report& report = run.report;
    report.ran = true;
    report.ok = false;
    report.unavailable = e.code == Errc::unavailable;
    report.failure = "providers for " + (run.dir == "." ? std::string("the root") : run.dir) + ": " + e.message;
    report.hint = e.hint;
    report.steps.push_back(
        {"terraform providers", run.dir, {}, false, -1, 0, e.message + (e.hint.empty() ? "" : "\n" + e.hint) + "\n"});
    return false;
}

/// The built-in steps (all of them by default) as terraform commands for
/// the root; the others as they are, remote pipelines left out.
std::vector<Step> root_steps(RootRun& run)
{
    const ValidationOptions& opt = run.opt;
    std::string chdir = "-chdir=" + run.dir;
    std::vector<Step> steps;
    for (const auto& s : opt.steps.empty() ? builtin_steps() : opt.steps) {
        if (s.builtin == "terraform-fmt")
            steps.push_back(
                {"terraform fmt", {"terraform", chdir, "fmt", "-check", "-list=true", "-no-color"}, s.builtin});
        else if (s.builtin == "terraform-init")
            steps.push_back({"terraform init",
                             opt.backend ? std::vector<std::string>{"terraform", chdir, "init", "-input=false",
                                                                    "-no-color", "-json"}
                                         : std::vector<std::string>{"terraform", chdir, "init", "-backend=false",
                                                                    "-input=false", "-no-color", "-json"},
                             s.builtin});
        else if (s.builtin == "terraform-validate")
            steps.push_back({"terraform validate", {"terraform", chdir, "validate", "-no-color", "-json"}, s.builtin});
        else if (s.builtin == "terraform-plan") {
            if (opt.plan == PlanMode::none) {
                run.report.skipped.push_back("terraform plan" + run.in_dir() + ": not run (validation.plan is none)");
                continue;
            }
            std::vector<std::string> argv = {"terraform",          chdir,          "plan",
                                             "-detailed-exitcode", "-input=false", "-lock=false",
                                             "-no-color",          "-json",        std::string("-out=") + k_plan_file};
            // Without the real state there is nothing to refresh: a plan of
            // the configuration alone, made without credentials.
            if (!opt.backend) argv.insert(argv.begin() + 4, "-refresh=false");
            steps.push_back({"terraform plan", argv, s.builtin});
            steps.push_back({"terraform show", {"terraform", chdir, "show", "-json", k_plan_file}, "terraform-show"});
        } else if (!s.pipeline) steps.push_back(s);
    }
    return steps;
}

/// A step as the sandbox runs it: "{dir}" in its arguments filled in, from
/// the repository root, with the base's providers when they were had.
sandbox::Request step_request(const RootRun& run, const Step& step)
{
    const ValidationOptions& opt = run.opt;
    const std::string& dir = run.dir;
    sandbox::Request req;
    req.argv = step.argv;
    for (auto& a : req.argv)
        for (auto at = a.find("{dir}"); at != std::string::npos; at = a.find("{dir}", at + dir.size()))
            a.replace(at, 5, dir);
    req.workspace = run.root;
    req.env = {{"CHECKPOINT_DISABLE", "1"}, {"TF_IN_AUTOMATION", "1"}, {"TF_INPUT", "0"}};
    req.limits.wall = opt.step_timeout;
    req.limits.output = 64u << 20;  // show -json of a large plan
    if (opt.backend) req.binds = opt.state_dirs;
    if (run.prepared) {
        req.ro_binds = run.prepared->binds;
        req.env["TF_CLI_CONFIG_FILE"] = run.prepared->cli_config.string();
    }
    return req;
}

/// The files terraform fmt -check listed. Formatting that was already off
/// is not this change's doing: only touched files that were formatted
/// before fail.
Status judge_fmt(const RootRun& run, const sandbox::Request& req, const std::string& listed_files, StepResult& sr)
{
    const ValidationOptions& opt = run.opt;
    sr.ok = true;
    for (const auto& listed : text::split(listed_files, '\n')) {
        std::string f(text::trim(listed));
        if (f.empty()) continue;
        std::string path = run.dir == "." ? f : run.dir + "/" + f;
        bool in_change = std::find(opt.changed.begin(), opt.changed.end(), path) != opt.changed.end();
        if (opt.base_content && !in_change) continue;  // no change to judge it by: every file counts
        auto before = opt.base_content ? opt.base_content(path) : std::nullopt;
        bool was_off = false;
        if (before) {
            sandbox::Request base_req = req;
            base_req.argv = {"terraform", "fmt", "-check", "-no-color", "-"};
            base_req.stdin_data = *before;
            auto b = opt.sandbox->run(base_req);
            if (!b) return fail(b.error());
            was_off = b->exit_code != 0;
        }
        if (!opt.base_content) {
            sr.ok = false;
            sr.output += path + ": not formatted (run terraform fmt)\n";
        } else if (was_off) {
            sr.output += path + ": formatting was already off before the change (left as it was)\n";
        } else {
            sr.ok = false;
            sr.output += path + ": the change leaves it unformatted (run terraform fmt)\n";
        }
    }
    if (sr.ok && sr.output.empty()) sr.output = "files outside the change are unformatted (left as they were)\n";
    return {};
}

/// Without state every resource plans as new; against the base commit's
/// own plan, only what the change changes counts. True when plan became
/// that difference.
bool compare_with_base(RootRun& run, const sandbox::Request& req, json& plan)
{
    const ValidationOptions& opt = run.opt;
    if (!opt.compare_with_base || opt.backend || plan.contains("prior_state") || !run.prepared || !opt.base_tree)
        return false;
    auto base_plan = plan_base(run.dir, req, opt);
    if (!base_plan) {  // a broken base must not block its fix: scope is then not judged
        run.report.skipped.push_back("plan scope" + run.in_dir() + ": not judged: " + base_plan.error().message);
        return false;
    }
    if (base_plan->is_null()) return false;
    plan = plan_difference(plan, *base_plan);
    return true;
}

/// terraform show -json of the root's plan: what it adds, changes and
/// destroys, and the plan-scope check, in report.plan; the plan kept when
/// plans are kept and it is in scope.
Status judge_plan(RootRun& run, const sandbox::Request& req, const sandbox::Outcome& r, StepResult& sr)
{
    json plan = json::parse(r.out, nullptr, false);
    if (plan.is_discarded()) {
        sr.ok = false;
        sr.output = "terraform show -json printed no JSON:\n" + cut(r.err);
        return {};
    }
    bool against_base = compare_with_base(run, req, plan);
    json touched;
    auto violations = plan_scope_violations(plan, run.task, run.decision, touched);
    int add = 0, change = 0, destroy = 0;
    for (const auto& t : touched) {
        const auto& acts = t["actions"];
        for (const auto& a : acts) {
            if (a == "create") ++add;
            else if (a == "update") ++change;
            else if (a == "delete") ++destroy;
        }
    }
    Report& report = run.report;
    const std::string& dir = run.dir;
    report.plan[dir] = {
        {"add", add},           {"change", change},         {"destroy", destroy},
        {"resources", touched}, {"violations", violations}, {"scopeChecked", plan.contains("prior_state")}};
    if (against_base) report.plan[dir]["comparedWithBase"] = true;
    if (!run.opt.plans_dir.empty() && violations.empty()) {
        auto saved = keep_plan(run.root / dir / k_plan_file, run.opt.plans_dir, report.plan.size() - 1);
        if (!saved) return fail(saved.error());
        report.plan[dir]["savedPlan"] = {{"file", saved->first}, {"sha256", saved->second}};
    }
    std::string summary = std::to_string(add) + " to add, " + std::to_string(change) + " to change, " +
                          std::to_string(destroy) + " to destroy";
    report.plan_summary +=
        (report.plan_summary.empty() ? "" : "; ") + (run.many ? dir + ": " : std::string()) + summary;
    sr.output = summary + "\n";
    for (const auto& v : violations) sr.output += "scope: " + v + "\n";
    if (!violations.empty()) {
        sr.name = "plan scope";
        sr.ok = false;
    }
    return {};
}

/// What a step's run says: passed or failed, and its output as a person
/// reads it.
Result<StepResult> step_result(RootRun& run, const Step& step, const sandbox::Request& req, const sandbox::Outcome& r)
{
    StepResult sr{step.name, run.dir, req.argv, false, r.exit_code, r.ms, ""};
    bool is_plan = step.builtin == "terraform-plan";
    sr.ok = r.exit_code == 0 || (is_plan && r.exit_code == 2);
    if (is_plan && r.exit_code == 2) run.report.changes = true;
    if (r.timed_out) sr.output = "timed out after " + std::to_string(run.opt.step_timeout.count()) + " ms\n";
    if (step.builtin == "terraform-fmt" && r.exit_code == 3) {
        if (auto st = judge_fmt(run, req, r.out, sr); !st) return fail(st.error());
    } else if (step.builtin == "terraform-show" && sr.ok) {
        if (auto st = judge_plan(run, req, r, sr); !st) return fail(st.error());
    } else if (is_json_step(step)) {
        sr.output = cut(readable_terraform_output(r.out) + (r.err.empty() ? "" : "\n" + r.err));
    } else {
        sr.output = cut(r.out + (r.out.empty() || r.err.empty() ? "" : "\n") + r.err);
    }
    return sr;
}

/// What went wrong in a failed step, whole: terraform's own diagnostic
/// (summary and detail), else the first one of the text output.
std::string failure_of(const RootRun& run, const Step& step, const StepResult& sr, const std::string& out)
{
    std::string first;
    if (is_json_step(step)) {
        auto diags = terraform_diagnostics(out);
        if (!diags.empty()) first = diags.front();
    }
    if (first.empty()) first = first_diagnostic(sr.output);
    if (first.empty()) first = "exit code " + std::to_string(sr.exit_code);
    std::string failure = sr.name + run.in_dir() + " failed: " + first;
    if (run.prepared && step.builtin == "terraform-init")
        failure += ". Providers and modules come only from what the base commit uses (installed "
                   "outside the sandbox, which has no network): a fix that needs another provider, "
                   "version or module source must first be added to the base branch";
    return failure;
}

/// Runs one step in the sandbox and adds it to the report; false when it
/// failed, and the steps after it, which build on it, must not run.
Result<bool> run_step(RootRun& run, const Step& step)
{
    const ValidationOptions& opt = run.opt;
    Report& report = run.report;
    if (run.plan_skipped && step.builtin == "terraform-show") return true;
    std::optional<events::Span> span;
    if (opt.events)
        span.emplace(*opt.events, "validation.step", run.task.id, json{{"step", step.name}, {"dir", run.dir}});
    sandbox::Request req = step_request(run, step);
    auto r = opt.sandbox->run(req);
    if (!r) return fail(r.error());
    report.ran = true;
    auto sr = step_result(run, step, req, *r);
    if (!sr) return fail(sr.error());
    bool failed = !sr->ok;
    if (failed && step.builtin == "terraform-plan" && !opt.backend) {
        // A provider that needs credentials even to plan (AWS checks
        // them when it is configured), or root variables whose values
        // live only where the owner runs terraform: there is no plan
        // to make here, which the report and the pull request say.
        if (auto why = plan_blocker(r->out)) {
            report.skipped.push_back("terraform plan" + run.in_dir() + ": not run: " + *why);
            run.plan_skipped = true;
            if (span) span->set("skipped", true);
            return true;
        }
    }
    if (failed && report.failure.empty()) report.failure = failure_of(run, step, *sr, r->out);
    if (span) {
        span->set("exit_code", sr->exit_code);
        if (failed) {
            span->set("output", sr->output);  // the other diagnostics, and what led to them
            span->fail(report.failure);
        }
    }
    report.steps.push_back(std::move(*sr));
    if (failed) report.ok = false;
    return !failed;
}

/// Runs the root's steps in turn, and leaves it as it found it.
Status run_root(RootRun& run)
{
    const std::filesystem::path& root = run.root;
    const std::string& dir = run.dir;
    std::error_code ec;
    bool had_lock = std::filesystem::exists(root / dir / ".terraform.lock.hcl", ec);
    // Terraform's working data is made here, never taken from the change
    // (an agent could plant a provider binary in .terraform, or a link
    // where the plan is written, to have terraform write through it).
    if (auto st = remove_tree_inside(root, root / dir / ".terraform"); !st) return fail(st.error());
    if (auto st = remove_tree_inside(root, root / dir / k_plan_file); !st) return fail(st.error());
    if (!provide(run)) return {};
    for (const auto& step : root_steps(run)) {
        auto go_on = run_step(run, step);
        if (!go_on) return fail(go_on.error());
        if (!*go_on) break;
    }
    // Validation leaves the change as it found it.
    std::filesystem::remove(root / dir / k_plan_file, ec);
    if (auto st = remove_tree_inside(root, root / dir / ".terraform"); !st) return fail(st.error());
    if (!had_lock) std::filesystem::remove(root / dir / ".terraform.lock.hcl", ec);
    if (run.report.ok && run.prepared)
        run.report.providers[dir] = {{"mirror", run.prepared->mirror.string()},
                                     {"modules", !run.prepared->modules.empty()}};
    return {};
}

}  // namespace

/// Keeps a plan's bytes in plans_dir as the index'th saved plan; returns
/// its file name and SHA-256.
Result<std::pair<std::string, std::string>> keep_plan_bytes(const std::string& bytes,
                                                            const std::filesystem::path& plans_dir, std::size_t index)
{
    std::error_code ec;
    std::filesystem::create_directories(plans_dir, ec);
    std::string name = saved_plan_name(index);
    auto tmp = plans_dir / (name + ".tmp");
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << bytes;
        if (!out.flush()) return fail(Errc::unavailable, "cannot write the saved plan " + tmp.string());
    }
    std::filesystem::rename(tmp, plans_dir / name, ec);
    if (ec)
        return fail(Errc::unavailable,
                    "cannot keep the saved plan " + (plans_dir / name).string() + ": " + ec.message());
    return std::pair{name, crypto::sha256_hex(bytes)};
}

Status validate_root(const std::filesystem::path& root, const std::string& dir, const AgentTask& task,
                     const policy::Decision& decision, const ValidationOptions& opt, bool many, Report& report)
{
    if (auto st = check_root(root, dir); !st) return fail(st.error());
    RootRun run{root, dir, task, decision, opt, report, many};
    return run_root(run);
}

}  // namespace infra::core::change
