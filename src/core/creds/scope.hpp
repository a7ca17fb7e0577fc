#pragma once
// Credential scopes: what a credential may be used for, as text a person can
// read in a ledger and a policy can match.
//
//   KIND:ACTION[:KEY=VALUE,KEY=VALUE...]
//   git:push:repo=acme/infra,branch=infra-agent/*
//   aws:assume-role:role=arn:aws:iam::123456789012:role/fixer
//
// Values may hold '*' globs and run to the next ',', so an ARN's own colons
// need no escaping.

#include "core/result.hpp"

#include <map>
#include <string>
#include <string_view>

namespace infra::core::creds {

struct Scope {
    std::string kind;                          ///< git, forge, aws ...
    std::string action;                        ///< push, pr, assume-role ... or *
    std::map<std::string, std::string> attrs;  ///< repo, branch, role ...

    /// The value of key, or "" when the scope does not constrain it.
    std::string attr(const std::string& key) const;
};

/// Parses a scope; the error names the position and what was expected.
Result<Scope> parse_scope(std::string_view text);

/// The canonical text of a scope: attributes sorted by key.
std::string to_string(const Scope& s);

/// True when a credential granted for `granted` may be used for `wanted`:
/// same kind, the same action (or a granted *), and every attribute the
/// grant constrains is present in wanted and matches the grant's glob.
bool covers(const Scope& granted, const Scope& wanted);

}  // namespace infra::core::creds
