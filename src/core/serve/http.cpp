#include "core/serve/http.hpp"

#include "core/module.hpp"

namespace infra::core::serve::http {

Result<std::unique_ptr<Server>> open(const Limits& limits)
{
    auto address = module::symbol("http", k_open_symbol);
    if (!address) return address.error();
    auto open_fn = reinterpret_cast<OpenFn>(*address);
    std::unique_ptr<Server> server(open_fn(k_interface, &limits));
    if (!server)
        return fail(Errc::unavailable, "infra-agent's HTTP module was built for another version of infra-agent",
                    "reinstall infra-agent: the binary and its modules must come from the same build");
    return server;
}

}  // namespace infra::core::serve::http
