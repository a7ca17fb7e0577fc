#include "plugins/agents/builtin/module_io.hpp"

namespace infra::plugins::agents::builtin {

std::optional<core::agent::Outcome> read_module(core::agent::ToolBox& tools, const std::string& dir, Module& module)
{
    using core::agent::Outcome;
    auto listed = tools.call("list_files", {{"path", dir}});
    if (!listed.ok) return Outcome::failure("cannot list " + dir + ": " + listed.error, !listed.refused);
    std::string prefix = dir == "." ? "" : dir + "/";
    for (const auto& f : listed.output) {
        std::string path = f.get<std::string>();
        if (path.rfind(prefix, 0) != 0) continue;
        std::string rest = path.substr(prefix.size());
        if (rest.find('/') != std::string::npos || rest.size() < 4 || rest.substr(rest.size() - 3) != ".tf") continue;
        auto read = tools.call("read_file", {{"path", path}});
        if (!read.ok) return Outcome::failure("cannot read " + path + ": " + read.error, !read.refused);
        auto parsed = core::hcl::parse(read.output.get<std::string>(), path);
        if (!parsed) return Outcome::failure(parsed.error().message);
        module.files.emplace(path, std::move(*parsed));
    }
    return std::nullopt;
}

}  // namespace infra::plugins::agents::builtin
