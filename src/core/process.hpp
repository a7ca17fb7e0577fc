#pragma once
// How the process treats its memory and its broken pipes: settings the
// commands that own a process apply (worker, serve), and a guard for writes
// to peers that may be gone.

#include <signal.h>

#include <cstddef>
#include <string>

namespace infra::core::process {

/// Keeps freed heap memory in the process instead of handing it back to
/// the kernel after every transaction. SQLite frees and reallocates page
/// cache memory as transactions begin; with glibc's default trim threshold
/// that memory goes back to the kernel each time, and the page faults that
/// follow cost more than the durable commit itself. Up to 128 MiB of free
/// heap is kept, and blocks under 4 MiB come from the heap.
void retain_heap();

/// A long-running process outlives the peers it writes to (a server that
/// closed the connection, a git remote that hung up, a reader of its output
/// that went away): with SIGPIPE ignored, such a write fails with EPIPE,
/// which the caller reports, instead of ending the process with its tasks
/// half done. For worker and serve; the CLI's filters keep the default.
void ignore_broken_pipes();

/// How worker and serve start: retain_heap, ignore_broken_pipes, and
/// SIGTERM, SIGINT and SIGUSR1 blocked in the calling thread, so in every
/// thread it starts from then on; one thread then takes them with sigwait
/// on the set returned (SIGUSR1 is how a process wakes that thread itself).
/// Call it before anything starts a thread: a thread started before would
/// take a SIGTERM with its default action, and the process would end at once.
sigset_t start_daemon();

/// Reads what is ready on fd (a child's stdout or stderr) into dst, keeping
/// at most cap bytes: more is read and dropped, so that the child never
/// blocks on a full pipe; *cut is set when something was dropped. False at
/// the end of the stream (or on an error), when the pipe is done.
bool read_capped(int fd, std::string& dst, std::size_t cap, bool* cut = nullptr);

/// While it lives, a write by this thread to a pipe or socket whose reader
/// is gone fails with EPIPE instead of raising SIGPIPE, which would end the
/// process (the CLI keeps SIGPIPE's default so that `infra-agent ... | head`
/// ends quietly). For writes to peers that may be gone in any command: a
/// sandboxed command that exits without reading its input, a server that
/// closed the connection.
class NoSigpipe {
public:
    NoSigpipe();
    ~NoSigpipe();
    NoSigpipe(const NoSigpipe&) = delete;
    NoSigpipe& operator=(const NoSigpipe&) = delete;

private:
    sigset_t m_old;  ///< the thread's signal mask before
    bool m_was_pending = false;
};

}  // namespace infra::core::process
