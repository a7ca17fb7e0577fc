// Spans out of the process: OTLP/JSON as the OpenTelemetry collector reads
// it, sent to a loopback OTLP/HTTP receiver in batches, retried on the
// statuses OTLP calls retryable, and never in a task's way when the
// collector is down. Also the redaction every event passes through.
#include "core/events/otlp_exporter.hpp"
#include "core/events/query.hpp"
#include "core/events/trace.hpp"
#include "core/log.hpp"
#include "core/serve/state_metrics.hpp"
#include "core/store/db.hpp"
#include "core/store/migrations.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace infra::core;
using namespace infra::core::events;
using nlohmann::json;

namespace {

struct Collector {
    httplib::Server http;
    std::thread thread;
    int port = 0;
    std::mutex m;
    std::vector<json> requests;
    std::vector<std::string> auth;
    std::atomic<int> fail_next{0};

    Collector()
    {
        http.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
            if (fail_next > 0) {
                --fail_next;
                res.status = 503;
                return;
            }
            std::lock_guard lock(m);
            EXPECT_EQ(req.get_header_value("Content-Type"), "application/json");
            requests.push_back(json::parse(req.body));
            auth.push_back(req.get_header_value("api-key"));
            res.set_content("{}", "application/json");
        });
        port = http.bind_to_any_port("127.0.0.1");
        thread = std::thread([this] { http.listen_after_bind(); });
        while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~Collector()
    {
        http.stop();
        thread.join();
    }
    std::size_t spans()
    {
        std::lock_guard lock(m);
        std::size_t n = 0;
        for (const auto& r : requests) n += r["resourceSpans"][0]["scopeSpans"][0]["spans"].size();
        return n;
    }
};

}  // namespace

TEST(Otlp, SpansAreOtlpJson)
{
    MemorySink sink;
    {
        ContextScope in(*parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        Span s(sink, "chat gpt-4o", "T1",
               {{"gen_ai.request.model", "gpt-4o"}, {"gen_ai.usage.input_tokens", 12}, {"ok", true}});
        s.fail("rate limited");
    }
    json req = otlp_request(sink.events());
    const json& rs = req["resourceSpans"][0];
    EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
    EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "infra-agent");
    const json& span = rs["scopeSpans"][0]["spans"][0];
    EXPECT_EQ(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(span["parentSpanId"], "00f067aa0ba902b7");
    EXPECT_EQ(span["spanId"].get<std::string>().size(), 16u);
    EXPECT_EQ(span["name"], "chat gpt-4o");
    EXPECT_TRUE(span["startTimeUnixNano"].is_string());  // 64-bit integers are strings in OTLP/JSON
    EXPECT_EQ(span["status"]["code"], 2);
    EXPECT_EQ(span["status"]["message"], "rate limited");
    json attrs = json::object();
    for (const auto& a : span["attributes"]) attrs[a["key"].get<std::string>()] = a["value"];
    EXPECT_EQ(attrs["infra_agent.task.id"]["stringValue"], "T1");
    EXPECT_EQ(attrs["gen_ai.usage.input_tokens"]["intValue"], "12");
    EXPECT_EQ(attrs["ok"]["boolValue"], true);
}

TEST(Otlp, ExporterBatchesSpansToTheCollectorAndRetriesWhatIsRetryable)
{
    Collector c;
    c.fail_next = 2;  // two 503s, then accepted
    MemorySink store;
    OtlpOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(c.port);
    o.headers = parse_otlp_headers("api-key=s%3Dcret,other = x");
    o.backoff = std::chrono::milliseconds(10);
    o.max_batch = 50;
    {
        OtlpExporter exporter(store, o);
        for (int i = 0; i < 120; ++i) {
            Span s(exporter, "step", "T1", {{"i", i}});
            exporter.emit({"task.tool", "T1", "", {}});
        }
        exporter.flush();
        EXPECT_EQ(exporter.exported(), 120u);
        EXPECT_EQ(exporter.dropped(), 0u);
    }
    EXPECT_EQ(c.spans(), 120u);  // only spans; events stay local
    EXPECT_GE(c.requests.size(), 3u);
    EXPECT_EQ(c.auth.front(), "s=cret");
    EXPECT_EQ(store.events().size(), 240u);  // everything still reached the store
}

TEST(Otlp, ADeadCollectorNeverHoldsUpATask)
{
    // A port nothing listens on: connections are refused.
    int port;
    {
        httplib::Server probe;
        port = probe.bind_to_any_port("127.0.0.1");
    }
    MemorySink store;
    OtlpOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1/traces";
    o.max_queue = 100;
    o.backoff = std::chrono::milliseconds(10);
    o.timeout = std::chrono::milliseconds(500);
    auto started = std::chrono::steady_clock::now();
    std::size_t dropped = 0;
    {
        OtlpExporter exporter(store, o);
        for (int i = 0; i < 1000; ++i) Span s(exporter, "step");
        auto emitted = std::chrono::steady_clock::now() - started;
        EXPECT_LT(emitted, std::chrono::seconds(1));  // emit only queues
        exporter.flush();
        dropped = exporter.dropped();
    }
    EXPECT_GE(dropped, 900u);  // the queue holds 100; the rest were dropped and counted
    EXPECT_EQ(store.events().size(), 1000u);
}

TEST(Otlp, EndpointAndHeaderForms)
{
    EXPECT_EQ(otlp_traces_url("http://c:4318"), "http://c:4318/v1/traces");
    EXPECT_EQ(otlp_traces_url("http://c:4318/"), "http://c:4318/v1/traces");
    EXPECT_EQ(otlp_traces_url("http://c:4318/v1/traces"), "http://c:4318/v1/traces");
    auto h = parse_otlp_headers("a=1, b = two%20words ,broken,=x");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[1].second, "two words");
}

