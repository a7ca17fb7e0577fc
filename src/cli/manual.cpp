#include "cli/manual.hpp"

#include "core/text.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace infra::cli {
namespace {

const char* k_global_group = "Global options";

/// Values worth completing for options that take one of a few words.
const std::map<std::string, std::vector<std::string>>& known_choices()
{
    static const std::map<std::string, std::vector<std::string>> k = {
        {"--log-level", {"trace", "debug", "info", "warn", "error", "off"}},
        {"--log-format", {"text", "json"}},
        {"--sandbox", {"bwrap", "none"}},
        {"--forge", {"local", "github", "gitlab"}},
        {"--format", {"text", "json", "sarif", "markdown"}},
        {"--events", {"state", "stdout", "queue", "none"}},
        {"--state", {"queued", "running", "pending-approval", "succeeded", "failed", "dead", "denied", "cancelled"}},
        {"--priority", {"low", "normal", "high", "critical"}},
        {"--provider", {"local", "github-app", "aws-sts", "env", "broker"}},
    };
    return k;
}

const char* k_exit_codes[][2] = {
    {"0", "success; for policy eval: allowed"},
    {"1", "runtime failure (network, git, sandbox, agent error)"},
    {"2", "changes found, with --detailed-exitcode: drift found drift, validate found a plan with changes"},
    {"3", "denied by policy, or validation failed"},
    {"4", "pending: waits for human approval"},
    {"64", "usage error: unknown command or flag, missing argument"},
    {"65", "invalid input data: malformed JSON or YAML, unknown signal format, schema violation"},
};

OptionInfo option_info(const CLI::Option* o)
{
    OptionInfo info;
    for (const auto& l : o->get_lnames()) info.names.push_back("--" + l);
    for (const auto& s : o->get_snames()) info.names.push_back("-" + s);
    info.description = o->get_description();
    info.takes_value = o->get_expected_min() > 0;
    if (!info.names.empty())
        if (auto it = known_choices().find(info.names.front()); it != known_choices().end()) info.choices = it->second;
    return info;
}

std::vector<CLI::App*> visible_subcommands(CLI::App& app)
{
    return app.get_subcommands([](CLI::App* a) { return !a->get_group().empty(); });
}

CommandInfo walk(CLI::App& app, const std::string& path)
{
    CommandInfo c;
    c.path = path;
    c.name = app.get_name();
    c.description = app.get_description();
    c.footer = app.get_footer();
    for (const CLI::Option* o : app.get_options()) {
        if (o->get_group() == k_global_group || o->get_group().empty()) continue;
        if (o->get_positional()) {
            c.positionals.emplace_back(o->get_name(), o->get_description());
            continue;
        }
        c.options.push_back(option_info(o));
    }
    for (CLI::App* sub : visible_subcommands(app))
        c.subcommands.push_back(walk(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name()));
    return c;
}

std::string prefix_of(CLI::App& cmd)
{
    std::string prefix;
    for (CLI::App* p = cmd.get_parent(); p; p = p->get_parent())
        prefix = p->get_name() + (prefix.empty() ? "" : " ") + prefix;
    return prefix;
}

std::string path_of(const CLI::App& cmd)
{
    std::string path;
    for (const CLI::App* p = &cmd; p && p->get_parent(); p = p->get_parent())
        path = p->get_name() + (path.empty() ? "" : " ") + path;
    return path;
}

std::vector<std::pair<std::string, std::string>> examples_for_path(const std::string& path)
{
    if (path.empty()) return examples_of("");
    std::string top = path.substr(0, path.find(' '));
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : examples_of(top))
        if (path == top || e.first.rfind("infra-agent " + path, 0) == 0) out.push_back(e);
    return out;
}

std::string plain_tail(const std::vector<std::pair<std::string, std::string>>& examples)
{
    std::string s;
    if (!examples.empty()) {
        s += "\nExamples:\n";
        for (const auto& [line, what] : examples) s += "  $ " + line + "\n      " + what + "\n";
    }
    s += "\nExit status:\n";
    for (const auto& e : k_exit_codes)
        s += "  " + std::string(e[0]) + std::string(4 - std::string(e[0]).size(), ' ') + e[1] + "\n";
    return s;
}

/// Text made safe for roff: backslashes, hyphens, and lines starting with . or '.
std::string roff(const std::string& text)
{
    std::string out;
    bool line_start = true;
    for (char ch : text) {
        if (line_start && (ch == '.' || ch == '\'')) out += "\\&";
        if (ch == '\\') out += "\\e";
        else if (ch == '-') out += "\\-";
        else out += ch;
        line_start = ch == '\n';
    }
    return out;
}

