#include "core/change/pull_requests.hpp"

#include "core/change/open_follow.hpp"
#include "core/git.hpp"
#include "core/open_intake.hpp"
#include "core/sandbox_choice.hpp"

namespace infra::core::change {
namespace {

/// A named repository, else the git checkout around the current directory.
void default_repo(const Site& site, DeliveryOverrides& delivery)
{
    if (!delivery.repo.empty() || !site.config.get_or("git.repo", "").empty()) return;
    if (auto top = git::find_worktree(std::filesystem::current_path())) delivery.repo = top->string();
}

}  // namespace

Result<nlohmann::json> open_pull_request(const Site& site, const AgentTask& task, const policy::Decision& d,
                                         const OpenRequest& r)
{
    if (!d.allowed) return fail(Errc::denied, "task " + task.id + " denied: " + d.reason);
    if (d.pending()) return fail(Errc::pending, "task " + task.id + " " + d.reason);
    auto co = git::open(r.workspace);
    if (!co) return fail(co.error());
    auto diff = git::diff_worktree(*co);
    if (!diff) return fail(diff.error());
    DeliveryOverrides overrides;
    overrides.repo = co->dir.string();
    overrides.forge = r.forge;
    auto sandbox = sandbox::choose(site.config, r.sandbox, &d);
    if (!sandbox) return fail(sandbox.error());
    auto setup = open_delivery(site, overrides, &*sandbox);
    if (!setup) return fail(setup.error());
    agent::Outcome outcome{true, "", {{"diff", *diff}, {"summary", r.summary}}, false};
    return (*setup)->delivery->deliver(task, d, *co, outcome);
}

Result<std::vector<Transition>> sync_pull_requests(const Site& site, DeliveryOverrides delivery,
                                                   const PolicySources& policies, const std::string& repository)
{
    default_repo(site, delivery);
    auto intake = open_intake(site, policies, "");
    if (!intake) return fail(intake.error());
    auto follow = open_follower(site, delivery, (*intake)->events, intake->get());
    if (!follow) return fail(follow.error());
    auto done = follow->follower->reconcile(repository);
    (*intake)->events->flush();
    return done;
}

Result<Transition> close_pull_request(const Site& site, DeliveryOverrides delivery, const std::string& ref,
                                      const std::string& by, bool close)
{
    default_repo(site, delivery);
    auto intake = open_intake(site, PolicySources{}, "");
    if (!intake) return fail(intake.error());
    auto follow = open_follower(site, delivery, (*intake)->events, nullptr);
    if (!follow) return fail(follow.error());
    auto pr = follow->delivery->store->get(ref);
    if (!pr) return fail(pr.error());
    auto done = close ? follow->follower->close(*pr, by) : follow->follower->reopen(*pr, by);
    (*intake)->events->flush();
    return done;
}

}  // namespace infra::core::change
