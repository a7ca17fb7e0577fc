#include "core/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace infra::core::crypto {

std::string to_hex(std::string_view bytes)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    out.resize(bytes.size() * 2);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto b = static_cast<unsigned char>(bytes[i]);
        out[2 * i] = k_digits[b >> 4];
        out[2 * i + 1] = k_digits[b & 0xf];
    }
    return out;
}

namespace {

/// SHA-256, fetched once: an implicit fetch on every call costs more than
/// hashing a short text. The system's openssl.cnf is not read; hashing
/// needs nothing from it.
const EVP_MD* sha256_md()
{
    static const EVP_MD* md = [] {
        OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
        return EVP_MD_fetch(nullptr, "SHA256", nullptr);
    }();
    return md;
}

}  // namespace

std::string sha256_raw(std::string_view data)
{
    // One context per thread, reused: EVP_Digest allocates and sets up one
    // on every call, which costs more than hashing a dedupe key's parts.
    thread_local std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> owned(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_MD_CTX* ctx = owned.get();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx, sha256_md(), nullptr);
    EVP_DigestUpdate(ctx, data.data(), data.size());
    EVP_DigestFinal_ex(ctx, md, &len);
    return std::string(reinterpret_cast<char*>(md), len);
}

std::string sha256_hex(std::string_view data)
{
    return to_hex(sha256_raw(data));
}

std::string hmac_sha256_raw(std::string_view key, std::string_view data)
{
    // RFC 2104 over the pre-fetched SHA-256: OpenSSL 3's one-shot HMAC()
    // fetches its MAC implementation on every call, which costs more than
    // hashing the short texts signatures are made of.
    constexpr std::size_t block = 64;
    unsigned char k[block] = {};
    if (key.size() > block) {
        std::string h = sha256_raw(key);
        std::memcpy(k, h.data(), h.size());
    } else {
        std::memcpy(k, key.data(), key.size());
    }
    unsigned char pad[block];
    for (std::size_t i = 0; i < block; ++i) pad[i] = k[i] ^ 0x36;
    // One context per thread, reused: allocating one costs as much as the hashing.
    thread_local std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> owned(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_MD_CTX* ctx = owned.get();
    unsigned char inner[EVP_MAX_MD_SIZE], outer[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestInit_ex(ctx, sha256_md(), nullptr);
    EVP_DigestUpdate(ctx, pad, block);
    EVP_DigestUpdate(ctx, data.data(), data.size());
    EVP_DigestFinal_ex(ctx, inner, &len);
    for (std::size_t i = 0; i < block; ++i) pad[i] = k[i] ^ 0x5c;
    EVP_DigestInit_ex(ctx, sha256_md(), nullptr);
    EVP_DigestUpdate(ctx, pad, block);
    EVP_DigestUpdate(ctx, inner, len);
    EVP_DigestFinal_ex(ctx, outer, &len);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
    return std::string(reinterpret_cast<char*>(outer), len);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data)
{
    return to_hex(hmac_sha256_raw(key, data));
}

bool constant_time_equal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64url_encode(std::string_view bytes)
{
    static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::size_t whole = bytes.size() / 3, rest = bytes.size() % 3;
    std::string out(whole * 4 + (rest ? rest + 1 : 0), '\0');
    char* o = out.data();
    auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
    for (std::size_t i = 0; i < whole * 3; i += 3, o += 4) {
        std::uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
        o[0] = k_alphabet[v >> 18];
        o[1] = k_alphabet[(v >> 12) & 63];
        o[2] = k_alphabet[(v >> 6) & 63];
        o[3] = k_alphabet[v & 63];
    }
    if (rest) {
        std::size_t i = whole * 3;
        std::uint32_t v = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
        o[0] = k_alphabet[v >> 18];
        o[1] = k_alphabet[(v >> 12) & 63];
        if (rest == 2) o[2] = k_alphabet[(v >> 6) & 63];
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text)
{
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-') v = 62;
        else if (c == '_') v = 63;
        else return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

void random_bytes(void* out, std::size_t n)
{
    if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1)
        throw std::runtime_error("the system random number generator failed");
}

namespace {

/// Bumped in a forked child: every pool read before the fork is dropped.
std::atomic<std::uint64_t> g_fork_generation{0};

struct Pool {
    std::array<unsigned char, 4096> bytes;
    std::size_t used = bytes.size();
    std::uint64_t generation = 0;
};

}  // namespace

void pooled_random_bytes(void* out, std::size_t n)
{
    static std::once_flag registered;
    std::call_once(registered, [] { ::pthread_atfork(nullptr, nullptr, [] { ++g_fork_generation; }); });
    thread_local Pool pool;
    auto* to = static_cast<unsigned char*>(out);
    if (n > pool.bytes.size()) return random_bytes(out, n);
    std::uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
    if (pool.used + n > pool.bytes.size() || pool.generation != generation) {
        random_bytes(pool.bytes.data(), pool.bytes.size());
        pool.used = 0;
        pool.generation = generation;
    }
    std::memcpy(to, pool.bytes.data() + pool.used, n);
    // What was handed out is not kept.
    std::memset(pool.bytes.data() + pool.used, 0, n);
    pool.used += n;
}

}  // namespace infra::core::crypto
