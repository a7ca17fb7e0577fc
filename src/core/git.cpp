#include "core/git.hpp"

#include "core/crypto.hpp"
#include "core/dynlib.hpp"
#include "core/text.hpp"

#include <git2.h>
#include <git2/sys/repository.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>

namespace infra::core::git {
namespace {

// libgit2 is loaded when git is first used (core/dynlib): with what it
// links (Kerberos, mbedTLS, libssh2) it costs about 2 ms of CPU to load.
// clang-format off
#define INFRA_LIBGIT2_FUNCTIONS(X) \
    X(git_blob_free) X(git_blob_lookup) X(git_blob_rawcontent) \
    X(git_blob_rawsize) X(git_buf_dispose) X(git_checkout_head) \
    X(git_checkout_options_init) X(git_checkout_tree) X(git_clone) \
    X(git_clone_options_init) X(git_commit_committer) X(git_commit_create) \
    X(git_commit_free) X(git_commit_lookup) X(git_commit_message) \
    X(git_commit_parent_id) X(git_commit_parentcount) X(git_commit_tree) \
    X(git_commit_tree_id) X(git_config_add_file_ondisk) X(git_config_free) \
    X(git_config_new) X(git_credential_ssh_key_from_agent) X(git_credential_ssh_key_new) \
    X(git_credential_userpass_plaintext_new) X(git_diff_free) X(git_diff_get_delta) \
    X(git_diff_num_deltas) X(git_diff_options_init) X(git_diff_tree_to_workdir_with_index) \
    X(git_error_last) X(git_fetch_options_init) X(git_graph_descendant_of) \
    X(git_index_add_all) X(git_index_free) X(git_index_has_conflicts) \
    X(git_index_update_all) X(git_index_write) X(git_index_write_tree) \
    X(git_libgit2_init) X(git_merge_base) X(git_merge_commits) \
    X(git_message_trailer_array_free) X(git_message_trailers) X(git_oid_equal) \
    X(git_oid_fromstr) X(git_oid_tostr) X(git_patch_free) \
    X(git_patch_from_diff) X(git_patch_to_buf) X(git_push_options_init) \
    X(git_reference_create) X(git_reference_create_matching) X(git_reference_delete) \
    X(git_reference_free) X(git_reference_lookup) X(git_reference_name) \
    X(git_reference_name_to_id) X(git_reference_shorthand) X(git_reference_target) \
    X(git_remote_connect_ext) X(git_remote_connect_options_init) X(git_remote_create_anonymous) \
    X(git_remote_default_branch) X(git_remote_disconnect) X(git_remote_fetch) \
    X(git_remote_free) X(git_remote_init_callbacks) X(git_remote_lookup) \
    X(git_remote_ls) X(git_remote_push) X(git_remote_url) \
    X(git_repository_discover) X(git_repository_free) X(git_repository_head) \
    X(git_repository_index) X(git_repository_init) X(git_repository_is_bare) \
    X(git_repository_open) X(git_repository_open_ext) X(git_repository_set_config) \
    X(git_repository_set_workdir) X(git_repository_workdir) X(git_signature_free) \
    X(git_signature_now) X(git_status_byindex) X(git_status_list_entrycount) \
    X(git_status_list_free) X(git_status_list_new) X(git_status_options_init) \
    X(git_tree_entry_bypath) X(git_tree_entry_free) X(git_tree_entry_id) \
    X(git_tree_free) X(git_tree_lookup)
// clang-format on

INFRA_LIBGIT2_FUNCTIONS(INFRA_DYNLIB_DECLARE)

/// Loads libgit2 (once) and initializes it.
Status init_once()
{
    static Status loaded = fail(Errc::internal, "libgit2 was not loaded");
    static std::once_flag once;
    std::call_once(once, [] {
        loaded = dynlib::load("git support", INFRA_LIBGIT2_SONAME, INFRA_LIBGIT2_PACKAGE,
                              [](void* handle, std::string& missing) { INFRA_LIBGIT2_FUNCTIONS(INFRA_DYNLIB_BIND) });
        if (loaded) git_libgit2_init();
    });
    return loaded;
}

template <typename T, void (**Free)(T*)>
struct Owned {
    T* p = nullptr;
    ~Owned()
    {
        if (p) (*Free)(p);
    }
    T** out() { return &p; }
    T* get() const { return p; }
    Owned() = default;
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
};
using Repo = Owned<git_repository, &git_repository_free>;
using Remote = Owned<git_remote, &git_remote_free>;
using Commit = Owned<git_commit, &git_commit_free>;
using Tree = Owned<git_tree, &git_tree_free>;
using Index = Owned<git_index, &git_index_free>;
using Ref = Owned<git_reference, &git_reference_free>;
using Sig = Owned<git_signature, &git_signature_free>;
using Diff = Owned<git_diff, &git_diff_free>;

/// What the libgit2 callbacks share during one operation.
struct CallbackState {
    const Auth* auth = nullptr;
    std::string allowed_url;  ///< credentials go only to this URL's scheme, host and port
    int credential_calls = 0;
    std::string error;      ///< set by a callback that stopped the operation
    std::string lease_ref;  ///< push: the ref whose remote value must be lease_expected
    git_oid lease_expected{};
    std::string rejected;  ///< push: the remote's reason for refusing the ref
};

Error git_failure(const std::string& what, const CallbackState* cb = nullptr, Errc code = Errc::unavailable)
{
    std::string why;
    if (cb && !cb->error.empty()) why = cb->error;
    else if (const git_error* e = git_error_last(); e && e->message) why = e->message;
    else why = "unknown libgit2 error";
    return make_error(code, what + ": " + why);
}

/// "scheme://host:port" of a URL (scp-like "user@host:path" is ssh), host
/// in lower case, the scheme's default port filled in; "" for a local path.
std::string url_origin(std::string_view url)
{
    std::string scheme, rest;
    auto sep = url.find("://");
    if (sep != std::string_view::npos) {
        scheme = text::lower(url.substr(0, sep));
        rest = std::string(url.substr(sep + 3));
    } else if (auto colon = url.find(':'); colon != std::string_view::npos && colon > 0 && url[0] != '/' &&
                                           url.substr(0, colon).find('/') == std::string_view::npos) {
        scheme = "ssh";
        rest = std::string(url.substr(0, colon));
    } else {
        return "";
    }
    if (scheme == "file") return "";
    std::string authority = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
    std::string host = authority, port;
    if (auto colon = authority.rfind(':');
        colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (port.empty()) port = scheme == "https" ? "443" : scheme == "http" ? "80" : scheme == "ssh" ? "22" : "";
    return scheme + "://" + text::lower(host) + ":" + port;
}

int credentials_cb(git_credential** out, const char* url, const char* username_from_url, unsigned int allowed,
                   void* payload)
{
    auto* st = static_cast<CallbackState*>(payload);
    if (++st->credential_calls > 1) {
        st->error = "the remote refused the credential";
        return GIT_EUSER;
    }
    // Only the remote the host configured gets a credential: never one a
    // redirect or a rewritten configuration names.
    std::string asking = url ? url_origin(url) : "";
    if (asking.empty() || asking != url_origin(st->allowed_url)) {
        st->error = "refusing to send a credential to " + text::quote(url ? url : "?") +
                    ": infra-agent sends them only to " + text::quote(st->allowed_url);
        return GIT_EUSER;
    }
    const Auth& auth = *st->auth;
    if (allowed & GIT_CREDENTIAL_SSH_KEY) {
        const char* user = username_from_url ? username_from_url : auth.ssh_user.c_str();
        if (auth.ssh_key.empty()) return git_credential_ssh_key_from_agent(out, user);
        return git_credential_ssh_key_new(out, user, nullptr, auth.ssh_key.c_str(), nullptr);
    }
    if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
        if (!auth.token) {
            st->error = "the remote asks for credentials and no credential provider is configured";
            return GIT_EUSER;
        }
        auto token = auth.token();
        if (!token) {
            st->error = "cannot mint a credential for the push: " + token.error().message;
            return GIT_EUSER;
        }
        return git_credential_userpass_plaintext_new(out, auth.username.c_str(), token->c_str());
    }
    return GIT_PASSTHROUGH;
}

/// The SSH server's key must be listed for its host in the known_hosts file:
/// "host[,host...] TYPE BASE64" lines, "[host]:port" for other ports.
int certificate_cb(git_cert* cert, int, const char* host, void* payload)
{
    auto* st = static_cast<CallbackState*>(payload);
    if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2 || st->auth->ssh_known_hosts.empty()) return GIT_PASSTHROUGH;
    auto* hk = reinterpret_cast<git_cert_hostkey*>(cert);
    if (!(hk->type & GIT_CERT_SSH_RAW)) {
        st->error = "the SSH server's host key cannot be checked";
        return GIT_ECERTIFICATE;
    }
    std::string raw(hk->hostkey, hk->hostkey_len);
    std::ifstream in(st->auth->ssh_known_hosts);
    if (!in) {
        st->error = "cannot read the known hosts file " + text::quote(st->auth->ssh_known_hosts);
        return GIT_ECERTIFICATE;
    }
    std::string line;
    while (std::getline(in, line)) {
        auto fields = text::split(std::string(text::trim(line)), ' ');
        if (fields.size() < 3 || fields[0].empty() || fields[0][0] == '#') continue;
        bool host_matches = false;
        for (const auto& h : text::split(fields[0], ','))
            if (h == host || (h.size() > 2 && h[0] == '[' && h.substr(1, h.find(']') - 1) == host)) host_matches = true;
        if (!host_matches) continue;
        std::string b64 = fields[2];
        for (auto& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
        auto key = crypto::base64url_decode(b64);
        if (key && *key == raw) return 0;
    }
    st->error = std::string("the SSH host key of ") + host + " is not in " + st->auth->ssh_known_hosts;
    return GIT_ECERTIFICATE;
}

git_remote_callbacks callbacks_for(CallbackState& st)
{
    git_remote_callbacks cb;
    git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
    cb.credentials = credentials_cb;
    cb.certificate_check = certificate_cb;
    cb.payload = &st;
    return cb;
}

/// Fetch options that send credentials only to the configured remote:
/// redirects are not followed, whatever any configuration says.
git_fetch_options fetch_options(CallbackState& st)
{
    git_fetch_options fo;
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    fo.callbacks = callbacks_for(st);
    fo.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    return fo;
}

std::string oid_hex(const git_oid* oid)
{
    char buf[GIT_OID_HEXSZ + 1];
    git_oid_tostr(buf, sizeof buf, oid);
    return buf;
}

/// Paths the change never carries, whatever .gitignore says: Terraform's
/// working data, state and plan files.
int skip_working_data(const char* path, const char*, void*)
{
    std::string_view p(path);
    if (is_git_metadata(p)) return 1;
    if (p == ".terraform" || p.rfind(".terraform/", 0) == 0 || p.find("/.terraform/") != std::string_view::npos)
        return 1;
    auto name = p.substr(p.rfind('/') == std::string_view::npos ? 0 : p.rfind('/') + 1);
    if (name.find(".tfstate") != std::string_view::npos ||
        (name.size() > 7 && name.substr(name.size() - 7) == ".tfplan"))
        return 1;
    if (name == ".infra-agent") return 1;
    return 0;
}

/// Opens the repository of a checkout. One that infra-agent cloned is
/// opened from its own metadata directory with the configuration the host
/// wrote there and nothing else (no global, system or XDG file, so no
/// includes, url rewrites or filter drivers), and the working tree set by
/// the host: nothing in the working tree can steer it.
Status open_repo(const Checkout& co, Repo& repo)
{
    if (co.git_dir.empty()) {
        if (git_repository_open(repo.out(), co.dir.c_str()) != 0)
            return fail(git_failure("cannot open " + co.dir.string()));
        return {};
    }
    if (git_repository_open_ext(repo.out(), co.git_dir.c_str(),
                                GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, nullptr) != 0)
        return fail(git_failure("cannot open " + co.git_dir.string()));
    git_config* cfg = nullptr;
    int rc = git_config_new(&cfg);
    if (rc == 0)
        rc = git_config_add_file_ondisk(cfg, (co.git_dir / "config").c_str(), GIT_CONFIG_LEVEL_LOCAL, repo.get(), 1);
    if (rc == 0) rc = git_repository_set_config(repo.get(), cfg);
    git_config_free(cfg);
    if (rc != 0) return fail(git_failure("cannot read the configuration of " + co.git_dir.string()));
    if (git_repository_set_workdir(repo.get(), co.dir.c_str(), 0) != 0)
        return fail(git_failure("cannot use " + co.dir.string() + " as the working tree"));
    return {};
}

/// The repository of a checkout and the tree of its base commit.
Status open_base(const Checkout& co, Repo& repo, Commit& base, Tree& tree)
{
    if (auto st = open_repo(co, repo); !st) return st;
    git_oid base_id;
    if (git_oid_fromstr(&base_id, co.base_commit.c_str()) != 0)
        return fail(Errc::internal, "bad base commit " + co.base_commit);
    if (git_commit_lookup(base.out(), repo.get(), &base_id) != 0 || git_commit_tree(tree.out(), base.get()) != 0)
        return fail(git_failure("cannot read the base commit"));
    return {};
}

/// A path (or file:// URL) of a repository with a working tree.
bool is_local_checkout(const std::string& url)
{
    std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
    if (path.empty() || path[0] != '/') return false;
    Repo repo;
    if (git_repository_open_ext(repo.out(), path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) return false;
    return !git_repository_is_bare(repo.get());
}

Result<PushResult> deliver_by_fetch(const Checkout& co, const std::string& url, const std::string& ref,
                                    const git_oid* expected, PushResult result)
{
    std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
    Repo target;
    if (git_repository_open(target.out(), path.c_str()) != 0) return fail(git_failure("cannot open " + path));
    Ref head;
    if (git_repository_head(head.out(), target.get()) == 0 && ref == git_reference_name(head.get()))
        return fail(Errc::conflict,
                    text::quote(result.branch) + " is checked out in " + path + "; infra-agent leaves it alone");
    Remote from;
    const auto& source = co.git_dir.empty() ? co.dir : co.git_dir;
    if (git_remote_create_anonymous(from.out(), target.get(), source.c_str()) != 0)
        return fail(git_failure("cannot read the worktree " + co.dir.string()));
    std::string incoming = "refs/infra-agent/incoming/" + result.branch;
    std::string spec = "+" + ref + ":" + incoming;
    char* specs[] = {spec.data()};
    git_strarray refspecs = {specs, 1};
    CallbackState none;
    git_fetch_options fo = fetch_options(none);
    if (git_remote_fetch(from.get(), &refspecs, &fo, "infra-agent: fetch bot branch") != 0)
        return fail(git_failure("cannot fetch " + result.branch + " into " + path));
    git_oid fetched;
    if (git_reference_name_to_id(&fetched, target.get(), incoming.c_str()) != 0)
        return fail(git_failure("the fetched branch is missing"));
    Ref updated;
    int rc = expected ? git_reference_create_matching(updated.out(), target.get(), ref.c_str(), &fetched, 1, expected,
                                                      "infra-agent: update bot branch")
                      : git_reference_create(updated.out(), target.get(), ref.c_str(), &fetched, 0,
                                             "infra-agent: bot branch");
    Ref tmp;
    if (git_reference_lookup(tmp.out(), target.get(), incoming.c_str()) == 0) git_reference_delete(tmp.get());
    if (rc != 0)
        return fail(git_failure("the branch moved in " + path + " since it was read", nullptr, Errc::conflict));
    return result;
}

}  // namespace

std::string branch_name(const std::string& task_type, const std::string& fingerprint)
{
    std::string type;
    for (char c : task_type)
        type += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? static_cast<char>(std::tolower(c)) : '-';
    // A digest (what ingest makes, "sha256:..." with its algorithm first)
    // names the branch by its first 16 digits; any other key by a digest of
    // all of it, so that two keys never share a branch by their hex digits.
    auto colon = fingerprint.rfind(':');
    std::string_view digits =
        colon == std::string::npos ? std::string_view(fingerprint) : std::string_view(fingerprint).substr(colon + 1);
    bool digest = digits.size() >= 32;
    for (char c : digits) digest = digest && std::isxdigit(static_cast<unsigned char>(c));
    std::string fp = digest ? text::lower(digits) : crypto::sha256_hex(fingerprint);
    return "infra-agent/" + (type.empty() ? std::string("task") : type) + "/" + fp.substr(0, 16);
}

std::map<std::string, std::string> trailers_of(const std::string& message)
{
    std::map<std::string, std::string> out;
    git_message_trailer_array arr{};
    if (git_message_trailers(&arr, message.c_str()) == 0) {
        for (std::size_t i = 0; i < arr.count; ++i) out[arr.trailers[i].key] = arr.trailers[i].value;
        git_message_trailer_array_free(&arr);
    }
    return out;
}

std::filesystem::path git_dir_for(const std::filesystem::path& dir)
{
    auto d = dir.lexically_normal();
    if (!d.has_filename()) d = d.parent_path();
    return d.parent_path() / (d.filename().string() + ".git");
}

bool is_git_metadata(std::string_view path)
{
    std::size_t pos = 0;
    while (pos <= path.size()) {
        auto slash = path.find('/', pos);
        auto part = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        if (text::lower(part) == ".git") return true;
        if (slash == std::string_view::npos) break;
        pos = slash + 1;
    }
    return false;
}

Result<std::vector<std::string>> remove_metadata_from_tree(const Checkout& co)
{
    std::vector<std::string> removed;
    if (co.git_dir.empty()) return removed;
    std::error_code ec;
    std::vector<std::filesystem::path> found;
    std::filesystem::recursive_directory_iterator it(co.dir, std::filesystem::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
        if (text::lower(it->path().filename().string()) != ".git") continue;
        found.push_back(it->path());
        if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
    }
    if (ec)
        return fail(Errc::unavailable,
                    "cannot read the worktree " + text::quote(co.dir.string()) + ": " + ec.message());
    for (const auto& p : found) {
        std::filesystem::remove_all(p, ec);  // a symlink goes itself, never what it names
        if (ec) return fail(Errc::unavailable, "cannot remove " + text::quote(p.string()) + ": " + ec.message());
        removed.push_back(p.lexically_relative(co.dir).string());
    }
    return removed;
}

Result<Checkout> clone(const std::string& url, const std::filesystem::path& dir, const std::string& base,
                       const Auth& auth)
{
    if (auto st = init_once(); !st) return st.error();
    Checkout co;
    co.dir = dir;
    co.git_dir = git_dir_for(dir);
    co.remote_url = url;
    CallbackState st;
    st.auth = &auth;
    st.allowed_url = url;
    // A bare clone beside the working tree: the metadata never enters it.
    git_clone_options opts;
    git_clone_options_init(&opts, GIT_CLONE_OPTIONS_VERSION);
    opts.fetch_opts = fetch_options(st);
    opts.bare = 1;
    if (!base.empty()) opts.checkout_branch = base.c_str();
    {
        Repo cloned;
        if (git_clone(cloned.out(), url.c_str(), co.git_dir.c_str(), &opts) != 0)
            return fail(git_failure("cannot clone " + text::quote(url), &st));
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(Errc::unavailable, "cannot create " + text::quote(dir.string()) + ": " + ec.message());
    Repo repo;
    if (auto s = open_repo(co, repo); !s) return fail(s.error());
    Ref head;
    if (git_repository_head(head.out(), repo.get()) != 0)
        return fail(git_failure("cannot read the default branch of " + text::quote(url)));
    co.base_branch = git_reference_shorthand(head.get());
    co.base_commit = oid_hex(git_reference_target(head.get()));
    git_checkout_options copts;
    git_checkout_options_init(&copts, GIT_CHECKOUT_OPTIONS_VERSION);
    copts.checkout_strategy = GIT_CHECKOUT_FORCE;
    if (git_checkout_head(repo.get(), &copts) != 0) return fail(git_failure("cannot check out " + co.base_branch));
    return co;
}

Result<Checkout> open(const std::filesystem::path& dir)
{
    if (auto st = init_once(); !st) return st.error();
    Repo repo;
    if (git_repository_open_ext(repo.out(), dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0)
        return fail(git_failure(text::quote(dir.string()) + " is not a git repository", nullptr, Errc::invalid_input));
    // A checkout keeps its metadata in dir/.git (a directory, or a file that
    // names it) and has dir as its working tree. A directory whose own files
    // make a repository (HEAD, objects, a config with core.worktree) is what
    // an agent working there could make, with an origin of its choosing.
    std::error_code ec;
    const char* workdir = git_repository_workdir(repo.get());
    if (!workdir || !std::filesystem::exists(std::filesystem::symlink_status(dir / ".git", ec)) ||
        !std::filesystem::equivalent(workdir, dir, ec))
        return fail(Errc::invalid_input,
                    text::quote(dir.string()) + " is not the top of a git checkout (no .git of its own there)",
                    "name the directory that holds the checkout's .git");
    Ref head;
    if (git_repository_head(head.out(), repo.get()) != 0)
        return fail(git_failure("cannot read HEAD of " + dir.string()));
    Checkout co;
    co.dir = workdir;
    co.base_branch = git_reference_shorthand(head.get());
    co.base_commit = oid_hex(git_reference_target(head.get()));
    return co;
}

std::optional<std::filesystem::path> find_worktree(const std::filesystem::path& dir)
{
    if (!init_once()) return std::nullopt;  // open() says why
    git_buf found = GIT_BUF_INIT;
    if (git_repository_discover(&found, dir.c_str(), 0, nullptr) != 0) return std::nullopt;
    Repo repo;
    int rc = git_repository_open(repo.out(), found.ptr);
    git_buf_dispose(&found);
    if (rc != 0 || !git_repository_workdir(repo.get())) return std::nullopt;
    return std::filesystem::path(git_repository_workdir(repo.get())).lexically_normal().parent_path();
}

bool has_origin(const Checkout& co)
{
    if (!init_once()) return false;
    Repo repo;
    if (!open_repo(co, repo)) return false;
    Remote remote;
    return git_remote_lookup(remote.out(), repo.get(), "origin") == 0;
}

/// The worktree (untracked files included) against the base commit's tree.
static Status diff_against_base(const Checkout& co, Repo& repo, Diff& diff, std::uint32_t extra_flags)
{
    Commit base;
    Tree tree;
    if (auto st = open_base(co, repo, base, tree); !st) return st;
    git_diff_options opts;
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | extra_flags;
    if (git_diff_tree_to_workdir_with_index(diff.out(), repo.get(), tree.get(), &opts) != 0)
        return fail(git_failure("cannot compare the worktree"));
    return {};
}

Result<std::string> diff_worktree(const Checkout& co)
{
    if (auto st = init_once(); !st) return st.error();
    Repo repo;
    Diff diff;
    if (auto st = diff_against_base(co, repo, diff, GIT_DIFF_SHOW_UNTRACKED_CONTENT); !st) return fail(st.error());
    std::string out;
    for (std::size_t i = 0, n = git_diff_num_deltas(diff.get()); i < n; ++i) {
        const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
        const char* path = d->new_file.path ? d->new_file.path : d->old_file.path;
        if (skip_working_data(path, nullptr, nullptr)) continue;
        git_patch* patch = nullptr;
        if (git_patch_from_diff(&patch, diff.get(), i) != 0 || !patch) continue;
        git_buf buf = GIT_BUF_INIT;
        if (git_patch_to_buf(&buf, patch) == 0) out.append(buf.ptr, buf.size);
        git_buf_dispose(&buf);
        git_patch_free(patch);
    }
    return out;
}

Result<std::vector<std::string>> changed_paths(const Checkout& co)
{
    if (auto st = init_once(); !st) return st.error();
    Repo repo;
    Diff diff;
    if (auto st = diff_against_base(co, repo, diff, GIT_DIFF_INCLUDE_TYPECHANGE); !st) return fail(st.error());
    std::set<std::string> paths;
    for (std::size_t i = 0, n = git_diff_num_deltas(diff.get()); i < n; ++i) {
        const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
        for (const char* path : {d->old_file.path, d->new_file.path})
            if (path && !skip_working_data(path, nullptr, nullptr)) paths.insert(path);
    }
    return std::vector<std::string>(paths.begin(), paths.end());
}

Result<std::vector<std::string>> ignored_paths(const Checkout& co)
{
    if (auto st = init_once(); !st) return st.error();
    Repo repo;
    if (auto st = open_repo(co, repo); !st) return fail(st.error());
    git_status_options opts;
    git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
    opts.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
    opts.flags = GIT_STATUS_OPT_INCLUDE_IGNORED | GIT_STATUS_OPT_RECURSE_IGNORED_DIRS;
    git_status_list* list = nullptr;
    if (git_status_list_new(&list, repo.get(), &opts) != 0)
        return fail(git_failure("cannot read the worktree's status"));
    std::vector<std::string> out;
    for (std::size_t i = 0, n = git_status_list_entrycount(list); i < n; ++i) {
        const git_status_entry* e = git_status_byindex(list, i);
        if (!(e->status & GIT_STATUS_IGNORED) || !e->index_to_workdir) continue;
        const char* path = e->index_to_workdir->new_file.path;
        if (path && !skip_working_data(path, nullptr, nullptr)) out.push_back(path);
    }
    git_status_list_free(list);
    return out;
}

Status export_base(const Checkout& co, const std::filesystem::path& dir)
{
    if (auto st = init_once(); !st) return st.error();
    Repo repo;
    Commit base;
    Tree tree;
    if (auto st = open_base(co, repo, base, tree); !st) return st;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail(Errc::unavailable, "cannot create " + text::quote(dir.string()) + ": " + ec.message());
    git_checkout_options opts;
    git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
    opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
    std::string target = dir.string();
    opts.target_directory = target.c_str();
    if (git_checkout_tree(repo.get(), reinterpret_cast<const git_object*>(base.get()), &opts) != 0)
        return fail(git_failure("cannot write the base commit's files to " + target));
    return {};
}

Result<std::optional<std::string>> file_at_base(const Checkout& co, const std::string& path)
{
    if (auto st = init_once(); !st) return st.error();
    Repo repo;
    Commit base;
    Tree tree;
    if (auto st = open_base(co, repo, base, tree); !st) return fail(st.error());
    git_tree_entry* entry = nullptr;
    if (git_tree_entry_bypath(&entry, tree.get(), path.c_str()) != 0) return std::optional<std::string>();
    git_blob* blob = nullptr;
    int rc = git_blob_lookup(&blob, repo.get(), git_tree_entry_id(entry));
    git_tree_entry_free(entry);
    if (rc != 0) return std::optional<std::string>();
    std::string content(static_cast<const char*>(git_blob_rawcontent(blob)),
                        static_cast<std::size_t>(git_blob_rawsize(blob)));
    git_blob_free(blob);
    return std::optional<std::string>(std::move(content));
}

Result<std::string> commit_all(const Checkout& co, const std::string& branch, const std::string& message,
                               const Identity& who, const Trailers& trailers)
{
    if (auto st = init_once(); !st) return st.error();
    Repo repo;
    if (auto st = open_repo(co, repo); !st) return fail(st.error());
    Index index;
    if (git_repository_index(index.out(), repo.get()) != 0) return fail(git_failure("cannot read the index"));
    char star[] = "*";
    char* patterns[] = {star};
    git_strarray all = {patterns, 1};
    if (git_index_add_all(index.get(), &all, GIT_INDEX_ADD_DEFAULT, skip_working_data, nullptr) != 0 ||
        git_index_update_all(index.get(), &all, skip_working_data, nullptr) != 0 || git_index_write(index.get()) != 0)
        return fail(git_failure("cannot stage the changes"));
    git_oid tree_id, base_id, commit_id;
    if (git_index_write_tree(&tree_id, index.get()) != 0) return fail(git_failure("cannot write the tree"));
    if (git_oid_fromstr(&base_id, co.base_commit.c_str()) != 0)
        return fail(Errc::internal, "bad base commit " + co.base_commit);
    Commit base;
    if (git_commit_lookup(base.out(), repo.get(), &base_id) != 0)
        return fail(git_failure("cannot read the base commit"));
    if (git_oid_equal(&tree_id, git_commit_tree_id(base.get()))) return std::string();
    Tree tree;
    if (git_tree_lookup(tree.out(), repo.get(), &tree_id) != 0) return fail(git_failure("cannot read the new tree"));
    Sig sig;
    if (git_signature_now(sig.out(), who.name.c_str(), who.email.c_str()) != 0)
        return fail(git_failure("invalid commit identity " + text::quote(who.name + " <" + who.email + ">"), nullptr,
                                Errc::invalid_input));
    std::string msg = std::string(text::trim(message)) + "\n\nTask-Id: " + trailers.task_id + "\n";
    if (!trailers.traceparent.empty()) msg += "Traceparent: " + trailers.traceparent + "\n";
    if (!trailers.policy_digest.empty()) msg += "Policy-Digest: " + trailers.policy_digest + "\n";
    const git_commit* parents[] = {base.get()};
    if (git_commit_create(&commit_id, repo.get(), nullptr, sig.get(), sig.get(), nullptr, msg.c_str(), tree.get(), 1,
                          parents) != 0)
        return fail(git_failure("cannot commit"));
    Ref ref;
    if (git_reference_create(ref.out(), repo.get(), ("refs/heads/" + branch).c_str(), &commit_id, 1,
                             "infra-agent: commit") != 0)
        return fail(git_failure("cannot create branch " + branch));
    return oid_hex(&commit_id);
}

namespace {

/// infra-agent pushes only its own branches: under infra-agent/, never a
/// protected one or the default branch.
Status check_branch(const Checkout& co, const std::string& branch, const PushOptions& opt)
{
    if (branch.rfind("infra-agent/", 0) != 0)
        return fail(Errc::denied, "refusing to push " + text::quote(branch) +
                                      ": infra-agent pushes only to branches under infra-agent/");
    for (const auto& p : opt.protected_patterns)
        if (text::glob_match(p, branch))
            return fail(Errc::denied, "refusing to push to protected branch " + text::quote(branch));
    if (branch == co.base_branch)
        return fail(Errc::denied, "refusing to push to the default branch " + text::quote(branch));
    return {};
}

/// Connects to the remote to read it, with the callbacks of st (its
/// credentials, only for the allowed URL; no redirects followed).
Status connect_to(git_remote* remote, CallbackState& st)
{
    git_remote_connect_options connect;
    git_remote_connect_options_init(&connect, GIT_REMOTE_CONNECT_OPTIONS_VERSION);
    connect.callbacks = callbacks_for(st);
    connect.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    if (git_remote_connect_ext(remote, GIT_DIRECTION_FETCH, &connect) != 0)
        return fail(git_failure("cannot reach origin", &st));
    return {};
}

/// What the remote has now: its default branch and the tip of ref.
struct RemoteState {
    std::string default_ref;
    bool exists = false;
    git_oid tip{};
};

Result<RemoteState> look_at_remote(git_remote* remote, const std::string& ref, CallbackState& st)
{
    if (auto connected = connect_to(remote, st); !connected) return fail(connected.error());
    RemoteState out;
    git_buf default_ref = GIT_BUF_INIT;
    if (git_remote_default_branch(&default_ref, remote) == 0) {
        out.default_ref = default_ref.ptr;
        git_buf_dispose(&default_ref);
    }
    const git_remote_head** heads = nullptr;
    std::size_t n_heads = 0;
    if (git_remote_ls(&heads, &n_heads, remote) != 0) return fail(git_failure("cannot list origin's branches", &st));
    for (std::size_t i = 0; i < n_heads; ++i)
        if (ref == heads[i]->name) {
            out.tip = heads[i]->oid;
            out.exists = true;
        }
    git_remote_disconnect(remote);
    return out;
}

/// The branch exists on the remote: it must be the bot's (committed by the
/// bot's address, with a Task-Id trailer), else somebody else pushed to it.
/// True when the new commit changes nothing over the remote's tip.
Result<bool> same_as_bots_tip(git_repository* repo, git_remote* remote, const std::string& branch,
                              const git_oid& remote_tip, const git_oid& local_id, const PushOptions& opt,
                              CallbackState& st)
{
    std::string ref = "refs/heads/" + branch;
    std::string spec = "+" + ref + ":refs/remotes/origin/" + branch;
    char* specs[] = {spec.data()};
    git_strarray refspecs = {specs, 1};
    st.credential_calls = 0;
    git_fetch_options fo = fetch_options(st);
    if (git_remote_fetch(remote, &refspecs, &fo, "infra-agent: fetch bot branch") != 0)
        return fail(git_failure("cannot fetch " + branch, &st));
    Commit tip, mine;
    if (git_commit_lookup(tip.out(), repo, &remote_tip) != 0)
        return fail(git_failure("cannot read origin's tip of " + branch));
    const git_signature* committer = git_commit_committer(tip.get());
    auto tr = trailers_of(git_commit_message(tip.get()));
    if (!committer || opt.bot_email.empty() || opt.bot_email != committer->email || !tr.count("Task-Id"))
        return fail(Errc::conflict,
                    "somebody else pushed to " + text::quote(branch) + " (commit " +
                        oid_hex(&remote_tip).substr(0, 12) + " by " +
                        (committer ? std::string(committer->name) : std::string("?")) +
                        "); infra-agent no longer updates it",
                    "merge or close that pull request by hand, or delete the branch to let infra-agent start again");
    if (git_commit_lookup(mine.out(), repo, &local_id) != 0) return fail(git_failure("cannot read the new commit"));
    return git_oid_equal(git_commit_tree_id(tip.get()), git_commit_tree_id(mine.get())) &&
           git_commit_parentcount(tip.get()) == 1 && git_commit_parentcount(mine.get()) == 1 &&
           git_oid_equal(git_commit_parent_id(tip.get(), 0), git_commit_parent_id(mine.get(), 0));
}

/// Force, but only over the tip just inspected (force-with-lease).
Status push_with_lease(git_remote* remote, const std::string& branch, const git_oid& remote_tip,
                       const std::string& allowed, const PushOptions& opt)
{
    std::string ref = "refs/heads/" + branch;
    CallbackState st;
    st.auth = &opt.auth;
    st.allowed_url = allowed;
    st.lease_ref = ref;
    st.lease_expected = remote_tip;
    git_push_options po;
    git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
    po.callbacks = callbacks_for(st);
    po.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    po.callbacks.push_negotiation = [](const git_push_update** updates, std::size_t len, void* payload) -> int {
        auto* s = static_cast<CallbackState*>(payload);
        for (std::size_t i = 0; i < len; ++i) {
            if (s->lease_ref != updates[i]->dst_refname) continue;
            if (!git_oid_equal(&updates[i]->src, &s->lease_expected)) {
                s->error = "the branch moved on origin since it was fetched (now " +
                           oid_hex(&updates[i]->src).substr(0, 12) + ")";
                return GIT_EUSER;
            }
        }
        return 0;
    };
    po.callbacks.push_update_reference = [](const char* refname, const char* status, void* payload) -> int {
        auto* s = static_cast<CallbackState*>(payload);
        if (status) s->rejected = std::string(refname) + ": " + status;
        return 0;
    };
    std::string spec = "+" + ref + ":" + ref;
    char* specs[] = {spec.data()};
    git_strarray refspecs = {specs, 1};
    if (git_remote_push(remote, &refspecs, &po) != 0) {
        bool moved = st.error.rfind("the branch moved", 0) == 0;
        return fail(git_failure("cannot push " + branch, &st, moved ? Errc::conflict : Errc::unavailable));
    }
    if (!st.rejected.empty()) return fail(Errc::denied, "origin refused the push of " + st.rejected);
    return {};
}

}  // namespace

Result<PushResult> push(const Checkout& co, const std::string& branch, const PushOptions& opt)
{
    if (auto st = init_once(); !st) return st.error();
    if (auto st = check_branch(co, branch, opt); !st) return fail(st.error());
    Repo repo;
    if (auto s = open_repo(co, repo); !s) return fail(s.error());
    Remote remote;
    if (git_remote_lookup(remote.out(), repo.get(), "origin") != 0)
        return fail(git_failure("the worktree has no origin"));
    const char* origin_url = git_remote_url(remote.get());
    // A clone of ours sends credentials to the URL it was cloned from; a
    // person's own checkout to its origin.
    std::string allowed = co.remote_url.empty() ? (origin_url ? origin_url : "") : co.remote_url;
    if (!co.remote_url.empty() && (!origin_url || co.remote_url != origin_url))
        return fail(Errc::denied, "refusing to push: origin is " + text::quote(origin_url ? origin_url : "") +
                                      ", and the repository was cloned from " + text::quote(co.remote_url));
    std::string ref = "refs/heads/" + branch;
    git_oid local_id;
    if (git_reference_name_to_id(&local_id, repo.get(), ref.c_str()) != 0)
        return fail(git_failure("no local branch " + branch));

    CallbackState st;
    st.auth = &opt.auth;
    st.allowed_url = allowed;
    auto remote_now = look_at_remote(remote.get(), ref, st);
    if (!remote_now) return fail(remote_now.error());
    if (ref == remote_now->default_ref)
        return fail(Errc::denied, "refusing to push to the default branch " + text::quote(branch));
    PushResult result;
    result.branch = branch;
    result.commit = oid_hex(&local_id);
    result.created = !remote_now->exists;
    if (remote_now->exists) {
        result.previous = oid_hex(&remote_now->tip);
        auto same = same_as_bots_tip(repo.get(), remote.get(), branch, remote_now->tip, local_id, opt, st);
        if (!same) return fail(same.error());
        if (*same) {
            result.unchanged = true;
            result.commit = result.previous;
            return result;
        }
    }
    // A checkout on this machine (the user's own clone, for remediate) cannot
    // be pushed to; it fetches the branch from the worktree instead, under the
    // same lease.
    if (const char* url = git_remote_url(remote.get()); url && is_local_checkout(url))
        return deliver_by_fetch(co, url, ref, remote_now->exists ? &remote_now->tip : nullptr, std::move(result));
    if (auto pushed = push_with_lease(remote.get(), branch, remote_now->tip, allowed, opt); !pushed)
        return fail(pushed.error());
    return result;
}

}  // namespace infra::core::git

namespace infra::core::git {
namespace {

/// A bare scratch repository removed when the scope ends.
struct Scratch {
    std::filesystem::path dir;
    Repo repo;
    ~Scratch()
    {
        std::error_code ec;
        if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
};

/// The remote's branches (refs/heads/... -> tip).
Result<std::map<std::string, git_oid>> remote_heads(git_remote* remote, CallbackState& st)
{
    if (auto connected = connect_to(remote, st); !connected) return fail(connected.error());
    const git_remote_head** heads = nullptr;
    std::size_t n = 0;
    std::map<std::string, git_oid> out;
    if (git_remote_ls(&heads, &n, remote) != 0) return fail(git_failure("cannot list origin's branches", &st));
    for (std::size_t i = 0; i < n; ++i) out[heads[i]->name] = heads[i]->oid;
    git_remote_disconnect(remote);
    return out;
}

/// A bare scratch repository with url as an anonymous remote, and the
/// remote's branches.
Result<std::map<std::string, git_oid>> scratch_remote(const std::string& url, const Auth& auth, Scratch& s,
                                                      Remote& remote, CallbackState& st)
{
    std::error_code ec;
    std::filesystem::remove_all(s.dir, ec);
    if (git_repository_init(s.repo.out(), s.dir.c_str(), 1) != 0)
        return fail(git_failure("cannot make " + s.dir.string()));
    if (git_remote_create_anonymous(remote.out(), s.repo.get(), url.c_str()) != 0)
        return fail(git_failure("cannot use " + url));
    st.auth = &auth;
    st.allowed_url = url;
    return remote_heads(remote.get(), st);
}

}  // namespace

Result<BranchState> inspect_branch(const std::string& url, const std::string& branch, const std::string& base,
                                   const std::string& bot_email, const Auth& auth, const std::filesystem::path& scratch)
{
    if (auto st = init_once(); !st) return st.error();
    Scratch s{scratch, {}};
    Remote remote;
    CallbackState st;
    auto heads = scratch_remote(url, auth, s, remote, st);
    if (!heads) return fail(heads.error());
    BranchState out;
    std::string branch_ref = "refs/heads/" + branch, base_ref = "refs/heads/" + base;
    auto b = heads->find(base_ref);
    if (b == heads->end()) return fail(Errc::not_found, "origin has no branch " + text::quote(base));
    out.base_head = oid_hex(&b->second);
    auto h = heads->find(branch_ref);
    if (h == heads->end()) return out;
    out.exists = true;
    out.head = oid_hex(&h->second);
    std::string spec_base = "+" + base_ref + ":refs/remotes/origin/base",
                spec_branch = "+" + branch_ref + ":refs/remotes/origin/branch";
    char* specs[] = {spec_base.data(), spec_branch.data()};
    git_strarray refspecs = {specs, 2};
    st.credential_calls = 0;
    git_fetch_options fo = fetch_options(st);
    if (git_remote_fetch(remote.get(), &refspecs, &fo, "infra-agent: inspect bot branch") != 0)
        return fail(git_failure("cannot fetch " + branch + " and " + base, &st));
    const git_oid& tip_id = h->second;
    const git_oid& base_id = b->second;
    out.merged = git_oid_equal(&tip_id, &base_id) || git_graph_descendant_of(s.repo.get(), &base_id, &tip_id) == 1;
    Commit tip;
    if (git_commit_lookup(tip.out(), s.repo.get(), &tip_id) != 0)
        return fail(git_failure("cannot read the tip of " + branch));
    const git_signature* committer = git_commit_committer(tip.get());
    out.bot_owned = committer && !bot_email.empty() && bot_email == committer->email &&
                    trailers_of(git_commit_message(tip.get())).count("Task-Id");
    if (!out.bot_owned) out.pushed_by = committer ? committer->name : "?";
    if (out.merged) return out;
    git_oid merge_base;
    out.behind =
        git_merge_base(&merge_base, s.repo.get(), &tip_id, &base_id) != 0 || !git_oid_equal(&merge_base, &base_id);
    if (out.behind) {
        Commit base_commit;
        Owned<git_index, &git_index_free> merged;
        if (git_commit_lookup(base_commit.out(), s.repo.get(), &base_id) == 0 &&
            git_merge_commits(merged.out(), s.repo.get(), base_commit.get(), tip.get(), nullptr) == 0)
            out.conflicts = git_index_has_conflicts(merged.get()) != 0;
    }
    return out;
}

Status delete_branch(const std::string& url, const std::string& branch, const Auth& auth,
                     const std::filesystem::path& scratch)
{
    if (auto st = init_once(); !st) return st.error();
    if (branch.rfind("infra-agent/", 0) != 0)
        return fail(Errc::denied, "refusing to delete " + text::quote(branch) +
                                      ": infra-agent deletes only branches under infra-agent/");
    std::string ref = "refs/heads/" + branch;
    if (is_local_checkout(url)) {
        // A checkout on this machine: its branch is deleted in place.
        std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
        Repo target;
        if (git_repository_open(target.out(), path.c_str()) != 0) return fail(git_failure("cannot open " + path));
        Ref r;
        if (git_reference_lookup(r.out(), target.get(), ref.c_str()) != 0) return {};
        if (git_reference_delete(r.get()) != 0) return fail(git_failure("cannot delete " + branch + " in " + path));
        return {};
    }
    Scratch s{scratch, {}};
    Remote remote;
    CallbackState st;
    auto heads = scratch_remote(url, auth, s, remote, st);
    if (!heads) return fail(heads.error());
    if (!heads->count(ref)) return {};
    st.credential_calls = 0;
    git_push_options po;
    git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
    po.callbacks = callbacks_for(st);
    po.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    std::string spec = ":" + ref;
    char* specs[] = {spec.data()};
    git_strarray refspecs = {specs, 1};
    if (git_remote_push(remote.get(), &refspecs, &po) != 0)
        return fail(git_failure("cannot delete " + branch + " on origin", &st));
    return {};
}

}  // namespace infra::core::git
