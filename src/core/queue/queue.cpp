#include "core/queue/queue.hpp"

#include "core/crypto.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <array>

namespace infra::core::queue {
namespace {
constexpr std::array<std::pair<State, std::string_view>, 7> k_states{{
    {State::pending_approval, "pending-approval"},
    {State::queued, "queued"},
    {State::leased, "leased"},
    {State::succeeded, "succeeded"},
    {State::dead, "dead"},
    {State::cancelled, "cancelled"},
    {State::denied, "denied"},
}};
}

std::string_view to_string(State s)
{
    for (auto& [k, v] : k_states)
        if (k == s) return v;
    return "unknown";
}

std::optional<State> parse_state(std::string_view s)
{
    for (auto& [k, v] : k_states)
        if (v == s) return k;
    return std::nullopt;
}

bool is_final(State s)
{
    return s == State::succeeded || s == State::dead || s == State::cancelled || s == State::denied;
}

Millis Backoff::delay(int attempt) const
{
    long long d = base.count();
    for (int i = 1; i < attempt && d < cap.count(); ++i) d *= 2;
    d = std::min<long long>(d, cap.count());
    std::uint32_t r = 0;
    crypto::pooled_random_bytes(&r, sizeof r);
    // Full jitter in the upper half: retries of many tasks spread out, and
    // none comes back sooner than half the backoff.
    double f = 0.5 + 0.5 * (static_cast<double>(r) / 4294967295.0);
    return Millis(static_cast<long long>(static_cast<double>(d) * f));
}

void Registry::add(std::string scheme, Factory factory)
{
    m_factories[std::move(scheme)] = std::move(factory);
}

Result<std::unique_ptr<Queue>> Registry::open(const std::string& url, const OpenOptions& options) const
{
    auto colon = url.find("://");
    std::string scheme = colon == std::string::npos ? "" : url.substr(0, colon);
    if (scheme == "postgresql") scheme = "postgres";
    auto it = m_factories.find(scheme);
    if (it == m_factories.end()) {
        std::string known;
        for (const auto& [k, v] : m_factories) known += (known.empty() ? "" : ", ") + k + "://";
        return fail(Errc::usage, "unsupported queue URL '" + text::redact_url(url) + "'", "supported: " + known);
    }
    return it->second(url, options);
}

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {
std::string rfc3339(std::int64_t ms)
{
    return ms ? timeutil::format_rfc3339_ms(ms) : "";
}
}  // namespace

json to_json(const Entry& e, bool full)
{
    json j = {{"id", e.id},
              {"type", e.type},
              {"agent", e.agent},
              {"state", to_string(e.state)},
              {"priority", to_string(e.priority)},
              {"attempts", e.attempts},
              {"maxAttempts", e.max_attempts},
              {"dedupeKey", e.dedupe_key},
              {"createdAt", rfc3339(e.created_ms)},
              {"updatedAt", rfc3339(e.updated_ms)},
              {"availableAt", rfc3339(e.available_ms)}};
    if (e.state == State::leased) {
        j["leaseOwner"] = e.lease_owner;
        j["leaseUntil"] = rfc3339(e.lease_until_ms);
    }
    if (!e.last_error.empty()) j["lastError"] = e.last_error;
    if (!e.required_approvals.empty()) {
        j["requiredApprovals"] = e.required_approvals;
        j["approvals"] = e.approvals;
    }
    if (full) {
        j["task"] = e.task;
        j["decision"] = e.decision;
        if (!e.result.is_null()) j["result"] = e.result;
    }
    return j;
}

}  // namespace infra::core::queue
