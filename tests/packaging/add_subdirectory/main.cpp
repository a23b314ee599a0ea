// Builds against mcpsse pulled in with add_subdirectory().
#include <mcpsse/mcpsse.hpp>

static_assert(mcpsse::Transport<mcpsse::StdioTransport<asio::any_io_executor>>);

int main() {
  asio::io_context io;
  io.run();
  return 0;
}
