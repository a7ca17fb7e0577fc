#include "core/change/paths.hpp"

#include "core/json_access.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <array>

namespace infra::core::change {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> k_terraform_suffixes = {".tf", ".tf.json", ".tfvars", ".tfvars.json"};

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// The directories and files a protected path is recognised by (lower case).
bool protected_component(std::string_view dir_or_file, bool is_last)
{
    static constexpr std::array<std::string_view, 7> k_dirs = {".github",     ".gitlab", ".circleci", ".buildkite",
                                                               ".woodpecker", ".gitea",  ".forgejo"};
    static constexpr std::array<std::string_view, 16> k_files = {".gitlab-ci.yml",       ".gitlab-ci.yaml",
                                                                 "jenkinsfile",          "azure-pipelines.yml",
                                                                 "azure-pipelines.yaml", "bitbucket-pipelines.yml",
                                                                 ".drone.yml",           ".travis.yml",
                                                                 ".gitattributes",       ".gitmodules",
                                                                 ".gitignore",           "atlantis.yaml",
                                                                 "atlantis.yml",         ".pre-commit-config.yaml",
                                                                 ".tflint.hcl",          "codeowners"};
    std::string c = text::lower(dir_or_file);
    if (!is_last)
        for (auto d : k_dirs)
            if (c == d) return true;
    if (is_last) {
        for (auto f : k_files)
            if (c == f) return true;
        if (c.rfind(".woodpecker", 0) == 0) return true;
    }
    return false;
}

bool glob_at(std::string_view g, std::string_view p)
{
    while (!g.empty()) {
        if (g.substr(0, 2) == "**") {
            g.remove_prefix(2);
            if (!g.empty() && g[0] == '/') {
                // "**/" matches no directory at all, or any number of them.
                auto rest = g.substr(1);
                if (glob_at(rest, p)) return true;
                for (std::size_t i = 0; i < p.size(); ++i)
                    if (p[i] == '/' && glob_at(rest, p.substr(i + 1))) return true;
                return false;
            }
            for (std::size_t i = 0; i <= p.size(); ++i)
                if (glob_at(g, p.substr(i))) return true;
            return false;
        }
        if (g[0] == '*') {
            g.remove_prefix(1);
            for (std::size_t i = 0; i <= p.size(); ++i) {
                if (glob_at(g, p.substr(i))) return true;
                if (i < p.size() && p[i] == '/') break;
            }
            return false;
        }
        if (p.empty()) return false;
        if (g[0] == '?' ? p[0] == '/' : g[0] != p[0]) return false;
        g.remove_prefix(1);
        p.remove_prefix(1);
    }
    return p.empty();
}

/// True when the glob's literal text (before its first wildcard) already
/// names the protected component of path, so that policy chose it on purpose.
bool names_literally(std::string_view glob, std::string_view path)
{
    std::string_view literal = glob.substr(0, glob.find_first_of("*?"));
    std::size_t pos = 0;
    while (pos < path.size()) {
        auto slash = path.find('/', pos);
        bool last = slash == std::string_view::npos;
        auto part = path.substr(pos, last ? std::string_view::npos : slash - pos);
        std::size_t end = last ? path.size() : slash;
        if (protected_component(part, last))
            return literal.size() >= end && literal.substr(0, end) == path.substr(0, end);
        pos = end + 1;
    }
    return true;
}

}  // namespace

std::vector<std::string> task_roots(const AgentTask& task)
{
    std::vector<std::string> roots;
    for (const auto& f : findings_of(task.payload)) {
        std::string file = f.file;
        while (file.rfind("./", 0) == 0) file = file.substr(2);
        while (!file.empty() && file[0] == '/') file = file.substr(1);
        if (file.empty()) {
            // A finding that names no file could be anywhere.
            roots.clear();
            break;
        }
        auto slash = file.rfind('/');
        std::string dir = slash == std::string::npos ? "." : file.substr(0, slash);
        if (std::find(roots.begin(), roots.end(), dir) == roots.end()) roots.push_back(std::move(dir));
    }
    if (roots.empty()) {
        std::string root = root_of(task.payload);
        roots.push_back(root.empty() ? "." : root);
    }
    return roots;
}

