// libFuzzer target for what distributed mode reads from outside: a queue
// URL on the first line (redis:// parsing, and the password redaction every
// backend applies to messages), and on the rest a line of a worker's output
// stream as serve reads it. None may crash; a redacted URL never keeps the
// password of a URL with user information.
#include "core/events/event.hpp"
#include "core/text.hpp"
#include "plugins/queues/redis.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string in(reinterpret_cast<const char*>(data), size);
    auto nl = in.find('\n');
    std::string url = in.substr(0, nl);
    std::string line = nl == std::string::npos ? "" : in.substr(nl + 1);

    std::string shown = infra::core::text::redact_url(url);
    if (auto a = infra::plugins::redis::parse_url(url)) {
        if (a->port < 1 || a->port > 65535 || a->db < 0) std::abort();
        // The password never survives redaction in the URL's authority
        // (the same text may well appear in its path or query).
        auto authority = shown.substr(0, shown.find_first_of("/?#", 8));
        if (!a->password.empty() && a->password != "***" && url.find('%') == std::string::npos &&
            authority.find(":" + a->password + "@") != std::string::npos)
            std::abort();
    }
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded())
        if (auto e = infra::core::events::event_from_json(j))
            if (e->type.empty() || !e->data.is_object()) std::abort();
    return 0;
}
