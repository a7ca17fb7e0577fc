#pragma once
// A tier-4 production change for the tests of approvals and the gated
// apply, with the real terraform on a terraform_data resource whose local
// state is kept outside the repository (production has it at v1). The
// task, asked for by alice, waits for platform-oncall before it runs; its
// exec agent moves the bucket to v2.

#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

namespace infra::test {

class ProductionChange : public ::testing::Test {
protected:
    /// The state at v1, the repository (seed, and its bare clone acme.git),
    /// config.yaml (git.repo, the exec agent, state_dirs, approval groups
    /// platform-oncall and security) and the policy that makes production
    /// drift tier 4 behind platform-oncall.
    void SetUp() override;

    std::filesystem::path home() const { return dir / ".infra-agent"; }

    /// Enqueues the production drift task (payload.apply as given) and returns its id.
    std::string enqueue_production_change(bool apply = false);

    /// Enqueues the same drift on staging (tier 2: a pull request, queued at once) and returns its id.
    std::string enqueue_staging_change();

    /// The secret of the forge's webhook (HOOK_SECRET).
    static constexpr const char* k_hook_secret = "It's a Secret to Everybody";

    /// For reviews on a forge: config.yaml with forge (the YAML of forge:),
    /// webhooks (hook: {secret_env: HOOK_SECRET}) and platform-oncall
    /// as team (github_team: ... or gitlab_group: ...) with bob listed for the
    /// approval of the run; then the change runs, its pull request opens
    /// there, id, sha, branch and commit are filled and serve is started.
    /// more is the YAML of other settings.
    void run_reviewed_change(const std::string& forge, const std::string& hook, const std::string& team,
                             const std::string& more = "");

    TempDir dir;
    RunOptions opts;
    std::string id, sha, branch, commit;  ///< of the change, its saved plan and its branch
    std::unique_ptr<Background> server;
    std::string url;  ///< serve's
};

}  // namespace infra::test
