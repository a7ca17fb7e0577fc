#include "core/crypto.hpp"
#include "core/text.hpp"
#include "plugins/credentials/providers.hpp"

#include <cstdlib>

namespace infra::plugins::credentials {
namespace {

class Env final : public core::creds::Provider {
public:
    explicit Env(std::string variable) : m_variable(std::move(variable)) {}
    std::string name() const override { return "env"; }

    core::Status mint(const core::creds::Scope&, core::creds::Credential& c) override
    {
        auto token = read();
        if (token.empty())
            return core::fail(core::Errc::unavailable, "the env credential provider found no token in $" + m_variable,
                              "export " + m_variable + "=..., or set creds.provider to local, github-app or aws-sts");
        c.secret = std::move(token);
        c.extra = {{"variable", m_variable}, {"note", "development only: the scope is not enforced"}};
        return {};
    }

    std::optional<std::string> rederive(const core::creds::LedgerEntry&) const override
    {
        auto token = read();
        if (token.empty()) return std::nullopt;
        return token;
    }

private:
    std::string read() const
    {
        const char* v = std::getenv(m_variable.c_str());
        return v ? std::string(v) : std::string();
    }
    std::string m_variable;
};

}  // namespace

std::unique_ptr<core::creds::Provider> make_env(std::string variable)
{
    return std::make_unique<Env>(std::move(variable));
}

void register_providers(core::creds::Registry& r)
{
    r.add("local",
          [](const core::Config&, const core::Home& home) -> core::Result<std::unique_ptr<core::creds::Provider>> {
              auto key = load_or_create_key(home.dir / "keys" / "local-creds.key");
              if (!key) return core::fail(key.error());
              return make_local(std::move(*key));
          });
    r.add("aws-sts",
          [](const core::Config& config, const core::Home&) -> core::Result<std::unique_ptr<core::creds::Provider>> {
              return make_aws_sts(config);
          });
    r.add("github-app", [](const core::Config& config, const core::Home&) { return make_github_app(config); });
    r.add("env",
          [](const core::Config& config, const core::Home&) -> core::Result<std::unique_ptr<core::creds::Provider>> {
              return make_env(config.get_or("creds.env.token_env", "INFRA_AGENT_TOKEN"));
          });
    r.add("broker", [](const core::Config& config, const core::Home&) { return make_remote(config); });
}

}  // namespace infra::plugins::credentials
