#pragma once
// Notifications for people: Slack-compatible incoming-webhook messages
// ({"text": ...}, which Slack, Mattermost, Rocket.Chat and Teams' Slack
// connector all accept) when policy escalates a task, a task waits for
// approval, a pull request is ready, or a task is dead. Posting happens on a
// background thread with a bounded backlog: a slow or failing chat service
// never holds up a task.

#include "core/events/event.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace infra::core::notify {

/// The message for an event, or nothing when people need not hear of it.
std::optional<nlohmann::json> slack_message(const events::Event& e);

/// An EventSink that passes every event on to another sink and posts the
/// ones people need to hear of to an incoming-webhook URL.
class Notifier final : public events::EventSink {
public:
    Notifier(events::EventSink& inner, std::string url);
    ~Notifier() override;

    void emit(events::Event e) override;
    /// Flushes the inner sink and waits (up to a few seconds) for posts.
    void flush() override;

    std::size_t sent() const;
    std::size_t failed() const;

private:
    void loop();

    events::EventSink& m_inner;
    std::string m_url;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake, m_idle;
    std::deque<std::string> m_backlog;
    bool m_stop = false, m_busy = false;
    std::size_t m_sent = 0, m_failed = 0, m_dropped = 0;
    std::thread m_thread;
};

}  // namespace infra::core::notify
