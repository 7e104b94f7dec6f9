// The live web view of `crowdrt run --http`: a page that shows the latest overlay, each zone's count, the alerts
// and the count over time, fed by Server-Sent Events. Routes:
//   /            the page (HTML, script and style in the program: no network needed)
//   /events      text/event-stream; each event's data is one frame record, the JSON Lines object of --jsonl,
//                after a first event named "history": a JSON array of the last 300 records and older ones with
//                alerts, so that a page that joins late shows the plot and the zones in alert at once
//   /frame.jpg   the latest overlay;  /health  {"status": "ok", "frames": ..., "clients": ..., ...}
// publish() never waits for a browser: it replaces the latest-frame slot and appends to each event client's
// bounded queue, where a client that reads too slowly loses its oldest events (counted). The server's threads are
// started by start() and never more; each /events stream holds one of them, so their number is capped too.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace crowdrt::serve {

struct LiveViewOptions {
  int threads = 8;               // server threads, all of them started by start()
  int max_event_clients = 6;     // /events streams at a time; more get 503 (keep it below threads)
  size_t client_queue = 64;      // events waiting per /events client before its oldest are dropped
  int write_timeout_ms = 2000;   // a client that takes nothing for this long is disconnected
};

struct LiveViewStats {
  int64_t frames = 0;          // frames published
  int64_t event_clients = 0;   // /events streams opened so far
  int event_clients_now = 0;   // /events streams open now
  int64_t refused_clients = 0; // /events requests answered 503 (too many at once)
  int64_t dropped_events = 0;  // events that slow clients lost
};

class LiveView {
 public:
  explicit LiveView(LiveViewOptions options = {});
  ~LiveView();  // stops
  LiveView(const LiveView&) = delete;
  LiveView& operator=(const LiveView&) = delete;

  // Listens on host:port (port 0: a free port) and serves from its own threads; returns the bound port. Throws
  // Error when the address cannot be bound, or when already started.
  int start(const std::string& host, int port);
  // One frame: its record (sent to every /events client) and its overlay as JPEG bytes (served at /frame.jpg).
  void publish(const nlohmann::json& record, std::string jpeg);
  // Ends the event streams and the server and joins its threads; returns within about write_timeout_ms even
  // with clients connected. Safe to call twice.
  void stop();
  LiveViewStats stats() const;

 private:
  struct Server;
  LiveViewOptions options_;
  std::shared_ptr<Server> server_;
};

}  // namespace crowdrt::serve
