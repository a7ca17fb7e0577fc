#pragma once
// `chat` as one call: a message for the llm agent about a repository is made
// a task, decided by policy like any other, and run by an in-process worker;
// a question gets a reply, a requested change (tier 2) goes out as a pull
// request.

#include "core/change/open_delivery.hpp"
#include "core/site.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace infra::core::chat {

struct Request {
    std::string message;
    std::string user;                 ///< who asks; recorded, and cannot approve the task
    bool change = false;              ///< asks for a change, delivered as a pull request
    std::string sandbox;              ///< bwrap or none; empty: sandbox.mode, else bwrap
    std::filesystem::path directory;  ///< where it is asked: its checkout (else itself) is the workspace
    change::DeliveryOverrides delivery;
    PolicySources policies;
    /// Told once the agent starts; may be null.
    std::function<void()> thinking;
};

struct Answer {
    std::string task_id;
    /// Not empty when policy wants approvals first: the groups that must
    /// approve; the task waits in the queue and nothing else is set.
    std::vector<std::string> approvals;
    std::string reply;
    nlohmann::json pull_request;  ///< the pull request a change went out as
};

/// Fails denied when policy denies the chat, unavailable when the agent did
/// not answer, usage when no model is configured.
Result<Answer> ask(const Site& site, Request request);

}  // namespace infra::core::chat
