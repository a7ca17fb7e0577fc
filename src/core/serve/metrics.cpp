#include "core/serve/metrics.hpp"

#include <cstdio>
#include <cstdlib>

namespace infra::core::serve {
namespace {

constexpr double k_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

const std::vector<double>& default_bounds()
{
    static const std::vector<double> b(std::begin(k_bounds), std::end(k_bounds));
    return b;
}

std::string escape(const std::string& v)
{
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string number(double v)
{
    // The shortest text that reads back as v (0.1, not 0.10000000000000001).
    char buf[32];
    for (int precision = 6; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

std::string with(const std::string& labels, const std::string& extra)
{
    if (labels.empty()) return "{" + extra + "}";
    return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

}  // namespace

std::string Metrics::key(const Labels& labels)
{
    if (labels.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i)
        out += (i ? "," : "") + labels[i].first + "=\"" + escape(labels[i].second) + "\"";
    return out + "}";
}

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help,
                       std::vector<double> bounds)
{
    std::lock_guard lock(m_mutex);
    if (!m_meta.count(name)) m_order.push_back(name);
    m_meta[name] = {type, help};
    if (bounds.empty()) bounds.assign(std::begin(k_bounds), std::end(k_bounds));
    if (type == "histogram") m_bounds[name] = std::move(bounds);
}

void Metrics::add(const std::string& name, const Labels& labels, double by)
{
    std::lock_guard lock(m_mutex);
    m_values[name][key(labels)] += by;
}

void Metrics::set(const std::string& name, const Labels& labels, double value)
{
    std::lock_guard lock(m_mutex);
    m_values[name][key(labels)] = value;
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds)
{
    std::lock_guard lock(m_mutex);
    Histogram& h = m_histograms[name][key(labels)];
    auto b = m_bounds.find(name);
    const std::vector<double>& bounds = b != m_bounds.end() ? b->second : default_bounds();
    if (h.buckets.empty()) h.buckets.assign(bounds.size(), 0);
    for (std::size_t i = 0; i < bounds.size(); ++i)
        if (seconds <= bounds[i]) ++h.buckets[i];
    ++h.count;
    h.sum += seconds;
}

std::string Metrics::render() const
{
    std::lock_guard lock(m_mutex);
    std::string out;
    for (const auto& name : m_order) {
        const auto& [type, help] = m_meta.at(name);
        out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
        if (auto v = m_values.find(name); v != m_values.end())
            for (const auto& [labels, value] : v->second) out += name + labels + " " + number(value) + "\n";
        if (auto hs = m_histograms.find(name); hs != m_histograms.end())
            for (const auto& [labels, h] : hs->second) {
                auto b = m_bounds.find(name);
                const std::vector<double>& bounds = b != m_bounds.end() ? b->second : default_bounds();
                for (std::size_t i = 0; i < bounds.size() && i < h.buckets.size(); ++i)
                    out += name + "_bucket" + with(labels, "le=\"" + number(bounds[i]) + "\"") + " " +
                           std::to_string(h.buckets[i]) + "\n";
                out += name + "_bucket" + with(labels, "le=\"+Inf\"") + " " + std::to_string(h.count) + "\n";
                out += name + "_sum" + labels + " " + number(h.sum) + "\n";
                out += name + "_count" + labels + " " + std::to_string(h.count) + "\n";
            }
    }
    return out;
}

}  // namespace infra::core::serve
