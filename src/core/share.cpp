#include "core/share.hpp"

#include <vector>

namespace infra::core {

std::filesystem::path share_dir(std::string_view sub)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> candidates;
    if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share/infra-agent" / sub);
    candidates.push_back(fs::path(INFRA_AGENT_DATADIR) / sub);
    candidates.push_back(fs::path(INFRA_AGENT_SOURCE_SHARE) / sub);
    for (const auto& c : candidates)
        if (fs::is_directory(c, ec)) return c;
    return {};
}

}  // namespace infra::core
