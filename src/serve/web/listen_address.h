// Where a server listens, as the user writes it: "HOST:PORT", "PORT" alone (loopback), or "[IPv6]:PORT".
#pragma once
#include <string>

namespace crowdrt::serve {

struct ListenAddress {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port, chosen when the server binds
};

// "8080" -> 127.0.0.1:8080, "0.0.0.0:8080", "localhost:0", "[::1]:8080". Throws Error, one line naming the text
// and the expected form, on anything else (no port, a port outside 0..65535, an empty host).
ListenAddress parse_listen_address(const std::string& text);
// True for the loopback names and addresses (localhost, 127.0.0.0/8, ::1): only this machine can connect.
bool is_loopback_host(const std::string& host);
// "http://127.0.0.1:8080/", with brackets around an IPv6 address.
std::string http_url(const std::string& host, int port);

}  // namespace crowdrt::serve
