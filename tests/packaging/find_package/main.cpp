// Builds against an installed mcpsse found with find_package(mcpsse).
#include <mcpsse/mcpsse.hpp>

static_assert(mcpsse::Transport<mcpsse::StdioTransport<asio::any_io_executor>>);

int main() {
  asio::io_context io;
  io.run();
  return 0;
}