std::string upper(std::string s)
{
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}

std::string synopsis(const CommandInfo& c)
{
    std::string s = ".B infra\\-agent" + (c.path.empty() ? std::string() : " " + roff(c.path)) + "\n";
    s += "[\\fIOPTIONS\\fR]";
    if (!c.subcommands.empty()) s += " \\fICOMMAND\\fR";
    for (const auto& [name, _] : c.positionals) s += " [\\fI" + roff(name) + "\\fR]";
    return s + "\n";
}

std::string options_roff(const std::vector<OptionInfo>& options)
{
    std::string s;
    for (const auto& o : options) {
        std::string names;
        for (const auto& n : o.names) names += (names.empty() ? "" : ", ") + std::string("\\fB") + roff(n) + "\\fR";
        s += ".TP\n" + names + (o.takes_value ? " \\fIVALUE\\fR" : "") + "\n" + roff(o.description) + "\n";
    }
    return s;
}

std::string description_roff(const CommandInfo& c)
{
    std::string s = roff(c.description) + "\n";
    if (!c.footer.empty()) s += ".PP\n.nf\n" + roff(c.footer) + "\n.fi\n";
    return s;
}

void section(std::string& page, const std::string& name)
{
    page += ".SH " + name + "\n";
}

std::string examples_roff(const std::vector<std::pair<std::string, std::string>>& examples)
{
    std::string s;
    for (const auto& [line, what] : examples) s += ".TP\n.B " + roff(line) + "\n" + roff(what) + "\n";
    return s;
}

std::string exit_roff()
{
    std::string s;
    for (const auto& e : k_exit_codes) s += ".TP\n.B " + std::string(e[0]) + "\n" + roff(e[1]) + "\n";
    return s;
}

const CommandInfo* find(const CommandInfo& root, const std::string& name)
{
    for (const auto& c : root.subcommands)
        if (c.name == name) return &c;
    return nullptr;
}

/// Every command path ("" for the root, "/policy", "/policy/eval"), depth first.
void paths(const CommandInfo& c, const std::string& prefix,
           std::vector<std::pair<std::string, const CommandInfo*>>& out)
{
    out.emplace_back(prefix, &c);
    for (const auto& s : c.subcommands) paths(s, prefix + "/" + s.name, out);
}

std::string shell_quote(const std::string& s)
{
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

std::string words(const std::vector<std::string>& list)
{
    std::string s;
    for (const auto& w : list) s += (s.empty() ? "" : " ") + w;
    return s;
}

/// Every command path with its command, and the alternatives of a case
/// pattern that matches any of them ('/policy'|'/policy/eval'|...).
std::pair<std::vector<std::pair<std::string, const CommandInfo*>>, std::string> all_paths(const CommandInfo& root)
{
    std::vector<std::pair<std::string, const CommandInfo*>> all;
    paths(root, "", all);
    std::string known;
    for (const auto& [p, c] : all)
        if (!p.empty()) known += (known.empty() ? "" : "|") + shell_quote(p);
    return {std::move(all), std::move(known)};
}

/// The options that take a value, grouped by the words they complete to
/// ("" for file names): choices -> option names.
std::map<std::string, std::vector<std::string>>
valued_options(const std::vector<std::pair<std::string, const CommandInfo*>>& all,
               const std::vector<OptionInfo>& globals)
{
    std::map<std::string, std::vector<std::string>> valued;  // option -> choices (empty: files)
    for (const auto& o : globals)
        if (o.takes_value)
            for (const auto& n : o.names) valued[n] = o.choices;
    for (const auto& [p, c] : all)
        for (const auto& o : c->options)
            if (o.takes_value)
                for (const auto& n : o.names) valued.emplace(n, o.choices);
    std::map<std::string, std::vector<std::string>> by_choices;
    for (const auto& [name, choices] : valued) by_choices[words(choices)].push_back(name);
    return by_choices;
}

std::string bash_script(const CommandInfo& root, const std::vector<OptionInfo>& globals)
{
    auto [all, known] = all_paths(root);
    std::string s = "# bash completion for infra-agent, generated by `infra-agent completion bash`.\n"
                    "_infra_agent() {\n"
                    "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" path=\"\" i w\n"
                    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
                    "        w=\"${COMP_WORDS[i]}\"\n"
                    "        case \"$path/$w\" in\n"
                    "            " +
                    known +
                    ") path=\"$path/$w\" ;;\n"
                    "        esac\n"
                    "    done\n"
                    "    case \"$prev\" in\n";
    for (const auto& [choices, names] : valued_options(all, globals)) {
        std::string pattern;
        for (const auto& n : names) pattern += (pattern.empty() ? "" : "|") + n;
        if (choices.empty()) s += "        " + pattern + ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n";
        else
            s += "        " + pattern + ") COMPREPLY=($(compgen -W " + shell_quote(choices) +
                 " -- \"$cur\")); return ;;\n";
    }
    s += "    esac\n    local opts\n    case \"$path\" in\n";
    std::vector<std::string> global_names;
    for (const auto& o : globals)
        for (const auto& n : o.names) global_names.push_back(n);
    for (const auto& [p, c] : all) {
        std::vector<std::string> w;
        for (const auto& sub : c->subcommands) w.push_back(sub.name);
        for (const auto& o : c->options)
            for (const auto& n : o.names) w.push_back(n);
        w.insert(w.end(), global_names.begin(), global_names.end());
        s += "        " + shell_quote(p) + ") opts=" + shell_quote(words(w)) + " ;;\n";
    }
    s += "    esac\n"
         "    if [[ \"$path\" == /help* ]]; then opts=\"$opts " +
         words([&] {
             std::vector<std::string> top;
             for (const auto& sub : root.subcommands) top.push_back(sub.name);
             return top;
         }()) +
         "\"; fi\n"
         "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "}\n"
         "complete -o default -F _infra_agent infra-agent\n";
    return s;
}

