// `infra-agent audit verify|export|head`: the tamper-evident audit log.
// verify walks the SHA-256 chain and names the first event that was
// changed, deleted, inserted or reordered (exit 1); export writes the events
// with their links as JSON Lines; head prints the newest link, to be kept
// somewhere the state db's writers cannot reach and checked later with
// `audit verify --head`.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/events/audit.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

int verify(const std::string& expected, Context& ctx)
{
    std::optional<core::events::audit::Head> want;
    if (!expected.empty()) {
        want = core::events::audit::parse_head(expected);
        if (!want)
            return ctx.fail(
                core::make_error(core::Errc::usage, "--head: expected SEQ:SHA256 as 'audit head' prints it, got " +
                                                        core::text::quote(expected)));
    }
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    auto report = core::events::audit::verify(**db, want);
    if (!report) return ctx.fail(report.error());
    nlohmann::json out = {{"ok", !report->problem}, {"events", report->events}};
    if (report->head) out["head"] = core::events::audit::to_string(*report->head);
    if (report->problem)
        out["problem"] = {
            {"seq", report->problem->seq}, {"kind", report->problem->kind}, {"message", report->problem->message}};
    if (ctx.json()) ctx.record("verify", std::move(out));
    else if (!report->problem)
        ctx.print("audit log intact: " + std::to_string(report->events) + " events" +
                  (report->head ? ", head " + core::events::audit::to_string(*report->head) : std::string()) + "\n");
    if (report->problem) {
        spdlog::error("audit log broken at event {} ({}): {}", report->problem->seq, report->problem->kind,
                      report->problem->message);
        return exit_code::failure;
    }
    return exit_code::ok;
}

int export_log(std::int64_t from, Context& ctx)
{
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    auto st = core::events::audit::scan(**db, from, [&](const core::events::audit::Record& r) -> core::Status {
        ctx.record("audit", core::events::audit::to_json(r));
        return {};
    });
    if (!st) return ctx.fail(st.error());
    return exit_code::ok;
}

int head(Context& ctx)
{
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    auto h = core::events::audit::head(**db);
    if (!h) return ctx.fail(h.error());
    if (!*h) return ctx.fail(core::make_error(core::Errc::not_found, "the audit log is empty"));
    if (ctx.json(Output::value))
        ctx.record("audit-head",
                   {{"seq", (*h)->seq}, {"hash", (*h)->hash}, {"head", core::events::audit::to_string(**h)}});
    else ctx.print(core::events::audit::to_string(**h) + "\n");
    return exit_code::ok;
}

}  // namespace

void register_audit(CLI::App& app, Context& ctx)
{
    auto* cmd = app.add_subcommand("audit", "Verify and export the tamper-evident audit log");
    cmd->require_subcommand(1);
    auto expected = std::make_shared<std::string>();
    auto* v =
        cmd->add_subcommand("verify", "Check the audit log's SHA-256 chain; name the first event that does not hold");
    v->add_option("--head", *expected,
                  "a head printed earlier by 'audit head' (SEQ:SHA256) that must still be in the chain");
    v->footer("Exit 0 when the chain holds; 1 when an event was changed, deleted, inserted or reordered,\n"
              "with the first such event named. Anyone who can write the state db can also rewrite the\n"
              "whole chain: keep 'audit head' output elsewhere (a ticket, a log store) and pass it to --head.");
    ctx.on_run(v, [expected, &ctx] { return verify(*expected, ctx); });
    auto from = std::make_shared<std::int64_t>(1);
    auto* e = cmd->add_subcommand("export",
                                  "Write the audit log as JSON Lines, each event with its hash and the previous one's");
    e->add_option("--from", *from, "start at this sequence number");
    ctx.on_run(e, [from, &ctx] { return export_log(*from, ctx); });
    auto* h = cmd->add_subcommand("head", "Print the newest link of the chain (SEQ:SHA256), to keep elsewhere");
    ctx.on_run(h, [&ctx] { return head(ctx); });
}

}  // namespace infra::cli
