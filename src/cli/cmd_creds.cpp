// `infra-agent creds mint|verify|revoke|ls`: just-in-time scoped credentials
// and their ledger. Tokens are printed once, by mint, and read by verify
// from stdin or a file, never from the command line (where other users'
// `ps` would see them).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/creds/open.hpp"
#include "core/input.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

namespace infra::cli {
namespace {

using core::creds::wall_ms;

struct MintOptions {
    std::string scope;
    std::string ttl = "15m";
    std::string task;
    std::string trace;
    std::string provider;
    std::string worker;
    std::int64_t lease_token = 0;
};

int mint(const MintOptions& opt, Context& ctx)
{
    auto ttl = core::timeutil::parse_duration(opt.ttl);
    if (!ttl) return ctx.fail(core::make_error(core::Errc::usage, "--ttl: " + ttl.error().message));
    auto h = ctx.open(core::creds::open_broker, opt.provider);
    if (!h) return ctx.fail(h.error());
    core::creds::MintRequest req{opt.scope, std::chrono::duration_cast<std::chrono::seconds>(*ttl), opt.task,
                                 opt.trace};
    req.worker_id = opt.worker;
    req.lease_token = opt.lease_token;
    if (req.trace_id.empty())
        if (const char* tp = std::getenv("TRACEPARENT"); tp && std::strlen(tp) >= 35)
            req.trace_id = std::string(tp + 3, 32);
    auto c = h->broker->mint(req);
    if (!c) return ctx.fail(c.error());
    // One value: the token alone, in a pipe too (TOKEN=$(infra-agent creds mint SCOPE)).
    if (ctx.json(Output::value)) {
        ctx.record("credential", c->to_json(true));
    } else {
        ctx.note((c->reused ? "reused " : "minted ") + c->id + " (" + c->provider + ") for " + c->scope + ", expires " +
                 c->to_json(false)["expiresAt"].get<std::string>());
        ctx.print(c->secret + "\n");
    }
    return exit_code::ok;
}

struct VerifyOptions {
    std::string token_file = "-";
    std::string scope;
    std::string provider;
};

int verify(const VerifyOptions& opt, Context& ctx)
{
    auto src = core::ByteSource::open(opt.token_file);
    if (!src) return ctx.fail(src.error());
    auto text = (*src)->read_all(64 * 1024);
    if (!text) return ctx.fail(text.error());
    std::string token(core::text::trim(*text));
    // `creds mint ... | creds verify` passes mint's JSON: take its token.
    if (!token.empty() && token.front() == '{') {
        auto j = nlohmann::json::parse(token, nullptr, false);
        if (j.is_object() && j.contains("token") && j["token"].is_string()) token = j["token"].get<std::string>();
    }
    if (token.empty())
        return ctx.fail(core::make_error(core::Errc::usage, "no token on " + (*src)->name(),
                                         "pipe the token in: infra-agent creds verify < token"));
    auto h = ctx.open(core::creds::open_broker, opt.provider);
    if (!h) return ctx.fail(h.error());
    auto e = h->broker->verify(token, opt.scope.empty() ? std::nullopt : std::optional<std::string>(opt.scope));
    if (!e) return ctx.fail(e.error());
    nlohmann::json j = e->to_json(wall_ms());
    j["valid"] = true;
    if (ctx.json()) ctx.record("credential", std::move(j));
    else ctx.print("valid: " + e->id + " " + e->scope + ", expires " + j["expiresAt"].get<std::string>() + "\n");
    return exit_code::ok;
}

struct RevokeOptions {
    std::vector<std::string> ids;
    std::string scope_prefix;
    std::string task;
};

int revoke(const RevokeOptions& opt, Context& ctx)
{
    if (opt.ids.empty() == (opt.scope_prefix.empty() && opt.task.empty()))
        return ctx.fail(
            core::make_error(core::Errc::usage, "name credential ids, or --scope-prefix and/or --task, not both"));
    auto h = core::creds::open_ledger(ctx.home());
    if (!h) return ctx.fail(h.error());
    int total = 0;
    for (const auto& id : opt.ids) {
        auto n = h->ledger->revoke(id, wall_ms());
        if (!n) return ctx.fail(n.error());
        total += *n;
    }
    if (opt.ids.empty()) {
        auto n = h->ledger->revoke_matching(opt.scope_prefix, opt.task, wall_ms());
        if (!n) return ctx.fail(n.error());
        total = *n;
    }
    if (ctx.json()) ctx.record("revoke", {{"revoked", total}});
    else ctx.note("revoked " + std::to_string(total) + " credential" + (total == 1 ? "" : "s"));
    return exit_code::ok;
}

int ls(const core::creds::LedgerFilter& f, Context& ctx)
{
    auto h = core::creds::open_ledger(ctx.home());
    if (!h) return ctx.fail(h.error());
    std::int64_t now = wall_ms();
    auto rows = h->ledger->list(f, now);
    if (!rows) return ctx.fail(rows.error());
    if (ctx.json()) {
        for (const auto& e : *rows) ctx.record("credential", e.to_json(now));
        return exit_code::ok;
    }
    char line[768];
    std::snprintf(line, sizeof line, "%-26s  %-10s  %-8s  %-20s  %-26s  %s\n", "ID", "PROVIDER", "STATE", "EXPIRES",
                  "TASK", "SCOPE");
    ctx.print(line);
    for (const auto& e : *rows) {
        auto j = e.to_json(now);
        std::snprintf(line, sizeof line, "%-26s  %-10s  %-8s  %-20s  %-26s  %s\n", e.id.c_str(), e.provider.c_str(),
                      j["state"].get<std::string>().c_str(), j["expiresAt"].get<std::string>().c_str(),
                      e.task_id.empty() ? "-" : e.task_id.c_str(), e.scope.substr(0, 300).c_str());
        ctx.print(line);
    }
    return exit_code::ok;
}

}  // namespace

void register_creds(CLI::App& app, Context& ctx)
{
    auto* creds = app.add_subcommand("creds", "Just-in-time scoped credentials and their ledger");
    creds->footer("Scopes read KIND:ACTION[:KEY=VALUE,...], e.g. git:push:repo=acme/infra,branch=infra-agent/*.\n"
                  "The ledger keeps each credential's id, task, trace, scope, lifetime, provider and SHA-256,\n"
                  "never the credential itself.");

    auto mo = std::make_shared<MintOptions>();
    auto* m = creds->add_subcommand("mint",
                                    "Mint a credential for a scope (or reuse a live one for the same scope and task)");
    m->add_option("scope", mo->scope, "what the credential may do")->required();
    m->add_option("--ttl", mo->ttl, "lifetime (default 15m; providers cap it)");
    m->add_option("--task", mo->task, "the task it is for");
    m->add_option("--trace", mo->trace, "trace id (default: from TRACEPARENT)");
    m->add_option("--provider", mo->provider,
                  "local, github-app, aws-sts, env or broker (default: creds.provider, else local)");
    m->add_option("--worker", mo->worker,
                  "the worker id that holds the task's lease (the broker provider sends it to serve)");
    m->add_option("--lease-token", mo->lease_token, "the fencing token the worker claimed the task with");
    m->footer("Prints the token alone on stdout, in a pipe too (with --json, the ledger entry with the token).");
    ctx.on_run(m, [mo, &ctx] { return mint(*mo, ctx); });

    auto vo = std::make_shared<VerifyOptions>();
    auto* v = creds->add_subcommand("verify", "Check a local token: signature, expiry, revocation and scope");
    v->add_option("--token-file", vo->token_file, "file holding the token, or - for stdin (default)");
    v->add_option("--scope", vo->scope, "also require the token to cover this scope");
    v->add_option("--provider", vo->provider, "provider that minted it (default: creds.provider, else local)");
    v->footer("Exit 0 when valid, 3 when not. The token is read from stdin, never from the command line.");
    ctx.on_run(v, [vo, &ctx] { return verify(*vo, ctx); });

    auto ro = std::make_shared<RevokeOptions>();
    auto* r = creds->add_subcommand("revoke", "Revoke credentials by id, scope prefix or task");
    r->add_option("id", ro->ids, "credential ids (unique prefixes are enough)");
    r->add_option("--scope-prefix", ro->scope_prefix, "revoke every live credential whose scope starts with this");
    r->add_option("--task", ro->task, "revoke every live credential of this task");
    ctx.on_run(r, [ro, &ctx] { return revoke(*ro, ctx); });

    auto lo = std::make_shared<core::creds::LedgerFilter>();
    auto* l = creds->add_subcommand("ls", "List the ledger (live credentials unless --all)");
    l->add_option("--task", lo->task_id, "only this task's");
    l->add_option("--provider", lo->provider, "only this provider's");
    l->add_flag("--all", lo->include_inactive, "include expired and revoked ones");
    l->add_option("--limit", lo->limit, "at most this many (default 100)");
    ctx.on_run(l, [lo, &ctx] { return ls(*lo, ctx); });
}

}  // namespace infra::cli
