#include "core/agent/changes.hpp"

#include "core/diff.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace infra::core::agent {
namespace fs = std::filesystem;
namespace {

/// .git and terraform's working data anywhere; the state home only at the top.
bool skipped_dir(const std::string& name, int depth)
{
    return name == ".git" || name == ".terraform" || (name == ".infra-agent" && depth == 0);
}

bool inside(const fs::path& root, const fs::path& p)
{
    auto r = root.lexically_normal().string(), s = p.lexically_normal().string();
    return s == r || (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/');
}

/// Walks the workspace without following symlinks: regular files to
/// on_file, and anything unsafe to unsafe.
Status walk(const Workspace& ws, const std::function<Status(const std::string&, const fs::path&)>& on_file,
            std::vector<std::string>* unsafe)
{
    std::error_code ec;
    fs::recursive_directory_iterator it(ws.root(), fs::directory_options::none, ec), end;
    if (ec)
        return fail(Errc::unavailable,
                    "cannot read the workspace " + text::quote(ws.root().string()) + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec) return fail(Errc::unavailable, "cannot read the workspace: " + ec.message());
        std::string rel = it->path().lexically_relative(ws.root()).string();
        auto st = it->symlink_status(ec);
        if (ec) return fail(Errc::unavailable, "cannot stat " + text::quote(rel) + ": " + ec.message());
        if (fs::is_directory(st)) {
            if (skipped_dir(it->path().filename().string(), it.depth())) it.disable_recursion_pending();
            continue;
        }
        if (fs::is_symlink(st)) {
            // A link is safe when what it names, resolved, stays inside.
            auto target = fs::weakly_canonical(it->path(), ec);
            if (ec || !inside(ws.root(), target)) {
                if (unsafe) unsafe->push_back(rel + " -> " + fs::read_symlink(it->path(), ec).string());
                ec.clear();
            }
            continue;
        }
        if (!fs::is_regular_file(st)) {
            if (unsafe) unsafe->push_back(rel + " (not a regular file)");
            continue;
        }
        if (auto s = on_file(rel, it->path()); !s) return s;
    }
    return {};
}

Result<std::string> slurp(const fs::path& p, const std::string& rel)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) return fail(Errc::unavailable, "cannot read " + text::quote(rel));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

Result<Snapshot> snapshot(const Workspace& ws, std::size_t max_files, std::size_t max_bytes)
{
    Snapshot s;
    std::size_t bytes = 0;
    auto st = walk(
        ws,
        [&](const std::string& rel, const fs::path& p) -> Status {
            auto content = slurp(p, rel);
            if (!content) return fail(content.error());
            bytes += content->size();
            if (s.files.size() >= max_files || bytes > max_bytes)
                return fail(Errc::invalid_input, "the workspace is too large to track changes in (" +
                                                     std::to_string(max_files) + " files, " +
                                                     std::to_string(max_bytes >> 20) + " MiB at most)");
            s.files.emplace(rel, std::move(*content));
            return {};
        },
        &s.unsafe);
    if (!st) return fail(st.error());
    return s;
}

Result<Changes> changes_since(const Snapshot& before, const Workspace& ws, std::size_t max_files, std::size_t max_bytes)
{
    Changes c;
    std::map<std::string, std::string> after;
    std::size_t bytes = 0;
    auto st = walk(
        ws,
        [&](const std::string& rel, const fs::path& p) -> Status {
            // The same bounds as the snapshot: what an agent leaves behind
            // is read only as far as a change can reasonably be.
            std::error_code ec;
            auto size = fs::file_size(p, ec);
            bytes += ec ? 0 : size;
            if (after.size() >= max_files || bytes > max_bytes)
                return fail(Errc::invalid_input, "the agent left more than the workspace may hold (" +
                                                     std::to_string(max_files) + " files, " +
                                                     std::to_string(max_bytes >> 20) + " MiB at most)");
            auto content = slurp(p, rel);
            if (!content) return fail(content.error());
            after.emplace(rel, std::move(*content));
            return {};
        },
        &c.unsafe);
    if (!st) return fail(st.error());
    // What was there before is the repository's own business, not the agent's.
    std::erase_if(c.unsafe, [&](const std::string& u) {
        return std::find(before.unsafe.begin(), before.unsafe.end(), u) != before.unsafe.end();
    });
    auto b = before.files.begin();
    auto a = after.begin();
    auto add = [&](const std::string& path, std::optional<std::string_view> x, std::optional<std::string_view> y) {
        std::string d = diff::unified_files(x, y, path);
        if (d.empty()) return;
        c.diff += d;
        c.files.push_back(path);
    };
    while (b != before.files.end() || a != after.end()) {
        if (a == after.end() || (b != before.files.end() && b->first < a->first)) {
            add(b->first, b->second, std::nullopt);
            ++b;
        } else if (b == before.files.end() || a->first < b->first) {
            add(a->first, std::nullopt, a->second);
            ++a;
        } else {
            add(a->first, b->second, a->second);
            ++a, ++b;
        }
    }
    return c;
}

}  // namespace infra::core::agent
