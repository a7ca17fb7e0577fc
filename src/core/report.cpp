#include "core/report.hpp"

#include "core/text.hpp"

#include <cstdlib>
#include <fstream>
#include <map>

namespace infra::core::report {

using nlohmann::json;

json sarif(const std::vector<Finding>& findings, const std::string& version)
{
    json rules = json::array();
    std::map<std::string, std::size_t> rule_index;
    json results = json::array();
    for (const auto& f : findings) {
        auto [it, added] = rule_index.emplace(f.rule, rules.size());
        if (added)
            rules.push_back({{"id", f.rule},
                             {"shortDescription", {{"text", f.rule_title.empty() ? f.rule : f.rule_title}}},
                             {"defaultConfiguration", {{"level", f.level}}}});
        json r = {
            {"ruleId", f.rule}, {"ruleIndex", it->second}, {"level", f.level}, {"message", {{"text", f.message}}}};
        json location = json::object();
        if (!f.file.empty()) {
            location["physicalLocation"] = {{"artifactLocation", {{"uri", f.file}, {"uriBaseId", "%SRCROOT%"}}}};
            if (f.line > 0) location["physicalLocation"]["region"] = {{"startLine", f.line}};
        }
        if (!f.resource.empty())
            location["logicalLocations"] = json::array({{{"fullyQualifiedName", f.resource}, {"kind", "resource"}}});
        if (!location.empty()) r["locations"] = json::array({location});
        // Stable across runs, so that code scanning tracks one alert per resource and rule.
        r["partialFingerprints"] = {{"infraAgent/v1", f.rule + ":" + (f.resource.empty() ? f.file : f.resource)}};
        results.push_back(std::move(r));
    }
    return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
            {"version", "2.1.0"},
            {"runs", json::array({{{"tool",
                                    {{"driver",
                                      {{"name", "infra-agent"},
                                       {"version", version},
                                       {"informationUri", "https://github.com/infra-agent/infra-agent"},
                                       {"rules", rules}}}}},
                                   {"results", results}}})}};
}

namespace {

/// Escapes for workflow commands: data (% CR LF) and properties (also : and ,).
std::string escape(const std::string& s, bool property)
{
    std::string out;
    for (char ch : s) {
        if (ch == '%') out += "%25";
        else if (ch == '\r') out += "%0D";
        else if (ch == '\n') out += "%0A";
        else if (property && ch == ':') out += "%3A";
        else if (property && ch == ',') out += "%2C";
        else out += ch;
    }
    return out;
}

}  // namespace

std::string actions_annotation(const Finding& f)
{
    std::string kind = f.level == "error" ? "error" : f.level == "note" ? "notice" : "warning";
    std::string props;
    if (!f.file.empty()) props += "file=" + escape(f.file, true);
    if (!f.file.empty() && f.line > 0) props += ",line=" + std::to_string(f.line);
    props +=
        std::string(props.empty() ? "" : ",") + "title=" + escape(f.rule_title.empty() ? f.rule : f.rule_title, true);
    return "::" + kind + " " + props + "::" + escape(f.message, false);
}

bool in_github_actions()
{
    const char* v = std::getenv("GITHUB_ACTIONS");
    return v && std::string(v) == "true";
}

void append_step_summary(const std::string& markdown)
{
    const char* path = std::getenv("GITHUB_STEP_SUMMARY");
    if (!path || !*path) return;
    std::ofstream out(path, std::ios::app);
    out << markdown;
    if (!markdown.empty() && markdown.back() != '\n') out << '\n';
}

std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows)
{
    auto cell = [](const std::string& s) {
        std::string out;
        for (char ch : s) {
            if (ch == '|') out += "\\|";
            else if (ch == '\n') out += "<br>";
            else if (ch != '\r') out += ch;
        }
        return out;
    };
    std::string t = "|";
    for (const auto& h : header) t += " " + cell(h) + " |";
    t += "\n|";
    for (std::size_t i = 0; i < header.size(); ++i) t += " --- |";
    t += "\n";
    for (const auto& r : rows) {
        t += "|";
        for (const auto& c : r) t += " " + cell(c) + " |";
        t += "\n";
    }
    return t;
}

std::optional<std::pair<std::string, int>>
locate_resource(const std::filesystem::path& root, const std::string& address, const std::filesystem::path& base)
{
    // module.m.aws_s3_bucket.b["x"] -> aws_s3_bucket, b
    std::string a = address;
    while (a.rfind("module.", 0) == 0) {
        auto dot = a.find('.', 7);
        if (dot == std::string::npos) return std::nullopt;
        a = a.substr(dot + 1);
    }
    bool data = a.rfind("data.", 0) == 0;
    if (data) a = a.substr(5);
    if (auto bracket = a.find('['); bracket != std::string::npos) a.resize(bracket);
    auto dot = a.find('.');
    if (dot == std::string::npos) return std::nullopt;
    std::string wanted =
        std::string(data ? "data" : "resource") + " \"" + a.substr(0, dot) + "\" \"" + a.substr(dot + 1) + "\"";
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
        if (entry.path().extension() != ".tf") continue;
        std::ifstream in(entry.path());
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            std::string t(text::trim(line));
            if (t.rfind(wanted, 0) == 0) {
                auto rel = std::filesystem::relative(entry.path(), base, ec);
                return std::pair{(ec || rel.empty() ? entry.path() : rel).generic_string(), n};
            }
        }
    }
    return std::nullopt;
}

}  // namespace infra::core::report
