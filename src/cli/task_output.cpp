#include "cli/task_output.hpp"

#include "cli/exit_codes.hpp"
#include "core/json_access.hpp"
#include "core/task_json.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {
constexpr std::size_t k_spill_at = 1u << 20;

std::string pad(std::string s, std::size_t width)
{
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}
}  // namespace

std::string describe_task(const core::AgentTask& t)
{
    const auto& p = t.payload;
    std::string what;
    if (const auto& one = core::member(p, "finding"); one.is_object()) {
        core::TaskFinding f = core::finding_from_json(one);
        what = f.canonical_rule_id;
        if (!f.resource.empty()) what += " " + f.resource;
        if (!f.file.empty()) what += " (" + f.location() + ")";
    } else if (p.contains("alertname")) {
        what = core::string_member(p, "alertname");
    } else if (p.contains("alarmName")) {
        what = core::string_member(p, "alarmName");
    } else if (p.contains("title") && p["title"].is_string()) {
        what = p["title"].get<std::string>();
    } else if (p.contains("message") && p["message"].is_string()) {
        what = p["message"].get<std::string>().substr(0, 60);
    } else if (p.contains("event") && p["event"].is_string()) {
        what = p["event"].get<std::string>();
    }
    if (!t.context.repository_id.empty()) what += " [" + t.context.repository_id + "]";
    return pad(t.id, 27) + pad(std::string(core::to_string(t.type)), 23) +
           pad(std::string(core::to_string(t.context.priority)), 9) + what;
}

TaskOutput::TaskOutput(Context& ctx, bool json) : m_ctx(ctx), m_json(json) {}

TaskOutput::~TaskOutput()
{
    if (m_spill) std::fclose(m_spill);
}

void TaskOutput::begin()
{
    abort();
}

void TaskOutput::render(const core::AgentTask& task, std::string& out) const
{
    if (m_json) {
        core::append_task_json(out, task);
        out.push_back('\n');
    } else {
        out += describe_task(task);
        out.push_back('\n');
    }
}

void TaskOutput::task(core::AgentTask&& task)
{
    if (!m_traceparent.empty() && !task.traceparent) task.traceparent = m_traceparent;
    render(task, m_buf);
    ++m_pending;
    if (m_buf.size() > k_spill_at) spill();
}

void TaskOutput::spill()
{
    if (!m_spill) m_spill = std::tmpfile();
    if (!m_spill) return;  // keep it in memory then
    std::fwrite(m_buf.data(), 1, m_buf.size(), m_spill);
    m_buf.clear();
}

void TaskOutput::commit()
{
    if (m_pending && !m_json && !m_header_done) {
        m_ctx.print(pad("ID", 27) + pad("TYPE", 23) + pad("PRIORITY", 9) + "ABOUT\n");
        m_header_done = true;
    }
    if (m_spill) {
        std::rewind(m_spill);
        char block[65536];
        std::size_t n;
        while ((n = std::fread(block, 1, sizeof block, m_spill)) > 0) std::fwrite(block, 1, n, stdout);
        std::fclose(m_spill);
        m_spill = nullptr;
    }
    std::fwrite(m_buf.data(), 1, m_buf.size(), stdout);
    std::fflush(stdout);
    m_emitted += m_pending;
    m_pending = 0;
    m_buf.clear();
}

void TaskOutput::abort()
{
    m_buf.clear();
    m_pending = 0;
    if (m_spill) {
        std::fclose(m_spill);
        m_spill = nullptr;
    }
}

void TaskOutput::skip(const std::string& reason)
{
    ++m_skipped;
    if (m_skip_reasons.size() < 5) m_skip_reasons.push_back(reason);
    spdlog::debug("skipped: {}", reason);
}

void TaskOutput::reject(const core::Error& error)
{
    ++m_rejected;
    m_ctx.fail(error);
}

}  // namespace infra::cli