std::string zsh_quote_desc(const std::string& name, const std::string& desc)
{
    std::string d;
    for (char ch : desc) d += ch == ':' ? std::string("\\:") : std::string(1, ch);
    return shell_quote(name + ":" + d);
}

std::string zsh_script(const CommandInfo& root, const std::vector<OptionInfo>& globals)
{
    auto [all, known] = all_paths(root);
    std::string s = "#compdef infra-agent\n"
                    "# zsh completion for infra-agent, generated by `infra-agent completion zsh`.\n"
                    "_infra_agent() {\n"
                    "    local path_=\"\" w i\n"
                    "    for ((i = 2; i < CURRENT; i++)); do\n"
                    "        w=\"${words[i]}\"\n"
                    "        case \"$path_/$w\" in\n"
                    "            (" +
                    known +
                    ") path_=\"$path_/$w\" ;;\n"
                    "        esac\n"
                    "    done\n"
                    "    case \"${words[CURRENT-1]}\" in\n";
    for (const auto& [choices, names] : valued_options(all, globals)) {
        std::string pattern;
        for (const auto& n : names) pattern += (pattern.empty() ? "" : "|") + n;
        s += "        (" + pattern + ") " + (choices.empty() ? std::string("_files") : "compadd -- " + choices) +
             "; return ;;\n";
    }
    s += "    esac\n    local -a cmds opts\n    case \"$path_\" in\n";
    for (const auto& [p, c] : all) {
        std::string cmds, opts;
        for (const auto& sub : c->subcommands) cmds += " " + zsh_quote_desc(sub.name, sub.description);
        if (p == "/help")
            for (const auto& sub : root.subcommands) cmds += " " + zsh_quote_desc(sub.name, sub.description);
        for (const auto& o : c->options)
            for (const auto& n : o.names) opts += " " + zsh_quote_desc(n, o.description);
        for (const auto& o : globals)
            for (const auto& n : o.names) opts += " " + zsh_quote_desc(n, o.description);
        s += "        (" + shell_quote(p) + ") cmds=(" + cmds + " ); opts=(" + opts + " ) ;;\n";
    }
    s += "    esac\n"
         "    if [[ \"${words[CURRENT]}\" == -* ]]; then\n"
         "        _describe -t options option opts\n"
         "    elif (( ${#cmds} )); then\n"
         "        _describe -t commands command cmds\n"
         "    else\n"
         "        _files\n"
         "    fi\n"
         "}\n"
         "_infra_agent \"$@\"\n";
    return s;
}

std::string fish_quote(const std::string& s)
{
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("\\'") : ch == '\\' ? std::string("\\\\") : std::string(1, ch);
    return out + "'";
}

