// `infra-agent version`: the version and what it was built with.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/store/migrations.hpp"

#include <curl/curl.h>
#include <git2.h>
#include <openssl/opensslv.h>
#include <sqlite3.h>

namespace infra::cli {
namespace {

int run(Context& ctx)
{
    int major = 0, minor = 0, rev = 0;
    git_libgit2_version(&major, &minor, &rev);
    std::string git = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(rev);
    int schema = core::store::migrations().back().version;
    if (ctx.json_output()) {
        ctx.emit({{"formatVersion", 1},
                  {"version", INFRA_AGENT_VERSION},
                  {"schemaVersion", schema},
                  {"libraries",
                   {{"sqlite", sqlite3_libversion()},
                    {"libgit2", git},
                    {"curl", curl_version_info(CURLVERSION_NOW)->version},
                    {"openssl", OPENSSL_VERSION_TEXT}}}});
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
