#include "core/home.hpp"

#include "core/store/migrations.hpp"

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

namespace infra::core {

bool Home::state_is_remote() const
{
    return store::is_postgres_url(state_url);
}

namespace fs = std::filesystem;

bool Home::exists() const
{
    std::error_code ec;
    return fs::is_directory(dir, ec);
}

Home resolve_home(const std::optional<std::string>& flag, const fs::path& start)
{
    if (flag && !flag->empty()) return {fs::absolute(*flag), "--home"};
    if (const char* env = std::getenv("INFRA_AGENT_HOME"); env && *env) return {fs::absolute(env), "INFRA_AGENT_HOME"};
    std::error_code ec;
    for (fs::path p = fs::absolute(start);; p = p.parent_path()) {
        fs::path candidate = p / ".infra-agent";
        if (fs::is_directory(candidate, ec)) return {candidate, "discovered"};
        if (p == p.root_path() || p.parent_path() == p) break;
    }
    fs::path base;
    if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) base = xdg;
    else if (const char* home = std::getenv("HOME"); home && *home) base = fs::path(home) / ".local" / "state";
    else base = fs::temp_directory_path();
    return {base / "infra-agent", "default"};
}

std::string default_config_text()
{
    return R"yaml(# infra-agent configuration.
#
# Every key can be overridden by an environment variable INFRA_AGENT_<KEY>
# (upper case, '.' -> '_'), e.g. INFRA_AGENT_QUEUE_URL. Secrets are never
# written here: name the environment variable or file that holds them.

# The repository that scanner reports describe, as owner/name. Tasks from
# webhooks take it from the payload instead.
# repository:
#   id: acme/infrastructure

# Policy directories overlaid on the installed bundle (default: <home>/policies).
# policy:
#   dirs: [policies]

# The state store (decisions, audit log, credential ledger, pull requests):
# sqlite://PATH (default: this home's state.db) or postgres://...
# state:
#   url: postgres://infra@db.internal:5432/infra_state

# The queue: sqlite://PATH, postgres://... or redis://... (default: the state
# store: this home's state.db, or the PostgreSQL queue of a PostgreSQL one).
# queue:
#   url: sqlite://state.db

# Model endpoint for the llm agent (the builtin agent needs none).
# llm:
#   provider: openai
#   base_url: https://api.openai.com/v1
#   model: gpt-4o
#   api_key_env: OPENAI_API_KEY

# The repository each task's worktree is cloned from, and bot commits.
# git:
#   repo: https://github.com/acme/infrastructure.git   # or a path; --repo
#   repository: acme/infrastructure   # tasks for other repositories are refused
#   base: main                      # default: the remote's default branch
#   author_name: infra-agent
#   author_email: infra-agent@users.noreply.local
#   protected_branches: [main, master, production, prod, "release/*"]
#   ssh_key: ~/.ssh/infra-agent     # for ssh remotes (default: the ssh-agent)
#   ssh_known_hosts: /etc/infra-agent/known_hosts   # default: ~/.ssh/known_hosts

# Where pull requests go: local (recorded in state.db) or github.
# forge:
#   kind: local
#   base_url: https://api.github.com   # GitHub Enterprise: https://HOST/api/v3
#   token_env: GITHUB_TOKEN            # unless creds.provider is github-app
#   labels: [infra-agent]

# Credentials minted per task: local, github-app, aws-sts or env.
# creds:
#   provider: local
#   github_app:
#     app_id: "12345"
#     installation_id: "67890"
#     private_key_file: /etc/infra-agent/github-app.pem
#   aws_sts:
#     endpoint: https://sts.amazonaws.com/
#     region: us-east-1
#   env:
#     token_env: INFRA_AGENT_TOKEN     # development only

# Checks a change must pass before it is proposed (default, when terraform
# is on PATH: fmt -check, init -backend=false, validate, plan and the
# plan-scope check). Each step runs in the sandbox; {dir} is the root.
# validation:
#   step_timeout: 5m
#   steps:
#     - terraform-fmt            # built-in: terraform-fmt, -init, -validate, -plan
#     - name: tflint
#       run: [tflint, --chdir, "{dir}"]

# Who may approve for each approval group that policy's requiredApprovals
# names. Only a listed member approves for a group, a group that is not
# listed here cannot be approved by anyone, one person approves one group of
# a task at most, and whoever asked for a task cannot approve it. Names are
# compared without case and surrounding spaces, whether they come from
# `approve --as`, an API token (serve.api_tokens_file) or a forge login.
# approvals:
#   groups:
#     platform-oncall:
#       members: [bob, carol]
#     security:
#       members: [dana]

# Webhook secrets, by the environment variable that holds them.
# webhooks:
#   github:
#     secret_env: GITHUB_WEBHOOK_SECRET
#   pagerduty:
#     secret_env: PAGERDUTY_WEBHOOK_SECRET

# Named schedules: `infra-agent ingest schedule NAME` turns one into a task.
# schedules:
#   - name: nightly-drift
#     cron: "0 3 * * *"
#     timezone: UTC
#     signal:
#       type: drift-detection
#       context: {repositoryId: acme/infrastructure, priority: low}

# Logging: text or json, and the level (debug, info, warn, error).
# log:
#   format: text
#   level: info

# Spans to an OpenTelemetry collector (OTLP/HTTP); OTEL_EXPORTER_OTLP_ENDPOINT
# and OTEL_EXPORTER_OTLP_HEADERS are honoured too.
# otlp:
#   endpoint: http://127.0.0.1:4318
)yaml";
}

Result<InitReport> init_home(const fs::path& dir, const std::string& state_location)
{
    InitReport r;
    r.dir = fs::absolute(dir);
    std::error_code ec;
    if (fs::exists(r.dir, ec) && !fs::is_directory(r.dir, ec))
        return fail(Errc::conflict, "cannot create '" + r.dir.string() + "': a file is in the way");
    r.created = !fs::exists(r.dir, ec);
    fs::create_directories(r.dir / "policies", ec);
    if (ec) return fail(Errc::unavailable, "cannot create '" + r.dir.string() + "': " + ec.message());
    ::chmod(r.dir.c_str(), 0700);  // the home holds the state db and, later, signing keys

    // The home holds state, keys and worktrees: never something to commit.
    if (fs::path ignore = r.dir / ".gitignore"; !fs::exists(ignore, ec)) {
        std::ofstream out(ignore);
        out << "# infra-agent's state: not for version control.\n*\n";
    }

    fs::path config = r.dir / "config.yaml";
    if (!fs::exists(config, ec)) {
        fs::path tmp = r.dir / ".config.yaml.tmp";
        {
            std::ofstream out(tmp);
            out << default_config_text();
            if (!out) return fail(Errc::unavailable, "cannot write '" + tmp.string() + "'");
        }
        fs::rename(tmp, config, ec);
        if (ec) return fail(Errc::unavailable, "cannot write '" + config.string() + "': " + ec.message());
        r.wrote_config = true;
    }

    auto db = store::Db::open(state_location.empty() ? (r.dir / "state.db").string() : state_location, true);
    if (!db) return db.error();
    if (auto st = store::migrate(**db); !st) return st.error();
    auto v = store::schema_version(**db);
    if (!v) return v.error();
    r.schema_version = *v;
    return r;
}

}  // namespace infra::core
