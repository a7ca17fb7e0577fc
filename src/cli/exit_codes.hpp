#pragma once
// The exit codes of CLI.md, and how core's errors map to them.

#include "core/result.hpp"

namespace infra::cli::exit_code {

constexpr int ok = 0;
constexpr int failure = 1;
constexpr int changes = 2;
constexpr int denied = 3;
constexpr int pending = 4;
constexpr int usage = 64;
constexpr int data = 65;
constexpr int internal = 70;

/// The exit code for an error of core.
inline int for_error(const core::Error& e)
{
    switch (e.code) {
    case core::Errc::invalid_input:
    case core::Errc::unauthenticated:
        return data;
    case core::Errc::usage:
        return usage;
    case core::Errc::denied:
        return denied;
    case core::Errc::pending:
        return pending;
    case core::Errc::internal:
        return internal;
    default:
        return failure;
    }
}

}  // namespace infra::cli::exit_code
