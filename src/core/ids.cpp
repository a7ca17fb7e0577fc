#include "core/ids.hpp"

#include "core/crypto.hpp"

#include <array>
#include <cstdint>
#include <mutex>

namespace infra::core::ids {
namespace {

constexpr char k_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct State {
    std::mutex mutex;
    std::uint64_t last_ms = 0;
    std::array<std::uint8_t, 10> last_random{};

    static State& state()
    {
        static State s;
        return s;
    }

    /// New random bits for last_random (read ahead: a forked child never
    /// repeats its parent's ids).
    void draw() { crypto::pooled_random_bytes(last_random.data(), last_random.size()); }
};

// Adds one to the 80-bit random part; returns false on overflow.
bool increment(std::array<std::uint8_t, 10>& r)
{
    for (int i = 9; i >= 0; --i) {
        if (++r[static_cast<std::size_t>(i)] != 0) return true;
    }
    return false;
}

std::string encode(std::uint64_t ms, const std::array<std::uint8_t, 10>& r)
{
    std::string out(26, '0');
    for (int i = 9; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = k_alphabet[ms & 31];
        ms >>= 5;
    }
    // 80 bits of randomness as 16 characters of 5 bits each: two halves
    // of 40 bits (5 bytes, 8 characters) each.
    for (int half = 0; half < 2; ++half) {
        std::uint64_t v = 0;
        for (int k = 0; k < 5; ++k) v = (v << 8) | r[static_cast<std::size_t>(half * 5 + k)];
        for (int i = 7; i >= 0; --i) {
            out[static_cast<std::size_t>(10 + half * 8 + i)] = k_alphabet[v & 31];
            v >>= 5;
        }
    }
    return out;
}

}  // namespace

std::string new_ulid(std::chrono::system_clock::time_point at)
{
    auto ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
    auto& s = State::state();
    std::lock_guard lock(s.mutex);
    if (ms <= s.last_ms) {
        // Same (or an earlier) millisecond: keep ids strictly increasing.
        ms = s.last_ms;
        if (!increment(s.last_random)) {
            ++ms;
            s.draw();
        }
    } else {
        s.draw();
    }
    s.last_ms = ms;
    return encode(ms, s.last_random);
}

std::string new_ulid()
{
    return new_ulid(std::chrono::system_clock::now());
}

bool is_ulid(std::string_view s)
{
    if (s.size() != 26) return false;
    if (s[0] > '7') return false;
    for (char c : s) {
        bool ok = false;
        for (const char* p = k_alphabet; *p; ++p)
            if (*p == c) ok = true;
        if (!ok) return false;
    }
    return true;
}

}  // namespace infra::core::ids
