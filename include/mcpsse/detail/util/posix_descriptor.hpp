// mcpsse internal: small POSIX helpers for descriptor-based transports.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <system_error>

namespace mcpsse::detail {

/// Returns a duplicate of `fd` (close-on-exec) that the caller owns. Throws
/// `std::system_error` with the `errno` of `fcntl(F_DUPFD_CLOEXEC)` on failure.
inline int duplicate_descriptor(int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) throw std::system_error(errno, std::generic_category(), "mcpsse: cannot duplicate descriptor");
    return copy;
}

/// Sets SIGPIPE to ignored when it is at its default disposition, so writing to a pipe
/// whose reader left fails with EPIPE instead of ending the process. A disposition the
/// host chose is left alone. Process-wide; safe to call repeatedly.
inline void ignore_sigpipe_if_default() noexcept {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        ::sigaction(SIGPIPE, &ignore, nullptr);
    }
}

}  // namespace mcpsse::detail
