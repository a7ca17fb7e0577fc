#include "core/creds/binding.hpp"

#include "core/git.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <algorithm>

namespace infra::core::creds {
namespace {

// Scopes are at most 1024 characters: quoted whole, never cut.
constexpr std::size_t k_scope_chars = 1100;

thread_local const TaskLease* t_lease = nullptr;

int tier_of(const json& decision)
{
    const json& t = member(decision, "tier");
    return t.is_number_integer() ? t.get<int>() : 0;
}

bool has_pattern(const Scope& s)
{
    if (s.action.find('*') != std::string::npos) return true;
    for (const auto& [k, v] : s.attrs)
        if (v.find('*') != std::string::npos) return true;
    return false;
}

// The same scope, or a grant whose only pattern is a whole attribute ('*').
bool matches_exactly(const Scope& allowed, const Scope& wanted)
{
    if (allowed.attrs.size() != wanted.attrs.size()) return false;
    for (const auto& [k, v] : wanted.attrs)
        if (!allowed.attrs.count(k)) return false;
    return covers(allowed, wanted);
}

std::string seconds_text(std::int64_t s)
{
    return std::to_string(s) + "s";
}

std::string listed(const std::vector<std::string>& scopes)
{
    std::string out;
    for (const auto& s : scopes) out += (out.empty() ? "" : ", ") + s;
    return out.empty() ? "nothing" : out;
}

}  // namespace

std::string task_repository(const json& task, const TaskGrant& grant)
{
    std::string named = string_member(member(task, "context"), "repositoryId");
    return named.empty() ? grant.repository : named;
}

std::string task_branch(const json& task)
{
    std::string key = string_member(task, "dedupeKey");
    return git::branch_name(string_member(task, "type"), key.empty() ? string_member(task, "id") : key);
}

std::vector<std::string> task_scopes(const json& task, const json& decision, const TaskGrant& grant)
{
    std::vector<std::string> out;
    if (!bool_member(decision, "allowed")) return out;
    std::string repo = task_repository(task, grant);
    if (repo.empty()) return out;
    out.push_back("git:fetch:repo=" + repo);
    if (tier_of(decision) < 2) return out;
    out.push_back("git:push:branch=" + task_branch(task) + ",repo=" + repo);
    out.push_back("forge:pr:repo=" + repo);
    out.push_back("ci:dispatch:repo=" + repo + ",workflow=*");
    out.push_back("ci:read:repo=" + repo);
    out.push_back("ci:pipeline:project=" + repo);
    for (const auto& s : grant.also) out.push_back(to_string(s));
    return out;
}

Status check_task_scope(const json& task, const json& decision, const Scope& wanted, const TaskGrant& grant)
{
    std::string id = string_member(task, "id");
    std::string asked = text::quote(to_string(wanted), k_scope_chars);
    if (!bool_member(decision, "allowed"))
        return fail(Errc::denied, "credential " + asked + " refused: policy denied task " + text::quote(id) +
                                      ", and a denied task has no credentials");
    if (task_repository(task, grant).empty())
        return fail(Errc::denied, "credential " + asked + " refused: task " + text::quote(id) + " names no repository",
                    "a task's credentials are for its repository: give it context.repositoryId, or set repository.id");
    auto allowed = task_scopes(task, decision, grant);
    bool pattern = has_pattern(wanted);
    if (!pattern)
        for (const auto& one : allowed) {
            auto a = parse_scope(one);
            if (a && matches_exactly(*a, wanted)) return {};
        }
    return fail(
        Errc::denied,
        "credential " + asked + " refused: task " + text::quote(id) + " (tier " + std::to_string(tier_of(decision)) +
            ") may have only " + listed(allowed),
        pattern
            ? "a task's credential names one repository, branch and action, never a pattern"
            : "a task's credentials are for its own repository and bot branch, as far as its decision's tier allows");
}

bool worker_of(const std::string& token_name, const std::string& worker_id)
{
    return !token_name.empty() &&
           (worker_id == token_name || (worker_id.size() > token_name.size() + 1 &&
                                        worker_id.compare(0, token_name.size() + 1, token_name + "/") == 0));
}

Result<MintLimit> authorize_lease_mint(const queue::Entry& held, const LeaseAsk& ask, std::int64_t now_ms,
                                       const TaskGrant& grant)
{
    std::string id = text::quote(ask.task_id);
    if (held.id != ask.task_id) return fail(Errc::denied, "no task " + id + " in the queue");
    if (held.state != queue::State::leased)
        return fail(Errc::denied, "task " + id + " is " + std::string(queue::to_string(held.state)) +
                                      ": credentials are minted only for tasks a worker holds");
    if (ask.worker_id.empty() || ask.lease_token == 0)
        return fail(Errc::denied,
                    "the request for task " + id +
                        " names no lease: credentials are minted only for the worker holding it",
                    "send workerId and leaseToken, as the broker provider of this version does");
    if (!ask.token_name.empty() && !worker_of(ask.token_name, ask.worker_id))
        return fail(Errc::denied,
                    "worker id " + text::quote(ask.worker_id) + " is not one of worker token " +
                        text::quote(ask.token_name) + "'s: credentials for task " + id + " are refused",
                    "a worker on token " + text::quote(ask.token_name) + " claims as " + text::quote(ask.token_name) +
                        " or " + text::quote(ask.token_name + "/...") + " (the broker provider's default worker id)");
    if (held.lease_owner != ask.worker_id)
        return fail(Errc::denied, "task " + id + " is not leased by worker " + text::quote(ask.worker_id) +
                                      ": credentials are minted only for the worker holding it");
    if (held.fence != ask.lease_token)
        return fail(Errc::denied, "lease token " + std::to_string(ask.lease_token) + " of task " + id +
                                      " is not its current lease (" + std::to_string(held.fence) + ")");
    if (held.lease_until_ms <= now_ms)
        return fail(Errc::denied,
                    "the lease of task " + id + " ended at " + timeutil::format_rfc3339_ms(held.lease_until_ms));
    auto wanted = parse_scope(ask.scope);
    if (!wanted) return fail(wanted.error());
    if (auto st = check_task_scope(held.task, held.decision, *wanted, grant); !st) return fail(st.error());
    if (ask.ttl.count() < 1) return fail(Errc::usage, "a credential's lifetime must be at least one second");
    std::int64_t left = (held.lease_until_ms - now_ms) / 1000;
    if (ask.ttl > k_max_task_ttl)
        return fail(Errc::denied,
                    "credential " + text::quote(to_string(*wanted), k_scope_chars) + " refused: a lifetime of " +
                        seconds_text(ask.ttl.count()) + " is longer than a task's credential lives",
                    "ask for at most " + seconds_text(k_max_task_ttl.count()) + "; it ends with the lease of task " +
                        id + " in any case (in " + seconds_text(left) + ")");
    if (left < 1) return fail(Errc::denied, "the lease of task " + id + " ends in less than a second");
    return MintLimit{std::min(ask.ttl, std::chrono::seconds(left)), held.lease_until_ms};
}

LeaseScope::LeaseScope(TaskLease lease) : m_lease(std::move(lease)), m_outer(t_lease)
{
    t_lease = &m_lease;
}

LeaseScope::~LeaseScope()
{
    t_lease = m_outer;
}

const TaskLease* current_lease()
{
    return t_lease;
}

Result<MintLimit> authorize_in_lease(const TaskLease& lease, const std::string& task_id, const Scope& wanted,
                                     std::chrono::seconds ttl, std::int64_t now_ms)
{
    if (task_id != lease.task_id)
        return fail(Errc::denied, "credential " + text::quote(to_string(wanted), k_scope_chars) +
                                      " refused: asked for task " + text::quote(task_id) + " while running task " +
                                      text::quote(lease.task_id));
    if (auto st = check_task_scope(lease.task, lease.decision, wanted, lease.grant); !st) return fail(st.error());
    if (ttl > k_max_task_ttl)
        return fail(Errc::denied,
                    "credential " + text::quote(to_string(wanted), k_scope_chars) + " refused: a lifetime of " +
                        seconds_text(ttl.count()) + " is longer than a task's credential lives",
                    "ask for at most " + seconds_text(k_max_task_ttl.count()));
    std::int64_t until = lease.lease_until_ms ? lease.lease_until_ms() : 0;
    if (until <= 0) return MintLimit{ttl, 0};
    std::int64_t left = (until - now_ms) / 1000;
    if (left < 1)
        return fail(Errc::denied, "the lease of task " + text::quote(task_id) + " ends in less than a second");
    return MintLimit{std::min(ttl, std::chrono::seconds(left)), until};
}

}  // namespace infra::core::creds
