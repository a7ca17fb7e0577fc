#include "core/change/validate_directory.hpp"

#include "core/change/open_delivery.hpp"
#include "core/git.hpp"
#include "core/ids.hpp"
#include "core/sandbox_choice.hpp"
#include "core/text.hpp"

namespace infra::core::change {
namespace {

namespace fs = std::filesystem;

std::vector<report::Finding> findings_of(const Report& r, const fs::path& root, const fs::path& base)
{
    std::vector<report::Finding> out;
    std::string prefix;
    if (auto rel = fs::relative(root, base); !rel.empty() && rel != ".") prefix = rel.generic_string() + "/";
    for (const auto& s : r.steps) {
        if (s.ok) continue;
        std::string rule = "infra-agent/validation/" + s.name;
        for (auto& ch : rule)
            if (ch == ' ') ch = '-';
        std::size_t before = out.size();
        for (const auto& line : text::split(s.output, '\n')) {
            std::string t(text::trim(line));
            if (t.rfind("scope: ", 0) == 0) {
                report::Finding f{rule, "The plan touches what the task may not", "error", t.substr(7), "", 0, ""};
                f.resource = t.substr(7, t.find(' ', 7) - 7);
                if (auto at = report::locate_resource(root, f.resource, base)) {
                    f.file = at->first;
                    f.line = at->second;
                }
                out.push_back(std::move(f));
            } else if (auto colon = t.find(".tf: "); colon != std::string::npos) {
                out.push_back(
                    {rule, "terraform fmt", "error", t.substr(colon + 5), prefix + t.substr(0, colon + 3), 0, ""});
            }
        }
        if (out.size() == before)
            out.push_back({rule, "Validation step " + s.name + " failed", "error",
                           r.failure.empty() ? s.name + " failed" : r.failure, prefix, 0, ""});
    }
    return out;
}

/// Whether dir holds a Terraform configuration of its own (terraform reads
/// only the directory's files, not its subdirectories').
bool has_terraform_files(const fs::path& dir)
{
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        if (entry.is_regular_file(ec) && (name.ends_with(".tf") || name.ends_with(".tf.json"))) return true;
    }
    return false;
}

/// The files of the commit checked out where dir is, written to a
/// directory of their own while validation needs them: what providers and
/// modules are installed from outside the sandbox (with this machine's
/// network), since the directory's own files may be an agent's.
class CommittedBase {
public:
    CommittedBase(const git::Checkout& co, const fs::path& top, const fs::path& dir)
        : m_co(co), m_rel(fs::absolute(dir).lexically_normal().lexically_relative(top))
    {
    }
    CommittedBase(const CommittedBase&) = delete;
    CommittedBase& operator=(const CommittedBase&) = delete;
    ~CommittedBase()
    {
        std::error_code ec;
        if (!m_out.empty()) fs::remove_all(m_out, ec);
    }

    /// Where dir is in the commit's files, written on first use.
    Result<fs::path> root()
    {
        if (m_out.empty()) {
            std::error_code ec;
            fs::path out = fs::temp_directory_path(ec) / ("infra-agent-base-" + ids::new_ulid());
            if (auto st = git::export_base(m_co, out); !st) {
                fs::remove_all(out, ec);
                return fail(st.error());
            }
            m_out = out;
        }
        return m_out / m_rel;
    }

private:
    git::Checkout m_co;
    fs::path m_rel;
    fs::path m_out;
};

}  // namespace

Result<DirectoryValidation> validate_directory(const Site& site, const fs::path& dir, const AgentTask& task,
                                               const policy::Decision* decision, const std::string& sandbox_flag)
{
    auto sandbox = sandbox::choose(site.config, sandbox_flag, decision);
    if (!sandbox) return fail(sandbox.error());
    auto vopt = validation_options(site, &*sandbox);
    if (!vopt) return fail(vopt.error());
    std::optional<git::Checkout> co;
    if (auto opened = git::open(dir)) {
        auto changed = git::changed_paths(*opened);
        if (changed) {
            co = *opened;
            vopt->changed = std::move(*changed);
            vopt->base_content = [&co](const std::string& path) -> std::optional<std::string> {
                auto c = git::file_at_base(*co, path);
                return c ? *c : std::nullopt;
            };
        }
    }
    if (!fs::is_directory(dir)) return fail(Errc::usage, "no directory " + text::quote(dir.string()));
    if (runs_terraform(*vopt) && !has_terraform_files(dir))
        return fail(Errc::usage, "no Terraform files (*.tf) in " + text::quote(dir.string()),
                    "name a Terraform root directory: infra-agent validate envs/prod");
    // In a checkout, providers and modules come from what is committed;
    // elsewhere, from the directory itself.
    std::optional<CommittedBase> committed;
    auto root = fs::absolute(dir).lexically_normal();
    if (auto top = git::find_worktree(root))
        if (auto opened = git::open(*top)) committed.emplace(*opened, *top, root);
    if (committed) vopt->base_tree = [&committed]() { return committed->root(); };
    else vopt->base_tree = [root]() -> Result<fs::path> { return root; };
    DirectoryValidation out;
    auto report = validate(dir, {"."}, task, decision ? *decision : policy::Decision{}, *vopt);
    if (!report) return fail(report.error());
    if (!report->ran)
        return fail(Errc::unavailable,
                    "nothing was validated in " + text::quote(dir.string()) + ": terraform is not on PATH",
                    "install terraform, or name the steps to run under validation.steps in config.yaml");
    out.report = std::move(*report);
    for (const auto& s : vopt->steps)
        if (s.pipeline) out.remote.push_back(s);
    auto base = git::find_worktree(fs::absolute(dir)).value_or(fs::current_path());
    out.findings = findings_of(out.report, fs::absolute(dir), base);
    return out;
}

}  // namespace infra::core::change
