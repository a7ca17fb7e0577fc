// GitHub webhook deliveries. The event comes from X-GitHub-Event (or is
// inferred from the body), X-Hub-Signature-256 is verified when a secret
// is given, and X-GitHub-Delivery becomes the task's source id.
#include "core/crypto.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "plugins/signals/common.hpp"
#include "plugins/signals/parsers.hpp"

namespace infra::plugins::signals {
namespace {

constexpr std::string_view k_bot_branch_prefix = "infra-agent/";

// The event name when no X-GitHub-Event header came with the body.
std::string infer_event(const json& b)
{
    if (b.contains("zen") && b.contains("hook_id")) return "ping";
    if (b.contains("alert") && b.contains("commit_oid")) return "code_scanning_alert";
    if (b.contains("check_run")) return "check_run";
    if (b.contains("check_suite")) return "check_suite";
    if (b.contains("workflow_run")) return "workflow_run";
    if (b.contains("workflow_job")) return "workflow_job";
    if (b.contains("comment") && b.contains("issue")) return "issue_comment";
    if (b.contains("pull_request") && b.contains("number")) return "pull_request";
    if (b.contains("ref") && b.contains("before") && b.contains("after") && b.contains("commits")) return "push";
    return {};
}

class GitHub final : public core::signals::SignalParser {
public:
    std::string_view name() const override { return "github"; }
    std::string_view summary() const override
    {
        return "GitHub webhook delivery (pull_request, push, issue_comment, check_run, workflow_run, "
               "code_scanning_alert)";
    }

    int detect(const core::signals::DetectInput& in) const override
    {
        if (in.headers && in.headers->count("x-github-event")) return 100;
        return marker_score(in.prefix, {"\"repository\"", "\"sender\"", "\"full_name\"", "\"node_id\""});
    }

    Status parse(core::ByteSource& in, const IngestOptions& opt, Sink& sink) const override
    {
        std::string raw;
        auto body = core::signals::read_body(in, opt, &raw);
        if (!body) return body.error();
        if (!opt.secret.empty()) {
            if (auto st = verify(raw, opt, in.name()); !st) return st;
        }
        std::string event = core::signals::header(opt, "X-GitHub-Event");
        if (event.empty()) event = infer_event(*body);
        if (event.empty())
            return core::fail(Errc::invalid_input, "'" + in.name() + "': cannot tell which GitHub event this is",
                              "pass the delivery's header: --header 'X-GitHub-Event: pull_request'");
        Delivery d{*body, event, str(*body, "action"), core::signals::header(opt, "X-GitHub-Delivery"), opt};
        return in_one_batch(in.name(), "'" + event + "' payload", sink, [&] { return dispatch(d, sink); });
    }

private:
    struct Delivery {
        const json& body;
        std::string event;
        std::string action;
        std::string delivery;
        const IngestOptions& opt;
    };

    static Status verify(const std::string& raw, const IngestOptions& opt, const std::string& name)
    {
        std::string sig = core::signals::header(opt, "X-Hub-Signature-256");
        if (sig.empty())
            return core::fail(Errc::unauthenticated, "'" + name + "': missing X-Hub-Signature-256 header",
                              "the webhook secret is set, so every delivery must be signed");
        std::string expected = "sha256=" + core::crypto::hmac_sha256_hex(opt.secret, raw);
        if (!core::crypto::constant_time_equal(core::text::lower(core::text::trim(sig)), expected))
            return core::fail(Errc::unauthenticated, "'" + name + "': X-Hub-Signature-256 does not match the body",
                              "check the webhook secret; the body must be passed byte for byte");
        return {};
    }

    static AgentTask base(const Delivery& d, TaskType type, const std::string& source = "webhook")
    {
        AgentTask t;
        t.type = type;
        t.trigger.source = source;
        t.trigger.provider = "github";
        t.trigger.source_id = d.delivery;
        t.context.repository_id = str_at(d.body, "/repository/full_name");
        t.context.organization_id = str_at(d.body, "/organization/login", str_at(d.body, "/repository/owner/login"));
        t.payload["event"] = d.event;
        if (!d.action.empty()) t.payload["action"] = d.action;
        if (auto s = str_at(d.body, "/sender/login"); !s.empty()) t.payload["sender"] = s;
        if (!d.delivery.empty()) t.payload["delivery"] = d.delivery;
        return t;
    }

    static void emit(AgentTask&& t, const Delivery& d, Sink& sink)
    {
        core::signals::finish_task(t, d.opt);
        sink.task(std::move(t));
    }

    static std::string repo_key(const Delivery& d)
    {
        return core::text::lower(str_at(d.body, "/repository/full_name"));
    }

    static Status dispatch(const Delivery& d, Sink& sink)
    {
        if (d.event == "ping") {
            sink.skip("ping: the webhook is set up; nothing to do");
            return {};
        }
        if (d.event == "pull_request") return pull_request(d, sink);
        if (d.event == "push") return push(d, sink);
        if (d.event == "issue_comment") return issue_comment(d, sink);
        if (d.event == "check_run" || d.event == "workflow_run") return ci_failure(d, sink);
        if (d.event == "code_scanning_alert") return code_scanning_alert(d, sink);
        sink.skip("'" + d.event + "' events are not signals infra-agent acts on");
        return {};
    }

