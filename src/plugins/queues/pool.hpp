#pragma once
// Connections of one process's threads to a queue server: each operation
// takes one and gives it back when done; a broken one (or one left in a
// transaction) is dropped, and a new one is opened when none is idle.

#include "core/result.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace infra::plugins::queues {

template <class Conn>
class Pool {
public:
    using Opener = std::function<core::Result<std::unique_ptr<Conn>>()>;
    explicit Pool(Opener open) : m_open(std::move(open)) {}

    class Held {
    public:
        Held(Pool& pool, std::unique_ptr<Conn> c) : m_pool(&pool), m_conn(std::move(c)) {}
        Held(Held&&) = default;
        ~Held()
        {
            if (m_conn) m_pool->give_back(std::move(m_conn));
        }
        Conn& operator*() { return *m_conn; }
        Conn* operator->() { return m_conn.get(); }

    private:
        Pool* m_pool;
        std::unique_ptr<Conn> m_conn;
    };

    core::Result<Held> take()
    {
        for (;;) {
            std::unique_ptr<Conn> c;
            {
                std::lock_guard lock(m_mutex);
                if (m_idle.empty()) break;
                c = std::move(m_idle.back());
                m_idle.pop_back();
            }
            // One the server closed while it sat idle (a restart, a timeout)
            // is dropped, not handed out to fail.
            if (c->ok()) return Held(*this, std::move(c));
        }
        auto c = m_open();
        if (!c) return c.error();
        return Held(*this, std::move(*c));
    }

    /// A connection of its own, outside the pool (a listener).
    core::Result<std::unique_ptr<Conn>> open() const { return m_open(); }

private:
    void give_back(std::unique_ptr<Conn> c)
    {
        if (!c->ok()) return;
        std::lock_guard lock(m_mutex);
        if (m_idle.size() < 32) m_idle.push_back(std::move(c));
    }

    Opener m_open;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<Conn>> m_idle;
};

/// The idle threads of one process waiting for a server to announce work:
/// one of them waits on the connection, the others for it.
class Wakeups {
public:
    /// Waits up to max. listen(max) is called by one thread at a time,
    /// waits on the server, and says whether work was announced.
    void wait(std::chrono::milliseconds max, const std::function<bool(std::chrono::milliseconds)>& listen)
    {
        std::unique_lock lock(m_mutex);
        auto seen = m_count;
        if (m_listening) {
            m_cv.wait_for(lock, max, [&] { return m_count != seen; });
            return;
        }
        m_listening = true;
        lock.unlock();
        bool woken = listen(max);
        lock.lock();
        m_listening = false;
        if (woken) ++m_count;
        m_cv.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_listening = false;
    std::uint64_t m_count = 0;
};

}  // namespace infra::plugins::queues
