#include "core/notify.hpp"

#include "core/http.hpp"
#include "core/json_access.hpp"
#include "core/log.hpp"

#include <spdlog/spdlog.h>

namespace infra::core::notify {
namespace {

constexpr std::size_t k_max_backlog = 1000;

}  // namespace

std::optional<nlohmann::json> slack_message(const events::Event& e)
{
    const auto& d = e.data;
    std::string text;
    if (e.type == "task.escalated") {
        text = ":no_entry: Task " + e.task_id + " was denied by policy: " + string_member(d, "reason");
    } else if (e.type == "task.pending-approval" ||
               (e.type == "task.enqueued" && string_member(d, "state") == "pending-approval")) {
        std::string groups;
        for (const auto& g : strings_member(d, "requiredApprovals")) groups += (groups.empty() ? "" : ", ") + g;
        text = ":raised_hand: Task " +
               (e.type == "task.enqueued" ? string_member(d, "queueId", e.task_id) : e.task_id) +
               " waits for approval" + (groups.empty() ? "" : " by " + groups) + ": infra-agent approve " +
               (e.type == "task.enqueued" ? string_member(d, "queueId", e.task_id) : e.task_id) + " --as NAME";
    } else if (e.type == "change.delivered") {
        const auto& pr = member(d, "pullRequest");
        if (!pr.is_object()) return std::nullopt;
        std::string state = string_member(d, "state", "ready");
        text = ":white_check_mark: Pull request " + state + " for task " + e.task_id + ": " + string_member(pr, "url") +
               (string_member(pr, "title").empty() ? "" : " (" + string_member(pr, "title") + ")");
    } else if (e.type == "task.dead") {
        text = ":x: Task " + e.task_id + " is dead after " + std::to_string(int_member(d, "attempts")) +
               " attempts: " + string_member(d, "error") + " (infra-agent queue retry " + e.task_id + ")";
    } else {
        return std::nullopt;
    }
    return nlohmann::json{{"text", text}};
}

Notifier::Notifier(events::EventSink& inner, std::string url) : m_inner(inner), m_url(std::move(url))
{
    m_thread = std::thread([this] { loop(); });
}

Notifier::~Notifier()
{
    flush();
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void Notifier::emit(events::Event e)
{
    auto msg = slack_message(e);
    m_inner.emit(std::move(e));
    if (!msg) return;
    std::lock_guard lock(m_mutex);
    if (m_backlog.size() >= k_max_backlog) {
        ++m_dropped;
        return;
    }
    m_backlog.push_back(msg->dump());
    m_wake.notify_one();
}

void Notifier::flush()
{
    m_inner.flush();
    std::unique_lock lock(m_mutex);
    m_idle.wait_for(lock, std::chrono::seconds(10), [this] { return m_backlog.empty() && !m_busy; });
}

std::size_t Notifier::sent() const
{
    std::lock_guard lock(m_mutex);
    return m_sent;
}

std::size_t Notifier::failed() const
{
    std::lock_guard lock(m_mutex);
    return m_failed;
}

void Notifier::loop()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stop || !m_backlog.empty(); });
        if (m_backlog.empty()) {
            if (m_stop) return;
            continue;
        }
        std::string body = std::move(m_backlog.front());
        m_backlog.pop_front();
        m_busy = true;
        lock.unlock();
        http::Request req;
        req.method = "POST";
        req.url = m_url;
        req.headers = {{"Content-Type", "application/json"}};
        req.body = log::redact(body);  // on this thread, not the emitter's
        req.timeout = std::chrono::seconds(10);
        // One retry for a transient failure; then the message is dropped and logged.
        bool ok = false;
        for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
            auto r = http::send(req);
            ok = r && r->status >= 200 && r->status < 300;
            if (!ok && attempt == 1)
                // The URL is a secret (it is the credential), so it is never logged.
                spdlog::warn("notification not delivered: {}",
                             r ? "the webhook answered HTTP " + std::to_string(r->status)
                               : std::string("cannot reach the webhook"));
        }
        lock.lock();
        m_busy = false;
        ++(ok ? m_sent : m_failed);
        if (m_backlog.empty()) m_idle.notify_all();
    }
}

}  // namespace infra::core::notify
