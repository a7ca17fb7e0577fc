#include "core/agent/terraform_check.hpp"

#include "core/hcl/hcl.hpp"

#include <algorithm>
#include <filesystem>

namespace infra::core::agent {

bool terraform_installed()
{
    for (const char* p : {"/usr/local/bin/terraform", "/usr/bin/terraform"})
        if (std::filesystem::exists(p)) return true;
    return false;
}

namespace {

bool ends_with(const std::string& s, const char* suffix)
{
    std::string_view x(suffix);
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

}  // namespace

Status check_terraform(const Workspace& ws, const std::vector<std::string>& changed, const sandbox::Sandbox* sandbox,
                       std::chrono::steady_clock::time_point deadline)
{
    std::vector<std::string> tf;
    for (const auto& path : changed) {
        if (!ends_with(path, ".tf")) continue;
        auto text = ws.read(path);
        if (!text) continue;  // deleted
        auto parsed = hcl::parse(*text, path);
        if (!parsed) return fail(Errc::denied, parsed.error().message);
        tf.push_back(path);
    }
    if (tf.empty() || !sandbox || !terraform_installed()) return {};
    sandbox::Request req;
    req.argv = {"terraform", "fmt", "-check", "-diff", "-no-color"};
    req.argv.insert(req.argv.end(), tf.begin(), tf.end());
    req.workspace = ws.root();
    req.env = {{"CHECKPOINT_DISABLE", "1"}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    req.limits.wall = std::max(std::chrono::milliseconds(1000), std::min(req.limits.wall, left));
    auto r = sandbox->run(req);
    if (!r) return fail(r.error());
    if (r->exit_code != 0)
        return fail(Errc::denied, "terraform fmt -check rejects the changed files:\n" + r->out.substr(0, 4000));
    return {};
}

}  // namespace infra::core::agent
