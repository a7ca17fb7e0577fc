#include "core/yaml_docs.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cctype>
#include <cstdlib>

namespace infra::core {
namespace {

bool yaml11_boolean(const std::string& s)
{
    static const std::array<const char*, 16> spellings = {"yes", "Yes", "YES", "no",  "No",   "NO",   "on",    "On",
                                                          "ON",  "off", "Off", "OFF", "True", "TRUE", "False", "FALSE"};
    for (const char* b : spellings)
        if (s == b) return true;
    return false;
}

bool is_marker(std::string_view line, std::string_view marker)
{
    if (line.substr(0, 3) != marker) return false;
    return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

}  // namespace

std::vector<YamlDocument> split_yaml_documents(std::string_view text)
{
    std::vector<YamlDocument> docs;
    YamlDocument cur;
    int line_no = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        if (is_marker(line, "---") || is_marker(line, "...")) {
            if (!cur.text.empty()) docs.push_back(std::move(cur));
            cur = YamlDocument{};
            // Content after "--- " on the same line belongs to the next document.
            cur.first_line = line_no;
            if (is_marker(line, "---") && line.size() > 4)
                cur.text = std::string(line.size(), ' ').replace(4, std::string::npos, line.substr(4)) + "\n";
            else cur.first_line = line_no + 1;
        } else {
            if (cur.text.empty() && docs.empty() && line_no == 0) cur.first_line = 0;
            cur.text.append(line);
            cur.text.push_back('\n');
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
        ++line_no;
    }
    if (cur.text.find_first_not_of(" \t\r\n") != std::string::npos) docs.push_back(std::move(cur));
    return docs;
}

nlohmann::json yaml_scalar(const YAML::Node& scalar)
{
    const std::string& s = scalar.Scalar();
    if (scalar.Tag() == "!") return s;  // quoted
    if (s == "true") return true;
    if (s == "false") return false;
    if (s == "null" || s == "~") return nullptr;
    if (yaml11_boolean(s))
        throw YAML::Exception(scalar.Mark(),
                              "'" + s + "' is not a boolean: write true or false (or quote it for text)");
    if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || (s[0] == '-' && s.size() > 1))) {
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 10);
        if (end && *end == '\0') return v;
        double d = std::strtod(s.c_str(), &end);
        if (end && *end == '\0') return d;
    }
    return s;
}

}  // namespace infra::core
