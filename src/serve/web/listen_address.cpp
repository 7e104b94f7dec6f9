#include "serve/web/listen_address.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace crowdrt::serve {
namespace {

[[noreturn]] void bad_address(const std::string& text, const std::string& why) {
  throw Error(cat("listen address '", text, "': ", why,
                  "; give HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080) or a port alone for loopback"));
}

int parse_port(const std::string& text, const std::string& port) {
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
    bad_address(text, cat("the port '", port, "' is not a number"));
  const int value = std::stoi(port);
  if (value > 65535) bad_address(text, cat("the port ", value, " is above 65535"));
  return value;
}

}  // namespace

ListenAddress parse_listen_address(const std::string& text) {
  ListenAddress address;
  if (text.empty()) bad_address(text, "it is empty");
  if (text.front() == '[') {  // [IPv6]:PORT
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      bad_address(text, "an IPv6 address in brackets must be followed by :PORT");
    address.host = text.substr(1, close - 1);
    address.port = parse_port(text, text.substr(close + 2));
  } else if (const size_t colon = text.rfind(':'); colon == std::string::npos) {
    address.port = parse_port(text, text);
  } else {
    if (text.find(':') != colon) bad_address(text, "an IPv6 address needs brackets, as in [::1]:8080");
    address.host = text.substr(0, colon);
    address.port = parse_port(text, text.substr(colon + 1));
  }
  if (address.host.empty()) bad_address(text, "the host is empty");
  return address;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string http_url(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return cat("http://", ipv6 ? "[" : "", host, ipv6 ? "]" : "", ":", port, "/");
}

}  // namespace crowdrt::serve
