#pragma once
// Factories of the built-in signal parsers.

#include "core/signals/signal.hpp"

#include <memory>

namespace infra::plugins::signals {

std::unique_ptr<core::signals::SignalParser> make_github();
std::unique_ptr<core::signals::SignalParser> make_alertmanager();
std::unique_ptr<core::signals::SignalParser> make_pagerduty();
std::unique_ptr<core::signals::SignalParser> make_cloudwatch();
std::unique_ptr<core::signals::SignalParser> make_checkov();
std::unique_ptr<core::signals::SignalParser> make_prowler();
std::unique_ptr<core::signals::SignalParser> make_trivy();
std::unique_ptr<core::signals::SignalParser> make_tfsec();
std::unique_ptr<core::signals::SignalParser> make_sarif();
std::unique_ptr<core::signals::SignalParser> make_chat();
std::unique_ptr<core::signals::SignalParser> make_api();
std::unique_ptr<core::signals::SignalParser> make_schedule();

}  // namespace infra::plugins::signals
