#include "cli/delivery_flags.hpp"

namespace infra::cli {

void add_delivery_flags(CLI::App* cmd, DeliveryFlags& flags)
{
    cmd->add_option("--repo", flags.repo,
                    "repository to clone for each task and push bot branches to (URL or path; default: git.repo)");
    cmd->add_option("--forge", flags.forge,
                    "where pull requests go: local, github or gitlab (default: forge.kind, else local)");
    cmd->add_option("--base", flags.base,
                    "base branch of pull requests (default: git.base, else the remote's default branch)");
    cmd->add_flag("--keep-worktrees", flags.keep, "keep each task's worktree after it ran (for debugging)");
}

}  // namespace infra::cli
