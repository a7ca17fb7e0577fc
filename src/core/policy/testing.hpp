#pragma once
// Policy tests: *_test.yaml files beside the policies, each a list of tasks
// and the decision fields expected for them (like `opa test`).

#include "core/policy/engine.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace infra::core::policy {

/// The outcome of one test case.
struct TestCase {
    std::string file;
    std::string suite;  ///< the test file's metadata.name
    std::string name;
    Location where;
    bool passed = false;
    std::vector<std::string> failures;  ///< "tier: expected 2, got 1"
    json decision;
};

/// Runs every test of the files against engine. Malformed test files give
/// findings (file:line:column) instead of cases.
std::vector<TestCase> run_tests(const Engine& engine, const std::vector<std::filesystem::path>& files,
                                std::vector<LintFinding>& findings);

/// A task for a test from a partial one: trigger and context defaults are
/// filled, then it is validated like any task. Errors name the field.
Result<json> complete_test_task(const json& partial);

}  // namespace infra::core::policy
