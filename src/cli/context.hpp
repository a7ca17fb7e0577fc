#pragma once
// What every command shares: global flags, the resolved state home and
// configuration, core's registries, and the output conventions (data on
// stdout, messages on stderr, --json, NO_COLOR).

#include "core/agent/agent.hpp"
#include "core/change/forges.hpp"
#include "core/config.hpp"
#include "core/creds/broker.hpp"
#include "core/home.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"
#include "core/signals/signal.hpp"
#include "core/site.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace infra::cli {

/// What a command prints: data for programs and people alike, or one value
/// for a person.
enum class Output { data, value };

/// The version of every record's shape (its "formatVersion").
constexpr int k_format_version = 1;

/// Flags accepted by every command.
struct GlobalOptions {
    std::string home;
    std::string config;
    bool json = false;
    std::string log_level;
    std::string log_format;
    bool quiet = false;
    int verbose = 0;
};

class Context {
public:
    Context();

    GlobalOptions& globals() { return m_globals; }

    /// Applies the logging flags and configuration; called once flags are parsed.
    void setup_logging();

    /// The state home, resolved on first use.
    const core::Home& home();
    /// The configuration, loaded on first use; a broken config.yaml is an error.
    core::Result<const core::Config*> config();

    core::signals::Registry& signals() { return m_signals; }
    core::queue::Registry& queues() { return m_queues; }
    core::agent::Registry& agents() { return m_agents; }
    core::creds::Registry& credentials() { return m_credentials; }
    core::change::ForgeRegistry& forges() { return m_forges; }

    /// What the command runs against (configuration, home, registries); a
    /// broken config.yaml is an error.
    core::Result<core::Site> site();
    /// Calls opener(site(), args...): how a command opens what its
    /// configuration describes (a broker, a delivery, an intake ...).
    template <class Opener, class... Args>
    auto open(Opener&& opener, Args&&... args)
        -> decltype(opener(std::declval<const core::Site&>(), std::forward<Args>(args)...))
    {
        auto s = site();
        if (!s) return s.error();
        return opener(*s, std::forward<Args>(args)...);
    }

    /// The queue URL for a call: --queue, else queue.url from config (a
    /// relative sqlite path is relative to the home), else the home's state db.
    core::Result<std::string> queue_url(const std::string& flag);
    /// Opens the queue that queue_url() names.
    core::Result<std::unique_ptr<core::queue::Queue>> open_queue(const std::string& flag,
                                                                 core::events::EventSink* events = nullptr);

    /// The policy directories for a call: the installed bundle (unless
    /// no_bundle or policy.bundle is "none"), then --policies dirs, else
    /// policy.dirs from config, else <home>/policies when it exists.
    core::Result<std::vector<std::filesystem::path>> policy_dirs(const std::vector<std::string>& flag_dirs,
                                                                 bool no_bundle);

    /// Where compiled policies are cached: policy.cache from config ("none"
    /// turns it off), else $XDG_CACHE_HOME/infra-agent/policies.
    std::filesystem::path policy_cache_dir();

    /// The one rule for choosing a command's output: data (lists, streams,
    /// results) is JSON with --json or when stdout is not a terminal; a value
    /// shown to a person (version, init, config get) is JSON only with --json.
    bool json(Output kind = Output::data) const { return m_globals.json || (kind == Output::data && !m_stdout_tty); }
    bool stdout_is_tty() const { return m_stdout_tty; }
    bool stderr_is_tty() const { return m_stderr_tty; }
    bool color() const;

    /// Writes one document as a line of stdout whose shape is defined
    /// elsewhere: an AgentTask (CLI.md's shape, its "type" the task type,
    /// read back by the next command of a pipeline) or a standard format (an
    /// OTLP request). Everything else a command writes is a record().
    void emit(const nlohmann::json& j);
    /// Writes one record as a line of stdout: "type" names what it is
    /// (summary, result, task, credential ...) and "formatVersion" its shape's
    /// version; fields may not use either name.
    void record(std::string_view type, nlohmann::json fields);
    /// Writes text to stdout as it is.
    void print(std::string_view text);

    /// Prints an error in git's style and returns its exit code.
    int fail(const core::Error& e);
    /// Prints a warning.
    void warn(const std::string& message);
    /// Prints an informational message unless -q.
    void note(const std::string& message);

    /// Registers what a (sub)command does once the command line is parsed.
    void on_run(const void* command, std::function<int()> action) { m_actions[command] = std::move(action); }
    /// The action of a command, or nullptr for a group without one.
    const std::function<int()>* action(const void* command) const
    {
        auto it = m_actions.find(command);
        return it == m_actions.end() ? nullptr : &it->second;
    }

private:
    GlobalOptions m_globals;
    std::optional<core::Home> m_home;
    std::optional<core::Config> m_config;
    core::signals::Registry m_signals;
    core::queue::Registry m_queues;
    core::agent::Registry m_agents;
    core::creds::Registry m_credentials;
    core::change::ForgeRegistry m_forges;
    bool m_stdout_tty = false;
    bool m_stderr_tty = false;
    std::map<const void*, std::function<int()>> m_actions;
};

}  // namespace infra::cli
