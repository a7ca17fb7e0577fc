#include "core/identity.hpp"

#include "core/text.hpp"

namespace infra::core::identity {

std::string canonical(std::string_view name)
{
    return text::lower(text::trim(name));
}

bool same(std::string_view a, std::string_view b)
{
    std::string x = canonical(a);
    return !x.empty() && x == canonical(b);
}

}  // namespace infra::core::identity
