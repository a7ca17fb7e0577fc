#include "core/crypto.hpp"
#include "core/text.hpp"
#include "plugins/credentials/providers.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace infra::plugins::credentials {
namespace {

using core::Errc;
using core::creds::Credential;
using core::creds::LedgerEntry;
using core::creds::Scope;
using nlohmann::json;

const std::string k_header = core::crypto::base64url_encode(R"({"alg":"HS256","typ":"JWT"})");

class Local final : public core::creds::Provider {
public:
    explicit Local(std::string key) : m_key(std::move(key)) {}
    std::string name() const override { return "local"; }
    std::chrono::seconds max_ttl() const override { return std::chrono::hours(12); }

    core::Status mint(const Scope&, Credential& c) override
    {
        c.secret = sign(c.id, c.task_id, c.scope, c.issued_ms / 1000, c.expires_ms / 1000);
        // The token says whole seconds; the ledger must agree with it.
        c.issued_ms = c.issued_ms / 1000 * 1000;
        c.expires_ms = c.expires_ms / 1000 * 1000;
        return {};
    }

    std::optional<std::string> rederive(const LedgerEntry& e) const override
    {
        return sign(e.id, e.task_id, e.scope, e.issued_ms / 1000, e.expires_ms / 1000);
    }

    core::Result<json> verify(std::string_view token) const override
    {
        auto bad = [](const std::string& why) {
            return core::fail(Errc::denied, "not a valid local credential: " + why);
        };
        auto dot1 = token.find('.');
        auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
        if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
            return bad("expected three dot-separated parts");
        if (token.substr(0, dot1) != k_header) return bad("the header is not HS256");
        auto mac = core::crypto::base64url_decode(token.substr(dot2 + 1));
        if (!mac) return bad("the signature is not base64url");
        std::string expect = core::crypto::hmac_sha256_raw(m_key, token.substr(0, dot2));
        if (!core::crypto::constant_time_equal(*mac, expect))
            return bad("the signature does not match this home's key");
        auto body = core::crypto::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
        if (!body) return bad("the claims are not base64url");
        json claims = json::parse(*body, nullptr, false);
        if (!claims.is_object() || !claims.contains("jti") || !claims["jti"].is_string())
            return bad("the claims lack an id");
        return claims;
    }

private:
    std::string sign(const std::string& id, const std::string& task, const std::string& scope, std::int64_t iat,
                     std::int64_t exp) const
    {
        std::string signing_input = k_header + "." + core::crypto::base64url_encode(claims(id, task, scope, iat, exp));
        return signing_input + "." +
               core::crypto::base64url_encode(core::crypto::hmac_sha256_raw(m_key, signing_input));
    }

    /// The claims exactly as nlohmann::json writes them (keys in order, no
    /// spaces): a token signed again for reuse must match its ledger hash.
    static std::string claims(const std::string& id, const std::string& task, const std::string& scope,
                              std::int64_t iat, std::int64_t exp)
    {
        std::string out;
        out.reserve(96 + id.size() + task.size() + scope.size());
        out +=
            R"({"exp":)" + std::to_string(exp) + R"(,"iat":)" + std::to_string(iat) + R"(,"iss":"infra-agent","jti":)";
        append_string(out, id);
        out += R"(,"scope":)";
        append_string(out, scope);
        out += R"(,"sub":)";
        append_string(out, task);
        out += '}';
        return out;
    }

    static void append_string(std::string& out, const std::string& s)
    {
        if (!core::text::json_verbatim(s)) {
            out += json(s).dump();
            return;
        }
        out += '"';
        out += s;
        out += '"';
    }

    std::string m_key;
};

core::Unexpected io_error(const std::string& what, const std::filesystem::path& p)
{
    return core::fail(Errc::unavailable,
                      "cannot " + what + " " + core::text::quote(p.string()) + ": " + std::strerror(errno));
}

}  // namespace

std::unique_ptr<core::creds::Provider> make_local(std::string key)
{
    return std::make_unique<Local>(std::move(key));
}

core::Result<std::string> load_or_create_key(const std::filesystem::path& file)
{
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
        return core::fail(Errc::unavailable,
                          "cannot create " + core::text::quote(file.parent_path().string()) + ": " + ec.message());
    ::chmod(file.parent_path().c_str(), 0700);
    for (int attempt = 0; attempt < 2; ++attempt) {
        int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            struct stat st {};
            ::fstat(fd, &st);
            if ((st.st_mode & 077) != 0) {
                ::close(fd);
                return core::fail(Errc::denied,
                                  "the signing key " + core::text::quote(file.string()) + " is readable by others",
                                  "run: chmod 600 " + file.string());
            }
            char buf[256];
            ssize_t n = ::read(fd, buf, sizeof buf);
            ::close(fd);
            if (n < 0) return io_error("read", file);
            auto key =
                core::crypto::base64url_decode(core::text::trim(std::string_view(buf, static_cast<std::size_t>(n))));
            if (!key || key->size() < 32)
                return core::fail(Errc::invalid_input, "the signing key " + core::text::quote(file.string()) +
                                                           " is not 32 or more base64url-encoded bytes");
            return *key;
        }
        if (errno != ENOENT) return io_error("open", file);
        // Create it under a temporary name and link it in, so that a reader
        // never sees a half-written key and two creators agree on one key.
        std::string raw(32, '\0');
        core::crypto::random_bytes(raw.data(), raw.size());
        std::string text = core::crypto::base64url_encode(raw) + "\n";
        auto tmp = file.string() + ".tmp." + std::to_string(::getpid());
        int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0) return io_error("create", tmp);
        bool ok = ::write(out, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(out) == 0;
        ::close(out);
        if (!ok) {
            ::unlink(tmp.c_str());
            return io_error("write", tmp);
        }
        int linked = ::link(tmp.c_str(), file.c_str());
        int link_errno = errno;
        ::unlink(tmp.c_str());
        if (linked != 0 && link_errno != EEXIST) {
            errno = link_errno;
            return io_error("create", file);
        }
    }
    return core::fail(Errc::unavailable, "cannot read or create the signing key " + core::text::quote(file.string()));
}

}  // namespace infra::plugins::credentials
