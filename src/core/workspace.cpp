#include "core/workspace.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace infra::core {

namespace fs = std::filesystem;

namespace {

bool inside(const fs::path& root, const fs::path& p)
{
    auto r = root.native(), s = p.native();
    return s == r || (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/');
}

/// True when a relative path lies in git metadata (a ".git" at any depth,
/// in any case) or in a state home at the top (the ".infra-agent" that init
/// and remediate make in a checkout): the host's, never an agent's.
bool off_limits(const fs::path& rel)
{
    bool top = true;
    for (const auto& part : rel) {
        if (part == ".") continue;
        if (text::lower(part.string()) == ".git" || (top && part == ".infra-agent")) return true;
        top = false;
    }
    return false;
}

/// The same for p inside root, once resolved (a symlink may lead there).
bool in_host_data(const fs::path& root, const fs::path& p)
{
    return off_limits(p.lexically_relative(root));
}

std::string off_limits_message(std::string_view rel, const char* how)
{
    return "path " + text::quote(rel) + how + "git metadata or infra-agent's state home, which agents may not touch";
}

}  // namespace

Result<Workspace> Workspace::open(const fs::path& root)
{
    std::error_code ec;
    fs::path real = fs::canonical(root, ec);
    if (ec || !fs::is_directory(real, ec))
        return fail(Errc::not_found, "workspace '" + root.string() + "' is not a directory");
    Workspace w;
    w.m_root = real;
    return w;
}

Result<fs::path> Workspace::check_lexical(std::string_view rel) const
{
    if (rel.empty()) return fail(Errc::denied, "empty path");
    if (rel.find('\0') != std::string_view::npos) return fail(Errc::denied, "path contains a NUL byte");
    fs::path p(rel);
    if (p.is_absolute()) return fail(Errc::denied, "absolute path " + text::quote(rel) + " is outside the workspace");
    for (const auto& part : p)
        if (part == "..") return fail(Errc::denied, "path " + text::quote(rel) + " climbs out with '..'");
    // Git's metadata is the host's: whoever works here neither reads nor
    // writes it (a remote URL may carry a token; a configuration would steer
    // the host's commit and push). So is a state home in the workspace (its
    // signing key, configuration, policies and audit log).
    if (off_limits(p)) return fail(Errc::denied, off_limits_message(rel, " is in "));
    return (m_root / p).lexically_normal();
}

Result<fs::path> Workspace::resolve(std::string_view rel) const
{
    auto p = check_lexical(rel);
    if (!p) return p;
    std::error_code ec;
    // Every symlink on the way is resolved, then checked again.
    fs::path real = fs::weakly_canonical(*p, ec);
    if (ec) return fail(Errc::not_found, "cannot resolve " + text::quote(rel) + ": " + ec.message());
    if (!inside(m_root, real))
        return fail(Errc::denied, "path " + text::quote(rel) + " leads outside the workspace through a symlink");
    if (in_host_data(m_root, real))
        return fail(Errc::denied, off_limits_message(rel, " leads through a symlink into "));
    return real;
}

Result<fs::path> Workspace::resolve_for_write(std::string_view rel) const
{
    auto p = check_lexical(rel);
    if (!p) return p;
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(p->parent_path(), ec);
    if (ec || !inside(m_root, dir))
        return fail(Errc::denied, "the directory of " + text::quote(rel) + " is outside the workspace");
    if (in_host_data(m_root, dir)) return fail(Errc::denied, off_limits_message(rel, " leads through a symlink into "));
    fs::path target = dir / p->filename();
    struct stat st {};
    if (::lstat(target.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        return fail(Errc::denied, "refusing to write through the symlink " + text::quote(rel));
    return target;
}

Result<std::string> Workspace::read(std::string_view rel, std::size_t limit) const
{
    auto p = resolve(rel);
    if (!p) return p.error();
    // Without blocking: a named pipe put where a file was would wait for a
    // writer forever; only a regular file is read.
    int fd = ::open(p->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return fail(errno == ENOENT ? Errc::not_found : Errc::unavailable,
                    "cannot read " + text::quote(rel) + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(Errc::invalid_input, text::quote(rel) + " is not a regular file");
    }
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit) {
            ::close(fd);
            return fail(Errc::invalid_input, text::quote(rel) + " is larger than " + std::to_string(limit) + " bytes");
        }
    }
    ::close(fd);
    return out;
}

Status Workspace::write(std::string_view rel, std::string_view content) const
{
    auto lex = check_lexical(rel);
    if (!lex) return lex.error();
    std::error_code ec;
    // Create missing directories one by one, each checked, so a symlinked
    // directory cannot redirect the write.
    fs::path cur = m_root;
    fs::path rel_dir = fs::path(rel).parent_path();
    for (const auto& part : rel_dir) {
        if (part == ".") continue;
        cur /= part;
        struct stat st {};
        if (::lstat(cur.c_str(), &st) == 0) {
            if (S_ISLNK(st.st_mode)) {
                auto real = fs::canonical(cur, ec);
                if (ec || !inside(m_root, real))
                    return fail(Errc::denied, "the directory of " + text::quote(rel) + " is outside the workspace");
                if (in_host_data(m_root, real))
                    return fail(Errc::denied, off_limits_message(rel, " leads through a symlink into "));
            } else if (!S_ISDIR(st.st_mode)) {
                return fail(Errc::invalid_input, text::quote(cur.string()) + " is not a directory");
            }
        } else if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
            return fail(Errc::unavailable, "cannot create " + text::quote(cur.string()) + ": " + std::strerror(errno));
        }
    }
    auto target = resolve_for_write(rel);
    if (!target) return target.error();
    fs::path tmp = target->parent_path() / ("." + target->filename().string() + ".infra-agent-tmp");
    {
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) return fail(Errc::unavailable, "cannot write " + text::quote(rel) + ": " + std::strerror(errno));
        std::size_t off = 0;
        while (off < content.size()) {
            ssize_t n = ::write(fd, content.data() + off, content.size() - off);
            if (n <= 0) {
                ::close(fd);
                ::unlink(tmp.c_str());
                return fail(Errc::unavailable, "cannot write " + text::quote(rel) + ": " + std::strerror(errno));
            }
            off += static_cast<std::size_t>(n);
        }
        // Keep the mode of the file it replaces.
        struct stat st {};
        if (::stat(target->c_str(), &st) == 0) ::fchmod(fd, st.st_mode & 07777);
        ::close(fd);
    }
    if (::rename(tmp.c_str(), target->c_str()) != 0) {
        ::unlink(tmp.c_str());
        return fail(Errc::unavailable, "cannot write " + text::quote(rel) + ": " + std::strerror(errno));
    }
    return {};
}

