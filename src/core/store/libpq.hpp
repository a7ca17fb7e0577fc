#pragma once
// libpq, opened the first time a PostgreSQL URL is used. Most commands never
// speak to PostgreSQL, and loading libpq (with Kerberos, LDAP and GnuTLS
// behind it, about twenty libraries) would cost every process about 2 ms
// before main.

#include "core/result.hpp"

#include <libpq-fe.h>

namespace infra::core::store::pg {

// The libpq functions this program calls.
// clang-format off
#define INFRA_LIBPQ_FUNCTIONS(X)                                                                                      \
    X(PQclear) X(PQcmdTuples) X(PQconnectdb) X(PQconsumeInput) X(PQerrorMessage) X(PQexec) X(PQexecParams)           \
    X(PQexecPrepared) X(PQfformat) X(PQfinish) X(PQfreemem) X(PQftype) X(PQgetisnull) X(PQgetlength) X(PQgetvalue)   \
    X(PQnotifies) X(PQntuples) X(PQprepare) X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus)          \
    X(PQsetNoticeProcessor) X(PQsocket) X(PQstatus) X(PQtransactionStatus)
// clang-format on

struct LibPq {
#define INFRA_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
    INFRA_LIBPQ_FUNCTIONS(INFRA_LIBPQ_MEMBER)
#undef INFRA_LIBPQ_MEMBER
};

/// Loads libpq once (thread-safe); an error says which library is missing
/// and how to install it.
Result<const LibPq*> load_libpq();

/// The loaded functions. Only after load_libpq() succeeded: every
/// connection is opened through it first.
const LibPq& libpq();

}  // namespace infra::core::store::pg
