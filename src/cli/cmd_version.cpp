// `infra-agent version`: the version and what it was built with.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/store/migrations.hpp"

#include <openssl/opensslv.h>
#include <sqlite3.h>

namespace infra::cli {
namespace {

int run(Context& ctx)
{
    int schema = core::store::migrations().back().version;
    if (ctx.json(Output::value)) {
        ctx.record("version", {{"version", INFRA_AGENT_VERSION},
                               {"schemaVersion", schema},
                               {"libraries", {{"sqlite", sqlite3_libversion()}, {"openssl", OPENSSL_VERSION_TEXT}}}});
    } else {
        ctx.print("infra-agent " INFRA_AGENT_VERSION "\n");
    }
    return exit_code::ok;
}

}  // namespace

void register_version(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand("version", "Print the version (--json adds schema and library versions)");
    ctx.on_run(cmd, [&ctx] { return run(ctx); });
}

}  // namespace infra::cli
