// mcpsse: the umbrella header. One include gives the whole public API (HTTPS: <mcpsse/tls.hpp>;
// JWT access tokens: <mcpsse/jwt.hpp>).
#pragma once

#include <mcpsse/access_log.hpp>
#include <mcpsse/async_event_store.hpp>
#include <mcpsse/dispatcher.hpp>
#include <mcpsse/event_id.hpp>
#include <mcpsse/event_store.hpp>
#include <mcpsse/http_route.hpp>
#include <mcpsse/error.hpp>
#include <mcpsse/http_limits.hpp>
#include <mcpsse/json_rpc.hpp>
#include <mcpsse/logging_level.hpp>
#include <mcpsse/protocol_version.hpp>
#include <mcpsse/request_context.hpp>
#include <mcpsse/request_stage.hpp>
#include <mcpsse/server.hpp>
#include <mcpsse/serve.hpp>
#include <mcpsse/session.hpp>
#include <mcpsse/session_store.hpp>
#include <mcpsse/sse_session.hpp>
#include <mcpsse/sse_transport.hpp>
#include <mcpsse/sse_transport_options.hpp>
#include <mcpsse/stdio_session.hpp>
#include <mcpsse/stdio_transport.hpp>
#include <mcpsse/task_store.hpp>
#include <mcpsse/transport.hpp>
#include <mcpsse/transport_observer.hpp>
