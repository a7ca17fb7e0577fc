#include "core/process.hpp"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace infra::core::process {

void retain_heap()
{
    ::mallopt(M_TRIM_THRESHOLD, 128 << 20);
    ::mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

void ignore_broken_pipes()
{
    ::signal(SIGPIPE, SIG_IGN);
}

sigset_t start_daemon()
{
    retain_heap();
    ignore_broken_pipes();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    return set;
}

namespace {
sigset_t pipe_only()
{
    sigset_t s;
    ::sigemptyset(&s);
    ::sigaddset(&s, SIGPIPE);
    return s;
}
}  // namespace

NoSigpipe::NoSigpipe()
{
    sigset_t block = pipe_only();
    ::pthread_sigmask(SIG_BLOCK, &block, &m_old);
    // One already pending belongs to someone else: leave it be.
    sigset_t pending;
    ::sigpending(&pending);
    m_was_pending = ::sigismember(&pending, SIGPIPE) == 1;
}

NoSigpipe::~NoSigpipe()
{
    int saved = errno;
    if (!m_was_pending) {
        // A SIGPIPE raised meanwhile is taken off before it is unblocked
        // (a write raises it for the thread that wrote).
        sigset_t block = pipe_only(), pending;
        ::sigpending(&pending);
        if (::sigismember(&pending, SIGPIPE) == 1) {
            timespec none{0, 0};
            while (::sigtimedwait(&block, nullptr, &none) < 0 && errno == EINTR) {
            }
        }
    }
    ::pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    errno = saved;
}

bool read_capped(int fd, std::string& dst, std::size_t cap, bool* cut)
{
    char buf[65536];
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got <= 0) return got < 0 && errno == EINTR;
    std::size_t room = dst.size() < cap ? cap - dst.size() : 0;
    dst.append(buf, std::min(room, static_cast<std::size_t>(got)));
    if (cut && static_cast<std::size_t>(got) > room) *cut = true;
    return true;
}

}  // namespace infra::core::process
