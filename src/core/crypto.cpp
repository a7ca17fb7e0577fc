#include "core/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

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
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, sha256_md(), nullptr);
    return std::string(reinterpret_cast<char*>(md), len);
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256_raw(data)); }

std::string hmac_sha256_raw(std::string_view key, std::string_view data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(sha256_md(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
    return std::string(reinterpret_cast<char*>(md), len);
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

void random_bytes(void* out, std::size_t n)
{
    if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1)
        throw std::runtime_error("the system random number generator failed");
}

}  // namespace infra::core::crypto
