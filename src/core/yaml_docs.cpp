#include "core/yaml_docs.hpp"

namespace infra::core {
namespace {

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
            if (is_marker(line, "---") && line.size() > 4) cur.text = std::string(line.size(), ' ').replace(4, std::string::npos, line.substr(4)) + "\n";
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

}  // namespace infra::core
