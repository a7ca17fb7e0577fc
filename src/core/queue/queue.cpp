#include "core/queue/queue.hpp"

#include "core/crypto.hpp"

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
    crypto::random_bytes(&r, sizeof r);
    // Full jitter in the upper half: retries of many tasks spread out, and
    // none comes back sooner than half the backoff.
    double f = 0.5 + 0.5 * (static_cast<double>(r) / 4294967295.0);
    return Millis(static_cast<long long>(static_cast<double>(d) * f));
}

void Registry::add(std::string scheme, Factory factory) { m_factories[std::move(scheme)] = std::move(factory); }

Result<std::unique_ptr<Queue>> Registry::open(const std::string& url, const OpenOptions& options) const
{
    auto colon = url.find("://");
    std::string scheme = colon == std::string::npos ? "" : url.substr(0, colon);
    if (scheme == "postgresql") scheme = "postgres";
    auto it = m_factories.find(scheme);
    if (it == m_factories.end()) {
        std::string known;
        for (const auto& [k, v] : m_factories) known += (known.empty() ? "" : ", ") + k + "://";
        return fail(Errc::usage, "unsupported queue URL '" + url + "'", "supported: " + known);
    }
    return it->second(url, options);
}

std::vector<std::string> Registry::schemes() const
{
    std::vector<std::string> out;
    for (const auto& [k, v] : m_factories) out.push_back(k);
    return out;
}

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace infra::core::queue
