#include "core/events/otlp_exporter.hpp"

#include "core/events/query.hpp"
#include "core/http.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <cctype>

namespace infra::core::events {

std::string otlp_traces_url(const std::string& endpoint)
{
    std::string url = endpoint;
    while (!url.empty() && url.back() == '/') url.pop_back();
    const std::string suffix = "/v1/traces";
    if (url.size() >= suffix.size() && url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0) return url;
    return url + suffix;
}

std::vector<std::pair<std::string, std::string>> parse_otlp_headers(const std::string& text)
{
    auto decode = [](std::string_view s) {
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
                out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else {
                out += s[i];
            }
        }
        return out;
    };
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& part : text::split(text, ',')) {
        auto eq = part.find('=');
        if (eq == std::string::npos) continue;
        std::string key(text::trim(std::string_view(part).substr(0, eq)));
        if (key.empty()) continue;
        out.emplace_back(key, decode(text::trim(std::string_view(part).substr(eq + 1))));
    }
    return out;
}

OtlpExporter::OtlpExporter(EventSink& inner, OtlpOptions options)
    : m_inner(inner), m_opt(std::move(options)), m_url(otlp_traces_url(m_opt.endpoint))
{
    m_thread = std::thread([this] { loop(); });
}

OtlpExporter::~OtlpExporter()
{
    flush();
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
    if (m_dropped) spdlog::warn("{} spans were not exported to {}", m_dropped, m_url);
}

void OtlpExporter::emit(Event e)
{
    stamp(e);
    if (e.type == "span") {
        std::lock_guard lock(m_mutex);
        if (m_queue.size() >= m_opt.max_queue) {
            m_queue.pop_front();
            ++m_dropped;
        }
        m_queue.push_back(e);
        if (m_queue.size() >= m_opt.max_batch) m_wake.notify_one();
    }
    m_inner.emit(std::move(e));
}

void OtlpExporter::flush()
{
    m_inner.flush();
    std::unique_lock lock(m_mutex);
    m_flush = true;
    m_wake.notify_one();
    m_idle.wait_for(lock, m_opt.timeout, [this] { return m_queue.empty() && !m_busy; });
    m_flush = false;
}

std::size_t OtlpExporter::exported() const
{
    std::lock_guard lock(m_mutex);
    return m_exported;
}

std::size_t OtlpExporter::dropped() const
{
    std::lock_guard lock(m_mutex);
    return m_dropped;
}

bool OtlpExporter::send(const std::vector<Event>& batch)
{
    http::Request req;
    req.method = "POST";
    req.url = m_url;
    req.headers = m_opt.headers;
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = log::redact(otlp_request(batch).dump(-1, ' ', false, json::error_handler_t::replace));
    req.timeout = m_opt.timeout;
    req.connect_timeout = m_opt.timeout;
    auto backoff = m_opt.backoff;
    for (int attempt = 1; attempt <= m_opt.max_attempts; ++attempt) {
        auto res = http::send(req);
        if (res && res->status >= 200 && res->status < 300) return true;
        // OTLP/HTTP: 429, 502, 503 and 504 may be retried; other statuses may not.
        bool retryable = !res || res->status == 429 || res->status == 502 || res->status == 503 || res->status == 504;
        std::string why = res ? "HTTP " + std::to_string(res->status) : res.error().message;
        if (!retryable || attempt == m_opt.max_attempts) {
            spdlog::debug("OTLP export to {} failed: {}", m_url, why);
            return false;
        }
        std::unique_lock lock(m_mutex);
        if (m_wake.wait_for(lock, backoff, [this] { return m_stop; })) return false;  // stopping: no more tries
        backoff *= 2;
    }
    return false;
}

void OtlpExporter::loop()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait_for(lock, m_opt.interval,
                        [this] { return m_stop || m_flush || m_queue.size() >= m_opt.max_batch; });
        if (m_stop) {
            // flush() already had its chance; what is left is dropped, counted.
            m_dropped += m_queue.size();
            m_queue.clear();
            m_idle.notify_all();
            return;
        }
        if (m_queue.empty()) {
            m_flush = false;  // served: wait for the next batch or request
            m_idle.notify_all();
            continue;
        }
        std::vector<Event> batch;
        while (!m_queue.empty() && batch.size() < m_opt.max_batch) {
            batch.push_back(std::move(m_queue.front()));
            m_queue.pop_front();
        }
        m_busy = true;
        lock.unlock();
        bool ok = send(batch);
        lock.lock();
        m_busy = false;
        if (ok) m_exported += batch.size();
        else m_dropped += batch.size();
        if (m_queue.empty()) m_idle.notify_all();
    }
}

}  // namespace infra::core::events
