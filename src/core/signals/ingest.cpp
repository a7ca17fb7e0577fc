#include "core/signals/ingest.hpp"

#include "core/environment.hpp"
#include "core/text.hpp"

#include <optional>

namespace infra::core::signals {
namespace {

/// Passes tasks on to the caller's sink once they are in canonical form.
class Canonical final : public Sink {
public:
    Canonical(Sink& inner, const IngestOptions& options, std::string name)
        : m_inner(inner), m_keep_going(options.keep_going), m_name(std::move(name))
    {
    }

    void begin() override
    {
        if (!m_failed) m_inner.begin();
    }
    void task(AgentTask&& t) override
    {
        if (m_failed) return;
        if (auto st = core::normalize_environment(t); !st) {
            Error e = st.error();
            e.message = "'" + m_name + "': " +
                        (t.trigger.source_id.empty() ? "" : "signal " + text::quote(t.trigger.source_id) + ": ") +
                        e.message;
            if (m_keep_going) m_inner.reject(e);
            else m_failed = std::move(e);
            return;
        }
        m_inner.task(std::move(t));
    }
    void commit() override
    {
        // Without keep_going a bad task ends the read: its document is dropped whole.
        if (m_failed) m_inner.abort();
        else m_inner.commit();
    }
    void abort() override { m_inner.abort(); }
    void skip(const std::string& reason) override
    {
        if (!m_failed) m_inner.skip(reason);
    }
    void reject(const Error& error) override
    {
        if (!m_failed) m_inner.reject(error);
    }

    const std::optional<Error>& failed() const { return m_failed; }

private:
    Sink& m_inner;
    bool m_keep_going;
    std::string m_name;
    std::optional<Error> m_failed;
};

}  // namespace

Status ingest(const SignalParser& parser, ByteSource& in, const IngestOptions& options, Sink& sink)
{
    Canonical canonical(sink, options, in.name());
    auto st = parser.parse(in, options, canonical);
    if (canonical.failed()) {
        sink.abort();
        return *canonical.failed();
    }
    return st;
}

}  // namespace infra::core::signals
