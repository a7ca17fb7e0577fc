// infra-agent: build the command line, run it, map what escapes to exit 70.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"

#include <cstdio>
#include <exception>
#include <signal.h>

int main(int argc, char** argv)
{
    // A closed pipe (`infra-agent ingest ... | head`) ends output quietly.
    ::signal(SIGPIPE, SIG_DFL);
    try {
        return infra::cli::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "infra-agent: internal error: %s\n", e.what());
        return infra::cli::exit_code::internal;
    } catch (...) {
        std::fprintf(stderr, "infra-agent: internal error\n");
        return infra::cli::exit_code::internal;
    }
}