    static Status pull_request(const Delivery& d, Sink& sink)
    {
        static const char* k_actions[] = {"opened", "synchronize", "reopened", "ready_for_review"};
        bool wanted = false;
        for (auto a : k_actions) wanted = wanted || d.action == a;
        if (!wanted) {
            sink.skip("pull_request '" + d.action + "': nothing to review");
            return {};
        }
        const json& pr = d.body.at("pull_request");
        if (!pr.is_object()) return field_error("pull_request", "expected an object");
        std::string head = str_at(pr, "/head/ref");
        if (head.rfind(k_bot_branch_prefix, 0) == 0) {
            sink.skip("pull request from infra-agent's own branch '" + head + "'");
            return {};
        }
        auto t = base(d, TaskType::pr_review);
        std::string number = str_at(d.body, "/number", str_at(pr, "/number"));
        if (number.empty()) return field_error("number", "missing");
        t.payload["number"] = std::stoll(number);
        t.payload["title"] = str(pr, "title");
        t.payload["url"] = str(pr, "html_url");
        t.payload["headRef"] = head;
        t.payload["headSha"] = str_at(pr, "/head/sha");
        t.payload["baseRef"] = str_at(pr, "/base/ref");
        t.payload["author"] = str_at(pr, "/user/login");
        t.payload["draft"] = core::bool_member(pr, "draft");
        t.dedupe_key = core::signals::dedupe_key({"pr-review", repo_key(d), number});
        emit(std::move(t), d, sink);
        return {};
    }

    static Status push(const Delivery& d, Sink& sink)
    {
        std::string ref = str(d.body, "ref");
        if (ref.empty()) return field_error("ref", "missing");
        if (core::bool_member(d.body, "deleted")) {
            sink.skip("push deleted '" + ref + "'");
            return {};
        }
        std::string def = str_at(d.body, "/repository/default_branch", str_at(d.body, "/repository/master_branch"));
        if (!def.empty() && ref != "refs/heads/" + def) {
            sink.skip("push to '" + ref + "', not the default branch '" + def + "'");
            return {};
        }
        auto t = base(d, TaskType::drift_detection);
        t.payload["ref"] = ref;
        t.payload["before"] = str(d.body, "before");
        t.payload["after"] = str(d.body, "after");
        json files = json::array();
        if (auto commits = d.body.find("commits"); commits != d.body.end() && commits->is_array()) {
            t.payload["commits"] = commits->size();
            for (const auto& c : *commits)
                for (const char* k : {"added", "modified", "removed"})
                    if (auto f = c.find(k); f != c.end() && f->is_array())
                        for (const auto& p : *f)
                            if (p.is_string() && files.size() < 500) files.push_back(p);
        }
        t.payload["files"] = std::move(files);
        t.dedupe_key = core::signals::dedupe_key({"drift", repo_key(d), ""});
        emit(std::move(t), d, sink);
        return {};
    }

    static Status issue_comment(const Delivery& d, Sink& sink)
    {
        if (d.action != "created") {
            sink.skip("issue_comment '" + d.action + "': only new comments carry commands");
            return {};
        }
        if (str_at(d.body, "/comment/user/type") == "Bot" || str_at(d.body, "/sender/type") == "Bot") {
            sink.skip("comment by a bot");
            return {};
        }
        std::string text = str_at(d.body, "/comment/body");
        std::string line(core::text::trim(text.substr(0, text.find('\n'))));
        const std::string prefix = "/infra-agent";
        if (line.rfind(prefix, 0) != 0 || (line.size() > prefix.size() && line[prefix.size()] != ' ')) {
            sink.skip("comment without an /infra-agent command");
            return {};
        }
        std::string rest(core::text::trim(std::string_view(line).substr(prefix.size())));
        std::string command = rest.substr(0, rest.find(' '));
        std::string args =
            command.size() < rest.size() ? std::string(core::text::trim(rest.substr(command.size()))) : "";
        bool on_pr =
            d.body.contains("issue") && d.body["issue"].is_object() && d.body["issue"].contains("pull_request");
        std::string number = str_at(d.body, "/issue/number");

        if (command == "approve" || command == "apply") {
            sink.skip("'/infra-agent " + command +
                      "' is a reviewer's command: serve acts on it for the pull request's task");
            return {};
        }
        TaskType type;
        bool change = false;
        if (command == "fix") {
            type = TaskType::chat;
            change = true;
        } else if (command == "review") {
            if (!on_pr) return field_error("comment.body", "'/infra-agent review' works on pull requests only");
            type = TaskType::pr_review;
        } else if (command == "explain" || command == "ask") {
            type = TaskType::chat;
        } else if (command == "drift" || command == "plan") {
            type = TaskType::drift_detection;
        } else {
            return field_error("comment.body",
                               "unknown command " + core::text::quote(command) +
                                   "; expected fix, review, explain, ask, drift, plan, approve or apply");
        }
        auto t = base(d, type);
        t.payload["command"] = command;
        t.payload["message"] = args;
        t.payload["number"] = number.empty() ? json() : json(std::stoll(number));
        t.payload["onPullRequest"] = on_pr;
        t.payload["commentId"] = str_at(d.body, "/comment/id");
        t.payload["url"] = str_at(d.body, "/comment/html_url");
        if (type == TaskType::chat) t.payload["requestsChange"] = change;
        std::string comment_id = str_at(d.body, "/comment/id");
        if (type == TaskType::pr_review) t.dedupe_key = core::signals::dedupe_key({"pr-review", repo_key(d), number});
        else if (type == TaskType::drift_detection)
            t.dedupe_key = core::signals::dedupe_key({"drift", repo_key(d), ""});
        else
            t.dedupe_key =
                core::signals::dedupe_key({"chat", repo_key(d), comment_id.empty() ? d.delivery : comment_id});
        emit(std::move(t), d, sink);
        return {};
    }

