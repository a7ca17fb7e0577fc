#pragma once
// AWS Signature Version 4 (HMAC-SHA256), for the aws-sts credential
// provider: canonical request, string to sign, signing key and the
// Authorization header, as AWS's SigV4 test suite defines them.

#include <string>
#include <utility>
#include <vector>

namespace infra::core::creds::sigv4 {

struct Request {
    std::string method = "GET";
    std::string path = "/";                                    ///< not yet URI-encoded
    std::vector<std::pair<std::string, std::string>> query;    ///< decoded names and values
    std::vector<std::pair<std::string, std::string>> headers;  ///< every header to sign (host and x-amz-date included)
    std::string body;
};

struct Key {
    std::string access_key_id;
    std::string secret_access_key;
};

/// RFC 3986 encoding as SigV4 wants it: unreserved characters kept,
/// everything else %XX in upper case; '/' kept when keep_slash.
std::string uri_encode(const std::string& s, bool keep_slash);

/// The canonical request (task 1 of the signing process).
std::string canonical_request(const Request& req);

/// The string to sign (task 2); amz_date is YYYYMMDD'T'HHMMSS'Z'.
std::string string_to_sign(const Request& req, const std::string& amz_date, const std::string& region,
                           const std::string& service);

/// The Authorization header value (tasks 3 and 4).
std::string authorization(const Request& req, const Key& key, const std::string& amz_date, const std::string& region,
                          const std::string& service);

/// Signs many requests with one key: the derived signing key is kept for
/// the day it is valid (as AWS's SDKs do), so a signature costs one HMAC.
class Signer {
public:
    Signer(Key key, std::string region, std::string service)
        : m_key(std::move(key)), m_region(std::move(region)), m_service(std::move(service))
    {
    }
    /// The Authorization header value for req at amz_date.
    std::string authorization(const Request& req, const std::string& amz_date);

private:
    Key m_key;
    std::string m_region, m_service;
    std::string m_day;  ///< YYYYMMDD of m_signing_key
    std::string m_signing_key;
};

/// The form-urlencoded body of name=value pairs, encoded as AWS query APIs expect.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace infra::core::creds::sigv4
