// `infra-agent serve`: webhooks, the REST API, the embedded scheduler,
// /metrics and health checks on one port; optionally in-process workers.
// SIGTERM or SIGINT stops accepting, answers what is in flight, lets the
// workers finish or release their tasks, and exits 0.
#include "cli/commands.hpp"
#include "cli/delivery_flags.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/serve/service.hpp"
#include "core/timeutil.hpp"

#include <cstdio>

namespace infra::cli {
namespace {

struct Options {
    std::string listen;
    int workers = 0;
    std::string max_body;
    std::string queue;
    std::string sandbox;
    std::string grace = "30s";
    DeliveryFlags delivery;
    PolicyFlags policies;
};

int serve(const Options& opt, Context& ctx)
{
    core::serve::ServiceOptions so;
    so.flags = {opt.listen, opt.max_body};
    so.workers = opt.workers;
    so.queue = opt.queue;
    so.sandbox = opt.sandbox;
    so.delivery = opt.delivery;
    so.policies = opt.policies;
    auto grace = core::timeutil::parse_duration(opt.grace);
    if (!grace) return ctx.fail(core::make_error(core::Errc::usage, "--grace: " + grace.error().message));
    so.grace = *grace;
    so.listening = [&ctx](const std::string& url) {
        if (ctx.json()) ctx.record("listening", {{"url", url}});
        else ctx.print("listening on " + url + "\n");
        std::fflush(stdout);
    };
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    if (auto st = core::serve::run(*site, so); !st) return ctx.fail(st.error());
    return exit_code::ok;
}

}  // namespace

void register_serve(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("serve", "Serve webhooks, the REST API, schedules, /metrics and health checks");
    cmd->add_option("--listen", opt->listen,
                    "HOST:PORT to listen on (default: serve.listen, else 127.0.0.1:8787; port 0 picks one)");
    cmd->add_option("--workers", opt->workers,
                    "run this many tasks at once in this process (default 0: run workers apart)")
        ->check(CLI::Range(0, 256));
    cmd->add_option("--max-body", opt->max_body,
                    "largest request body, e.g. 5MiB (default: serve.max_body, else 5MiB)");
    cmd->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    cmd->add_option("--sandbox", opt->sandbox, "for --workers: bwrap (default) or none (development)");
    cmd->add_option("--grace", opt->grace,
                    "for --workers: time to finish running tasks after a stop signal (default 30s)");
    add_delivery_flags(cmd, opt->delivery);
    opt->policies.add_to(cmd);
    cmd->footer(
        "Endpoints:\n"
        "  POST /hooks/github        X-Hub-Signature-256 checked with webhooks.github.secret_env; replayed\n"
        "                            X-GitHub-Delivery ids answer 200 with the first delivery's tasks\n"
        "  POST /hooks/alertmanager  bearer token = webhooks.alertmanager.secret_env\n"
        "  POST /hooks/pagerduty     X-PagerDuty-Signature checked with webhooks.pagerduty.secret_env\n"
        "  POST /hooks/sns           basic-auth password or bearer token = webhooks.sns.secret_env\n"
        "  POST /hooks/gitlab        X-Gitlab-Token = webhooks.gitlab.secret_env (merge request reviews)\n"
        "  POST /v1/tasks, GET /v1/tasks/ID, GET /v1/tasks/ID/events, POST /v1/tasks/ID/approve|reject\n"
        "                            bearer tokens from serve.api_tokens_file (lines: NAME TOKEN, or\n"
        "                            NAME sha256:HEX); the token's name is who asks and who approves,\n"
        "                            for the groups approvals.groups.<group>.members lists it in\n"
        "  POST /v1/credentials     the broker of distributed workers: tokens from serve.worker_tokens_file;\n"
        "                            mints with creds.provider only a leased task's own scopes (fetch of its\n"
        "                            repository; from tier 2 push of its bot branch, its pull request, its CI),\n"
        "                            for the worker holding the lease (workerId, leaseToken), until the lease ends;\n"
        "                            a token NAME mints for worker ids NAME and NAME/... only\n"
        "  GET /v1/credentials/identity  the worker token's NAME (a broker-provider worker's id is NAME/host:pid)\n"
        "  GET /metrics (Prometheus), /healthz, /readyz\n"
        "A hook without a secret is off (403). Accepted deliveries answer 202 with the task ids.\n"
        "With forge.kind github or gitlab, reviewers approve infra-agent's pull requests where they are: an\n"
        "approving review (a merge request approval) or an `/infra-agent approve` comment counts for a group\n"
        "of the task when its author is a member (approvals.groups.<group>.members, or the forge team in\n"
        "github_team / gitlab_group, asked of the forge's API as the approval arrives); `/infra-agent apply`\n"
        "on a tier-4 pull request runs the gated apply under the same check. The requester never approves;\n"
        "a push to the branch after an approval dismisses it. Refusals are answered with a comment.\n"
        "schedules: in config fire on their cron expressions. Notifications go to the Slack-compatible\n"
        "incoming webhook in $INFRA_AGENT_SLACK_WEBHOOK_URL (or the variable notify.slack_webhook_url_env names).\n"
        "Events that workers send through the queue (worker --events queue) are moved into the state db.\n"
        "SIGTERM or SIGINT stops accepting and lets running tasks finish within --grace; exit 0.");
    ctx.on_run(cmd, [opt, &ctx] { return serve(*opt, ctx); });
}

}  // namespace infra::cli
