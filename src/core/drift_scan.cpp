#include "core/drift_scan.hpp"

#include "core/change/open_follow.hpp"
#include "core/events/event.hpp"
#include "core/git.hpp"
#include "core/json_access.hpp"
#include "core/open_intake.hpp"
#include "core/state.hpp"

namespace infra::core::drift {
namespace {

namespace fs = std::filesystem;

/// The drift of one root as findings: each resource changed outside
/// Terraform (else each planned change), where its code declares it.
void add_findings(const Report& r, const std::string& name, const fs::path& base, std::vector<report::Finding>& out)
{
    const auto& list = r.drift.empty() ? r.changes : r.drift;
    for (const auto& c : list) {
        report::Finding f;
        f.rule = "infra-agent/drift";
        f.rule_title = "Infrastructure differs from its Terraform code";
        f.resource = string_member(c, "address");
        std::string action = string_member(c, "action");
        f.message = f.resource +
                    (r.drift.empty() ? " would be " + action + "d by terraform apply"
                                     : " changed outside Terraform (" + action + ")") +
                    " in " + name;
        if (auto at = report::locate_resource(r.root, f.resource, base)) {
            f.file = at->first;
            f.line = at->second;
        } else {
            f.file = name == "." ? "" : name;
        }
        out.push_back(std::move(f));
    }
}

/// The open pull requests of roots that no longer drift: each is closed on
/// its forge with a comment that says why (pr.obsolete), and recorded
/// (drift.resolved).
Result<std::vector<Closed>> close_resolved(const Site& site, const std::vector<std::string>& roots,
                                           const std::string& repo)
{
    std::vector<Closed> out;
    if (roots.empty()) return out;
    auto db = open_state(site.home);
    if (!db) return fail(db.error());
    change::PrStore store(**db);
    auto open = store.list("open", repo, 1000);
    if (!open) return fail(open.error());
    std::unique_ptr<events::StateSink> sink;
    std::optional<change::FollowSetup> follow;
    for (const auto& name : roots) {
        std::string key = dedupe_key(repo, name);
        for (const auto& pr : *open) {
            if (pr.dedupe_key != key) continue;
            if (!sink) {
                auto s = events::StateSink::open(site.home.state_location());
                if (!s) return fail(s.error());
                sink = std::move(*s);
                auto f = change::open_follower(site, change::DeliveryOverrides{}, sink.get(), nullptr);
                if (!f) return fail(f.error());
                follow = std::move(*f);
            }
            auto closed = follow->follower->obsolete(
                pr, "closed: " + name + " no longer drifts from its code (a drift scan found no difference)");
            if (!closed) return fail(closed.error());
            sink->emit({"drift.resolved",
                        pr.task_id,
                        "",
                        {{"root", name},
                         {"dedupeKey", key},
                         {"pullRequest", {{"id", pr.id}, {"number", pr.number}, {"url", pr.url}}}}});
            out.push_back({name, pr});
        }
    }
    if (sink) sink->flush();
    return out;
}

/// Admits the scan's tasks, after closing what no longer drifts.
Status enqueue(const Site& site, const ScanOptions& o, const std::string& repo, Scan& out)
{
    std::vector<std::string> clean;
    for (const auto& r : out.roots)
        if (r.status == Root::Status::clean) clean.push_back(r.name);
    auto closed = close_resolved(site, clean, repo);
    if (!closed) return closed.error();
    out.closed = std::move(*closed);
    if (out.tasks.empty()) return {};
    auto intake = open_intake(site, o.policies, o.queue);
    if (!intake) return intake.error();
    intake::Options io;
    io.stage = "drift";
    auto admitted = (*intake)->admit(std::move(out.tasks), io);
    if (!admitted) return admitted.error();
    out.tasks.clear();
    out.admitted = std::move(*admitted);
    return {};
}

}  // namespace

Result<Scan> scan(const Site& site, const ScanOptions& o, const std::function<void(const Root&)>& planned)
{
    for (const auto& d : o.dirs) {
        std::error_code ec;
        if (!fs::is_directory(d, ec)) return fail(Errc::usage, "'" + d.string() + "' is not a directory");
    }
    auto top = git::find_worktree(o.directory);
    const fs::path& base = top ? *top : o.directory;
    std::string repo = change::repository_id(site.config, o.repository, top ? top->string() : "");
    Options po;
    po.refresh_only = o.refresh_only;
    Scan out;
    for (const auto& path : find_roots(o.dirs)) {
        Root root;
        root.name = fs::relative(path, base).lexically_normal().string();
        if (root.name.empty()) root.name = ".";
        auto r = plan(path, po);
        if (!r) return fail(r.error());
        if (!r->error.empty()) {
            root.status = Root::Status::failed;
            root.error = r->error;
            out.findings.push_back({"infra-agent/drift/plan-failed", "terraform plan failed", "error",
                                    root.name + ": " + r->error, root.name == "." ? "" : root.name, 0, ""});
        } else if (r->drifted) {
            root.status = Root::Status::drifted;
            root.add = r->add;
            root.change = r->change;
            root.remove = r->remove;
            add_findings(*r, root.name, base, out.findings);
            out.tasks.push_back(task_for(*r, root.name, repo, o.refresh_only));
        }
        if (planned) planned(root);
        out.roots.push_back(std::move(root));
    }
    if (o.enqueue)
        if (auto st = enqueue(site, o, repo, out); !st) return fail(st.error());
    return out;
}

}  // namespace infra::core::drift
