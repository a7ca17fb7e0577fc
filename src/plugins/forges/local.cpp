#include "plugins/forges/forges.hpp"

namespace infra::plugins::forges {
namespace {

/// Pull requests that live only in the state db: for teams without a forge
/// API, for dry runs, and for tests. The branch itself is pushed to the
/// repository's remote like any other.
class Local final : public core::change::Forge {
public:
    explicit Local(core::change::PrStore& store) : m_store(store) {}
    std::string name() const override { return "local"; }

    core::Result<PullRequest> open_or_update(const PrRequest& req, const std::optional<PullRequest>& existing) override
    {
        PullRequest pr = core::change::record_for(name(), req, existing);
        if (!existing) {
            auto n = m_store.next_number(name(), req.repository);
            if (!n) return core::fail(n.error());
            pr.number = *n;
            pr.url = "local:" + req.repository + "/pull/" + std::to_string(pr.number);
        }
        return pr;
    }

    /// The state db is the forge: a pull request is as it was recorded;
    /// whether its branch was merged into the base is git's to say.
    core::Result<core::change::PrStatus> status(const PullRequest& pr) override
    {
        return core::change::PrStatus{pr.state, pr.head_commit, ""};
    }

    core::Status comment(const PullRequest& pr, const std::string& text) override
    {
        return m_store.set_state(pr.id, pr.state, pr.reason, text);
    }

    core::Status close(const PullRequest& pr, const std::string& text) override { return comment(pr, text); }
    core::Status reopen(const PullRequest&) override { return {}; }

private:
    core::change::PrStore& m_store;
};

}  // namespace

std::unique_ptr<core::change::Forge> make_local(core::change::PrStore& store)
{
    return std::make_unique<Local>(store);
}

}  // namespace infra::plugins::forges
