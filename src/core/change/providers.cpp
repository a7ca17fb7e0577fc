#include "core/change/providers.hpp"

#include "core/host.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"

#include <fcntl.h>
#include <fstream>
#include <sys/file.h>
#include <unistd.h>

namespace infra::core::change {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// An exclusive lock on a file, held for the object's life.
class FileLock {
public:
    explicit FileLock(const fs::path& p) : m_fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644))
    {
        if (m_fd >= 0) ::flock(m_fd, LOCK_EX);
    }
    ~FileLock()
    {
        if (m_fd >= 0) ::close(m_fd);
    }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    bool ok() const { return m_fd >= 0; }

private:
    int m_fd;
};

/// A CLI configuration that installs providers from mirror and nothing else.
Status write_cli_config(const fs::path& file, const fs::path& mirror)
{
    std::string text = "# Written by infra-agent for sandboxed validation: providers come from this\n"
                       "# mirror alone, never from a registry.\n"
                       "disable_checkpoint = true\n"
                       "provider_installation {\n  filesystem_mirror {\n    path = " +
                       json(mirror.string()).dump() + "\n  }\n}\n";
    std::ifstream in(file);
    std::string now((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (now == text) return {};
    fs::path tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        if (!out) return fail(Errc::unavailable, "cannot write " + text::quote(tmp.string()));
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) return fail(Errc::unavailable, "cannot write " + text::quote(file.string()) + ": " + ec.message());
    return {};
}

std::string one_diagnostic(const json& d, Detail how)
{
    std::string severity = string_member(d, "severity");
    std::string out = (severity == "warning" ? "Warning: " : "Error: ") + text::one_line(string_member(d, "summary"));
    std::string whole = string_member(d, "detail");
    if (how == Detail::brief) whole = whole.substr(0, whole.find("\n\n"));
    std::string detail = text::one_line(whole);
    if (!detail.empty()) out += ": " + detail;
    const json& range = member(d, "range");
    std::string file = string_member(range, "filename");
    if (!file.empty()) {
        out += " (" + file;
        const json& line = member(member(range, "start"), "line");
        if (line.is_number_integer()) out += ":" + std::to_string(line.get<long long>());
        out += ")";
    }
    return out;
}

}  // namespace

std::vector<std::string> terraform_diagnostics(const std::string& output, Detail detail)
{
    std::vector<std::string> errors, warnings;
    auto take = [&](const json& d) {
        if (!d.is_object()) return;
        (string_member(d, "severity") == "warning" ? warnings : errors).push_back(one_diagnostic(d, detail));
    };
    json whole = json::parse(output, nullptr, false);
    if (whole.is_object() && member(whole, "diagnostics").is_array()) {
        for (const auto& d : whole["diagnostics"]) take(d);
    } else {
        for (const auto& line : text::split(output, '\n')) {
            json j = json::parse(line, nullptr, false);
            if (j.is_object() && string_member(j, "type") == "diagnostic") take(member(j, "diagnostic"));
        }
    }
    errors.insert(errors.end(), warnings.begin(), warnings.end());
    return errors;
}

Result<PreparedRoot> ProviderCache::describe() const
{
    PreparedRoot p;
    bool own = m_opt.operator_mirror.empty();
    p.mirror = own ? m_opt.dir / "cache" : m_opt.operator_mirror;
    p.cli_config = m_opt.dir / (own ? "sandbox.tfrc" : "operator-mirror.tfrc");
    std::error_code ec;
    fs::create_directories(m_opt.dir / "cache", ec);
    if (ec)
        return fail(Errc::unavailable, "cannot create the provider cache " +
                                           text::quote((m_opt.dir / "cache").string()) + ": " + ec.message());
    if (!own && !fs::is_directory(m_opt.operator_mirror, ec))
        return fail(Errc::unavailable,
                    "validation.provider_mirror " + text::quote(m_opt.operator_mirror.string()) + " is not a directory",
                    "point it at a filesystem mirror, which terraform providers mirror DIR makes");
    if (auto st = write_cli_config(p.cli_config, p.mirror); !st) return fail(st.error());
    p.binds = {m_opt.dir};
    if (!own) p.binds.push_back(m_opt.operator_mirror);
    return p;
}

Result<PreparedRoot> ProviderCache::prepare(const fs::path& base_root)
{
    auto p = describe();
    if (!p) return p;
    if (!m_opt.operator_mirror.empty() || base_root.empty()) return p;  // the operator's mirror is all there is

    // The base's providers (and remote modules) by terraform itself, with
    // this machine's network and the operator's own CLI configuration;
    // checked against the base's lock file, which the agent never touched.
    FileLock lock(m_opt.dir / "cache.lock");
    if (!lock.ok())
        return fail(Errc::unavailable, "cannot lock the provider cache in " + text::quote(m_opt.dir.string()));
    host::Request req;
    req.argv = {"terraform", "init", "-backend=false", "-input=false", "-no-color", "-json"};
    req.cwd = base_root;
    req.env = {{"TF_IN_AUTOMATION", "1"}, {"TF_INPUT", "0"}, {"CHECKPOINT_DISABLE", "1"}};
    req.timeout = m_opt.timeout;
    // What the cache already holds needs no network: the same install the
    // sandbox will make, from the cache alone, checked against the lock.
    req.env["TF_CLI_CONFIG_FILE"] = p->cli_config.string();
    auto r = host::run(req);
    if (!r) return fail(r.error());
    if (r->exit_code != 0) {
        // Else terraform downloads, from wherever this machine's own
        // configuration says, into the cache.
        req.env.erase("TF_CLI_CONFIG_FILE");
        req.env["TF_PLUGIN_CACHE_DIR"] = (m_opt.dir / "cache").string();
        r = host::run(req);
        if (!r) return fail(r.error());
    }
    if (r->exit_code != 0) {
        auto diags = terraform_diagnostics(r->out, Detail::brief);
        std::string why = diags.empty() ? std::string(text::trim(r->err.empty() ? r->out : r->err)) : diags.front();
        if (r->timed_out) why = "terraform init ran past " + std::to_string(m_opt.timeout.count() / 1000) + " s";
        return fail(Errc::unavailable, "cannot install the providers the base commit uses: " + why,
                    "terraform on this machine could not fetch them, and the sandbox has no network: run "
                    "`infra-agent providers fetch ROOT` where the registry can be reached to fill the cache, or set "
                    "validation.provider_mirror to a filesystem mirror you keep");
    }
    std::error_code ec;
    if (fs::is_directory(base_root / ".terraform" / "modules", ec)) p->modules = base_root / ".terraform" / "modules";
    return p;
}

}  // namespace infra::core::change
