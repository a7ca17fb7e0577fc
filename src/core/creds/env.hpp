#pragma once
// The env credential provider: the token in one environment variable,
// whatever the scope. It is the "env" provider (creds.env.token_env), and
// the source of a forge's or a CI's API token when the credential provider
// cannot mint one (forge.token_env, ci.github.token_env, ci.gitlab.token_env);
// each of its mints is recorded in the ledger like any other.

#include "core/creds/broker.hpp"

#include <memory>
#include <string>

namespace infra::core::creds {

/// The token in $variable, whatever the scope: development only.
std::unique_ptr<Provider> env_provider(std::string variable);

}  // namespace infra::core::creds