std::string fish_script(const CommandInfo& root, const std::vector<OptionInfo>& globals)
{
    std::vector<std::pair<std::string, const CommandInfo*>> all;
    paths(root, "", all);
    std::string known;
    for (const auto& [p, c] : all)
        if (!p.empty()) known += " " + fish_quote(p);
    std::string s = "# fish completion for infra-agent, generated by `infra-agent completion fish`.\n"
                    "function __infra_agent_path\n"
                    "    set -l path ''\n"
                    "    for w in (commandline -opc)[2..-1]\n"
                    "        if contains -- \"$path/$w\"" +
                    known +
                    "\n"
                    "            set path \"$path/$w\"\n"
                    "        end\n"
                    "    end\n"
                    "    echo $path\n"
                    "end\n"
                    "complete -c infra-agent -f\n";
    auto option_line = [&](const std::string& condition, const OptionInfo& o) {
        std::string line = "complete -c infra-agent";
        if (!condition.empty()) line += " -n " + fish_quote(condition);
        for (const auto& n : o.names) line += n.rfind("--", 0) == 0 ? " -l " + n.substr(2) : " -s " + n.substr(1);
        if (o.takes_value) line += o.choices.empty() ? " -r -F" : " -x -a " + fish_quote(words(o.choices));
        return line + " -d " + fish_quote(o.description) + "\n";
    };
    for (const auto& o : globals) s += option_line("", o);
    for (const auto& [p, c] : all) {
        std::string condition = "test (__infra_agent_path) = " + fish_quote(p);
        for (const auto& sub : c->subcommands)
            s += "complete -c infra-agent -n " + fish_quote(condition) + " -a " + fish_quote(sub.name) + " -d " +
                 fish_quote(sub.description) + "\n";
        if (p == "/help")
            for (const auto& sub : root.subcommands)
                s += "complete -c infra-agent -n " + fish_quote(condition) + " -a " + fish_quote(sub.name) + " -d " +
                     fish_quote(sub.description) + "\n";
        for (const auto& o : c->options) s += option_line(condition, o);
        if (c->subcommands.empty() && !c->positionals.empty())
            s += "complete -c infra-agent -n " + fish_quote(condition) + " -F\n";
    }
    return s;
}

}  // namespace

CommandInfo command_tree(CLI::App& app)
{
    return walk(app, "");
}

std::vector<OptionInfo> global_options(CLI::App& app)
{
    std::vector<OptionInfo> out;
    for (const CLI::Option* o : app.get_options())
        if (o->get_group() == k_global_group) out.push_back(option_info(o));
    return out;
}

std::string help_text(CLI::App& cmd)
{
    return cmd.help(prefix_of(cmd));
}

std::shared_ptr<CLI::Formatter> manual_formatter()
{
    class Manual final : public CLI::Formatter {
    public:
        std::string make_footer(const CLI::App* app) const override
        {
            std::string footer = CLI::Formatter::make_footer(app);
            if (!app->get_parent()) return footer;  // the overview stays short
            return footer + plain_tail(examples_for_path(path_of(*app)));
        }
    };
    auto f = std::make_shared<Manual>();
    f->column_width(30);
    return f;
}

