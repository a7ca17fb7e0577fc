#include "support/ingest.hpp"

#include "plugins/register_builtin.hpp"
#include "support/fixtures.hpp"

#include <stdexcept>

namespace infra::test {
namespace {

class Collect final : public core::signals::Sink {
public:
    explicit Collect(Ingested& out) : m_out(out) {}
    void begin() override { m_pending.clear(); }
    void task(core::AgentTask&& t) override { m_pending.push_back(std::move(t)); }
    void commit() override
    {
        for (auto& t : m_pending) m_out.tasks.push_back(std::move(t));
        m_pending.clear();
    }
    void abort() override
    {
        m_out.aborted += m_pending.size();
        m_pending.clear();
    }
    void skip(const std::string& r) override { m_out.skipped.push_back(r); }
    void reject(const core::Error& e) override { m_out.rejected.push_back(e); }

private:
    Ingested& m_out;
    std::vector<core::AgentTask> m_pending;
};

}  // namespace

const core::signals::Registry& builtin_signals()
{
    static core::signals::Registry r = [] {
        core::signals::Registry reg;
        plugins::register_builtin({reg, nullptr, nullptr, nullptr});
        return reg;
    }();
    return r;
}

Ingested ingest(const std::string& source, const std::string& bytes, core::signals::IngestOptions opt,
                const std::string& name)
{
    const auto* parser = builtin_signals().find(source);
    if (!parser) throw std::runtime_error("no source " + source);
    auto src = core::ByteSource::from_string(bytes, name);
    Ingested out;
    Collect sink(out);
    out.status = parser->parse(*src, opt, sink);
    return out;
}

Ingested ingest_file(const std::string& source, const std::string& path, core::signals::IngestOptions opt)
{
    return ingest(source, read_file(path), std::move(opt), path);
}

}  // namespace infra::test
