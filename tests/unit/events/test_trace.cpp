// W3C trace context and spans: what a traceparent header may be, and that
// spans nest on a thread and carry their trace into every event.
#include "core/events/trace.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace infra::core::events;

TEST(TraceContext, ParsesTheW3CHeaderAndRejectsWhatTheRecommendationRejects)
{
    auto ok = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(ok->span_id, "00f067aa0ba902b7");
    EXPECT_EQ(to_traceparent(*ok), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    // A later version may append fields; version 00 may not.
    EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
    for (const char* bad : {"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace
                            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero span
                            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
                            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  // upper case
                            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"})
        EXPECT_FALSE(parse_traceparent(bad)) << bad;
}

TEST(Spans, NestOnAThreadAndStampTheEventsEmittedInside)
{
    MemorySink sink;
    SpanContext outer_ctx;
    {
        ContextScope from_header(*parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        Span outer(sink, "task.run", "T1", {{"attempt", 1}});
        outer_ctx = outer.context();
        {
            Span inner(sink, "execute_tool read_file", "T1");
            sink.emit({"task.tool", "T1", "", {{"tool", "read_file"}}});
            inner.fail("no such file");
        }
        // The parent is current again once the child ended.
        EXPECT_EQ(current_context().span_id, outer.context().span_id);
    }
    EXPECT_TRUE(current_context().empty());
    auto ev = sink.events();
    ASSERT_EQ(ev.size(), 3u);
    const Event& inner = ev[1];
    const Event& tool = ev[0];
    const Event& outer = ev[2];
    EXPECT_EQ(outer.type, "span");
    EXPECT_EQ(outer.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_EQ(outer.parent_id, "00f067aa0ba902b7");
    EXPECT_EQ(outer.data["name"], "task.run");
    EXPECT_EQ(outer.data["status"], "ok");
    EXPECT_EQ(outer.data["attributes"]["attempt"], 1);
    EXPECT_EQ(inner.parent_id, outer.span_id);
    EXPECT_EQ(inner.trace_id, outer.trace_id);
    EXPECT_EQ(inner.data["status"], "error");
    EXPECT_EQ(inner.data["error"], "no such file");
    EXPECT_GE(inner.data["endTimeUnixNano"].get<std::int64_t>(), inner.data["startTimeUnixNano"].get<std::int64_t>());
    // An ordinary event belongs to the span that was current.
    EXPECT_EQ(tool.trace_id, outer.trace_id);
    EXPECT_EQ(tool.span_id, inner.span_id);
}

TEST(Spans, WithoutAContextStartANewTraceAndStayOnTheirThread)
{
    MemorySink sink;
    std::string a, b;
    std::thread t1([&] {
        Span s(sink, "one");
        a = s.context().trace_id;
    });
    std::thread t2([&] {
        Span s(sink, "two");
        b = s.context().trace_id;
    });
    t1.join();
    t2.join();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
    for (const auto& e : sink.events()) EXPECT_TRUE(e.parent_id.empty());
}

TEST(Spans, RecordedAfterTheFactAreChildrenOfTheGivenContext)
{
    MemorySink sink;
    SpanContext parent{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"};
    record_span(sink, "queue.wait", "T1", parent, 1000000000, 3500000000, {{"attempt", 2}});
    auto ev = sink.events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].trace_id, parent.trace_id);
    EXPECT_EQ(ev[0].parent_id, parent.span_id);
    EXPECT_EQ(ev[0].data["durationMs"], 2500.0);
    EXPECT_TRUE(current_context().empty());
}
