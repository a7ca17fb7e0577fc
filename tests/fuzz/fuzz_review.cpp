// libFuzzer target for what reviewers do on a pull request, read from the
// bodies of forge webhooks (GitHub reviews, comments and pushes; GitLab
// approvals, notes and merge request updates). The first byte picks the
// forge and event, the rest is the body. Any bytes give no action, or one
// that names a repository, a pull request and who acted.
#include "core/serve/reviews.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

const char* const k_github_events[] = {"pull_request_review", "issue_comment", "pull_request", "push"};
const char* const k_gitlab_events[] = {"Merge Request Hook", "Note Hook", "Push Hook"};

void check(const std::optional<infra::core::serve::ReviewAction>& a)
{
    if (!a) return;
    if (a->repository.empty() || a->number <= 0 || a->by.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    unsigned pick = data[0];
    auto body = nlohmann::json::parse(data + 1, data + size, nullptr, false);
    if (pick & 0x80) check(infra::core::serve::gitlab_review_action(k_gitlab_events[pick % 3], body));
    else check(infra::core::serve::github_review_action(k_github_events[pick % 4], body));
    return 0;
}
