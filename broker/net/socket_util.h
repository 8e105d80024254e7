// Socket helpers for the network layer: parsing "HOST:PORT" listen addresses, opening a non-blocking
// listening socket, and naming a peer ("127.0.0.1:54321") for log lines.
//
// Thread-safe (no shared state).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eddy::net {

struct HostPort {
  std::string host;  // a name or a numeric address, without IPv6 brackets
  int port = 0;      // 0..65535; 0 asks the kernel for a free port
};

// ParseHostPort parses "HOST:PORT", "[IPv6]:PORT" or ":PORT" (host "0.0.0.0"). kInvalidArgument naming the
// text for anything else (missing port, port out of range, unbalanced brackets).
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text);

// FormatHostPort is the inverse: "host:port", with brackets around an IPv6 host.
std::string FormatHostPort(absl::string_view host, int port);

// OpenListenSocket resolves `address` (getaddrinfo, numeric or a name such as "localhost"), binds a
// non-blocking, close-on-exec TCP socket to the first address that works (SO_REUSEADDR set) and listens
// with `backlog`. Returns the descriptor, owned by the caller. kInvalidArgument when the host does not
// resolve, kUnavailable when the address is in use or cannot be bound (the message says which and why).
absl::StatusOr<int> OpenListenSocket(const HostPort& address, int backlog);

// BoundPort returns the local port of a bound socket (the kernel's choice when port 0 was asked for).
absl::StatusOr<int> BoundPort(int fd);

// PeerName formats a socket address as "ip:port" ("[ip6]:port" for IPv6); "unknown" if it cannot.
std::string PeerName(const sockaddr_storage& addr, socklen_t len);

}  // namespace eddy::net