std::string man_page(CLI::App& app, const std::string& command, const std::string& version)
{
    CommandInfo root = command_tree(app);
    const CommandInfo* c = command.empty() ? &root : find(root, command);
    if (!c) return "";
    std::string title = command.empty() ? "infra-agent" : "infra-agent-" + command;
    std::string page = ".\\\" The manual of infra-agent " + version + ", generated from its command tree.\n";
    page += ".TH " + upper(roff(title)) + " 1 \"\" \"infra-agent " + roff(version) + "\" \"infra-agent manual\"\n";
    section(page, "NAME");
    // The top command's one line starts with its own name ("infra-agent: let ..."), which NAME already says.
    std::string what = c->description;
    if (what.rfind(title + ": ", 0) == 0) what.erase(0, title.size() + 2);
    page += roff(title) + " \\- " + roff(what) + "\n";
    section(page, "SYNOPSIS");
    page += synopsis(*c);
    section(page, "DESCRIPTION");
    page += description_roff(*c);
    if (command.empty()) {
        page += ".PP\nEvery step is also its own command that reads and writes JSON Lines, so the steps pipe into each "
                "other "
                "and run from a terminal, a CI job, cron or a script.\n";
        section(page, "COMMANDS");
        for (const auto& sub : root.subcommands)
            page += ".TP\n\\fBinfra\\-agent\\-" + roff(sub.name) + "\\fR(1)\n" + roff(sub.description) + "\n";
        section(page, "GLOBAL OPTIONS");
        page += options_roff(global_options(app));
        section(page, "OUTPUT");
        page += "Data goes to stdout, messages to stderr. A command whose output is data (lists, streams, results) "
                "prints text on a terminal and JSON Lines with \\-\\-json or when stdout is not a terminal; a command "
                "that shows one value to a person (version, init, config get) prints JSON only with \\-\\-json. "
                "A JSON line is an AgentTask (from ingest, drift and policy eval; its \\fBtype\\fR is the task "
                "type, and the next command of a pipeline reads it back), a standard format (SARIF, an OTLP "
                "request), or a record: its \\fBtype\\fR names the record (task, event, credential, "
                "pull\\-request, summary, result ...) and its \\fBformatVersion\\fR the version of its shape. "
                "A queue entry is a task record, its task type in \\fBtaskType\\fR.\n";
        section(page, "ENVIRONMENT");
        page += ".TP\n.B INFRA_AGENT_HOME\nThe state home (else the nearest .infra\\-agent/ upwards, else "
                "$XDG_STATE_HOME/infra\\-agent).\n"
                ".TP\n.B INFRA_AGENT_CONFIG\nThe configuration file (else <home>/config.yaml).\n"
                ".TP\n.B INFRA_AGENT_<KEY>\nOverrides a configuration key (upper case, . becomes _).\n"
                ".TP\n.B NO_COLOR\nNo colour on a terminal.\n";
        section(page, "FILES");
        page +=
            ".TP\n.B .infra\\-agent/config.yaml\nThe configuration, commented by infra\\-agent init.\n"
            ".TP\n.B .infra\\-agent/state.db\nThe queue, the audit log, the credential ledger and pull\\-request "
            "records "
            "(SQLite), unless state.url names a PostgreSQL server.\n"
            ".TP\n.B /usr/share/infra\\-agent/policies\nThe policy bundle that the home's policies are overlaid on.\n";
    } else {
        if (!c->positionals.empty()) {
            section(page, "ARGUMENTS");
            for (const auto& [name, desc] : c->positionals) page += ".TP\n.I " + roff(name) + "\n" + roff(desc) + "\n";
        }
        if (!c->options.empty()) {
            section(page, "OPTIONS");
            page += options_roff(c->options);
        }
        if (!c->subcommands.empty()) {
            section(page, "COMMANDS");
            for (const auto& sub : c->subcommands) {
                page += ".SS infra\\-agent " + roff(sub.path) + "\n" + description_roff(sub);
                for (const auto& [name, desc] : sub.positionals)
                    page += ".TP\n.I " + roff(name) + "\n" + roff(desc) + "\n";
                page += options_roff(sub.options);
            }
        }
        page += ".PP\nThe global options of \\fBinfra\\-agent\\fR(1) apply too.\n";
    }
    auto examples = examples_for_path(command);
    if (!examples.empty()) {
        section(page, "EXAMPLES");
        page += examples_roff(examples);
    }
    section(page, "EXIT STATUS");
    page += exit_roff();
    section(page, "SEE ALSO");
    if (command.empty())
        page += "The README and docs/ of the source tree; \\fBinfra\\-agent help\\fR \\fICOMMAND\\fR.\n";
    else page += "\\fBinfra\\-agent\\fR(1), \\fBinfra\\-agent help " + roff(command) + "\\fR\n";
    return page;
}

std::vector<std::filesystem::path> write_man_pages(CLI::App& app, const std::filesystem::path& dir,
                                                   const std::string& version)
{
    std::vector<std::filesystem::path> written;
    std::filesystem::create_directories(dir);
    std::vector<std::string> names = {""};
    for (CLI::App* sub : visible_subcommands(app)) names.push_back(sub->get_name());
    for (const auto& n : names) {
        auto path = dir / ((n.empty() ? std::string("infra-agent") : "infra-agent-" + n) + ".1");
        std::ofstream out(path, std::ios::trunc);
        out << man_page(app, n, version);
        if (out.flush()) written.push_back(path);
    }
    return written;
}

std::string completion_script(CLI::App& app, const std::string& shell)
{
    CommandInfo root = command_tree(app);
    auto globals = global_options(app);
    if (shell == "bash") return bash_script(root, globals);
    if (shell == "zsh") return zsh_script(root, globals);
    if (shell == "fish") return fish_script(root, globals);
    return "";
}

}  // namespace infra::cli
