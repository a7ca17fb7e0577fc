#include "plugins/agents/builtin/values.hpp"

#include "core/text.hpp"

namespace infra::plugins::agents::builtin {

using core::hcl::Attribute;
using core::hcl::Block;

std::string expr_of(const Module& m, const std::string& file, const Block& b, const char* attr)
{
    const Attribute* a = b.attribute(attr);
    return a ? std::string(a->expr(m.files.at(file).text)) : std::string();
}

std::string unquote(std::string s)
{
    s = std::string(core::text::trim(s));
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    // "${var.x}" is var.x written the old way.
    if (s.size() > 3 && s.rfind("${", 0) == 0 && s.back() == '}' && s.find("${", 2) == std::string::npos)
        s = s.substr(2, s.size() - 3);
    return s;
}

std::string resolve(const Module& m, std::string e)
{
    e = unquote(e);
    if (e.rfind("var.", 0) != 0) return e;
    std::string name = e.substr(4);
    for (const auto& [path, f] : m.files)
        for (const auto& b : f.body.blocks)
            if (b.type == "variable" && b.labels.size() == 1 && b.labels[0] == name)
                if (const Attribute* d = b.attribute("default")) return unquote(std::string(d->expr(f.text)));
    return e;
}

bool unknown(const std::string& v)
{
    return v.rfind("var.", 0) == 0 || v.rfind("local.", 0) == 0 || v.find('.') != std::string::npos;
}

const Block* sub_block(const Block& b, std::string_view type)
{
    if (const Block* x = b.block(type)) return x;
    for (const auto& d : b.body.blocks)
        if (d.type == "dynamic" && d.labels.size() == 1 && d.labels[0] == type)
            if (const Block* content = d.block("content")) return content;
    return nullptr;
}

namespace {

// body holds b (at any depth).
bool contains(const core::hcl::Body& body, const Block& b)
{
    for (const auto& x : body.blocks)
        if (&x == &b || contains(x.body, b)) return true;
    return false;
}

}  // namespace

const std::string& file_of(const Module& m, const Block& b)
{
    for (const auto& [path, f] : m.files)
        if (contains(f.body, b)) return path;
    static const std::string k_none;
    return k_none;
}

}  // namespace infra::plugins::agents::builtin
