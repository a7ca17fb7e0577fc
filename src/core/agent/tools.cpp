#include "core/agent/tools.hpp"

#include "core/diff.hpp"
#include "core/events/trace.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>

namespace infra::core::agent {
namespace {

json schema(const char* name, const char* description, json properties, std::vector<std::string> required)
{
    return {{"name", name},
            {"description", description},
            {"parameters",
             {{"type", "object"},
              {"properties", std::move(properties)},
              {"required", required},
              {"additionalProperties", false}}}};
}

const std::vector<json>& all_specs()
{
    static const std::vector<json> k_specs = {
        schema("list_files", "List the files of the workspace (or of a directory in it).",
               {{"path", {{"type", "string"}, {"description", "directory relative to the workspace root"}}}}, {}),
        schema("read_file", "Read a text file of the workspace.", {{"path", {{"type", "string"}}}}, {"path"}),
        schema("search", "Find the lines of workspace files that contain a text.",
               {{"text", {{"type", "string"}}}, {"path", {{"type", "string"}}}}, {"text"}),
        schema("write_file", "Write a whole file of the workspace.",
               {{"path", {{"type", "string"}}}, {"content", {{"type", "string"}}}}, {"path", "content"}),
        schema("apply_patch", "Apply a unified diff (with a/ and b/ paths) to workspace files.",
               {{"patch", {{"type", "string"}}}}, {"patch"}),
        schema("run_command", "Run a command in the sandbox (no network, no credentials), in the workspace.",
               {{"argv", {{"type", "array"}, {"items", {{"type", "string"}}}}}}, {"argv"}),
        schema("finish", "Finish the task with a short summary of what was done and why.",
               {{"summary", {{"type", "string"}}}}, {"summary"}),
    };
    return k_specs;
}

std::string str_arg(const json& args, const char* key, bool& ok, std::string& error)
{
    auto it = args.find(key);
    if (it == args.end() || !it->is_string()) {
        ok = false;
        error = std::string("argument '") + key + "' must be a string";
        return {};
    }
    return it->get<std::string>();
}

// What an event may show of arguments: contents cut short, secrets redacted.
json for_event(const json& args)
{
    json out = json::object();
    if (!args.is_object()) return out;
    for (auto it = args.begin(); it != args.end(); ++it) {
        if (it->is_string()) {
            std::string v = log::redact(it->get<std::string>());
            if (v.size() > 200) v = v.substr(0, 200) + "... (" + std::to_string(v.size()) + " bytes)";
            out[it.key()] = v;
        } else {
            out[it.key()] = json::parse(log::redact(it->dump()), nullptr, false);
        }
    }
    return out;
}

}  // namespace

const std::vector<std::string>& tool_names()
{
    static const std::vector<std::string> k_names = [] {
        std::vector<std::string> v;
        for (const auto& s : all_specs()) v.push_back(s["name"]);
        return v;
    }();
    return k_names;
}

ToolBox::ToolBox(const Workspace& ws, const policy::Decision& decision, const sandbox::Sandbox* sandbox,
                 events::EventSink& events, std::string task_id)
    : m_ws(ws), m_allowed_tools(decision.allowed_tools), m_denied_tools(decision.denied_tools), m_sandbox(sandbox),
      m_events(events), m_task(std::move(task_id))
{
}

bool ToolBox::allowed(const std::string& name) const
{
    if (name == "finish") return true;  // ending the work is never a risk
    if (std::find(m_denied_tools.begin(), m_denied_tools.end(), name) != m_denied_tools.end()) return false;
    return !m_allowed_tools ||
           std::find(m_allowed_tools->begin(), m_allowed_tools->end(), name) != m_allowed_tools->end();
}

json ToolBox::specs() const
{
    json out = json::array();
    for (const auto& s : all_specs())
        if (allowed(s["name"])) out.push_back(s);
    return out;
}

ToolResult ToolBox::call(const std::string& name, const json& args)
{
    ++m_calls;
    auto started = std::chrono::steady_clock::now();
    // OpenTelemetry GenAI: an "execute_tool" span per call.
    events::Span span(m_events, "execute_tool " + name, m_task,
                      {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.name", name}});
    ToolResult r;
    bool known = std::find(tool_names().begin(), tool_names().end(), name) != tool_names().end();
    if (!known) {
        r = {false, nullptr, "unknown tool " + text::quote(name), true};
    } else if (!allowed(name)) {
        r = {false, nullptr, "policy does not allow the tool " + text::quote(name) + " for this task", true};
    } else if (!args.is_object()) {
        r = {false, nullptr, "arguments must be a JSON object", true};
    } else if (m_finished) {
        r = {false, nullptr, "the task is already finished", true};
    } else {
        r = run(name, args);
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    json data = {{"tool", name}, {"args", for_event(args)}, {"ok", r.ok}, {"durationMs", ms}};
    if (!r.ok) data["error"] = log::redact(r.error);
    m_events.emit({r.refused ? "task.tool-refused" : "task.tool", m_task, "", std::move(data)});
    if (!r.ok) {
        span.set("error.type", r.refused ? "refused" : "failed");
        span.fail(log::redact(r.error));
    }
    return r;
}

ToolResult ToolBox::run(const std::string& name, const json& args)
{
    bool ok = true;
    std::string error;
    if (name == "list_files") {
        std::string path = args.contains("path") ? str_arg(args, "path", ok, error) : ".";
        if (!ok) return {false, nullptr, error, true};
        auto files = m_ws.list(path.empty() ? "." : path);
        if (!files) return {false, nullptr, files.error().message, files.error().code == Errc::denied};
        return {true, *files, "", false};
    }
    if (name == "read_file") {
        std::string path = str_arg(args, "path", ok, error);
        if (!ok) return {false, nullptr, error, true};
        auto content = m_ws.read(path, 1u << 20);
        if (!content) return {false, nullptr, content.error().message, content.error().code == Errc::denied};
        return {true, *content, "", false};
    }
    if (name == "search") {
        std::string needle = str_arg(args, "text", ok, error);
        if (!ok || needle.empty()) return {false, nullptr, ok ? "argument 'text' is empty" : error, true};
        std::string path = args.contains("path") && args["path"].is_string() ? args["path"].get<std::string>() : ".";
        auto files = m_ws.list(path);
        if (!files) return {false, nullptr, files.error().message, files.error().code == Errc::denied};
        json hits = json::array();
        for (const auto& f : *files) {
            auto content = m_ws.read(f, 1u << 20);
            if (!content) continue;
            std::istringstream in(*content);
            std::string line;
            for (int n = 1; std::getline(in, line); ++n) {
                if (line.find(needle) == std::string::npos) continue;
                hits.push_back({{"path", f}, {"line", n}, {"text", line.substr(0, 300)}});
                if (hits.size() >= 200) return {true, hits, "", false};
            }
        }
        return {true, hits, "", false};
    }
    if (name == "write_file") {
        std::string path = str_arg(args, "path", ok, error);
        std::string content = ok ? str_arg(args, "content", ok, error) : "";
        if (!ok) return {false, nullptr, error, true};
        return write(path, content);
    }
    if (name == "apply_patch") {
        std::string patch = str_arg(args, "patch", ok, error);
        if (!ok) return {false, nullptr, error, true};
        return apply_patch(patch);
    }
    if (name == "run_command") {
        auto it = args.find("argv");
        if (it == args.end() || !it->is_array() || it->empty())
            return {false, nullptr, "argument 'argv' must be a non-empty list of strings", true};
        std::vector<std::string> argv;
        for (const auto& a : *it) {
            if (!a.is_string()) return {false, nullptr, "argument 'argv' must be a list of strings", true};
            argv.push_back(a.get<std::string>());
        }
        if (!m_sandbox) return {false, nullptr, "no sandbox is available to run commands in", true};
        sandbox::Request req;
        req.argv = argv;
        req.workspace = m_ws.root();
        req.limits.wall = std::chrono::milliseconds(120000);
        if (m_deadline != std::chrono::steady_clock::time_point::max()) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return {false, nullptr, "the task's time is up", true};
            req.limits.wall = std::min(req.limits.wall, left);
        }
        auto o = m_sandbox->run(req);
        if (!o) return {false, nullptr, o.error().message, false};
        json out = {{"exitCode", o->exit_code}, {"stdout", o->out}, {"stderr", o->err}};
        if (o->signal) out["signal"] = o->signal;
        if (o->timed_out) out["timedOut"] = true;
        if (o->out_truncated || o->err_truncated) out["truncated"] = true;
        return {true, out, "", false};
    }
    if (name == "finish") {
        std::string summary = str_arg(args, "summary", ok, error);
        if (!ok) return {false, nullptr, error, true};
        m_finished = true;
        m_summary = summary;
        return {true, "finished", "", false};
    }
    return {false, nullptr, "unknown tool " + text::quote(name), true};
}

ToolResult ToolBox::write(const std::string& path, const std::string& content)
{
    auto target = m_ws.resolve_for_write(path);
    if (!target) return {false, nullptr, target.error().message, true};
    if (!m_originals.count(path)) {
        auto before = m_ws.read(path);
        m_originals[path] = before ? std::optional<std::string>(*before) : std::nullopt;
    }
    if (auto st = m_ws.write(path, content); !st)
        return {false, nullptr, st.error().message, st.error().code == Errc::denied};
    return {true, "wrote " + std::to_string(content.size()) + " bytes to " + path, "", false};
}

ToolResult ToolBox::apply_patch(const std::string& patch)
{
    // Split the patch into files at "--- a/" lines.
    std::istringstream in(patch);
    std::string line;
    std::vector<std::pair<std::string, std::string>> files;  // path, hunks
    while (std::getline(in, line)) {
        if (line.rfind("--- ", 0) == 0) {
            std::string plus;
            if (!std::getline(in, plus) || plus.rfind("+++ ", 0) != 0)
                return {false, nullptr, "patch: '---' without '+++'", true};
            std::string path = plus.substr(4);
            if (path.rfind("b/", 0) == 0) path = path.substr(2);
            auto tab = path.find('\t');
            if (tab != std::string::npos) path.resize(tab);
            files.push_back({path, ""});
        } else if (!files.empty()) {
            files.back().second += line + "\n";
        }
    }
    if (files.empty()) return {false, nullptr, "patch: no file headers (--- a/PATH, +++ b/PATH)", true};
    std::vector<std::pair<std::string, std::string>> results;
    for (const auto& [path, hunks] : files) {
        if (!m_ws.resolve_for_write(path))
            return {false, nullptr, "patch: path " + text::quote(path) + " is outside the workspace", true};
        auto current = m_ws.read(path);
        std::string text = current ? *current : "";
        auto patched = apply_unified(text, hunks);
        if (!patched) return {false, nullptr, "patch for " + path + ": " + patched.error().message, false};
        results.push_back({path, *patched});
    }
    for (const auto& [path, content] : results) {
        auto r = write(path, content);
        if (!r.ok) return r;
    }
    return {true, "patched " + std::to_string(results.size()) + " file(s)", "", false};
}

std::string ToolBox::diff() const
{
    std::string out;
    for (const auto& [path, before] : m_originals) {
        auto after = m_ws.read(path);
        std::optional<std::string_view> b, a;
        if (before) b = *before;
        if (after) a = *after;
        out += diff::unified_files(b, a, path);
    }
    return out;
}

Result<std::string> apply_unified(const std::string& text, const std::string& hunks)
{
    std::vector<std::string> lines;  // with their newlines; the last may have none
    for (std::size_t s = 0; s < text.size();) {
        auto nl = text.find('\n', s);
        std::size_t e = nl == std::string::npos ? text.size() : nl + 1;
        lines.push_back(text.substr(s, e - s));
        s = e;
    }
    std::vector<std::string> out;
    std::size_t pos = 0;  // next line of the original not yet copied
    std::istringstream in(hunks);
    std::string l;
    std::vector<std::string> hunk_lines;
    auto flush = [&](long start) -> Status {
        if (hunk_lines.empty()) return {};
        // The lines the hunk expects to find.
        std::size_t at = static_cast<std::size_t>(std::max(0L, start - 1));
        if (at < pos) return fail(Errc::invalid_input, "hunks overlap or are out of order");
        while (pos < at && pos < lines.size()) out.push_back(lines[pos++]);
        for (const auto& h : hunk_lines) {
            char tag = h.empty() ? ' ' : h[0];
            std::string body = h.empty() ? "\n" : h.substr(1);
            if (tag == '+') {
                out.push_back(body);
            } else if (tag == ' ' || tag == '-') {
                if (pos >= lines.size() || lines[pos] != body)
                    return fail(Errc::invalid_input, "hunk does not match line " + std::to_string(pos + 1));
                if (tag == ' ') out.push_back(lines[pos]);
                ++pos;
            }
        }
        hunk_lines.clear();
        return {};
    };
    long start = -1;
    while (std::getline(in, l)) {
        if (l.rfind("@@ ", 0) == 0) {
            if (auto st = flush(start); !st) return st.error();
            long a = 0;
            if (std::sscanf(l.c_str(), "@@ -%ld", &a) != 1)
                return fail(Errc::invalid_input, "bad hunk header " + text::quote(l));
            start = a == 0 ? 1 : a;
            continue;
        }
        if (l.rfind("\\ No newline", 0) == 0) {
            if (!hunk_lines.empty() && !hunk_lines.back().empty() && hunk_lines.back().back() == '\n')
                hunk_lines.back().pop_back();
            continue;
        }
        if (start < 0) continue;
        hunk_lines.push_back(l + "\n");
    }
    if (auto st = flush(start); !st) return st.error();
    while (pos < lines.size()) out.push_back(lines[pos++]);
    std::string result;
    for (const auto& x : out) result += x;
    return result;
}

}  // namespace infra::core::agent
