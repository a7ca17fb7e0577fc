// github-app: an RS256 JSON Web Token of the GitHub App, exchanged for an
// installation access token narrowed to the task's repository and to the
// permissions its scope needs.
//
//   git:fetch:repo=OWNER/NAME            contents: read
//   git:push:repo=OWNER/NAME,branch=...  contents: write
//   forge:pr:repo=OWNER/NAME             pull_requests: write, issues: write, contents: read
//   forge:members:repo=OWNER/NAME        members: read (the organization's teams, for approvals)
//   ci:dispatch:repo=OWNER/NAME,...      actions: write, contents: read (dispatch a workflow, follow its run)
//   ci:read:repo=OWNER/NAME              checks: read, actions: read (check runs on a commit)
#include "core/crypto.hpp"
#include "core/http.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "plugins/credentials/providers.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctime>
#include <fstream>
#include <sstream>

namespace infra::plugins::credentials {
namespace {

using core::Errc;
using nlohmann::json;

struct Settings {
    std::string app_id;
    std::string installation_id;
    std::string private_key_file;
    std::string base_url = "https://api.github.com";
    std::string accept = "application/vnd.github+json";
};

class GitHubApp final : public core::creds::Provider {
public:
    GitHubApp(Settings s, EVP_PKEY* key) : m_s(std::move(s)), m_key(key) {}
    ~GitHubApp() override { EVP_PKEY_free(m_key); }
    std::string name() const override { return "github-app"; }
    std::chrono::seconds max_ttl() const override { return std::chrono::hours(1); }  // GitHub's own lifetime
    bool mints_for(const std::string& api) const override { return api == "github"; }

    core::Status mint(const core::creds::Scope& scope, core::creds::Credential& c) override
    {
        std::string repo = scope.attr("repo");
        auto slash = repo.find('/');
        if (slash == std::string::npos || repo.find('*') != std::string::npos)
            return core::fail(Errc::usage,
                              "the github-app provider needs repo=OWNER/NAME (one repository) in the scope");
        json permissions;
        if (scope.kind == "git" && scope.action == "fetch") permissions = {{"contents", "read"}};
        else if (scope.kind == "git" && scope.action == "push") permissions = {{"contents", "write"}};
        else if (scope.kind == "forge" && scope.action == "pr")
            permissions = {{"pull_requests", "write"}, {"issues", "write"}, {"contents", "read"}};
        else if (scope.kind == "forge" && scope.action == "members") permissions = {{"members", "read"}};
        else if (scope.kind == "ci" && scope.action == "dispatch")
            permissions = {{"actions", "write"}, {"contents", "read"}};
        else if (scope.kind == "ci" && scope.action == "read") permissions = {{"checks", "read"}, {"actions", "read"}};
        else
            return core::fail(Errc::usage, "the github-app provider mints git:fetch, git:push, forge:pr, "
                                           "forge:members, ci:dispatch and ci:read scopes, not " +
                                               core::creds::to_string(scope));
        auto jwt = app_jwt();
        if (!jwt) return core::fail(jwt.error());
        core::http::Request r;
        r.method = "POST";
        r.url = m_s.base_url + "/app/installations/" + m_s.installation_id + "/access_tokens";
        r.headers = {{"Authorization", "Bearer " + *jwt},
                     {"Accept", m_s.accept},
                     {"X-GitHub-Api-Version", "2022-11-28"},
                     {"User-Agent", "infra-agent"},
                     {"Content-Type", "application/json"}};
        r.body = json({{"repositories", {repo.substr(slash + 1)}}, {"permissions", permissions}}).dump();
        r.timeout = std::chrono::seconds(30);
        auto resp = core::http::send(r);
        if (!resp)
            return core::fail(Errc::unavailable,
                              "cannot reach GitHub at " + m_s.base_url + ": " + resp.error().message);
        json j = json::parse(resp->body, nullptr, false);
        if (resp->status != 201) {
            std::string why = j.is_object() ? core::string_member(j, "message") : "";
            return core::fail(resp->status == 401 || resp->status == 403 || resp->status == 404 || resp->status == 422
                                  ? Errc::denied
                                  : Errc::unavailable,
                              "GitHub refused an installation token for " + repo + " (HTTP " +
                                  std::to_string(resp->status) + ")" + (why.empty() ? "" : ": " + why));
        }
        if (!j.is_object() || !j.contains("token") || !j["token"].is_string())
            return core::fail(Errc::unavailable, "GitHub answered without an installation token");
        c.secret = j["token"].get<std::string>();
        if (auto exp = core::timeutil::parse_rfc3339(core::string_member(j, "expires_at"))) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(exp->time_since_epoch()).count();
            c.expires_ms = std::min(c.expires_ms, ms);
        }
        c.extra = {{"installationId", m_s.installation_id},
                   {"permissions", j.value("permissions", permissions)},
                   {"repository", repo}};
        return {};
    }

    /// The app's JWT: iat a minute in the past (clock drift), exp nine minutes on (GitHub allows ten).
    core::Result<std::string> app_jwt() const
    {
        std::int64_t now = std::time(nullptr);
        std::string header = core::crypto::base64url_encode(R"({"alg":"RS256","typ":"JWT"})");
        std::string claims =
            core::crypto::base64url_encode(json({{"iat", now - 60}, {"exp", now + 540}, {"iss", m_s.app_id}}).dump());
        std::string input = header + "." + claims;
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        std::size_t len = 0;
        std::string sig;
        bool ok =
            ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, m_key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
        if (ok) {
            sig.resize(len);
            ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                                reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
            sig.resize(len);
        }
        EVP_MD_CTX_free(ctx);
        if (!ok) return core::fail(Errc::internal, "cannot sign the GitHub App's JWT with its private key");
        return input + "." + core::crypto::base64url_encode(sig);
    }

private:
    Settings m_s;
    EVP_PKEY* m_key;
};

}  // namespace

core::Result<std::unique_ptr<core::creds::Provider>> make_github_app(const core::Config& config)
{
    Settings s;
    s.app_id = config.get_or("creds.github_app.app_id", "");
    s.installation_id = config.get_or("creds.github_app.installation_id", "");
    s.private_key_file = config.get_or("creds.github_app.private_key_file", "");
    s.base_url = config.get_or("creds.github_app.base_url", config.get_or("forge.base_url", s.base_url));
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    s.accept = config.get_or("forge.accept", s.accept);
    for (auto [key, value] : {std::pair{"creds.github_app.app_id", &s.app_id},
                              std::pair{"creds.github_app.installation_id", &s.installation_id},
                              std::pair{"creds.github_app.private_key_file", &s.private_key_file}})
        if (value->empty())
            return core::fail(
                Errc::invalid_input, std::string(key) + " is not set",
                "the github-app provider needs app_id, installation_id and private_key_file under creds.github_app");
    FILE* f = std::fopen(s.private_key_file.c_str(), "r");
    if (!f)
        return core::fail(Errc::unavailable, "cannot read the GitHub App key " + core::text::quote(s.private_key_file));
    EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        return core::fail(Errc::invalid_input,
                          core::text::quote(s.private_key_file) + " is not an RSA private key in PEM form");
    }
    return std::unique_ptr<core::creds::Provider>(std::make_unique<GitHubApp>(std::move(s), key));
}

}  // namespace infra::plugins::credentials