    static Status ci_failure(const Delivery& d, Sink& sink)
    {
        const json& run = d.body.at(d.event);
        if (!run.is_object()) return field_error(d.event, "expected an object");
        if (d.action != "completed") {
            sink.skip(d.event + " '" + d.action + "': not completed");
            return {};
        }
        std::string conclusion = str(run, "conclusion");
        if (conclusion != "failure" && conclusion != "timed_out" && conclusion != "startup_failure") {
            sink.skip(d.event + " concluded '" + (conclusion.empty() ? "none" : conclusion) + "': nothing failed");
            return {};
        }
        std::string branch = str(run, "head_branch", str_at(run, "/check_suite/head_branch"));
        auto t = base(d, TaskType::incident_triage);
        t.context.priority = core::Priority::high;
        t.payload["name"] = str(run, "name");
        t.payload["conclusion"] = conclusion;
        t.payload["headSha"] = str(run, "head_sha");
        t.payload["headBranch"] = branch;
        t.payload["url"] = str(run, "html_url");
        if (d.event == "check_run") t.payload["app"] = str_at(run, "/app/slug");
        if (d.event == "workflow_run") t.payload["workflowId"] = str_at(run, "/workflow_id");
        t.dedupe_key = core::signals::dedupe_key({"ci-failure", repo_key(d), str(run, "name"), str(run, "head_sha")});
        emit(std::move(t), d, sink);
        return {};
    }

    static Status code_scanning_alert(const Delivery& d, Sink& sink)
    {
        static const char* k_actions[] = {"created", "reopened", "reopened_by_user", "appeared_in_branch"};
        bool wanted = false;
        for (auto a : k_actions) wanted = wanted || d.action == a;
        if (!wanted) {
            sink.skip("code_scanning_alert '" + d.action + "': nothing to fix");
            return {};
        }
        const json& alert = d.body.at("alert");
        if (!alert.is_object()) return field_error("alert", "expected an object");
        core::signals::Finding f;
        f.tool = core::text::lower(str_at(alert, "/tool/name", "code-scanning"));
        f.rule_id = str_at(alert, "/rule/id");
        if (f.rule_id.empty()) return field_error("alert.rule.id", "missing");
        f.title = str_at(alert, "/rule/description");
        f.severity = str_at(alert, "/rule/security_severity_level", str_at(alert, "/rule/severity"));
        const json* instance = nullptr;
        if (auto mri = alert.find("most_recent_instance"); mri != alert.end() && mri->is_object()) instance = &*mri;
        else if (auto ins = alert.find("instances"); ins != alert.end() && ins->is_array() && !ins->empty())
            instance = &(*ins)[0];
        if (instance) {
            f.file = core::signals::normalize_path(str_at(*instance, "/location/path"), d.opt.path_root);
            f.start_line = std::atoll(str_at(*instance, "/location/start_line", "0").c_str());
            f.end_line = std::atoll(str_at(*instance, "/location/end_line", "0").c_str());
            f.message = str_at(*instance, "/message/text");
        }
        f.guideline = str(alert, "html_url");
        f.timestamp = str(alert, "created_at");
        f.source_id = d.delivery;
        f.extra["alertNumber"] = str_at(alert, "/number");
        f.extra["format"] = "github-code-scanning";
        IngestOptions opt = d.opt;
        if (auto repo = str_at(d.body, "/repository/full_name"); !repo.empty()) opt.repository_id = repo;
        auto t = core::signals::remediation_task(f, opt);
        t.trigger.source = "webhook";
        t.trigger.provider = "github";
        t.context.organization_id = str_at(d.body, "/organization/login", str_at(d.body, "/repository/owner/login"));
        t.payload["event"] = d.event;
        t.payload["action"] = d.action;
        if (!d.delivery.empty()) t.payload["delivery"] = d.delivery;
        sink.task(std::move(t));
        return {};
    }
};

}  // namespace

std::unique_ptr<core::signals::SignalParser> make_github()
{
    return std::make_unique<GitHub>();
}

}  // namespace infra::plugins::signals
