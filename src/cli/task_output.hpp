#pragma once
// Where ingested tasks go: stdout as JSON Lines or a human table, one
// document at a time, so a malformed document never leaves half of its
// tasks on stdout.

#include "cli/context.hpp"
#include "core/signals/signal.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace infra::cli {

/// A Sink that buffers each document (spilling to a temporary file past
/// 1 MiB, so memory stays bounded) and writes it out on commit.
class TaskOutput final : public core::signals::Sink {
public:
    TaskOutput(Context& ctx, bool json);
    ~TaskOutput() override;

    void begin() override;
    void task(core::AgentTask&& task) override;
    void commit() override;
    void abort() override;
    void skip(const std::string& reason) override;
    void reject(const core::Error& error) override;

    /// The first few reasons for skipping, to explain an empty result.
    const std::vector<std::string>& skip_reasons() const { return m_skip_reasons; }

private:
    void spill();
    void render(const core::AgentTask& task, std::string& out) const;

    Context& m_ctx;
    bool m_json;
    bool m_header_done = false;
    std::string m_buf;
    std::FILE* m_spill = nullptr;
    std::size_t m_pending = 0;
    std::vector<std::string> m_skip_reasons;
};

/// One line describing a task for people: id, type, priority and what it is about.
std::string describe_task(const core::AgentTask& task);

}  // namespace infra::cli
