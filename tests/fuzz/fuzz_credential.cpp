// libFuzzer target for what reaches the credential broker from outside:
// scopes (command lines, config, policy) and tokens presented to
// `creds verify`. A scope that parses prints back to a scope that parses
// the same and covers itself; a token either verifies or is refused.
#include "core/creds/scope.hpp"
#include "plugins/credentials/providers.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace infra;
    std::string in(reinterpret_cast<const char*>(data), size);
    if (auto s = core::creds::parse_scope(in)) {
        std::string text = core::creds::to_string(*s);
        auto again = core::creds::parse_scope(text);
        if (!again || core::creds::to_string(*again) != text || !core::creds::covers(*s, *again)) std::abort();
    }
    static auto local = plugins::credentials::make_local(std::string(32, 'k'));
    if (auto claims = local->verify(in); claims && !claims->contains("jti")) std::abort();
    return 0;
}
