// `infra-agent ingest <source> [FILE]`: turn raw signals into AgentTasks.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/task_output.hpp"
#include "core/change/delivery.hpp"
#include "core/environment.hpp"
#include "core/events/trace.hpp"
#include "core/input.hpp"
#include "core/json_stream.hpp"
#include "core/log.hpp"
#include "core/signals/group.hpp"
#include "core/signals/ingest.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace infra::cli {
namespace {

struct Options {
    std::vector<std::string> args;  // [source] [file]
    bool detect = false;
    bool list = false;
    bool keep_going = false;
    std::vector<std::string> headers;
    std::string headers_file;
    std::string secret;
    std::string secret_file;
    std::string repo;
    std::string org;
    std::string agent;
    std::string environment;
    std::string root;
    std::string message;
    std::string format;
    std::string group_by;
};

int list_sources(Context& ctx)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto* p : ctx.signals().list()) {
        if (ctx.json(Output::value)) out.push_back({{"name", p->name()}, {"summary", p->summary()}});
        else
            ctx.print(std::string(p->name()) + std::string(14 - std::min<std::size_t>(13, p->name().size()), ' ') +
                      std::string(p->summary()) + "\n");
    }
    if (ctx.json(Output::value)) ctx.emit(out);
    return exit_code::ok;
}

core::Status read_headers(const Options& opt, core::signals::IngestOptions& in)
{
    if (!opt.headers_file.empty()) {
        std::ifstream f(opt.headers_file);
        if (!f) return core::fail(core::Errc::unavailable, "cannot read '" + opt.headers_file + "'");
        std::stringstream ss;
        ss << f.rdbuf();
        auto j = core::json_stream::parse_document(ss.str(), opt.headers_file);
        if (!j) return j.error();
        if (!j->is_object())
            return core::fail(core::Errc::invalid_input, "'" + opt.headers_file + "': expected an object of headers");
        for (auto it = j->begin(); it != j->end(); ++it)
            if (it->is_string()) in.headers[core::text::lower(it.key())] = it->get<std::string>();
    }
    for (const auto& h : opt.headers) {
        auto colon = h.find(':');
        if (colon == std::string::npos || colon == 0)
            return core::fail(core::Errc::usage, "--header " + core::text::quote(h) + ": expected 'Name: value'");
        in.headers[core::text::lower(core::text::trim(h.substr(0, colon)))] =
            std::string(core::text::trim(h.substr(colon + 1)));
    }
    return {};
}

// With a state home at hand, the ingest is recorded as the span the tasks'
// traceparent names, so that `trace` starts at the signal even when ingest
// runs in a pipeline of its own; without one, ingest stays a pure filter.
void record_ingest(Context& ctx, const core::events::SpanContext& parent, const core::events::SpanContext& step,
                   std::int64_t started, std::string_view parser, const std::string& name, const TaskOutput& out,
                   const core::Status& st)
{
    const auto& home = ctx.home();
    if (out.emitted() == 0 || (!home.state_is_remote() && !std::filesystem::exists(home.state_location()))) return;
    auto db = core::open_state(ctx.home());
    if (!db) return;
    auto sink = core::events::StateSink::open(ctx.home().state_location());
    if (!sink) return;
    core::events::record_span(**sink, "ingest", "", parent, started, core::events::now_unix_ns(),
                              {{"signal.source", parser},
                               {"signal.name", name},
                               {"signal.tasks", out.emitted()},
                               {"signal.skipped", out.skipped()}},
                              step.span_id, st ? "" : st.error().message);
    (*sink)->flush();
}

// The secret from --secret, --secret-file, or webhooks.<source>.secret_env.
core::Result<std::string> read_secret(const Options& opt, const std::string& source, const core::Config& cfg)
{
    std::string secret = opt.secret;
    if (!opt.secret_file.empty()) {
        std::ifstream f(opt.secret_file);
        if (!f) return core::fail(core::Errc::unavailable, "cannot read secret file '" + opt.secret_file + "'");
        std::getline(f, secret);
    } else if (secret.empty()) {
        if (auto env = cfg.get("webhooks." + source + ".secret_env")) {
            const char* v = std::getenv(env->c_str());
            if (!v || !*v)
                return core::fail(core::Errc::unavailable,
                                  "webhooks." + source + ".secret_env names '" + *env + "', which is not set");
            secret = v;
        }
    }
    core::log::add_secret(secret);
    return secret;
}

