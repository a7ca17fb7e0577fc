// aws-sts: AssumeRole with a session policy narrowed to the task, signed
// with SigV4 from base credentials in the environment.
//
// Scope: aws:assume-role:role=ARN,actions=s3:GetBucket*|s3:PutBucketPublicAccessBlock[,resource=ARN]
// The session policy allows exactly those actions on that resource (all
// resources when none is named), whatever the role itself allows.
#include "core/creds/sigv4.hpp"
#include "core/http.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "plugins/credentials/providers.hpp"

#include <cstdlib>
#include <ctime>

namespace infra::plugins::credentials {
namespace {

using core::Errc;
using nlohmann::json;

/// The text of the first <tag>...</tag> in xml (STS answers are flat and small).
std::string xml_text(const std::string& xml, const std::string& tag)
{
    auto open = xml.find("<" + tag + ">");
    if (open == std::string::npos) return {};
    open += tag.size() + 2;
    auto close = xml.find("</" + tag + ">", open);
    if (close == std::string::npos) return {};
    std::string v = xml.substr(open, close - open);
    // The five XML entities; STS values use no others.
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '&') {
            out += v[i];
            continue;
        }
        static const std::pair<const char*, char> k_entities[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool matched = false;
        for (auto [name, c] : k_entities)
            if (v.compare(i, std::strlen(name), name) == 0) {
                out += c;
                i += std::strlen(name) - 1;
                matched = true;
                break;
            }
        if (!matched) out += '&';
    }
    return out;
}

std::string amz_date_now()
{
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

struct Settings {
    std::string endpoint = "https://sts.amazonaws.com/";
    std::string region = "us-east-1";
    std::string source_identity = "infra-agent";
};

class AwsSts final : public core::creds::Provider {
public:
    explicit AwsSts(Settings s) : m_settings(std::move(s)) {}
    std::string name() const override { return "aws-sts"; }
    std::chrono::seconds max_ttl() const override { return std::chrono::hours(12); }

    core::Status mint(const core::creds::Scope& scope, core::creds::Credential& c) override
    {
        if (scope.kind != "aws" || scope.action != "assume-role")
            return core::fail(Errc::usage, "the aws-sts provider mints aws:assume-role scopes, not " +
                                               core::creds::to_string(scope));
        std::string role = scope.attr("role");
        std::string actions = scope.attr("actions");
        if (role.rfind("arn:", 0) != 0)
            return core::fail(Errc::usage, "aws:assume-role needs role=ARN of the role to assume");
        if (actions.empty())
            return core::fail(
                Errc::usage, "aws:assume-role needs actions=SERVICE:ACTION|... to narrow the session to the task",
                "e.g. aws:assume-role:role=arn:aws:iam::123456789012:role/fixer,actions=s3:PutBucketPublicAccessBlock");
        const char* id = std::getenv("AWS_ACCESS_KEY_ID");
        const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
        if (!id || !secret || !*id || !*secret)
            return core::fail(
                Errc::unavailable,
                "the aws-sts provider needs base credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        const char* token = std::getenv("AWS_SESSION_TOKEN");

        json action_list = json::array();
        for (const auto& a : core::text::split(actions, '|'))
            if (!a.empty()) action_list.push_back(a);
        std::string resource = scope.attr("resource").empty() ? "*" : scope.attr("resource");
        json policy = {{"Version", "2012-10-17"},
                       {"Statement", {{{"Effect", "Allow"}, {"Action", action_list}, {"Resource", resource}}}}};
        long duration = std::max<long>(900, (c.expires_ms - c.issued_ms) / 1000);  // STS's minimum
        std::string session = "infra-agent-" + (c.task_id.empty() ? c.id : c.task_id);
        if (session.size() > 64) session.resize(64);
        std::vector<std::pair<std::string, std::string>> form = {{"Action", "AssumeRole"},
                                                                 {"Version", "2011-06-15"},
                                                                 {"RoleArn", role},
                                                                 {"RoleSessionName", session},
                                                                 {"DurationSeconds", std::to_string(duration)},
                                                                 {"Policy", policy.dump()},
                                                                 {"SourceIdentity", m_settings.source_identity}};
        int n = 0;
        for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{{"infra-agent:task", c.task_id},
                                                                                   {"infra-agent:trace", c.trace_id},
                                                                                   {"infra-agent:credential", c.id}}) {
            if (v.empty()) continue;
            ++n;
            form.emplace_back("Tags.member." + std::to_string(n) + ".Key", k);
            form.emplace_back("Tags.member." + std::to_string(n) + ".Value", v);
        }

        std::string url = m_settings.endpoint;
        auto scheme = url.find("://");
        std::string host = url.substr(scheme == std::string::npos ? 0 : scheme + 3);
        std::string path = "/";
        if (auto slash = host.find('/'); slash != std::string::npos) {
            path = host.substr(slash);
            host.resize(slash);
        }
        core::creds::sigv4::Request req;
        req.method = "POST";
        req.path = path;
        req.body = core::creds::sigv4::form_encode(form);
        std::string date = amz_date_now();
        req.headers = {
            {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}, {"host", host}, {"x-amz-date", date}};
        if (token && *token) req.headers.emplace_back("x-amz-security-token", token);
        std::string auth = core::creds::sigv4::authorization(req, {id, secret}, date, m_settings.region, "sts");

        core::http::Request hr;
        hr.method = "POST";
        hr.url = url;
        hr.body = req.body;
        hr.timeout = std::chrono::seconds(30);
        for (const auto& [k, v] : req.headers)
            if (k != "host") hr.headers.emplace_back(k, v);
        hr.headers.emplace_back("authorization", auth);
        auto resp = core::http::send(hr);
        if (!resp) return core::fail(Errc::unavailable, "cannot reach STS at " + url + ": " + resp.error().message);
        if (resp->status != 200) {
            std::string code = xml_text(resp->body, "Code"), message = xml_text(resp->body, "Message");
            Errc e = (resp->status == 403 || code == "AccessDenied" || code == "InvalidClientTokenId")
                         ? Errc::denied
                         : Errc::unavailable;
            return core::fail(e, "STS refused AssumeRole of " + role + " (HTTP " + std::to_string(resp->status) +
                                     (code.empty() ? "" : ", " + code) + ")" + (message.empty() ? "" : ": " + message));
        }
        std::string key_id = xml_text(resp->body, "AccessKeyId");
        std::string key_secret = xml_text(resp->body, "SecretAccessKey");
        std::string session_token = xml_text(resp->body, "SessionToken");
        std::string expiration = xml_text(resp->body, "Expiration");
        if (key_id.empty() || key_secret.empty() || session_token.empty())
            return core::fail(Errc::unavailable, "STS answered without credentials");
        c.secret =
            json({{"accessKeyId", key_id}, {"secretAccessKey", key_secret}, {"sessionToken", session_token}}).dump();
        if (auto exp = core::timeutil::parse_rfc3339(expiration))
            c.expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>(exp->time_since_epoch()).count();
        c.extra = {{"accessKeyId", key_id},
                   {"roleArn", role},
                   {"sessionName", session},
                   {"sessionPolicy", policy},
                   {"assumedRoleId", xml_text(resp->body, "AssumedRoleId")}};
        return {};
    }

private:
    Settings m_settings;
};

}  // namespace

std::unique_ptr<core::creds::Provider> make_aws_sts(const core::Config& config)
{
    Settings s;
    s.endpoint = config.get_or("creds.aws_sts.endpoint", s.endpoint);
    s.region = config.get_or("creds.aws_sts.region", s.region);
    s.source_identity = config.get_or("creds.aws_sts.source_identity", s.source_identity);
    return std::make_unique<AwsSts>(std::move(s));
}

}  // namespace infra::plugins::credentials
