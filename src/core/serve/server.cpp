#include "core/serve/server.hpp"
#include "core/change/apply.hpp"
#include "core/creds/binding.hpp"
#include "core/events/query.hpp"
#include "core/serve/http.hpp"
#include "core/serve/state_metrics.hpp"

#include "core/approval.hpp"
#include "core/crypto.hpp"
#include "core/intake.hpp"
#include "core/json_access.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <future>
#include <set>
#include <thread>

namespace infra::core::serve {
namespace {

using json = nlohmann::json;

constexpr std::size_t k_max_batch = 512;

/// The header that names a delivery, per webhook source, for replay detection.
const char* delivery_header(const std::string& source)
{
    if (source == "github") return "x-github-delivery";
    if (source == "sns") return "x-amz-sns-message-id";
    if (source == "gitlab") return "x-gitlab-event-uuid";
    if (source == "pagerduty") return "x-webhook-id";
    return nullptr;
}

int status_for(const Error& e)
{
    switch (e.code) {
    case Errc::invalid_input:
        return 400;
    case Errc::usage:
        return 400;
    case Errc::unauthenticated:
        return 401;
    case Errc::denied:
        return 403;
    case Errc::not_found:
        return 404;
    case Errc::conflict:
        return 409;
    case Errc::pending:
        return 202;
    default:
        return 503;
    }
}

void reply(http::Response& res, int status, const json& body)
{
    res.set_status(status);
    res.set_content(body.dump() + "\n", "application/json");
}

void reply_error(http::Response& res, const Error& e)
{
    json body = {{"error", e.message}};
    if (!e.hint.empty()) body["hint"] = e.hint;
    reply(res, status_for(e), body);
}

json admissions_json(const std::vector<intake::Admitted>& all)
{
    json out = json::array();
    for (const auto& a : all) {
        json j = {{"id", a.id}, {"state", a.state}, {"duplicate", a.duplicate}};
        if (!a.reason.empty()) j["reason"] = a.reason;
        if (!a.approvals.empty()) j["requiredApprovals"] = a.approvals;
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace

Result<std::vector<Token>> load_tokens(const std::string& path)
{
    std::ifstream in(path);
    if (!in) return fail(Errc::unavailable, "cannot read API tokens file '" + path + "'");
    std::vector<Token> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        auto t = text::trim(line);
        if (t.empty() || t.front() == '#') continue;
        auto sp = t.find_first_of(" \t");
        if (sp == std::string_view::npos)
            return fail(Errc::invalid_input,
                        path + ":" + std::to_string(n) + ": expected NAME TOKEN or NAME sha256:HEX");
        std::string name(t.substr(0, sp));
        std::string secret(text::trim(t.substr(sp)));
        if (secret.rfind("sha256:", 0) == 0) {
            std::string hex = text::lower(secret.substr(7));
            if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
                return fail(Errc::invalid_input, path + ":" + std::to_string(n) + ": sha256: needs 64 hex digits");
            out.push_back({name, hex});
        } else {
            if (secret.size() < 16)
                return fail(Errc::invalid_input,
                            path + ":" + std::to_string(n) + ": token of " + name + " is shorter than 16 characters");
            log::add_secret(secret);
            out.push_back({name, crypto::sha256_hex(secret)});
        }
    }
    return out;
}

class Server::Impl {
public:
    Impl(Options o, Deps d) : opt(std::move(o)), deps(d)
    {
        metrics.describe("infra_agent_http_requests_total", "counter", "HTTP requests by route and status code.");
        metrics.describe("infra_agent_http_request_duration_seconds", "histogram",
                         "Time to answer an HTTP request, by route.");
        metrics.describe("infra_agent_webhook_deliveries_total", "counter",
                         "Webhook deliveries by source and outcome.");
        metrics.describe("infra_agent_tasks_admitted_total", "counter",
                         "Tasks admitted by source and resulting state.");
        metrics.describe("infra_agent_admission_batches_total", "counter", "Group commits of admitted tasks.");
        metrics.describe("infra_agent_queue_tasks", "gauge", "Tasks in the queue by state, read at scrape time.");
        metrics.describe("infra_agent_schedule_fires_total", "counter", "Schedule ticks by schedule and outcome.");
        metrics.describe("infra_agent_start_time_seconds", "gauge",
                         "When this server started, in seconds since the epoch.");
        metrics.set("infra_agent_start_time_seconds", {},
                    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
        admitter = std::thread([this] { admit_loop(); });
        if (deps.reviewers)
            reviews = std::make_unique<Reviews>(
                ReviewDeps{deps.queue, deps.events, deps.state_path, opt.approvers, *deps.reviewers, deps.apply});
    }

    ~Impl()
    {
        {
            std::lock_guard lock(pending_mutex);
            stopping = true;
        }
        pending_cv.notify_all();
        admitter.join();
    }

    struct Outcome {
        bool duplicate = false;
        std::vector<std::string> previous;  ///< the ids a replayed delivery made
        std::vector<intake::Admitted> admissions;
    };

    /// Decides tasks on the caller's thread, hands them to the admission
    /// thread and waits for the group commit.
    Result<Outcome> submit(const std::string& source, const std::string& delivery, std::vector<AgentTask> tasks)
    {
        auto decided = intake::decide(std::move(tasks), deps.engine, deps.events, admission_options());
        if (!decided) return decided.error();
        Pending p{source, delivery, std::move(*decided), {}};
        auto done = p.done.get_future();
        {
            std::lock_guard lock(pending_mutex);
            if (stopping) return fail(Errc::unavailable, "the server is stopping");
            pending.push_back(&p);
        }
        pending_cv.notify_one();
        auto out = done.get();
        if (out)
            for (const auto& a : out->admissions)
                metrics.add("infra_agent_tasks_admitted_total", {{"source", source}, {"state", a.state}});
        return out;
    }

    /// Opens the HTTP server (loading its module) and binds its socket.
    Status bind()
    {
        http::Limits limits;
        limits.max_body = opt.max_body;
        limits.io_timeout = opt.io_timeout;
        limits.threads = opt.threads;
        auto server = http::open(limits);
        if (!server) return server.error();
        http = std::move(*server);
        routes();
        bound_port = http->bind(opt.host, opt.port);
        if (bound_port > 0) return {};
        if (opt.port == 0) return fail(Errc::unavailable, "cannot listen on " + opt.host);
        return fail(Errc::unavailable, "cannot listen on " + opt.host + ":" + std::to_string(opt.port),
                    "is another server using the port? set serve.listen or --listen");
    }

    Options opt;
    Deps deps;
    Metrics metrics;
    std::unique_ptr<http::Server> http;  ///< opened by bind()
    int bound_port = 0;

private:
    struct Pending {
        std::string source, delivery;
        intake::Decided decided;
        std::promise<Result<Outcome>> done;
    };

    static intake::Options admission_options()
    {
        intake::Options io;
        io.stage = "serve";
        return io;
    }

    void admit_loop()
    {
        for (;;) {
            std::vector<Pending*> batch;
            {
                std::unique_lock lock(pending_mutex);
                pending_cv.wait(lock, [this] { return stopping || !pending.empty(); });
                if (pending.empty()) return;
                while (!pending.empty() && batch.size() < k_max_batch) {
                    batch.push_back(pending.front());
                    pending.pop_front();
                }
            }
            admit_batch(batch);
        }
    }

    /// One group commit: replayed deliveries are answered from the record,
    /// the other deliveries' decided tasks are committed together, and their
    /// deliveries recorded.
    void admit_batch(const std::vector<Pending*>& batch)
    {
        std::vector<Outcome> outcomes(batch.size());
        std::map<std::pair<std::string, std::string>, std::size_t> first;  // delivery -> batch index
        std::vector<std::size_t> copy_of(batch.size(), SIZE_MAX);
        std::vector<intake::Decided> decided;
        std::vector<std::size_t> owner;  // the k-th admission came from batch[owner[k]]
        Status status;
        for (std::size_t i = 0; i < batch.size(); ++i) {
            Pending& p = *batch[i];
            if (!p.delivery.empty()) {
                auto key = std::make_pair(p.source, p.delivery);
                if (auto it = first.find(key); it != first.end()) {
                    copy_of[i] = it->second;
                    continue;
                }
                first.emplace(key, i);
                auto seen = previous_delivery(p.source, p.delivery);
                if (!seen) {
                    status = seen.error();
                    break;
                }
                if (*seen) {
                    outcomes[i].duplicate = true;
                    outcomes[i].previous = **seen;
                    continue;
                }
            }
            if (p.decided.admissions.empty()) continue;
            owner.insert(owner.end(), p.decided.admissions.size(), i);
            decided.push_back(std::move(p.decided));
        }
        if (status && !decided.empty()) {
            metrics.add("infra_agent_admission_batches_total", {});
            intake::Options io = admission_options();
            // The deliveries are recorded with the decisions, in one transaction.
            io.record_with = [&](store::Db&, const std::vector<intake::Admitted>& admitted) {
                for (std::size_t k = 0; k < admitted.size(); ++k) outcomes[owner[k]].admissions.push_back(admitted[k]);
                return record_deliveries(batch, outcomes);
            };
            auto admitted = intake::commit(std::move(decided), deps.state, deps.queue, deps.events, io);
            if (!admitted) status = admitted.error();
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (!status) {
                batch[i]->done.set_value(status.error());
                continue;
            }
            if (copy_of[i] != SIZE_MAX) {
                Outcome dup;
                dup.duplicate = true;
                const Outcome& orig = outcomes[copy_of[i]];
                dup.previous = orig.previous;
                for (const auto& a : orig.admissions) dup.previous.push_back(a.id);
                batch[i]->done.set_value(std::move(dup));
                continue;
            }
            batch[i]->done.set_value(std::move(outcomes[i]));
        }
    }

    Result<std::optional<std::vector<std::string>>> previous_delivery(const std::string& source,
                                                                      const std::string& delivery)
    {
        if (!lookup) {
            auto st = deps.state.prepare("SELECT task_ids FROM webhook_deliveries WHERE source = ? AND delivery = ?");
            if (!st) return st.error();
            lookup.emplace(std::move(*st));
        }
        lookup->reset();
        lookup->bind(1, source).bind(2, delivery);
        auto row = lookup->step();
        if (!row) return row.error();
        if (!*row) return std::optional<std::vector<std::string>>{};
        auto ids = json::parse(lookup->text(0), nullptr, false);
        // Ends the read: a statement left on its row keeps its snapshot, and
        // this connection's next write (the batch's decisions) would be
        // refused as "database is locked" once the queue had written.
        lookup->reset();
        std::vector<std::string> out;
        if (ids.is_array())
            for (const auto& id : ids)
                if (id.is_string()) out.push_back(id.get<std::string>());
        return std::optional<std::vector<std::string>>{std::move(out)};
    }

    /// Inside the transaction that records the batch's decisions.
    Status record_deliveries(const std::vector<Pending*>& batch, const std::vector<Outcome>& outcomes)
    {
        bool any = false;
        for (std::size_t i = 0; i < batch.size(); ++i)
            any = any || (!batch[i]->delivery.empty() && !outcomes[i].duplicate);
        if (!any) return {};
        auto ins = deps.state.prepare(
            "INSERT INTO webhook_deliveries (source, delivery, received_at, task_ids) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING");
        if (!ins) return ins.error();
        std::string now = timeutil::now_rfc3339();
        // Redeliveries come within days; ids older than 30 days are let go,
        // checked at most once an hour.
        auto clock = std::chrono::steady_clock::now();
        if (clock - last_prune > std::chrono::hours(1)) {
            last_prune = clock;
            auto del = deps.state.prepare("DELETE FROM webhook_deliveries WHERE received_at < ?");
            if (!del) return del.error();
            del->bind(1, timeutil::format_rfc3339(timeutil::Clock::now() - std::chrono::hours(24 * 30)));
            if (auto st = del->run(); !st) return st;
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (batch[i]->delivery.empty() || outcomes[i].duplicate) continue;
            json ids = json::array();
            for (const auto& a : outcomes[i].admissions) ids.push_back(a.id);
            ins->reset();
            ins->bind(1, batch[i]->source).bind(2, batch[i]->delivery).bind(3, now).bind(4, ids.dump());
            if (auto st = ins->run(); !st) return st;
        }
        return {};
    }

    // --- HTTP --------------------------------------------------------------

    using Handler = std::function<void(const http::Request&, http::Response&)>;

    Handler timed(const std::string& route, Handler h)
    {
        return [this, route, h = std::move(h)](const http::Request& req, http::Response& res) {
            auto start = std::chrono::steady_clock::now();
            try {
                h(req, res);
            } catch (const std::exception& e) {
                spdlog::error("{} {}: {}", req.method(), route, e.what());
                reply(res, 500, {{"error", "internal error"}});
            }
            metrics.observe("infra_agent_http_request_duration_seconds", {{"route", route}},
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            metrics.add("infra_agent_http_requests_total", {{"route", route}, {"code", std::to_string(res.status())}});
        };
    }

    /// The name behind the request's bearer token among tokens, or nothing.
    static std::optional<std::string> caller(const http::Request& req, const std::vector<Token>& tokens)
    {
        std::string auth = req.header("Authorization");
        if (auth.rfind("Bearer ", 0) != 0) return std::nullopt;
        std::string hash = crypto::sha256_hex(text::trim(std::string_view(auth).substr(7)));
        std::optional<std::string> who;
        for (const auto& t : tokens)
            if (crypto::constant_time_equal(hash, t.sha256)) who = t.name;
        return who;
    }
    std::optional<std::string> caller(const http::Request& req) const { return caller(req, opt.tokens); }

    /// The broker API: a distributed worker asks for a credential for a
    /// task it holds. Worker tokens are not API tokens: a worker cannot
    /// approve or submit, and an API user cannot mint. What is minted is
    /// bound to the task (its repository, its bot branch, what its decision
    /// allows), to the worker holding its lease, and ends with the lease;
    /// anything else is refused with 403 and recorded as credential.refused.
    void mint(const http::Request& req, http::Response& res)
    {
        if (!deps.mint) return reply(res, 404, {{"error", "this server has no broker"}});
        auto who = caller(req, opt.worker_tokens);
        if (!who) {
            res.set_header("WWW-Authenticate", "Bearer");
            return reply(
                res, 401,
                {{"error", opt.worker_tokens.empty() ? "no worker tokens are configured (serve.worker_tokens_file)"
                                                     : "missing or unknown worker token"}});
        }
        json body = json::parse(req.body(), nullptr, false);
        if (!body.is_object()) return reply(res, 400, {{"error", "request body: expected a JSON object"}});
        creds::LeaseAsk ask;
        ask.scope = string_member(body, "scope");
        ask.task_id = string_member(body, "taskId");
        ask.worker_id = string_member(body, "workerId");
        ask.token_name = *who;
        if (ask.scope.empty() || ask.task_id.empty())
            return reply(res, 400, {{"error", "request body: \"scope\" and \"taskId\" are required"}});
        if (auto t = body.find("ttlSeconds"); t != body.end()) {
            if (!t->is_number_integer() || t->get<std::int64_t>() < 1)
                return reply(res, 400, {{"error", "request body: \"ttlSeconds\" must be a positive integer"}});
            ask.ttl = std::chrono::seconds(t->get<std::int64_t>());
        }
        if (auto t = body.find("leaseToken"); t != body.end()) {
            if (!t->is_number_integer())
                return reply(res, 400, {{"error", "request body: \"leaseToken\" must be an integer"}});
            ask.lease_token = t->get<std::int64_t>();
        }
        if (auto scope = creds::parse_scope(ask.scope); !scope) return reply_error(res, scope.error());
        auto refuse = [&](const Error& why) {
            deps.events.emit({"credential.refused",
                              ask.task_id,
                              "",
                              {{"scope", ask.scope},
                               {"worker", *who},
                               {"workerId", ask.worker_id},
                               {"leaseToken", ask.lease_token},
                               {"ttlSeconds", ask.ttl.count()},
                               {"reason", why.message}}});
            spdlog::warn("broker: refused {} for task {} to worker {}: {}", ask.scope, ask.task_id, *who, why.message);
            reply_error(res, why);
        };
        auto e = deps.queue.show(ask.task_id);
        if (!e && e.error().code != Errc::not_found) return reply_error(res, e.error());
        if (!e) return refuse(make_error(Errc::denied, "no task " + text::quote(ask.task_id) + " in the queue"));
        creds::TaskGrant grant;
        grant.repository = opt.repository_id;
        auto limit = creds::authorize_lease_mint(*e, ask, creds::wall_ms(), grant);
        if (!limit) return refuse(limit.error());
        creds::MintRequest mr{ask.scope, limit->ttl, ask.task_id, string_member(body, "traceId")};
        mr.worker_id = ask.worker_id;
        mr.lease_token = ask.lease_token;
        mr.not_after_ms = limit->not_after_ms;
        auto cred = deps.mint(mr);
        if (!cred) return reply_error(res, cred.error());
        (*cred)["worker"] = *who;
        spdlog::info("broker: {} for task {} to worker {} ({})", ask.scope, ask.task_id, *who, ask.worker_id);
        reply(res, 200, *cred);
    }

    bool authorized(const http::Request& req, http::Response& res, std::string& who) const
    {
        auto c = caller(req);
        if (!c) {
            res.set_header("WWW-Authenticate", "Bearer");
            reply(res, 401,
                  {{"error", opt.tokens.empty() ? "no API tokens are configured (serve.api_tokens_file)"
                                                : "missing or unknown bearer token"}});
            return false;
        }
        who = *c;
        return true;
    }

    void hook(const std::string& source, const http::Request& req, http::Response& res)
    {
        auto secret = opt.secrets.find(source);
        if (secret == opt.secrets.end() || secret->second.empty()) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "disabled"}});
            reply(res, 403, {{"error", "the " + source + " hook is off: set webhooks." + source + ".secret_env"}});
            return;
        }
        signals::IngestOptions in;
        req.each_header([&](const std::string& k, const std::string& v) { in.headers[text::lower(k)] = v; });
        in.repository_id = opt.repository_id;
        in.max_body = opt.max_body;
        std::string parser_name = source;
        if (source == "sns") {
            // SNS signs with certificates fetched from AWS; here the endpoint
            // URL carries the secret as HTTP basic auth (https://user:SECRET@host/hooks/sns).
            if (!sns_authorized(req, secret->second)) {
                metrics.add("infra_agent_webhook_deliveries_total",
                            {{"source", source}, {"outcome", "unauthenticated"}});
                res.set_header("WWW-Authenticate", "Basic realm=\"infra-agent\"");
                reply(res, 401, {{"error", "missing or wrong credentials in Authorization"}});
                return;
            }
            parser_name = "cloudwatch";
        } else {
            in.secret = secret->second;
        }
        const signals::SignalParser* parser = deps.signals.find(parser_name);
        if (!parser) {
            reply(res, 404, {{"error", "no parser for " + source}});
            return;
        }
        // A sender's W3C traceparent makes this delivery part of its trace.
        auto sent = events::parse_traceparent(req.header("traceparent"));
        events::ContextScope in_trace(sent ? *sent : events::SpanContext{});
        auto found = signals::parse_text(*parser, req.body(), source + " delivery", in, &deps.events);
        if (!found) {
            metrics.add("infra_agent_webhook_deliveries_total",
                        {{"source", source},
                         {"outcome", found.error().code == Errc::unauthenticated ? "unauthenticated" : "invalid"}});
            reply_error(res, found.error());
            return;
        }
        if (reviews && source == "github") {
            auto action = github_review_action(in.headers["x-github-event"], json::parse(req.body(), nullptr, false));
            if (action && review(*action, source, req, res)) return;
        }
        if (found->tasks.empty() && source == "github" && in.headers["x-github-event"] == "pull_request") {
            // Signed and read: a bot pull request merged or closed is followed.
            json body = json::parse(req.body(), nullptr, false);
            const json& pr = object_member(body, "pull_request");
            if (string_member(body, "action") == "closed" && pr.is_object()) {
                bool merged = member(pr, "merged") == true;
                std::string by = merged ? string_member(object_member(pr, "merged_by"), "login") : "";
                if (by.empty()) by = string_member(object_member(body, "sender"), "login");
                return follow(res, source, string_member(object_member(body, "repository"), "full_name"),
                              int_member(pr, "number", int_member(body, "number")), merged ? "merged" : "closed", by);
            }
        }
        if (found->tasks.empty()) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "ignored"}});
            json why = found->skipped;
            // An SNS subscription confirmation is for a person to follow, never
            // this server: its URL comes from a body no certificate vouched for.
            for (const auto& r : found->skipped)
                if (source == "sns") spdlog::info("sns delivery: {}", r);
                else spdlog::debug("{} delivery ignored: {}", source, r);
            reply(res, 200, {{"status", "ignored"}, {"reasons", why}});
            return;
        }
        std::string delivery;
        if (const char* h = delivery_header(source)) delivery = req.header(h);
        auto out = submit(source, delivery, std::move(found->tasks));
        if (!out) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "failed"}});
            spdlog::error("{} delivery not admitted: {}", source, out.error().message);
            reply(res, 503, {{"error", "cannot queue the delivery now; retry it"}});
            return;
        }
        answer(res, source, *out);
    }

    /// A reviewer's action on one of infra-agent's pull requests: false
    /// when the pull request is not one of them.
    bool review(const ReviewAction& action, const std::string& source, const http::Request& req, http::Response& res)
    {
        std::string delivery;
        if (const char* h = delivery_header(source)) delivery = req.header(h);
        auto out = reviews->handle(action, source, delivery);
        if (!out) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "failed"}});
            spdlog::error("{} review on {}#{} not handled: {}", source, action.repository, action.number,
                          out.error().message);
            reply(res, 503, {{"error", "cannot act on the review now; retry it"}});
            return true;
        }
        if (!*out) return false;
        metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "review"}});
        reply(res, 200, **out);
        return true;
    }

    /// A forge said a pull request was merged or closed.
    void follow(http::Response& res, const std::string& source, const std::string& repository, std::int64_t number,
                const std::string& state, const std::string& by)
    {
        if (!deps.follow || repository.empty() || number <= 0) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "ignored"}});
            reply(res, 200,
                  {{"status", "ignored"},
                   {"reasons",
                    {deps.follow ? "no pull request in the delivery" : "pull requests are not followed here"}}});
            return;
        }
        auto done = deps.follow(source, repository, number, state, by);
        if (!done) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "failed"}});
            spdlog::error("{} delivery: cannot follow pull request {} of {}: {}", source, number, repository,
                          done.error().message);
            reply(res, 503, {{"error", "cannot follow the pull request now; retry the delivery"}});
            return;
        }
        metrics.add("infra_agent_webhook_deliveries_total",
                    {{"source", source}, {"outcome", done->is_null() ? "ignored" : "followed"}});
        if (done->is_null())
            reply(res, 200, {{"status", "ignored"}, {"reasons", {"not a pull request of infra-agent's"}}});
        else reply(res, 200, {{"status", "followed"}, {"transition", *done}});
    }

    /// GitLab's webhooks: X-Gitlab-Token is the shared secret. Approvals,
    /// pushes and notes on infra-agent's merge requests go to the reviewers;
    /// a merge request merged or closed is followed; anything else is ignored.
    void gitlab_hook(const http::Request& req, http::Response& res)
    {
        const std::string source = "gitlab";
        auto secret = opt.secrets.find(source);
        if (secret == opt.secrets.end() || secret->second.empty()) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "disabled"}});
            return reply(res, 403, {{"error", "the gitlab hook is off: set webhooks.gitlab.secret_env"}});
        }
        if (!crypto::constant_time_equal(req.header("X-Gitlab-Token"), secret->second)) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "unauthenticated"}});
            return reply(res, 401, {{"error", "missing or wrong X-Gitlab-Token"}});
        }
        json body = json::parse(req.body(), nullptr, false);
        if (!body.is_object()) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "invalid"}});
            return reply(res, 400, {{"error", "gitlab delivery: expected a JSON object"}});
        }
        std::string event = req.header("X-Gitlab-Event");
        auto action = reviews ? gitlab_review_action(event, body) : std::nullopt;
        if (action && review(*action, source, req, res)) return;
        const json& mr = object_member(body, "object_attributes");
        std::string mr_action = string_member(mr, "action");
        if (string_member(body, "object_kind") == "merge_request" && (mr_action == "merge" || mr_action == "close"))
            return follow(res, source, string_member(object_member(body, "project"), "path_with_namespace"),
                          int_member(mr, "iid"), mr_action == "merge" ? "merged" : "closed",
                          string_member(object_member(body, "user"), "username"));
        metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "ignored"}});
        reply(res, 200,
              {{"status", "ignored"},
               {"reasons",
                {"'" + event + "' is not a merge request merged or closed" +
                 (reviews ? ", nor an approval, a push or a command on a merge request of infra-agent"
                          : " (serve reads GitLab reviews only with forge.kind: gitlab)")}}});
    }

    void answer(http::Response& res, const std::string& source, const Outcome& out)
    {
        if (out.duplicate) {
            metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "duplicate"}});
            reply(res, 200, {{"status", "duplicate"}, {"taskIds", out.previous}});
            return;
        }
        metrics.add("infra_agent_webhook_deliveries_total", {{"source", source}, {"outcome", "accepted"}});
        json ids = json::array();
        for (const auto& a : out.admissions) ids.push_back(a.id);
        reply(res, 202, {{"status", "accepted"}, {"taskIds", ids}, {"tasks", admissions_json(out.admissions)}});
    }

    static bool sns_authorized(const http::Request& req, const std::string& secret)
    {
        std::string auth = req.header("Authorization");
        if (auth.rfind("Bearer ", 0) == 0) return crypto::constant_time_equal(auth.substr(7), secret);
        if (auth.rfind("Basic ", 0) != 0) return false;
        // base64 (standard alphabet) of user:password; the password is the secret.
        std::string b64 = auth.substr(6);
        for (char& c : b64) {
            if (c == '+') c = '-';
            else if (c == '/') c = '_';
        }
        while (!b64.empty() && b64.back() == '=') b64.pop_back();
        auto decoded = crypto::base64url_decode(b64);
        if (!decoded) return false;
        auto colon = decoded->find(':');
        return colon != std::string::npos && crypto::constant_time_equal(decoded->substr(colon + 1), secret);
    }

    void routes()
    {
        for (std::string source : {"github", "alertmanager", "pagerduty", "sns"})
            http->post("/hooks/" + source,
                       timed("/hooks/" + source, [this, source](const http::Request& req, http::Response& res) {
                           hook(source, req, res);
                       }));
        http->post("/hooks/gitlab", timed("/hooks/gitlab", [this](const http::Request& req, http::Response& res) {
                       gitlab_hook(req, res);
                   }));

        http->post("/v1/tasks", timed("/v1/tasks", [this](const http::Request& req, http::Response& res) {
                       submit_task(req, res);
                   }));

        http->get(
            R"(/v1/tasks/([A-Za-z0-9._:\-]+))",
            timed("/v1/tasks/{id}", [this](const http::Request& req, http::Response& res) { show_task(req, res); }));

        http->get(R"(/v1/tasks/([A-Za-z0-9._:\-]+)/events)",
                  timed("/v1/tasks/{id}/events",
                        [this](const http::Request& req, http::Response& res) { task_events_page(req, res); }));

        http->post(R"(/v1/tasks/([A-Za-z0-9._:\-]+)/(approve|reject))",
                   timed("/v1/tasks/{id}/approve",
                         [this](const http::Request& req, http::Response& res) { decide_task(req, res); }));

        http->post("/v1/credentials",
                   timed("/v1/credentials", [this](const http::Request& req, http::Response& res) { mint(req, res); }));
        http->get("/v1/credentials/identity",
                  timed("/v1/credentials/identity",
                        [this](const http::Request& req, http::Response& res) { identity(req, res); }));

        http->get("/metrics",
                  timed("/metrics", [this](const http::Request& req, http::Response& res) { metrics_page(req, res); }));
        http->get("/healthz", [](const http::Request&, http::Response& res) { res.set_content("ok\n", "text/plain"); });
        http->get("/readyz",
                  timed("/readyz", [this](const http::Request& req, http::Response& res) { readyz(req, res); }));

        http->on_error([](const http::Request&, http::Response& res) {
            if (res.has_body()) return;
            std::string msg = res.status() == 413   ? "request body larger than the limit (serve.max_body)"
                              : res.status() == 404 ? "no such endpoint"
                                                    : "HTTP " + std::to_string(res.status());
            res.set_content(json{{"error", msg}}.dump() + "\n", "application/json");
        });
    }

    /// POST /v1/tasks: a task from the API, requested by whoever holds the token.
    void submit_task(const http::Request& req, http::Response& res)
    {
        std::string who;
        if (!authorized(req, res, who)) return;
        signals::IngestOptions in;
        in.repository_id = opt.repository_id;
        in.max_body = opt.max_body;
        auto sent = events::parse_traceparent(req.header("traceparent"));
        events::ContextScope in_trace(sent ? *sent : events::SpanContext{});
        auto found = signals::parse_text(*deps.signals.find("api"), req.body(), "request body", in, &deps.events);
        if (!found) return reply_error(res, found.error());
        if (found->tasks.empty()) return reply(res, 400, {{"error", "no task in the request body"}});
        // Who asked is who holds the token, whatever the body says.
        for (auto& t : found->tasks) t.payload["requestedBy"] = who;
        auto out = submit("api", "", std::move(found->tasks));
        if (!out) return reply_error(res, out.error());
        answer(res, "api", *out);
    }

    /// GET /v1/tasks/{id}: the task as the queue has it.
    void show_task(const http::Request& req, http::Response& res)
    {
        std::string who;
        if (!authorized(req, res, who)) return;
        auto e = deps.queue.show(req.match(1));
        if (!e) return reply_error(res, e.error());
        reply(res, 200, queue::to_json(*e, true));
    }

    /// GET /v1/tasks/{id}/events: its events, as JSON Lines.
    void task_events_page(const http::Request& req, http::Response& res)
    {
        std::string who;
        if (!authorized(req, res, who)) return;
        auto e = deps.queue.show(req.match(1));
        if (!e) return reply_error(res, e.error());
        deps.events.flush();
        auto events = task_events(e->id);
        if (!events) return reply_error(res, events.error());
        std::string body;
        for (const auto& ev : *events) body += ev.dump() + "\n";
        res.set_status(200);
        res.set_content(body, "application/x-ndjson");
    }

    /// POST /v1/tasks/{id}/approve|reject: the caller decides; on a tier-4 task that ran, approves its plan.
    void decide_task(const http::Request& req, http::Response& res)
    {
        std::string who;
        if (!authorized(req, res, who)) return;
        json body = req.body().empty() ? json::object() : json::parse(req.body(), nullptr, false);
        if (!body.is_object()) return reply(res, 400, {{"error", "request body: expected a JSON object"}});
        bool approve = req.match(2) == "approve";
        if (approve) {
            // A tier-4 task that ran and kept its plan: the approval is of that plan.
            auto e = deps.queue.show(req.match(1));
            if (!e) return reply_error(res, e.error());
            auto decided = policy::decision_from_json(e->decision);
            if (e->state == queue::State::succeeded && decided && decided->tier == 4) {
                std::lock_guard lock(approver_mutex);
                if (!approver) {
                    auto db = store::Db::open(deps.state_path, false);
                    if (!db) return reply_error(res, db.error());
                    approver = std::move(*db);
                }
                change::ApplyStore store(*approver);
                auto v = change::approve_plan(*e, store, deps.events, who, string_member(body, "group"),
                                              string_member(body, "plan"), opt.approvers);
                if (!v) return reply_error(res, v.error());
                return reply(res, 200,
                             {{"id", v->task_id},
                              {"by", v->by},
                              {"group", v->group},
                              {"planSha256", v->digest},
                              {"state", v->waiting.empty() ? "approved" : "pending-approval"},
                              {"waiting", v->waiting}});
            }
        }
        approval::Request r{req.match(1), who, approve, string_member(body, "group"), string_member(body, "reason")};
        auto v = approval::decide(deps.queue, deps.events, r, opt.approvers);
        if (!v) return reply_error(res, v.error());
        reply(res, 200,
              {{"id", v->id}, {"by", v->by}, {"group", v->group}, {"state", v->state}, {"reason", v->reason}});
    }

    /// GET /v1/credentials/identity: whose worker token this is (a distributed worker names its leases after it).
    void identity(const http::Request& req, http::Response& res)
    {
        if (!deps.mint) return reply(res, 404, {{"error", "this server has no broker"}});
        auto who = caller(req, opt.worker_tokens);
        if (!who) {
            res.set_header("WWW-Authenticate", "Bearer");
            return reply(res, 401, {{"error", "missing or unknown worker token"}});
        }
        reply(res, 200, {{"worker", *who}, {"workerIdPrefix", *who + "/"}});
    }

    /// GET /metrics: what this server counts, and what every process recorded, brought up to date.
    void metrics_page(const http::Request&, http::Response& res)
    {
        if (auto s = deps.queue.stats())
            for (const auto& [state, n] : s->by_state)
                metrics.set("infra_agent_queue_tasks", {{"state", state}}, static_cast<double>(n));
        // What every process recorded, brought up to date at each scrape.
        std::string text = metrics.render();
        if (auto st = refresh_recorded(); st) text += recorded.render();
        else spdlog::warn("metrics from the state store: {}", st.error().message);
        res.set_status(200);
        res.set_content(text, "text/plain; version=0.0.4");
    }

    /// GET /readyz: ready while the queue answers.
    void readyz(const http::Request&, http::Response& res)
    {
        auto s = deps.queue.stats();
        if (!s) return reply(res, 503, {{"ready", false}, {"error", "queue: " + s.error().message}});
        reply(res, 200, {{"ready", true}});
    }

    Status refresh_recorded()
    {
        std::lock_guard lock(reader_mutex);
        if (!metrics_reader) {
            auto db = store::Db::open(deps.state_path, false);
            if (!db) return db.error();
            metrics_reader = std::move(*db);
        }
        return recorded.refresh(*metrics_reader);
    }

    Result<std::vector<json>> task_events(const std::string& id)
    {
        std::lock_guard lock(reader_mutex);
        if (!reader) {
            auto db = store::Db::open(deps.state_path, false);
            if (!db) return db.error();
            reader = std::move(*db);
        }
        events::Filter f;
        f.task = id;
        std::vector<json> out;
        auto st = events::query(*reader, f, [&](const events::audit::Record& r) -> Status {
            json e = {{"seq", r.seq}, {"time", r.event.time}, {"type", r.event.type}, {"taskId", id}};
            if (!r.event.trace_id.empty()) e["traceId"] = r.event.trace_id;
            if (!r.event.span_id.empty()) e["spanId"] = r.event.span_id;
            if (!r.event.parent_id.empty()) e["parentSpanId"] = r.event.parent_id;
            e["data"] = r.event.data;
            out.push_back(std::move(e));
            return {};
        });
        if (!st) return st.error();
        return out;
    }

    std::mutex pending_mutex;
    std::condition_variable pending_cv;
    std::deque<Pending*> pending;
    bool stopping = false;
    std::optional<store::Stmt> lookup;
    std::chrono::steady_clock::time_point last_prune{};
    std::thread admitter;
    std::mutex reader_mutex;
    std::unique_ptr<store::Db> reader;
    std::mutex approver_mutex;
    std::unique_ptr<store::Db> approver;  ///< records approvals of plans; guarded by approver_mutex
    StateMetrics recorded;
    std::unique_ptr<store::Db> metrics_reader;  ///< guarded by reader_mutex
    std::unique_ptr<Reviews> reviews;           ///< when deps.reviewers is set
};

Server::Server(Options options, Deps deps) : m(std::make_unique<Impl>(std::move(options), deps)) {}

Server::~Server() = default;

Status Server::bind()
{
    return m->bind();
}

int Server::port() const
{
    return m->bound_port;
}

void Server::run()
{
    if (m->http) m->http->listen();
}

void Server::stop()
{
    if (m->http) m->http->stop();
}

Result<std::vector<std::string>> Server::submit(const std::string& source, std::vector<AgentTask> tasks)
{
    auto out = m->submit(source, "", std::move(tasks));
    if (!out) return out.error();
    std::vector<std::string> ids;
    for (const auto& a : out->admissions) ids.push_back(a.id);
    return ids;
}

Metrics& Server::metrics()
{
    return m->metrics;
}

}  // namespace infra::core::serve
