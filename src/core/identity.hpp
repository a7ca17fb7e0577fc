#pragma once
// People are one namespace: whoever runs `approve --as NAME`, the name of
// an API token of serve, and a forge login (a webhook's sender) name the
// same person when they are the same after trimming and ASCII case-folding.
// Every comparison of who asked, who approves and who is a member of an
// approval group goes through here, so that "Alice" can never approve what
// "alice" asked for.

#include <string>
#include <string_view>

namespace infra::core::identity {

/// The form a name is compared in: without surrounding white space, ASCII
/// letters in lower case (forge logins and token names are ASCII).
std::string canonical(std::string_view name);

/// Whether a and b name the same person. An empty (or blank) name is
/// nobody, and nobody is never the same as anyone.
bool same(std::string_view a, std::string_view b);

}  // namespace infra::core::identity
