#pragma once
// Counters, gauges and latency histograms in the Prometheus text format
// (version 0.0.4), for serve's /metrics.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace infra::core::serve {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
public:
    /// Declares a family once, before it is used; type is counter, gauge or histogram.
    /// A histogram's bucket bounds (seconds) default to request latencies,
    /// half a millisecond to ten seconds.
    void describe(const std::string& name, const std::string& type, const std::string& help,
                  std::vector<double> bounds = {});

    void add(const std::string& name, const Labels& labels, double by = 1);
    void set(const std::string& name, const Labels& labels, double value);
    /// Records one observation in seconds into a histogram.
    void observe(const std::string& name, const Labels& labels, double seconds);

    /// The exposition text.
    std::string render() const;

private:
    struct Histogram {
        std::vector<std::uint64_t> buckets;
        std::uint64_t count = 0;
        double sum = 0;
    };
    static std::string key(const Labels& labels);

    mutable std::mutex m_mutex;
    std::vector<std::string> m_order;
    std::map<std::string, std::pair<std::string, std::string>> m_meta;     // name -> type, help
    std::map<std::string, std::vector<double>> m_bounds;                   // histogram name -> bucket bounds
    std::map<std::string, std::map<std::string, double>> m_values;         // name -> labels -> value
    std::map<std::string, std::map<std::string, Histogram>> m_histograms;  // name -> labels -> histogram
};

}  // namespace infra::core::serve
