// The registry's names for the built-in credential providers.
#include "core/creds/env.hpp"
#include "plugins/credentials/providers.hpp"

namespace infra::plugins::credentials {

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
              return core::creds::env_provider(config.get_or("creds.env.token_env", "INFRA_AGENT_TOKEN"));
          });
    r.add("broker", [](const core::Config& config, const core::Home&) { return make_remote(config); });
}

}  // namespace infra::plugins::credentials
