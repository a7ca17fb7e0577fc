#pragma once
// Forges: where pull requests are opened.

#include "core/change/forge.hpp"

#include <memory>

namespace infra::plugins::forges {

/// Pull requests recorded in the state db only.
std::unique_ptr<core::change::Forge> make_local(core::change::PrStore& store);

}  // namespace infra::plugins::forges
