#include "core/creds/sigv4.hpp"

#include "core/crypto.hpp"

#include <algorithm>
#include <map>

namespace infra::core::creds::sigv4 {
namespace {

bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

std::string lower(std::string s)
{
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Trims a header value and collapses runs of spaces to one.
std::string canonical_value(const std::string& v)
{
    std::string out;
    bool space = false;
    for (char c : v) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

}  // namespace

std::string uri_encode(const std::string& s, bool keep_slash)
{
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        if (unreserved(c) || (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

std::string canonical_request(const Request& req)
{
    std::vector<std::pair<std::string, std::string>> q;
    for (const auto& [k, v] : req.query) q.emplace_back(uri_encode(k, false), uri_encode(v, false));
    std::sort(q.begin(), q.end());
    std::string query;
    for (const auto& [k, v] : q) query += (query.empty() ? "" : "&") + k + "=" + v;

    std::map<std::string, std::string> headers;
    for (const auto& [k, v] : req.headers) {
        auto& slot = headers[lower(k)];
        slot += (slot.empty() ? "" : ",") + canonical_value(v);
    }
    std::string canonical_headers, signed_headers;
    for (const auto& [k, v] : headers) {
        canonical_headers += k + ":" + v + "\n";
        signed_headers += (signed_headers.empty() ? "" : ";") + k;
    }
    std::string out;
    out.reserve(req.method.size() + req.path.size() * 3 + query.size() + canonical_headers.size() +
                signed_headers.size() + 72);
    out.append(req.method).append("\n").append(uri_encode(req.path.empty() ? "/" : req.path, true)).append("\n");
    out.append(query).append("\n").append(canonical_headers).append("\n").append(signed_headers).append("\n");
    out.append(crypto::sha256_hex(req.body));
    return out;
}

std::string string_to_sign(const Request& req, const std::string& amz_date, const std::string& region,
                           const std::string& service)
{
    return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + amz_date.substr(0, 8) + "/" + region + "/" + service +
           "/aws4_request\n" + crypto::sha256_hex(canonical_request(req));
}

namespace {

std::string signing_key(const std::string& secret, const std::string& day, const std::string& region,
                        const std::string& service)
{
    std::string k = crypto::hmac_sha256_raw("AWS4" + secret, day);
    k = crypto::hmac_sha256_raw(k, region);
    k = crypto::hmac_sha256_raw(k, service);
    return crypto::hmac_sha256_raw(k, "aws4_request");
}

std::string header_value(const Request& req, const Key& key, const std::string& amz_date, const std::string& region,
                         const std::string& service, const std::string& signing)
{
    std::string signature = crypto::hmac_sha256_hex(signing, string_to_sign(req, amz_date, region, service));
    std::vector<std::string> names;
    for (const auto& [n, v] : req.headers) names.push_back(lower(n));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::string signed_headers;
    for (const auto& n : names) signed_headers += (signed_headers.empty() ? "" : ";") + n;
    return "AWS4-HMAC-SHA256 Credential=" + key.access_key_id + "/" + amz_date.substr(0, 8) + "/" + region + "/" +
           service + "/aws4_request, SignedHeaders=" + signed_headers + ", Signature=" + signature;
}

}  // namespace

std::string authorization(const Request& req, const Key& key, const std::string& amz_date, const std::string& region,
                          const std::string& service)
{
    return header_value(req, key, amz_date, region, service,
                        signing_key(key.secret_access_key, amz_date.substr(0, 8), region, service));
}

std::string Signer::authorization(const Request& req, const std::string& amz_date)
{
    std::string day = amz_date.substr(0, 8);
    if (day != m_day) {
        m_signing_key = signing_key(m_key.secret_access_key, day, m_region, m_service);
        m_day = day;
    }
    return header_value(req, m_key, amz_date, m_region, m_service, m_signing_key);
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields)
{
    std::string out;
    for (const auto& [k, v] : fields)
        out += (out.empty() ? "" : "&") + uri_encode(k, false) + "=" + uri_encode(v, false);
    return out;
}

}  // namespace infra::core::creds::sigv4
