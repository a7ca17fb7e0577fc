#include "core/hcl/hcl.hpp"

#include <algorithm>
#include <cctype>

namespace infra::core::hcl {
namespace {

bool ident_start(char c)
{
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool ident_char(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

class Parser {
public:
    Parser(std::string_view text, const std::string& name) : t(text), m_name(name)
    {
        m_lines.push_back(0);
        for (std::size_t i = 0; i < t.size(); ++i)
            if (t[i] == '\n') m_lines.push_back(i + 1);
    }

    Status body(Body& out, bool top, std::size_t& close, int depth)
    {
        if (depth > 64) return err("blocks nested too deeply");
        for (;;) {
            skip_all();
            if (p >= t.size()) {
                if (!top) return err("missing '}' before the end of the file");
                return {};
            }
            if (t[p] == '}') {
                if (top) return err("unexpected '}'");
                close = p;
                ++p;
                return {};
            }
            std::size_t line_start = line_begin(p);
            std::size_t name_start = p;
            if (!ident_start(t[p])) return err("expected an attribute or a block");
            while (p < t.size() && ident_char(t[p])) ++p;
            std::string name(t.substr(name_start, p - name_start));
            skip_inline();
            if (p < t.size() && t[p] == '=' && !(p + 1 < t.size() && t[p + 1] == '=')) {
                Attribute a;
                a.name = std::move(name);
                a.line_start = line_start;
                a.name_start = name_start;
                a.eq = p;
                a.line = line_of(name_start);
                ++p;
                skip_inline();
                a.expr_start = p;
                auto end = expression();
                if (!end) return end.error();
                a.expr_end = *end;
                if (a.expr_end == a.expr_start) return err("expected a value after '='");
                a.end = finish_line();
                out.order.emplace_back(false, out.attributes.size());
                out.attributes.push_back(std::move(a));
                continue;
            }
            Block b;
            b.type = std::move(name);
            b.line_start = line_start;
            b.line = line_of(name_start);
            b.indent = std::string(t.substr(line_start, name_start - line_start));
            while (p < t.size() && t[p] != '{') {
                if (t[p] == '"') {
                    std::size_t s = ++p;
                    while (p < t.size() && t[p] != '"' && t[p] != '\n') {
                        if (t[p] == '\\') ++p;
                        ++p;
                    }
                    if (p >= t.size() || t[p] != '"') return err("unterminated block label");
                    b.labels.emplace_back(t.substr(s, p - s));
                    ++p;
                } else if (ident_start(t[p])) {
                    std::size_t s = p;
                    while (p < t.size() && ident_char(t[p])) ++p;
                    b.labels.emplace_back(t.substr(s, p - s));
                } else {
                    return err("expected a block label or '{' after '" + b.type + "'");
                }
                skip_inline();
            }
            if (p >= t.size()) return err("expected '{' after '" + b.type + "'");
            b.open = p++;
            if (auto st = body(b.body, false, b.close, depth + 1); !st) return st;
            b.end_line = line_of(b.close);
            b.end = finish_line();
            out.order.emplace_back(true, out.blocks.size());
            out.blocks.push_back(std::move(b));
        }
    }

    std::size_t p = 0;

private:
    Error err(const std::string& what) const
    {
        int line = line_of(std::min(p, t.size()));
        std::size_t col = std::min(p, t.size()) - m_lines[static_cast<std::size_t>(line - 1)] + 1;
        return make_error(Errc::invalid_input, "cannot parse '" + m_name + "': line " + std::to_string(line) +
                                                   ", column " + std::to_string(col) + ": " + what);
    }

    int line_of(std::size_t off) const
    {
        return static_cast<int>(std::upper_bound(m_lines.begin(), m_lines.end(), off) - m_lines.begin());
    }
    std::size_t line_begin(std::size_t off) const { return m_lines[static_cast<std::size_t>(line_of(off) - 1)]; }

    // Spaces, tabs and comments on this line (a /* */ comment may span lines).
    void skip_inline()
    {
        while (p < t.size()) {
            char c = t[p];
            if (c == ' ' || c == '\t' || c == '\r') ++p;
            else if (c == '#' || (c == '/' && p + 1 < t.size() && t[p + 1] == '/'))
                while (p < t.size() && t[p] != '\n') ++p;
            else if (c == '/' && p + 1 < t.size() && t[p + 1] == '*') {
                auto e = t.find("*/", p + 2);
                p = e == std::string_view::npos ? t.size() : e + 2;
            } else return;
        }
    }
    void skip_all()
    {
        for (;;) {
            skip_inline();
            if (p < t.size() && t[p] == '\n') ++p;
            else return;
        }
    }
    // After an item: the rest of the line (a comment) and its newline.
    std::size_t finish_line()
    {
        skip_inline();
        if (p < t.size() && t[p] == '\n') ++p;
        return p;
    }

    Result<std::size_t> expression()
    {
        int depth = 0;
        std::size_t last = p;  // one past the last character that is not space or comment
        while (p < t.size()) {
            char c = t[p];
            if (c == '"') {
                if (auto st = string_literal(); !st) return st.error();
                last = p;
            } else if (c == '<' && p + 1 < t.size() && t[p + 1] == '<' && p + 2 < t.size() &&
                       (ident_start(t[p + 2]) || t[p + 2] == '-')) {
                if (auto st = heredoc(); !st) return st.error();
                last = p;
                if (depth == 0) return last;
            } else if (c == '#' || (c == '/' && p + 1 < t.size() && (t[p + 1] == '/' || t[p + 1] == '*'))) {
                skip_inline();
            } else if (c == '(' || c == '[' || c == '{') {
                ++depth;
                last = ++p;
            } else if (c == ')' || c == ']' || c == '}') {
                if (depth == 0) return last;
                --depth;
                last = ++p;
            } else if (c == '\n') {
                if (depth == 0) return last;
                ++p;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                ++p;
            } else {
                last = ++p;
            }
        }
        if (depth != 0) return err("unclosed bracket in an expression");
        return last;
    }

    // A quoted string with ${...} and %{...} templates, which may hold strings.
    Status string_literal()
    {
        ++p;
        while (p < t.size()) {
            char c = t[p];
            if (c == '\\') {
                p += 2;
            } else if (c == '"') {
                ++p;
                return {};
            } else if (c == '\n') {
                return err("unterminated string");
            } else if ((c == '$' || c == '%') && p + 1 < t.size() && t[p + 1] == '{') {
                if (p > 0 && t[p - 1] == c) {  // $${ and %%{ are escapes
                    ++p;
                    continue;
                }
                p += 2;
                int depth = 1;
                while (p < t.size() && depth > 0) {
                    if (t[p] == '"') {
                        if (auto st = string_literal(); !st) return st;
                        continue;
                    }
                    if (t[p] == '{') ++depth;
                    else if (t[p] == '}') --depth;
                    ++p;
                }
            } else {
                ++p;
            }
        }
        return err("unterminated string");
    }

    Status heredoc()
    {
        p += 2;
        if (p < t.size() && t[p] == '-') ++p;
        std::size_t s = p;
        while (p < t.size() && ident_char(t[p])) ++p;
        std::string marker(t.substr(s, p - s));
        while (p < t.size() && t[p] != '\n') ++p;
        while (p < t.size()) {
            ++p;  // the newline
            std::size_t line_end = t.find('\n', p);
            if (line_end == std::string_view::npos) line_end = t.size();
            std::string_view line = t.substr(p, line_end - p);
            while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
            p = line_end;
            if (line == marker) return {};
        }
        return err("heredoc <<" + marker + " has no closing " + marker);
    }

    std::string_view t;
    std::string m_name;
    std::vector<std::size_t> m_lines;
};

// Alignment edits of one body and, recursively, of its blocks.
void align_body(std::string_view text, const Body& body,
                std::vector<std::pair<std::size_t, std::pair<std::size_t, std::string>>>& edits)
{
    std::vector<const Attribute*> group;
    auto flush = [&] {
        std::size_t width = 0;
        for (auto* a : group) width = std::max(width, a->name.size());
        for (auto* a : group) {
            std::size_t name_end = a->name_start + a->name.size();
            std::string want(width - a->name.size() + 1, ' ');
            if (text.substr(name_end, a->eq - name_end) != want) edits.push_back({name_end, {a->eq, want}});
        }
        group.clear();
    };
    int prev_line = -10;
    for (auto [is_block, i] : body.order) {
        if (is_block) {
            flush();
            align_body(text, body.blocks[i].body, edits);
            prev_line = -10;
            continue;
        }
        const Attribute& a = body.attributes[i];
        auto expr = a.expr(text);
        auto lines = std::count(expr.begin(), expr.end(), '\n');
        // A blank line, a comment line, a block or a bracketed value on
        // several lines ends a group; a heredoc stays in its group.
        bool heredoc = expr.substr(0, 2) == "<<";
        if (a.line != prev_line + 1 || (lines > 0 && !heredoc)) flush();
        if (lines > 0 && !heredoc) {
            prev_line = -10;
            continue;
        }
        group.push_back(&a);
        prev_line = a.line + static_cast<int>(lines);
    }
    flush();
}

}  // namespace

const Attribute* Block::attribute(std::string_view name) const
{
    for (const auto& a : body.attributes)
        if (a.name == name) return &a;
    return nullptr;
}

const Block* Block::block(std::string_view type) const
{
    for (const auto& b : body.blocks)
        if (b.type == type) return &b;
    return nullptr;
}

std::string Block::address() const
{
    if (type == "resource" && labels.size() == 2) return labels[0] + "." + labels[1];
    if (type == "data" && labels.size() == 2) return "data." + labels[0] + "." + labels[1];
    if (type == "module" && labels.size() == 1) return "module." + labels[0];
    return type;
}

const Block* File::resource(std::string_view type, std::string_view name) const
{
    for (const auto& b : body.blocks)
        if (b.type == "resource" && b.labels.size() == 2 && b.labels[0] == type && b.labels[1] == name) return &b;
    return nullptr;
}

std::vector<const Block*> File::resources(std::string_view type) const
{
    std::vector<const Block*> out;
    for (const auto& b : body.blocks)
        if (b.type == "resource" && b.labels.size() == 2 && b.labels[0] == type) out.push_back(&b);
    return out;
}

Result<File> parse(std::string text, const std::string& name)
{
    File f;
    f.text = std::move(text);
    Parser parser(f.text, name);
    std::size_t close = 0;
    if (auto st = parser.body(f.body, true, close, 0); !st) return st.error();
    return f;
}

std::string indent_lines(std::string_view text, std::string_view indent)
{
    std::string out;
    bool at_start = true;
    for (char c : text) {
        if (at_start && c != '\n') out += indent;
        out += c;
        at_start = c == '\n';
    }
    return out;
}

void Editor::set(const Block& block, std::string_view name, std::string_view expr)
{
    if (const Attribute* a = block.attribute(name)) {
        replace(a->expr_start, a->expr_end, std::string(expr));
        return;
    }
    std::string_view t = m_file.text;
    std::string inner = block.indent + "  ";
    // Before the closing brace's line when the brace stands alone on it.
    std::size_t close_line = t.rfind('\n', block.close);
    close_line = close_line == std::string_view::npos ? 0 : close_line + 1;
    bool alone = t.substr(close_line, block.close - close_line).find_first_not_of(" \t") == std::string_view::npos;
    std::string line = inner + std::string(name) + " = " + std::string(expr) + "\n";
    if (alone) m_edits.push_back({close_line, close_line, line});
    else m_edits.push_back({block.close, block.close, "\n" + line + block.indent});
}

void Editor::remove(const Attribute& attr)
{
    m_edits.push_back({attr.line_start, attr.end, ""});
}

void Editor::remove(const Block& block)
{
    m_edits.push_back({block.line_start, block.end, ""});
}

void Editor::replace(std::size_t start, std::size_t end, std::string text)
{
    m_edits.push_back({start, end, std::move(text)});
}

void Editor::add_block(const Block& parent, std::string_view text)
{
    std::string_view t = m_file.text;
    std::size_t close_line = t.rfind('\n', parent.close);
    close_line = close_line == std::string_view::npos ? 0 : close_line + 1;
    std::string body = indent_lines(text, parent.indent + "  ");
    if (!body.empty() && body.back() != '\n') body += '\n';
    m_edits.push_back({close_line, close_line, body});
}

void Editor::add_after(const Block& block, std::string_view text)
{
    std::string add = "\n" + std::string(text);
    if (add.back() != '\n') add += '\n';
    std::size_t at = block.end;
    if (at > 0 && m_file.text[at - 1] != '\n') add = "\n" + add;
    m_edits.push_back({at, at, add});
}

Result<std::string> Editor::apply(const std::string& name) const
{
    std::vector<Edit> edits = m_edits;
    // Later edits first; among edits at one place, keep the order they were made.
    std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.start > b.start; });
    std::string out = m_file.text;
    for (std::size_t i = 0; i < edits.size();) {
        // Insertions at the same offset go in the order they were made.
        std::size_t j = i;
        std::string combined;
        while (j < edits.size() && edits[j].start == edits[i].start && edits[j].end == edits[j].start &&
               edits[i].end == edits[i].start)
            combined += edits[j++].text;
        if (j > i) {
            out.insert(edits[i].start, combined);
            i = j;
            continue;
        }
        out.replace(edits[i].start, edits[i].end - edits[i].start, edits[i].text);
        ++i;
    }
    auto check = parse(out, name);
    if (!check) return fail(Errc::internal, "an edit of '" + name + "' made it unparsable: " + check.error().message);
    // Align the '=' of the blocks that were edited or added, as terraform
    // fmt would; the rest of the file stays exactly as it was written.
    auto key = [](const Block& b) {
        std::string k = b.type;
        for (const auto& l : b.labels) k += "\x1f" + l;
        return k;
    };
    std::vector<std::string> touched;
    for (const auto& e : edits) {
        for (const auto& b : m_file.body.blocks)
            if (e.start >= b.line_start && e.start <= b.end) touched.push_back(key(b));
        if (auto added = parse(e.text, name))
            for (const auto& b : added->body.blocks) touched.push_back(key(b));
    }
    std::vector<std::pair<std::size_t, std::pair<std::size_t, std::string>>> align;
    for (const auto& b : check->body.blocks)
        if (std::find(touched.begin(), touched.end(), key(b)) != touched.end()) align_body(out, b.body, align);
    std::sort(align.begin(), align.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (auto& [start, e] : align) out.replace(start, e.first - start, e.second);
    return out;
}

}  // namespace infra::core::hcl
