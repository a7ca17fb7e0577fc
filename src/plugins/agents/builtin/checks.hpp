#pragma once
// The builtin agent's checks: for each misconfiguration it knows (by its
// canonical rule id), how to tell that a Terraform block fails it, and the
// edit that fixes it for the AWS provider v4 and later.

#include "core/hcl/hcl.hpp"
#include "core/result.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace infra::plugins::agents::builtin {

/// The Terraform files of one module directory, parsed, with editors.
struct Module {
    std::map<std::string, core::hcl::File> files;  ///< path (relative to the workspace) -> parsed file
    std::map<std::string, std::unique_ptr<core::hcl::Editor>> editors;

    /// The editor of a file (created on first use).
    core::hcl::Editor& editor(const std::string& path);
    /// The resource block type.name and the file it is in.
    std::pair<const std::string*, const core::hcl::Block*> find(const std::string& type, const std::string& name) const;
    /// Every resource of a type whose `attr` expression refers to type.name.
    std::vector<std::pair<const std::string*, const core::hcl::Block*>> related(const std::string& type,
                                                                                const std::string& attr,
                                                                                const std::string& target_type,
                                                                                const std::string& target_name) const;
    bool has_variable(const std::string& name) const;
};

/// What a fix needs and leaves behind.
struct FixContext {
    Module& module;
    const std::string& file;  ///< the file of the failing block
    const core::hcl::Block& block;
    std::vector<std::string> notes;                              ///< for the pull request: replacements, values to set
    std::vector<std::pair<std::string, std::string>> variables;  ///< name -> declaration to add when missing
    /// Resources that have pull requests of their own (other tasks fix their
    /// findings): a fix does not edit them (two pull requests would change
    /// the same lines), and says so in left_alone instead.
    const std::set<std::string>* fixed_elsewhere = nullptr;
    std::string left_alone;
    std::string text(const core::hcl::Attribute& a) const { return std::string(a.expr(module.files.at(file).text)); }
};

struct Check {
    std::string id;  ///< canonical rule id (Checkov's)
    std::string title;
    std::vector<std::string> types;  ///< resource types it applies to
    /// True when the block fails the check (the module gives related resources).
    std::function<bool(const Module&, const std::string& file, const core::hcl::Block&)> fails;
    std::function<void(FixContext&)> fix;
    std::string family;  ///< the rules file it comes from (share/fixes/<family>.yaml); "" when written in C++
};

/// The checks written in C++: those that need logic (CIDR lists, ACL grants).
const std::vector<Check>& code_checks();

/// Every check the builtin agent can fix: the C++ ones and the fix rules of
/// share/fixes (loaded once); an error when the rules cannot be loaded.
core::Result<const std::vector<Check>*> checks();

/// The check for a canonical rule id, or nullptr (also when the rules
/// cannot be loaded: checks() says why).
const Check* find_check(const std::string& id);

}  // namespace infra::plugins::agents::builtin
