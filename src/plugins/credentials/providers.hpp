#pragma once
// Credential providers: local (signed tokens for the tool's own gates),
// github-app, aws-sts and broker; env (a token from the environment, for
// development) is core's (core/creds/env.hpp), registered here by name.

#include "core/config.hpp"
#include "core/creds/broker.hpp"
#include "core/home.hpp"

#include <filesystem>

namespace infra::plugins::credentials {

/// Local tokens are HS256 JSON Web Tokens signed with a 256-bit key kept in
/// <home>/keys/local-creds.key (mode 0600, created on first use):
/// {"iss":"infra-agent","jti":ID,"sub":TASK,"scope":SCOPE,"iat":..,"exp":..}.
std::unique_ptr<core::creds::Provider> make_local(std::string key);

/// Reads the local signing key, creating it (0600, in a 0700 directory) when
/// missing; refuses a key file that others can read.
core::Result<std::string> load_or_create_key(const std::filesystem::path& file);

/// AssumeRole through AWS STS (creds.aws_sts.endpoint, .region,
/// .source_identity), with base credentials from AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
std::unique_ptr<core::creds::Provider> make_aws_sts(const core::Config& config);

/// Installation tokens of a GitHub App (creds.github_app.app_id,
/// .installation_id, .private_key_file, .base_url).
core::Result<std::unique_ptr<core::creds::Provider>> make_github_app(const core::Config& config);

/// The broker API of `serve` (broker.url), with the worker token in
/// $broker.token_env (default INFRA_AGENT_WORKER_TOKEN): for distributed
/// workers, which hold no signing key or credential of their own.
core::Result<std::unique_ptr<core::creds::Provider>> make_remote(const core::Config& config);

/// Adds every built-in provider to the registry.
void register_providers(core::creds::Registry& r);

}  // namespace infra::plugins::credentials
