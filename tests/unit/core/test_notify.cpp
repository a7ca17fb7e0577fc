// Notifications: which events people hear of, and that they reach a
// Slack-compatible incoming webhook (a loopback server) without holding up
// the events they ride on.
#include "core/notify.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

using namespace infra;
using core::events::Event;
using nlohmann::json;

TEST(Notify, WhichEventsBecomeMessages)
{
    auto text = [](Event e) {
        auto m = core::notify::slack_message(e);
        return m ? (*m)["text"].get<std::string>() : std::string();
    };
    EXPECT_NE(text({"task.escalated", "T1", "", {{"reason", "chat agents never touch production"}}})
                  .find("denied by policy: chat agents"),
              std::string::npos);
    EXPECT_NE(text({"task.enqueued",
                    "T2",
                    "",
                    {{"state", "pending-approval"}, {"queueId", "T2"}, {"requiredApprovals", {"platform-oncall"}}}})
                  .find("waits for approval by platform-oncall"),
              std::string::npos);
    EXPECT_NE(
        text({"change.delivered", "T3", "", {{"state", "opened"}, {"pullRequest", {{"url", "https://example/pr/7"}}}}})
            .find("Pull request opened for task T3: https://example/pr/7"),
        std::string::npos);
    EXPECT_NE(text({"task.dead", "T4", "", {{"attempts", 3}, {"error", "boom"}}}).find("dead after 3 attempts: boom"),
              std::string::npos);
    EXPECT_EQ(text({"task.enqueued", "T5", "", {{"state", "queued"}}}), "");
    EXPECT_EQ(text({"task.claimed", "T6", "", {}}), "");
}

TEST(Notify, PostsToTheIncomingWebhookInTheBackground)
{
    httplib::Server hook;
    std::mutex m;
    std::vector<json> got;
    hook.Post("/services/T000/B000/XXXX", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(m);
        got.push_back(json::parse(req.body));
        res.set_content("ok", "text/plain");
    });
    int port = hook.bind_to_any_port("127.0.0.1");
    std::thread t([&] { hook.listen_after_bind(); });
    core::events::MemorySink inner;
    {
        core::notify::Notifier n(inner, "http://127.0.0.1:" + std::to_string(port) + "/services/T000/B000/XXXX");
        n.emit({"task.dead", "T4", "", {{"attempts", 3}, {"error", "boom"}}});
        n.emit({"task.claimed", "T4", "", {}});
        n.flush();
        EXPECT_EQ(n.sent(), 1u);
        EXPECT_EQ(n.failed(), 0u);
    }
    hook.stop();
    t.join();
    EXPECT_EQ(inner.events().size(), 2u);  // every event still reaches the store
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0]["text"].get<std::string>().find("T4 is dead"), std::string::npos);
}