int run(const Options& opt, Context& ctx)
{
    if (opt.list) return list_sources(ctx);
    auto cfg = ctx.config();
    if (!cfg) return ctx.fail(cfg.error());

    std::string source;
    std::string file = "-";
    if (opt.detect) {
        if (opt.args.size() > 1) return ctx.fail(core::make_error(core::Errc::usage, "--detect takes only a FILE"));
        if (!opt.args.empty()) file = opt.args[0];
    } else {
        if (opt.args.empty())
            return ctx.fail(core::make_error(core::Errc::usage, "ingest needs a source, or --detect",
                                             "run 'infra-agent ingest --list' for the sources"));
        source = opt.args[0];
        if (opt.args.size() > 1) file = opt.args[1];
    }

    core::signals::IngestOptions in;
    in.keep_going = opt.keep_going;
    in.repository_id = core::change::repository_id(**cfg, opt.repo);
    in.organization_id = !opt.org.empty() ? opt.org : (*cfg)->get_or("repository.organization", "");
    in.agent_slug = opt.agent;
    if (!opt.environment.empty()) {
        auto env = core::canonical_environment(opt.environment, "--environment");
        if (!env) return ctx.fail(env.error());
        in.environment = *env;
    }
    in.path_root = opt.root;
    in.schedules = (*cfg)->get_json("schedules");
    if (auto st = read_headers(opt, in); !st) return ctx.fail(st.error());

    std::unique_ptr<core::ByteSource> src;
    if (source == "schedule" && file != "-" && !std::filesystem::exists(file)) {
        // `ingest schedule NAME`: a tick of the named schedule, now.
        src = core::ByteSource::from_string(nlohmann::json{{"schedule", file}}.dump(), "schedule '" + file + "'");
    } else if (source == "chat" && !opt.message.empty()) {
        src = core::ByteSource::from_string(opt.message, "--message");
    } else {
        auto opened = core::ByteSource::open(file);
        if (!opened) return ctx.fail(opened.error());
        src = std::move(*opened);
    }

    const core::signals::SignalParser* parser = nullptr;
    if (opt.detect) {
        core::signals::DetectInput d{src->peek_prefix(64 * 1024), &in.headers};
        auto found = ctx.signals().detect(d, src->name());
        if (!found) return ctx.fail(found.error());
        parser = *found;
        spdlog::debug("'{}' looks like {}", src->name(), parser->name());
    } else {
        parser = ctx.signals().find(source);
        if (!parser)
            return ctx.fail(core::make_error(core::Errc::usage, "unknown source " + core::text::quote(source),
                                             "run 'infra-agent ingest --list' for the sources"));
    }
    auto secret = read_secret(opt, std::string(parser->name()), **cfg);
    if (!secret) return ctx.fail(secret.error());
    in.secret = *secret;

    bool json = opt.format.empty() ? ctx.json() : opt.format == "json";
    TaskOutput out(ctx, json);
    // The tasks join the sender's trace (a traceparent header of the
    // delivery, else TRACEPARENT of a CI job), else start one; this ingest
    // is their parent span.
    auto sent =
        in.headers.count("traceparent") ? core::events::parse_traceparent(in.headers.at("traceparent")) : std::nullopt;
    core::events::SpanContext root = sent ? *sent : core::events::process_root_context();
    core::events::SpanContext step{root.trace_id, core::events::new_span_id()};
    out.set_traceparent(core::events::to_traceparent(step));
    std::int64_t started = core::events::now_unix_ns();
    // A filter keeps one task per finding unless grouping is asked for.
    auto group_by = opt.group_by.empty() ? core::signals::parse_group_by((*cfg)->get_or("pr.group_by", "finding"))
                                         : core::signals::parse_group_by(opt.group_by, "--group-by");
    if (!group_by) return ctx.fail(group_by.error());
    core::signals::GroupingSink grouped(out, *group_by);
    auto st = core::signals::ingest(*parser, *src, in, grouped);
    record_ingest(ctx, root, step, started, parser->name(), src->name(), out, st);
    int code = exit_code::ok;
    if (!st) code = ctx.fail(st.error());
    if (out.rejected() > 0) {
        spdlog::error("{} record{} of '{}' rejected", out.rejected(), out.rejected() == 1 ? "" : "s", src->name());
        code = std::max(code, exit_code::data);
    }
    if (st && out.emitted() == 0 && out.rejected() == 0) {
        for (const auto& r : out.skip_reasons()) spdlog::info("nothing to do: {}", r);
        if (out.skip_reasons().empty()) spdlog::info("no tasks in '{}'", src->name());
    } else if (st) {
        auto level = ctx.stderr_is_tty() ? spdlog::level::info : spdlog::level::debug;
        spdlog::log(level, "{} task{} from '{}' ({} skipped)", out.emitted(), out.emitted() == 1 ? "" : "s",
                    src->name(), out.skipped());
    }
    return code;
}

}  // namespace

void register_ingest(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("ingest", "Turn a raw signal (webhook, scanner report, alert) into AgentTasks");
    cmd->footer("Sources: github, alertmanager, pagerduty, cloudwatch, checkov, prowler, trivy, tfsec, sarif,\n"
                "chat, api, schedule. Output is JSON Lines when piped or with --json. A document\n"
                "(one report, one delivery) yields all of its tasks or none. Exit 65 for bad input.");
    cmd->add_option("source-and-file", opt->args, "SOURCE [FILE]: the format, and the input (default: stdin)")
        ->expected(0, 2);
    cmd->add_flag("--detect", opt->detect, "guess the format; the only argument is then the FILE");
    cmd->add_flag("--list", opt->list, "list the sources and exit");
    cmd->add_flag("--keep-going", opt->keep_going, "process the rest of a stream after a bad record");
    cmd->add_option("--header", opt->headers, "a delivery header 'Name: value' (repeatable)")->allow_extra_args(false);
    cmd->add_option("--headers-file", opt->headers_file, "delivery headers as a JSON object");
    cmd->add_option("--secret", opt->secret, "webhook secret to verify signatures (prefer --secret-file)");
    cmd->add_option("--secret-file", opt->secret_file, "file whose first line is the webhook secret");
    cmd->add_option("--repo", opt->repo, "repository (owner/name) that a scanner report describes");
    cmd->add_option("--org", opt->org, "organization id (default: the repository's owner)");
    cmd->add_option("--agent", opt->agent, "agent for the tasks (default: builtin for fixes, llm otherwise)");
    cmd->add_option("--environment", opt->environment, "environment of every task, over tags and paths");
    cmd->add_option("--root", opt->root, "directory stripped from absolute paths in reports");
    cmd->add_option("--message", opt->message, "the message, for the chat source");
    cmd->add_option("--group-by", opt->group_by,
                    "one task for the findings of each resource, file, root or rule, or each finding alone\n"
                    "(default: pr.group_by when set, else finding)");
    cmd->add_option("--format", opt->format, "json or table (default: table on a terminal, else JSON Lines)")
        ->check(CLI::IsMember({"json", "table"}));
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
