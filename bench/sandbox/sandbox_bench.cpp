// bench/sandbox: the cost of running a command in the sandbox (bubblewrap,
// every namespace unshared, rlimits, a clean environment) against a plain
// fork/exec of the same command. Prints the ratio as its last line.
#include "core/sandbox.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using namespace infra::core::sandbox;

namespace {

double median_ms(const Sandbox& box, const std::filesystem::path& ws, int runs)
{
    std::vector<double> ms;
    Request r;
    r.argv = {"/usr/bin/true"};
    r.workspace = ws;
    for (int i = 0; i < runs; ++i) {
        auto o = box.run(r);
        if (!o || o->exit_code != 0) {
            std::fprintf(stderr, "run failed: %s\n", o ? o->err.c_str() : o.error().message.c_str());
            std::exit(1);
        }
        ms.push_back(o->ms);
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv)
{
    int runs = argc > 1 ? std::atoi(argv[1]) : 200;
    auto ws = std::filesystem::temp_directory_path() / "infra-agent-bench-sandbox";
    std::filesystem::create_directories(ws);
    auto sandboxed = Sandbox::create(Mode::bwrap);
    auto plain = Sandbox::create(Mode::none);
    if (!sandboxed) {
        std::fprintf(stderr, "%s\n", sandboxed.error().message.c_str());
        return 1;
    }
    double p = median_ms(*plain, ws, runs);
    double s = median_ms(*sandboxed, ws, runs);
    std::filesystem::remove_all(ws);
    std::printf("%-34s %10s\n", "spawn of /usr/bin/true", "median ms");
    std::printf("%-34s %10.3f\n", "plain fork/exec (with rlimits)", p);
    std::printf("%-34s %10.3f\n", "sandboxed (bubblewrap)", s);
    std::printf("sandboxed spawn costs %.1fx a plain fork/exec (%.2f ms more)\n", s / p, s - p);
    return 0;
}
