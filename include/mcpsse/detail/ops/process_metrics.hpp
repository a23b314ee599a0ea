// mcpsse internal: the standard Prometheus `process_*` figures of this process, read
// from /proc on Linux.
#pragma once

#include <cstdint>
#include <optional>

#if defined(__linux__)
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#endif

namespace mcpsse::detail::ops {

/// What the Prometheus client libraries export as `process_*` metrics.
struct ProcessStats {
    /// User and system CPU time spent (seconds): `process_cpu_seconds_total`.
    double cpu_seconds = 0;
    /// Resident set size (bytes): `process_resident_memory_bytes`.
    std::uint64_t resident_memory_bytes = 0;
    /// Virtual memory size (bytes): `process_virtual_memory_bytes`.
    std::uint64_t virtual_memory_bytes = 0;
    /// Open file descriptors: `process_open_fds`.
    std::uint64_t open_fds = 0;
    /// The soft limit of open file descriptors (`RLIMIT_NOFILE`); absent when unlimited:
    /// `process_max_fds`.
    std::optional<std::uint64_t> max_fds;
    /// Start of the process since the Unix epoch (seconds): `process_start_time_seconds`.
    double start_time_seconds = 0;
};

/// Reads this process's figures. Linux only (/proc/self/stat, /proc/self/fd,
/// `getrlimit`, `btime` of /proc/stat); absent on other systems, or when /proc cannot
/// be read (e.g. not mounted). Costs a few small file reads and a directory listing:
/// meant for scrapes, not hot paths. Thread-safe.
[[nodiscard]] inline std::optional<ProcessStats> read_process_stats() {
#if defined(__linux__)
    const auto slurp = [](const char* path) -> std::optional<std::string> {
        std::ifstream in(path, std::ios::binary);
        if (!in) return std::nullopt;
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::optional<std::string> stat = slurp("/proc/self/stat");
    const std::optional<std::string> system_stat = slurp("/proc/stat");
    if (!stat || !system_stat) return std::nullopt;
    // Fields after the command name (which may hold spaces and parentheses): the last ')'
    // ends it; the next field is the 3rd, state (proc(5)).
    const std::size_t close = stat->rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(stat->substr(close + 1));
    std::string field;
    unsigned long long utime = 0, stime = 0, starttime = 0, vsize = 0;
    long long rss_pages = 0;
    for (int n = 3; n <= 24 && (fields >> field); ++n) {
        const auto number = [&] { return std::strtoull(field.c_str(), nullptr, 10); };
        if (n == 14) utime = number();
        else if (n == 15) stime = number();
        else if (n == 22) starttime = number();
        else if (n == 23) vsize = number();
        else if (n == 24) rss_pages = std::strtoll(field.c_str(), nullptr, 10);
    }
    if (!fields) return std::nullopt;
    const std::size_t btime_at = system_stat->find("\nbtime ");
    if (btime_at == std::string::npos) return std::nullopt;
    const double btime = static_cast<double>(std::strtoull(system_stat->c_str() + btime_at + 7, nullptr, 10));
    const long ticks = ::sysconf(_SC_CLK_TCK);
    const long page = ::sysconf(_SC_PAGESIZE);
    if (ticks <= 0 || page <= 0) return std::nullopt;

    ProcessStats s;
    s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
    s.virtual_memory_bytes = vsize;
    s.resident_memory_bytes = rss_pages > 0 ? static_cast<std::uint64_t>(rss_pages) * static_cast<std::uint64_t>(page) : 0;
    s.start_time_seconds = btime + static_cast<double>(starttime) / static_cast<double>(ticks);
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec))
        ++s.open_fds;
    if (ec) return std::nullopt;
    ::rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        s.max_fds = static_cast<std::uint64_t>(limit.rlim_cur);
    return s;
#else
    return std::nullopt;
#endif
}

}  // namespace mcpsse::detail::ops
