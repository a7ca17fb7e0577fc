#pragma once
// Inside the engine: the per-decision field cache and per-thread scratch
// space shared by engine.cpp and decision.cpp. Not for use elsewhere.

#include "core/policy/engine.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infra::core::policy {

/// Per-thread scratch space, so that a decision allocates nothing once warm.
struct Scratch {
    const Engine* owner = nullptr;
    std::uint32_t epoch = 0;
    std::vector<const json*> value;
    std::vector<std::uint32_t> stamp;
    std::vector<std::uint32_t> seen;  ///< per rule: the epoch it was last found in
    std::string key;
    std::vector<std::pair<char, std::string_view>> parts[2];  ///< index lookup: each field's key parts
    std::vector<const Rule*> candidates;
};

/// The calling thread's scratch space.
Scratch& thread_scratch();

/// Resolves each field of the task at most once per decision.
struct Engine::Resolver {
    const Engine& engine;
    const json& task;
    Scratch& s;

    Resolver(const Engine& e, const json& t) : engine(e), task(t), s(thread_scratch())
    {
        if (s.owner != &e || s.stamp.size() < e.m_fields.size() || s.seen.size() < e.m_rules.size() || ++s.epoch == 0) {
            s.owner = &e;
            s.value.assign(e.m_fields.size(), nullptr);
            s.stamp.assign(e.m_fields.size(), 0);
            s.seen.assign(e.m_rules.size(), 0);
            s.epoch = 1;
        }
    }
    const json* get(int i)
    {
        auto k = static_cast<std::size_t>(i);
        if (s.stamp[k] != s.epoch) {
            s.value[k] = engine.resolve(i, task);
            s.stamp[k] = s.epoch;
        }
        return s.value[k];
    }
};

}  // namespace infra::core::policy
