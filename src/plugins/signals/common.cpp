#include "plugins/signals/common.hpp"

namespace infra::plugins::signals {

int marker_score(std::string_view prefix, std::initializer_list<std::string_view> markers)
{
    if (markers.size() == 0) return 0;
    int found = 0;
    for (auto m : markers)
        if (prefix.find(m) != std::string_view::npos) ++found;
    return static_cast<int>(100 * found / static_cast<int>(markers.size()));
}

bool has_any_key(const DocumentShape& s, std::initializer_list<std::string_view> keys)
{
    for (const auto& key : s.keys)
        for (auto k : keys)
            if (key == k) return true;
    return false;
}

core::Error field_error(const std::string& field, const std::string& what)
{
    return core::make_error(Errc::invalid_input, field + ": " + what);
}

Status in_one_batch(const std::string& name, const std::string& what, Sink& sink, const std::function<Status()>& fn)
{
    sink.begin();
    Status st;
    try {
        st = fn();
    } catch (const std::exception& ex) {
        st = core::fail(Errc::invalid_input, "unexpected " + what + ": " + ex.what());
    }
    if (!st) {
        sink.abort();
        core::Error e = st.error();
        e.message = "'" + name + "': " + e.message;
        return e;
    }
    sink.commit();
    return {};
}

core::signals::RecordFn tasks_by(const IngestOptions& opt, ToTask to_task)
{
    return [&opt, to_task](Record&& r, const Context& ctx, Sink& out) { return to_task(r, ctx, opt, out); };
}

long long line_of(const json& v)
{
    if (v.is_number_integer()) return v.get<long long>();
    if (v.is_number_unsigned()) return static_cast<long long>(v.get<unsigned long long>());
    if (v.is_string()) {
        try {
            return std::stoll(v.get<std::string>());
        } catch (...) {
            return 0;
        }
    }
    return 0;
}

std::map<std::string, std::string> tags_of(const json& v)
{
    std::map<std::string, std::string> out;
    if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it)
            if (it->is_string()) out[it.key()] = it->get<std::string>();
    } else if (v.is_array()) {
        for (const auto& e : v) {
            if (e.is_object()) {
                std::string k = core::signals::str(e, "Key", core::signals::str(e, "key"));
                std::string val = core::signals::str(e, "Value", core::signals::str(e, "value"));
                if (!k.empty()) out[k] = val;
            } else if (e.is_string()) {
                const auto& s = e.get_ref<const std::string&>();
                auto pos = s.find_first_of(":=");
                if (pos != std::string::npos) out[s.substr(0, pos)] = s.substr(pos + 1);
            }
        }
    }
    return out;
}

}  // namespace infra::plugins::signals
