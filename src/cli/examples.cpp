// The examples of the manual and of `help CMD`: each a command line that
// works as written (given the files it names) and what it does.
#include "cli/manual.hpp"

#include <map>

namespace infra::cli {

const std::vector<std::pair<std::string, std::string>>& examples_of(const std::string& command)
{
    using List = std::vector<std::pair<std::string, std::string>>;
    static const std::map<std::string, List> k = {
        {"", {{"infra-agent init", "create .infra-agent/ here, with state.db and a commented config.yaml"},
              {"infra-agent remediate checkov.json --repo .", "fix a Checkov report's findings as pull requests, in one command"},
              {"infra-agent ingest checkov checkov.json | infra-agent policy eval | infra-agent enqueue",
               "the same steps one by one: normalize, decide, queue"},
              {"infra-agent worker --drain --repo git@github.com:acme/infra.git", "run what is queued, then exit"},
              {"infra-agent serve", "receive webhooks, serve the REST API, fire schedules"}}},
        {"init", {{"infra-agent init", "create .infra-agent/ in the current directory"},
                  {"infra-agent --home /var/lib/infra-agent init", "create a state home for a service"}}},
        {"remediate", {{"infra-agent remediate checkov.json --repo .", "fix each finding, validate it and open one pull request per finding"},
                       {"trivy config -f json . | infra-agent remediate - --repo . --dry-run", "show what would be done, change nothing"},
                       {"infra-agent remediate results.sarif --repo . --format markdown >> \"$GITHUB_STEP_SUMMARY\"",
                        "the outcome as a markdown table, for a CI job's summary"}}},
        {"ingest", {{"infra-agent ingest checkov checkov.json", "one AgentTask per failed check, as JSON Lines"},
                    {"infra-agent ingest --detect report.json", "guess the format from the document"},
                    {"infra-agent ingest github event.json --header X-GitHub-Event:pull_request --header X-Hub-Signature-256:sha256=... --secret-file /run/secrets/github-webhook",
                     "a GitHub webhook delivery, its signature verified"}}},
        {"policy", {{"infra-agent policy eval task.json", "decide one task: exit 0 allowed, 3 denied, 4 waits for approval"},
                    {"infra-agent policy eval --explain --json task.json", "the decision with the rule behind each field"},
                    {"infra-agent policy test ./policies", "run the policy tests beside the policies"},
                    {"infra-agent policy lint ./policies", "check policy files; exit 65 on an error"},
                    {"infra-agent policy digest task.json", "the rules that go into an agent's context"},
                    {"infra-agent policy replay ./proposed", "what a proposed policy directory changes in recorded decisions"}}},
        {"enqueue", {{"infra-agent ingest checkov checkov.json | infra-agent enqueue", "decide and queue every finding"},
                     {"infra-agent enqueue --queue redis://queue.internal:6379 tasks.jsonl", "queue onto a Redis Streams queue"}}},
        {"queue", {{"infra-agent queue ls --state dead", "the dead letters, newest first"},
                   {"infra-agent queue show 01JD", "one task by id prefix, with its decision and result"},
                   {"infra-agent queue retry 01JD", "queue a dead task again with fresh attempts"},
                   {"infra-agent queue purge --older-than 30d", "delete finished tasks older than 30 days"}}},
        {"worker", {{"infra-agent worker --drain --repo git@github.com:acme/infra.git", "run what is queued, then exit"},
                    {"infra-agent worker --concurrency 4 --queue postgres://infra@db/infra", "four tasks at a time from PostgreSQL"},
                    {"infra-agent worker --once --json", "run one task and print its events"}}},
        {"run", {{"infra-agent run --workspace . task.json", "run one task's agent here, without the queue (a CI job)"},
                 {"infra-agent run --workspace . --record run.jsonl task.json", "record the model's exchanges to replay later"}}},
        {"approve", {{"infra-agent approve 01JD --as bob", "approve a parked task for the one group it waits for"},
                     {"infra-agent approve 01JD --as bob --group security --plan 690845cd...",
                      "approve a tier-4 task's saved plan, naming the hash reviewed"}}},
        {"reject", {{"infra-agent reject 01JD --as bob --reason 'change freeze'", "deny a parked task for good"}}},
        {"apply", {{"infra-agent apply 01JD --as carol", "apply the approved saved plan of a tier-4 task; exit 4 while an approval is missing"},
                   {"infra-agent apply 01JD --as carol --json", "the outcome with the approvers and the plan hash"}}},
        {"drift", {{"infra-agent drift envs/*", "plan every root; a drift task for each that drifted"},
                   {"infra-agent drift --detailed-exitcode envs/prod", "exit 2 when there is drift (terraform's convention)"},
                   {"infra-agent drift --format sarif envs/* > drift.sarif", "drift as SARIF 2.1.0, for code scanning"},
                   {"infra-agent drift envs/* | infra-agent enqueue", "queue the reconciliation of every drifted root"}}},
        {"chat", {{"infra-agent chat 'which buckets are not encrypted?'", "ask about this repository"},
                  {"infra-agent chat --change 'enable versioning on the logs bucket'", "ask for a change: a pull request, if policy allows"}}},
        {"serve", {{"infra-agent serve", "listen on 127.0.0.1:8787 (serve.listen)"},
                   {"infra-agent serve --listen 0.0.0.0:8787", "listen on every interface (put TLS in front)"}}},
        {"schedule", {{"infra-agent schedule ls", "the schedules of config.yaml with their next fire time"},
                      {"infra-agent schedule crontab | crontab -", "install them as crontab lines"},
                      {"infra-agent schedule run nightly-drift", "fire one schedule now"}}},
        {"events", {{"infra-agent events --task 01JD", "what happened to one task"},
                    {"infra-agent events --type 'apply.*' --since 24h", "every apply of the last day"},
                    {"infra-agent events -f", "follow new events as they are recorded"}}},
        {"trace", {{"infra-agent trace 01JD", "a task's steps from signal to pull request, as a timed tree"},
                   {"infra-agent trace 01JD --otlp | curl -s -H 'Content-Type: application/json' --data-binary @- http://127.0.0.1:4318/v1/traces",
                    "send the trace to an OpenTelemetry collector"}}},
        {"audit", {{"infra-agent audit verify", "check the audit log's hash chain; exit 1 naming the first bad event"},
                   {"infra-agent audit head > audit.head", "keep the head elsewhere"},
                   {"infra-agent audit verify --head \"$(cat audit.head)\"", "also catch a chain rewritten since"}}},
        {"metrics", {{"infra-agent metrics", "the Prometheus text format, from the state store"}}},
        {"creds", {{"infra-agent creds mint 'git:push:repo=acme/infra,branch=infra-agent/*' --ttl 10m --task 01JD",
                    "a short-lived credential for one branch pattern"},
                   {"infra-agent creds ls --all", "the ledger, expired and revoked credentials too"},
                   {"infra-agent creds revoke --task 01JD", "revoke everything minted for a task"}}},
        {"validate", {{"infra-agent validate envs/prod", "fmt, init, validate, plan and the plan-scope check, in the sandbox"},
                      {"infra-agent validate --detailed-exitcode envs/prod", "exit 2 when the plan has changes"},
                      {"infra-agent validate --format sarif envs/prod > validate.sarif", "failures as SARIF 2.1.0"}}},
        {"pr", {{"infra-agent pr ls", "pull requests, most recently updated first"},
                {"infra-agent pr show 12", "one pull request with its history and diff"},
                {"infra-agent pr open --workspace . task.json", "commit, push and open or update the pull request for a task"}}},
        {"config", {{"infra-agent config list", "every key the file or the environment sets (passwords in URLs as ***)"},
                    {"infra-agent config get queue.url", "one key; exit 1 when unset"}}},
        {"plugins", {{"infra-agent plugins", "external infra-agent-<name> commands and built-in plugins"}}},
        {"version", {{"infra-agent version --json", "the version, schema and library versions"}}},
        {"completion", {{"infra-agent completion bash > /etc/bash_completion.d/infra-agent", "install bash completion"},
                        {"infra-agent completion zsh > \"${fpath[1]}/_infra-agent\"", "install zsh completion"},
                        {"infra-agent completion fish > ~/.config/fish/completions/infra-agent.fish", "install fish completion"}}},
        {"help", {{"infra-agent help policy eval", "the help of a command, with examples and exit codes"},
                  {"infra-agent help --man-dir ./man", "write the manual pages"}}},
    };
    static const List k_none;
    auto it = k.find(command);
    return it == k.end() ? k_none : it->second;
}

}  // namespace infra::cli
