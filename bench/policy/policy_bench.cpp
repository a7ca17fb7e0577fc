// bench/policy, our side: decisions per second and per-decision latency of
// the compiled engine, in the same shape as peers.mjs prints.
// Usage: policy_bench OUTDIR N SECONDS
#include "core/policy/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace infra::core;

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: policy_bench OUTDIR N [SECONDS]\n");
        return 64;
    }
    std::string outdir = argv[1], n = argv[2];
    double seconds = argc > 3 ? std::atof(argv[3]) : 1.0;
    auto engine = policy::Engine::load({outdir + "/rules-" + n});
    if (!engine) {
        std::fprintf(stderr, "%s\n", engine.error().message.c_str());
        return 65;
    }
    std::vector<json> tasks;
    std::ifstream in(outdir + "/tasks.jsonl");
    for (std::string line; std::getline(in, line);) {
        auto t = task_from_json(json::parse(line));
        if (!t) return 65;
        tasks.push_back(to_json(*t));
    }
    using clock = std::chrono::steady_clock;
    std::vector<double> lat;
    lat.reserve(1 << 22);
    policy::Decision d;
    double matched = 0;
    auto start = clock::now();
    auto until = start + std::chrono::duration<double>(seconds);
    for (std::size_t i = 0;; ++i) {
        auto t0 = clock::now();
        (*engine)->decide(tasks[i % tasks.size()], d);
        auto t1 = clock::now();
        matched += static_cast<double>(d.matched.size());
        lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        if ((i & 63) == 0 && t1 > until) break;
    }
    double total = std::chrono::duration<double>(clock::now() - start).count();
    std::sort(lat.begin(), lat.end());
    auto q = [&](double p) {
        return lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())))];
    };
    std::printf("{\"engine\":\"infra-agent\",\"rules\":%s,\"decisions\":%zu,\"perSecond\":%.1f,\"p50us\":%.3f,"
                "\"p99us\":%.3f,\"matchedPerDecision\":%.4f}\n",
                n.c_str(), lat.size(), static_cast<double>(lat.size()) / total, q(0.5), q(0.99),
                matched / static_cast<double>(lat.size()));
    return 0;
}
