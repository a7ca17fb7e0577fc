#include "core/json_write.hpp"

#include "core/text.hpp"

#include <charconv>
#include <cstdint>

namespace infra::core::json_write {
namespace {

using nlohmann::json;

template <typename Int>
void append_integer(std::string& out, Int v)
{
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

}  // namespace

void append_string(std::string& out, std::string_view s)
{
    if (text::json_verbatim(s)) {
        out.push_back('"');
        out.append(s);
        out.push_back('"');
    } else {
        out.append(json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace));
    }
}

void append(std::string& out, const json& j)
{
    switch (j.type()) {
    case json::value_t::object: {
        out.push_back('{');
        bool first = true;
        for (const auto& [key, value] : j.get_ref<const json::object_t&>()) {
            if (!first) out.push_back(',');
            first = false;
            append_string(out, key);
            out.push_back(':');
            append(out, value);
        }
        out.push_back('}');
        return;
    }
    case json::value_t::array: {
        out.push_back('[');
        bool first = true;
        for (const auto& v : j.get_ref<const json::array_t&>()) {
            if (!first) out.push_back(',');
            first = false;
            append(out, v);
        }
        out.push_back(']');
        return;
    }
    case json::value_t::string:
        append_string(out, j.get_ref<const std::string&>());
        return;
    case json::value_t::number_integer:
        append_integer(out, j.get<std::int64_t>());
        return;
    case json::value_t::number_unsigned:
        append_integer(out, j.get<std::uint64_t>());
        return;
    case json::value_t::boolean:
        out.append(j.get<bool>() ? "true" : "false");
        return;
    case json::value_t::null:
        out.append("null");
        return;
    default:
        out.append(j.dump(-1, ' ', false, json::error_handler_t::replace));
        return;
    }
}

}  // namespace infra::core::json_write
