// `infra-agent providers fetch`: fill the provider cache ahead of time, where
// there is network (a CI step, an operator's laptop), for workers whose
// sandboxed validation has none.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/change/open_delivery.hpp"
#include "core/change/providers.hpp"
#include "core/text.hpp"

#include <filesystem>

namespace infra::cli {
namespace {

struct FetchOptions {
    std::vector<std::string> dirs;
};

int fetch(const FetchOptions& opt, Context& ctx)
{
    auto vopt = ctx.open(core::change::validation_options, nullptr);
    if (!vopt) return ctx.fail(vopt.error());
    if (!core::change::terraform_on_path())
        return ctx.fail(core::make_error(core::Errc::unavailable, "terraform is not on PATH",
                                         "install terraform (https://developer.hashicorp.com/terraform/install)"));
    auto& cache = *vopt->providers;
    if (!cache.options().operator_mirror.empty())
        return ctx.fail(core::make_error(core::Errc::usage,
                                         "validation.provider_mirror is set: validation installs from " +
                                             core::text::quote(cache.options().operator_mirror.string()) + " alone",
                                         "fill that mirror with terraform providers mirror, or unset the key"));
    int worst = exit_code::ok;
    for (const auto& d : opt.dirs.empty() ? std::vector<std::string>{"."} : opt.dirs) {
        std::error_code ec;
        auto dir = std::filesystem::absolute(d, ec).lexically_normal();
        if (!std::filesystem::is_directory(dir, ec)) {
            worst = ctx.fail(core::make_error(core::Errc::usage, "no directory " + core::text::quote(d)));
            continue;
        }
        auto p = cache.prepare(dir);
        nlohmann::json out = {{"root", d}, {"ok", p.has_value()}};
        if (p) out["cache"] = p->mirror.string();
        else out["error"] = p.error().message;
        if (ctx.json(Output::value)) ctx.record("providers", std::move(out));
        else if (p) ctx.print("ok    " + d + "  (cache " + p->mirror.string() + ")\n");
        if (!p) worst = ctx.fail(p.error());
    }
    return worst;
}

}  // namespace

void register_providers(CLI::App& app, Context& ctx)
{
    auto* group = app.add_subcommand("providers", "The provider cache that sandboxed validation installs from");
    group->require_subcommand(1);
    auto opt = std::make_shared<FetchOptions>();
    auto* f = group->add_subcommand("fetch", "Install the providers and modules of Terraform roots into the cache, as "
                                             "terraform init would, where there is network");
    f->add_option("dirs", opt->dirs, "Terraform roots (default: the current directory)");
    ctx.on_run(f, [opt, &ctx] { return fetch(*opt, ctx); });
}

}  // namespace infra::cli