Result<std::vector<std::string>> Workspace::list(std::string_view rel, std::size_t limit) const
{
    auto base = resolve(rel);
    if (!base) return base.error();
    std::vector<std::string> out;
    std::error_code ec;
    fs::recursive_directory_iterator it(*base, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        if (it->is_directory() && (name == ".git" || name == ".terraform" || name == ".infra-agent")) {
            it.disable_recursion_pending();
            continue;
        }
        // Symlinks are listed only when they stay inside.
        if (!it->is_regular_file()) continue;
        auto real = fs::canonical(it->path(), ec);
        if (ec || !inside(m_root, real)) {
            ec.clear();
            continue;
        }
        out.push_back(it->path().lexically_relative(m_root).string());
        if (out.size() >= limit) break;
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> Workspace::git_metadata() const
{
    std::vector<std::string> out;
    std::error_code ec;
    fs::recursive_directory_iterator it(m_root, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        bool dir = it->is_directory(ec) && !it->is_symlink(ec);
        if (text::lower(name) == ".git") out.push_back(it->path().lexically_relative(m_root).string());
        if (dir && (text::lower(name) == ".git" || name == ".terraform")) it.disable_recursion_pending();
    }
    std::sort(out.begin(), out.end());
    return out;
}

Status check_state_home_outside(const Workspace& ws, const fs::path& home)
{
    std::error_code ec;
    fs::path real = fs::weakly_canonical(home, ec);
    if (ec || !inside(ws.root(), real) || real == ws.root() / ".infra-agent") return {};
    return fail(
        Errc::usage,
        "the state home " + text::quote(home.string()) + " lies inside the workspace " +
            text::quote(ws.root().string()) + ", where the agent could read its keys and rewrite its configuration",
        "keep the state home outside the workspace (--home or INFRA_AGENT_HOME), or at its top as .infra-agent");
}

Status remove_tree_inside(const fs::path& parent, const fs::path& target)
{
    std::error_code ec;
    fs::path p = fs::absolute(parent, ec).lexically_normal();
    fs::path t = fs::absolute(target, ec).lexically_normal();
    while (!p.empty() && !p.has_filename() && p != p.root_path()) p = p.parent_path();
    while (!t.empty() && !t.has_filename() && t != t.root_path()) t = t.parent_path();
    auto refuse = [&] {
        return fail(Errc::internal, "refusing to remove " + text::quote(target.string()) + ": it is not inside " +
                                        text::quote(parent.string()));
    };
    if (p.empty() || t == p || !inside(p, t)) return refuse();
    // Resolved, the parent of the target must still be inside (or be) parent.
    fs::path real_parent = fs::weakly_canonical(p, ec);
    fs::path real_dir = fs::weakly_canonical(t.parent_path(), ec);
    if (ec || !inside(real_parent, real_dir)) return refuse();
    fs::path real = real_dir / t.filename();
    struct stat st {};
    if (::lstat(real.c_str(), &st) != 0) return {};
    fs::remove_all(real, ec);
    if (ec) return fail(Errc::unavailable, "cannot remove " + text::quote(real.string()) + ": " + ec.message());
    return {};
}

}  // namespace infra::core
