#include "core/signals/signal.hpp"

#include "core/input.hpp"

namespace infra::core::signals {

void Registry::add(std::unique_ptr<SignalParser> parser)
{
    for (auto& p : m_parsers) {
        if (p->name() == parser->name()) {
            p = std::move(parser);
            return;
        }
    }
    m_parsers.push_back(std::move(parser));
}

const SignalParser* Registry::find(std::string_view name) const
{
    for (auto& p : m_parsers)
        if (p->name() == name) return p.get();
    return nullptr;
}

std::vector<const SignalParser*> Registry::list() const
{
    std::vector<const SignalParser*> out;
    for (auto& p : m_parsers) out.push_back(p.get());
    return out;
}

Result<const SignalParser*> Registry::detect(const DetectInput& in, const std::string& name) const
{
    const SignalParser* best = nullptr;
    int best_score = 0;
    bool tie = false;
    for (auto& p : m_parsers) {
        int s = p->detect(in);
        if (s > best_score) {
            best = p.get();
            best_score = s;
            tie = false;
        } else if (s == best_score && s > 0) {
            tie = true;
        }
    }
    if (!best || best_score < 30 || tie) {
        std::string names;
        for (auto& p : m_parsers) names += (names.empty() ? "" : ", ") + std::string(p->name());
        return fail(Errc::invalid_input, "cannot tell the format of '" + name + "'",
                    "name the source: infra-agent ingest <source> (one of " + names + ")");
    }
    return best;
}

Result<CollectSink> parse_text(const SignalParser& parser, std::string text, const std::string& name,
                               const IngestOptions& options)
{
    auto src = ByteSource::from_string(std::move(text), name);
    CollectSink found;
    auto st = parser.parse(*src, options, found);
    if (!st) return st.error();
    if (!found.errors.empty()) return found.errors.front();
    return found;
}

}  // namespace infra::core::signals