TEST(Redaction, SecretsLeaveEventsLogsAndKeys)
{
    log::add_secret("hunter2-webhook-secret");
    log::add_secret("ghs_minted_token_0001", true);
    MemorySink sink;
    sink.emit({"task.tool",
               "T1",
               "",
               {{"args", {{"cmd", "curl -H 'Authorization: token ghs_minted_token_0001'"}}},
                {"hunter2-webhook-secret", {"x", "hunter2-webhook-secret!"}}}});
    std::string text = sink.events()[0].data.dump();
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
    EXPECT_EQ(text.find("ghs_minted"), std::string::npos) << text;
    EXPECT_NE(text.find("[REDACTED]!"), std::string::npos) << text;
    EXPECT_EQ(log::redact("secret is hunter2-webhook-secret."), "secret is [REDACTED].");
    // Minted tokens are kept for the newest 64; configured secrets for good.
    for (int i = 0; i < 300; ++i) log::add_secret("ghs_later_token_" + std::to_string(1000 + i), true);
    EXPECT_EQ(log::redact("ghs_minted_token_0001"), "ghs_minted_token_0001");
    EXPECT_EQ(log::redact("ghs_later_token_1299"), "[REDACTED]");
    EXPECT_EQ(log::redact("hunter2-webhook-secret"), "[REDACTED]");
}

TEST(Redaction, WhatTheAuditLogStoresHasNoSecretEvenJsonEscaped)
{
    infra::test::TempDir dir;
    std::string path = (dir / "s.db").string();
    auto db = store::Db::open(path, true);
    ASSERT_TRUE(db && store::migrate(**db));
    log::add_secret("pa\"ss\\word-123");
    {
        auto sink = StateSink::open(path);
        ASSERT_TRUE(sink);
        (*sink)->emit({"task.tool", "T1", "", {{"args", "echo pa\"ss\\word-123"}}});
        (*sink)->flush();
    }
    std::vector<std::string> stored;
    ASSERT_TRUE(audit::scan(**db, 1, [&](const audit::Record& r) -> Status {
        stored.push_back(r.data_text);
        return {};
    }));
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0], R"({"args":"echo [REDACTED]"})");
    EXPECT_FALSE(audit::verify(**db)->problem);  // the chain covers what was stored
}

TEST(StateMetrics, EachRefreshAddsOnlyWhatWasRecordedSince)
{
    infra::test::TempDir dir;
    std::string path = (dir / "s.db").string();
    auto db = store::Db::open(path, true);
    ASSERT_TRUE(db && store::migrate(**db));
    auto record = [&](int n) {
        auto sink = StateSink::open(path);
        ASSERT_TRUE(sink);
        for (int i = 0; i < n; ++i) {
            (*sink)->emit({"task.tool", "T", "", {{"tool", "write_file"}, {"ok", true}}});
            (*sink)->emit({"task.succeeded", "T", "", {{"durationMs", 1500.0}, {"taskType", "drift-detection"}}});
        }
        (*sink)->flush();
    };
    infra::core::serve::StateMetrics m;
    record(2);
    ASSERT_TRUE(m.refresh(**db));
    ASSERT_TRUE(m.refresh(**db));  // nothing new: nothing added
    record(3);
    ASSERT_TRUE(m.refresh(**db));
    std::string text = m.render();
    EXPECT_NE(text.find("infra_agent_tool_calls_total{tool=\"write_file\",outcome=\"ok\"} 5\n"), std::string::npos)
        << text;
    EXPECT_NE(text.find("infra_agent_task_duration_seconds_count{type=\"drift-detection\",outcome=\"succeeded\"} 5\n"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            "infra_agent_task_duration_seconds_bucket{type=\"drift-detection\",outcome=\"succeeded\",le=\"1\"} 0\n"),
        std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            "infra_agent_task_duration_seconds_bucket{type=\"drift-detection\",outcome=\"succeeded\",le=\"2.5\"} 5\n"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("infra_agent_events_total{type=\"task.tool\"} 5\n"), std::string::npos) << text;
}
