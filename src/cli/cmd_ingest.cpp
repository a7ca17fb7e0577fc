// `infra-agent ingest <source> [FILE]`: turn raw signals into AgentTasks.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/task_output.hpp"
#include "core/environment.hpp"
#include "core/json_stream.hpp"
#include "core/signals/request.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

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
    for (const auto* p : ctx.signals().list()) {
        if (ctx.json(Output::value)) ctx.record("source", {{"name", p->name()}, {"summary", p->summary()}});
        else
            ctx.print(std::string(p->name()) + std::string(14 - std::min<std::size_t>(13, p->name().size()), ' ') +
                      std::string(p->summary()) + "\n");
    }
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

int run(const Options& opt, Context& ctx)
{
    if (opt.list) return list_sources(ctx);
    core::signals::Request r;
    if (opt.detect) {
        if (opt.args.size() > 1) return ctx.fail(core::make_error(core::Errc::usage, "--detect takes only a FILE"));
        if (!opt.args.empty()) r.file = opt.args[0];
    } else {
        if (opt.args.empty())
            return ctx.fail(core::make_error(core::Errc::usage, "ingest needs a source, or --detect",
                                             "run 'infra-agent ingest --list' for the sources"));
        r.source = opt.args[0];
        if (opt.args.size() > 1) r.file = opt.args[1];
    }
    r.message = opt.message;
    r.secret = opt.secret;
    r.secret_file = opt.secret_file;
    r.repository = opt.repo;
    r.group_by = opt.group_by;
    core::signals::IngestOptions& in = r.options;
    in.keep_going = opt.keep_going;
    in.organization_id = opt.org;
    in.agent_slug = opt.agent;
    if (!opt.environment.empty()) {
        auto env = core::canonical_environment(opt.environment, "--environment");
        if (!env) return ctx.fail(env.error());
        in.environment = *env;
    }
    in.path_root = opt.root;
    if (auto st = read_headers(opt, in); !st) return ctx.fail(st.error());
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());

    TaskOutput out(ctx, opt.format.empty() ? ctx.json() : opt.format == "json");
    auto read = core::signals::read(*site, std::move(r), out);
    if (!read) return ctx.fail(read.error());
    int code = exit_code::ok;
    if (!read->status) code = ctx.fail(read->status.error());
    if (read->rejected > 0) {
        spdlog::error("{} record{} of '{}' rejected", read->rejected, read->rejected == 1 ? "" : "s", read->input);
        code = std::max(code, exit_code::data);
    }
    if (read->status && read->tasks == 0 && read->rejected == 0) {
        for (const auto& reason : out.skip_reasons()) spdlog::info("nothing to do: {}", reason);
        if (out.skip_reasons().empty()) spdlog::info("no tasks in '{}'", read->input);
    } else if (read->status) {
        auto level = ctx.stderr_is_tty() ? spdlog::level::info : spdlog::level::debug;
        spdlog::log(level, "{} task{} from '{}' ({} skipped)", read->tasks, read->tasks == 1 ? "" : "s", read->input,
                    read->skipped);
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
