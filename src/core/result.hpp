#pragma once
// Error values and the Result<T> type that core returns instead of throwing.

#include <string>
#include <utility>
#include <variant>

namespace infra::core {

/// The few kinds of failure; the CLI maps each to an exit code of CLI.md.
enum class Errc {
    invalid_input,    ///< malformed or schema-violating data (exit 65)
    usage,            ///< a bad command line or argument combination (exit 64)
    not_found,        ///< a named thing does not exist (exit 1)
    conflict,         ///< a state transition that is not allowed now (exit 1)
    denied,           ///< refused by policy or validation (exit 3)
    pending,          ///< waits for a human approval (exit 4)
    unavailable,      ///< a dependency (file, network, database) failed (exit 1)
    unauthenticated,  ///< a signature or token does not check out (exit 65; HTTP 401)
    internal,         ///< a bug (exit 70)
};

/// A failure with a git-style message (lower case, subject quoted, no final
/// full stop) and an optional hint printed on its own line.
struct Error {
    Errc code = Errc::internal;
    std::string message;
    std::string hint;
};

/// Builds an Error; a shorthand used throughout core.
inline Error make_error(Errc code, std::string message, std::string hint = {})
{
    return Error{code, std::move(message), std::move(hint)};
}

/// Wraps an Error so that a Result can be constructed from it implicitly.
struct Unexpected {
    Error error;
};

inline Unexpected fail(Errc code, std::string message, std::string hint = {})
{
    return Unexpected{make_error(code, std::move(message), std::move(hint))};
}
inline Unexpected fail(Error error)
{
    return Unexpected{std::move(error)};
}

/// A value or an Error; a small stand-in for std::expected.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
    Result(Unexpected u) : m_state(std::in_place_index<1>, std::move(u.error)) {}
    Result(Error e) : m_state(std::in_place_index<1>, std::move(e)) {}

    bool has_value() const { return m_state.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return std::get<0>(m_state); }
    const T& value() const& { return std::get<0>(m_state); }
    T&& value() && { return std::get<0>(std::move(m_state)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(m_state); }
    Error& error() { return std::get<1>(m_state); }

private:
    std::variant<T, Error> m_state;
};

/// Result of an operation that yields nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Unexpected u) : m_error(std::move(u.error)), m_failed(true) {}
    Result(Error e) : m_error(std::move(e)), m_failed(true) {}

    bool has_value() const { return !m_failed; }
    explicit operator bool() const { return !m_failed; }
    const Error& error() const { return m_error; }
    Error& error() { return m_error; }

private:
    Error m_error;
    bool m_failed = false;
};

using Status = Result<void>;

}  // namespace infra::core
