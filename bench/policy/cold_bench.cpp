// Times whole commands, as a user starting them would see it: posix_spawn,
// wait, repeat; prints the median and p90 in milliseconds as JSON.
// Usage: cold_bench RUNS STDIN_FILE -- PROGRAM ARGS...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

int main(int argc, char** argv)
{
    if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
        std::fprintf(stderr, "usage: cold_bench RUNS STDIN_FILE -- PROGRAM ARGS...\n");
        return 64;
    }
    int runs = std::atoi(argv[1]);
    const char* input = argv[2];
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, input, O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        auto t0 = std::chrono::steady_clock::now();
        pid_t pid;
        if (posix_spawn(&pid, argv[4], &fa, nullptr, argv + 4, environ) != 0) {
            std::perror("posix_spawn");
            return 1;
        }
        int status = 0;
        waitpid(pid, &status, 0);
        auto t1 = std::chrono::steady_clock::now();
        posix_spawn_file_actions_destroy(&fa);
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("{\"runs\":%d,\"medianMs\":%.3f,\"p90Ms\":%.3f,\"minMs\":%.3f}\n", runs, ms[ms.size() / 2],
                ms[ms.size() * 9 / 10], ms.front());
    return 0;
}
