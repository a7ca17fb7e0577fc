#include "core/agent/loop.hpp"

#include "core/events/trace.hpp"
#include "core/log.hpp"

namespace infra::core::agent {

Outcome run_loop(Model& model, ToolBox& tools, const LoopInput& in, const RunContext& ctx)
{
    int max_iterations = static_cast<int>(ctx.decision.max_iterations);
    const std::string& task_id = ctx.task.id;
    tools.set_deadline(ctx.deadline);
    std::vector<Message> messages;
    messages.push_back({Message::Role::system, in.system, {}, "", "", false});
    messages.push_back({Message::Role::user, in.user, {}, "", "", false});
    long in_tokens = 0, out_tokens = 0;
    // "openai:gpt-4o" -> provider openai, model gpt-4o (OpenTelemetry's GenAI attributes).
    const std::string full_name = model.name();
    const auto colon = full_name.find(':');
    const std::string provider = colon == std::string::npos ? "" : full_name.substr(0, colon);
    const std::string model_name = colon == std::string::npos ? full_name : full_name.substr(colon + 1);
    int validations = 0;
    auto result = [&](int iterations) {
        return json{{"iterations", iterations},   {"inputTokens", in_tokens},   {"outputTokens", out_tokens},
                    {"toolCalls", tools.calls()}, {"summary", tools.summary()}, {"diff", tools.diff()},
                    {"validations", validations}};
    };
    for (int it = 1; it <= max_iterations; ++it) {
        if (ctx.cancelled())
            return {false, "stopped: the time limit passed or the worker is stopping", result(it - 1), true};
        events::Span iteration(ctx.events, "agent.iteration", task_id, {{"iteration", it}, {"of", max_iterations}});
        ctx.events.emit({"task.iteration", task_id, "", {{"iteration", it}, {"of", max_iterations}}});
        // OpenTelemetry GenAI: a "chat {model}" span per model call.
        events::Span call(ctx.events, "chat " + model_name, task_id,
                          {{"gen_ai.operation.name", "chat"},
                           {"gen_ai.provider.name", provider},
                           {"gen_ai.request.model", model_name}});
        auto reply = model.complete(messages, tools.specs());
        if (!reply) {
            std::string why = log::redact(reply.error().message);
            ctx.events.emit({"task.model-call", task_id, "", {{"model", model.name()}, {"ok", false}, {"error", why}}});
            call.set("error.type", "model_error");
            call.fail(why);
            iteration.fail(why);
            return {false, "the model failed: " + why, result(it), true};
        }
        call.set("gen_ai.response.model", reply->model);
        call.set("gen_ai.usage.input_tokens", reply->input_tokens);
        call.set("gen_ai.usage.output_tokens", reply->output_tokens);
        call.end();
        in_tokens += reply->input_tokens;
        out_tokens += reply->output_tokens;
        // OpenTelemetry GenAI names: gen_ai.request.model, gen_ai.usage.*.
        ctx.events.emit({"task.model-call",
                         task_id,
                         "",
                         {{"gen_ai.request.model", model.name()},
                          {"gen_ai.response.model", reply->model},
                          {"gen_ai.usage.input_tokens", reply->input_tokens},
                          {"gen_ai.usage.output_tokens", reply->output_tokens},
                          {"durationMs", reply->ms},
                          {"toolCalls", reply->calls.size()},
                          {"iteration", it}}});
        messages.push_back({Message::Role::assistant, reply->text, reply->calls, "", "", false});
        if (reply->calls.empty()) {
            // An answer without tool calls ends the turn as a finish would.
            if (!tools.finished()) tools.call("finish", {{"summary", reply->text.empty() ? "done" : reply->text}});
        }
        for (const auto& call : reply->calls) {
            if (ctx.cancelled())
                return {false, "stopped: the time limit passed or the worker is stopping", result(it), true};
            ToolResult r = tools.call(call.name, call.arguments);
            std::string content =
                r.ok ? (r.output.is_string() ? r.output.get<std::string>() : r.output.dump()) : "error: " + r.error;
            if (content.size() > 32768) content = content.substr(0, 32768) + "\n[output cut at 32 KiB]";
            messages.push_back({Message::Role::tool, log::redact(content), {}, call.id, call.name, !r.ok});
        }
        if (tools.finished()) {
            if (!in.validate) return {true, "", result(it), true};
            events::Span check(ctx.events, "agent.validate", task_id, {{"iteration", it}});
            auto v = in.validate();
            if (!v) check.fail(v.error().message);
            check.end();
            ++validations;
            ctx.events.emit({"task.validation",
                             task_id,
                             "",
                             {{"ok", static_cast<bool>(v)}, {"iteration", it}, {"error", v ? "" : v.error().message}}});
            if (v) return {true, "", result(it), true};
            // Fail -> back to the sandbox: the model gets the failure and may try again.
            tools.reopen();
            messages.push_back({Message::Role::user,
                                "Validation failed, the task is not done. Fix this and call finish again:\n" +
                                    log::redact(v.error().message),
                                {},
                                "",
                                "",
                                false});
        }
    }
    return {false, "stopped after " + std::to_string(max_iterations) + " iterations (maxIterations) without finishing",
            result(max_iterations), true};
}

}  // namespace infra::core::agent