std::string task_root(const AgentTask& task)
{
    return task_roots(task).front();
}

bool is_protected_path(std::string_view path)
{
    std::size_t pos = 0;
    while (pos < path.size()) {
        auto slash = path.find('/', pos);
        bool last = slash == std::string_view::npos;
        if (protected_component(path.substr(pos, last ? std::string_view::npos : slash - pos), last)) return true;
        if (last) break;
        pos = slash + 1;
    }
    return false;
}

bool path_glob_match(std::string_view glob, std::string_view path)
{
    return glob_at(glob, path);
}

bool is_terraform_file(std::string_view path)
{
    for (auto s : k_terraform_suffixes)
        if (ends_with(path, s)) return true;
    return false;
}

std::vector<std::string> unsafe_entries(const std::filesystem::path& dir)
{
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    std::error_code ec;
    fs::path root = fs::weakly_canonical(dir, ec);
    fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        auto st = it->symlink_status(ec);
        if (ec) break;
        std::string rel = it->path().lexically_relative(dir).string();
        if (fs::is_directory(st)) {
            // Terraform's working data is never committed, and validation
            // empties it before terraform runs.
            if (it->path().filename() == ".git" || it->path().filename() == ".terraform")
                it.disable_recursion_pending();
            continue;
        }
        if (fs::is_symlink(st)) {
            std::error_code e;
            fs::path target = fs::weakly_canonical(it->path(), e);
            auto r = target.lexically_relative(root);
            if (e || r.empty() || *r.begin() == "..")
                out.push_back(rel + " -> " + fs::read_symlink(it->path(), e).string());
            continue;
        }
        if (!fs::is_regular_file(st)) out.push_back(rel + " (not a regular file)");
    }
    if (ec) out.push_back("(cannot read the whole worktree: " + ec.message() + ")");
    return out;
}

Status check_changed_paths(const std::vector<std::string>& changed, const AgentTask& task,
                           const policy::Decision& decision)
{
    const auto& allowed = decision.allowed_paths;
    std::vector<std::string> roots = task_roots(task);
    bool anywhere = std::find(roots.begin(), roots.end(), ".") != roots.end();
    for (const auto& path : changed) {
        if (allowed) {
            bool ok = false;
            for (const auto& g : *allowed)
                if (glob_at(g, path) && (!is_protected_path(path) || names_literally(g, path))) ok = true;
            if (!ok)
                return fail(
                    Errc::denied,
                    "the change touches " + text::quote(path) + ", which the decision's allowedPaths do not name" +
                        (is_protected_path(path) ? " (CI definitions and git's own files need a glob that names them)"
                                                 : ""),
                    "a fix changes only the files policy allows; widen constraints.allowedPaths in a policy rule if "
                    "this is intended");
            continue;
        }
        if (is_protected_path(path))
            return fail(Errc::denied,
                        "the change touches " + text::quote(path) +
                            ", a CI definition or git file that agents never change",
                        "unless a policy rule names it in constraints.allowedPaths");
        bool terraform = is_terraform_file(path);
        bool under = anywhere;
        for (const auto& root : roots) under = under || path.rfind(root + "/", 0) == 0;
        if (!terraform || !under) {
            std::string where;
            for (const auto& root : roots) where += (where.empty() ? "" : ", ") + text::quote(root);
            return fail(Errc::denied,
                        "the change touches " + text::quote(path) +
                            ", and a change may touch only Terraform files under " +
                            (anywhere ? std::string("the repository") : where),
                        "set constraints.allowedPaths in a policy rule to allow other files");
        }
    }
    return {};
}

}  // namespace infra::core::change
