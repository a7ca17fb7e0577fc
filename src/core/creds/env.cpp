#include "core/creds/env.hpp"

#include <cstdlib>

namespace infra::core::creds {
namespace {

class Env final : public Provider {
public:
    explicit Env(std::string variable) : m_variable(std::move(variable)) {}
    std::string name() const override { return "env"; }

    Status mint(const Scope&, Credential& c) override
    {
        auto token = read();
        if (token.empty())
            return fail(Errc::unavailable, "the env credential provider found no token in $" + m_variable,
                        "export " + m_variable + "=..., or set creds.provider to local, github-app or aws-sts");
        c.secret = std::move(token);
        c.extra = {{"variable", m_variable}, {"note", "development only: the scope is not enforced"}};
        return {};
    }

    std::optional<std::string> rederive(const LedgerEntry&) const override
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

std::unique_ptr<Provider> env_provider(std::string variable)
{
    return std::make_unique<Env>(std::move(variable));
}

}  // namespace infra::core::creds
