#include "serve/web/live_view.h"

#include <httplib.h>
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <limits>
#include <list>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "serve/web/live_view_page.h"

namespace crowdrt::serve {
namespace {

using Clock = std::chrono::steady_clock;
using Shared = std::shared_ptr<const std::string>;

// How long an /events stream waits for the next event before it looks at the stop flag again, and how long it
// stays silent before a comment line checks that the browser is still there.
constexpr auto event_wait = std::chrono::milliseconds(200);
constexpr auto keep_alive_every = std::chrono::seconds(1);
// What a page that joins late is sent first: the last frames (its plot) and the older frames that raised alerts
// (its alert list and which zones are in alert).
constexpr size_t history_frames = 300, history_alert_frames = 50;

}  // namespace

// What publish() and the handlers share. The handlers hold a plain pointer to it: the server's threads are
// joined by stop(), before it goes.
struct LiveView::Server {
  struct Client {
    std::deque<Shared> queue;     // "data: ...\n\n" events not yet written
    int64_t dropped_unsent = 0;   // events dropped since the client was last told
  };

  LiveViewOptions options;
  httplib::Server http;
  std::thread listener;

  mutable std::mutex mutex;
  std::condition_variable changed;
  bool stopping = false;
  Shared latest_jpeg;
  std::deque<std::pair<int64_t, std::string>> recent, recent_alerts;  // (frame, record as JSON text)
  std::list<std::shared_ptr<Client>> clients;
  LiveViewStats stats;

  explicit Server(const LiveViewOptions& o) : options(o) {}

  // Holds one /events client's place while its stream lasts; the stream's response owns it, so the place is
  // given back however the stream ends (the browser left, a write timed out, the view stopped).
  struct Registration {
    Server* server;
    std::shared_ptr<Client> client;
    Registration(Server* s, std::shared_ptr<Client> c) : server(s), client(std::move(c)) {}
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() {
      std::lock_guard lock(server->mutex);
      server->clients.remove(client);
      --server->stats.event_clients_now;
    }
  };

  void add_routes() {
    http.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(std::string(live_view_page()), "text/html; charset=utf-8");
    });
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      const LiveViewStats s = snapshot();
      const nlohmann::json health = {{"status", "ok"},
                                     {"frames", s.frames},
                                     {"event_clients", s.event_clients_now},
                                     {"max_event_clients", options.max_event_clients},
                                     {"refused_clients", s.refused_clients},
                                     {"dropped_events", s.dropped_events}};
      res.set_header("Cache-Control", "no-store");
      res.set_content(health.dump() + "\n", "application/json");
    });
    http.Get("/frame.jpg", [this](const httplib::Request&, httplib::Response& res) {
      Shared jpeg;
      {
        std::lock_guard lock(mutex);
        jpeg = latest_jpeg;
      }
      res.set_header("Cache-Control", "no-store");
      if (!jpeg) {
        res.status = 503;
        res.set_header("Retry-After", "1");
        res.set_content("no frame has been counted yet\n", "text/plain");
        return;
      }
      res.set_content(*jpeg, "image/jpeg");
    });
    http.Get("/events", [this](const httplib::Request&, httplib::Response& res) { open_events(res); });
  }

  void open_events(httplib::Response& res) {
    auto client = std::make_shared<Client>();
    {
      std::lock_guard lock(mutex);
      if (stopping || stats.event_clients_now >= options.max_event_clients) {
        ++stats.refused_clients;
        res.status = 503;
        res.set_header("Retry-After", "2");
        res.set_content("too many /events clients at once; close another view or try again later\n", "text/plain");
        return;
      }
      ++stats.event_clients_now;
      ++stats.event_clients;
      client->queue.push_back(history_event());  // a new page shows the recent frames and the alerts at once
      clients.push_back(client);
    }
    auto registration = std::make_shared<Registration>(this, client);
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");  // proxies (nginx) pass the events on as they come
    res.set_chunked_content_provider(
        "text/event-stream", [this, registration, last_write = Clock::time_point{}, opened = false](
                                 size_t, httplib::DataSink& sink) mutable {
          std::string out;
          if (!opened) {
            out = "retry: 1000\n\n";  // a browser that loses the stream comes back after a second
            opened = true;
          }
          {
            std::unique_lock lock(mutex);
            Client& c = *registration->client;
            changed.wait_for(lock, event_wait, [&] { return stopping || !c.queue.empty(); });
            if (stopping) return false;
            if (c.dropped_unsent > 0) {  // a comment line: EventSource ignores it, a reader of the raw stream sees it
              out += cat(": dropped ", c.dropped_unsent, " events (this client read too slowly)\n\n");
              c.dropped_unsent = 0;
            }
            for (const Shared& event : c.queue) out += *event;
            c.queue.clear();
          }
          const auto now = Clock::now();
          if (out.empty() && now - last_write < keep_alive_every) return true;
          if (out.empty()) out = ": keep-alive\n\n";  // a write to a browser that left fails and ends the stream
          last_write = now;
          return sink.write(out.data(), out.size());
        });
  }

  // "event: history" with a JSON array of records: the frames with alerts before the recent ones, then the recent
  // ones, in frame order. A named event: EventSource's onmessage and readers of the data lines pass it by.
  Shared history_event() const {
    std::string array = "[";
    const int64_t first_recent = recent.empty() ? std::numeric_limits<int64_t>::max() : recent.front().first;
    for (const auto& [frame, text] : recent_alerts)
      if (frame < first_recent) array += (array.size() > 1 ? "," : "") + text;
    for (const auto& [frame, text] : recent) array += (array.size() > 1 ? "," : "") + text;
    return std::make_shared<const std::string>("event: history\ndata: " + array + "]\n\n");
  }

  void remember(const nlohmann::json& record, const std::string& text) {
    const int64_t frame = record.is_object() ? record.value("frame", int64_t{0}) : 0;
    recent.emplace_back(frame, text);
    if (recent.size() > history_frames) recent.pop_front();
    const auto alerts = record.find("alerts");
    if (alerts != record.end() && alerts->is_array() && !alerts->empty()) {
      recent_alerts.emplace_back(frame, text);
      if (recent_alerts.size() > history_alert_frames) recent_alerts.pop_front();
    }
  }

  LiveViewStats snapshot() const {
    std::lock_guard lock(mutex);
    return stats;
  }
};

LiveView::LiveView(LiveViewOptions options) : options_(options) {
  if (options_.threads < 2 || options_.max_event_clients < 1 || options_.max_event_clients >= options_.threads ||
      options_.client_queue < 1 || options_.write_timeout_ms < 1)
    throw Error(cat("web view: ", options_.threads, " threads for up to ", options_.max_event_clients,
                    " event clients with queues of ", options_.client_queue,
                    " events; give at least 2 threads, fewer event clients than threads, and queues of 1 or more"));
}

LiveView::~LiveView() { stop(); }

int LiveView::start(const std::string& host, int port) {
  if (server_) throw Error("web view: already started; stop() it before starting it again");
  auto s = std::make_unique<Server>(options_);
  const size_t threads = static_cast<size_t>(options_.threads);
  s->http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s->http.set_keep_alive_timeout(1);  // an idle keep-alive connection holds a thread: at most a second, also at stop
  s->http.set_read_timeout(2, 0);
  s->http.set_write_timeout(options_.write_timeout_ms / 1000, (options_.write_timeout_ms % 1000) * 1000);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second program could bind the same port
  // and take half of its connections.
  s->http.set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  s->add_routes();
  const int bound = port == 0 ? s->http.bind_to_any_port(host) : (s->http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0)
    throw Error(cat("web view: cannot listen on ", host, ":", port,
                    " (the port is in use, or the host is not an address of this machine); choose another host or "
                    "port, or port 0 for any free one"));
  Server* raw = s.get();
  s->listener = std::thread([raw] {
    // The server's threads (this one and the pool it starts) block SIGPIPE: a browser that goes away makes a
    // write fail and its stream end, instead of ending the process.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    raw->http.listen_after_bind();
  });
  // stop() can stop a server only once it runs: wait for that (it is listening already; this is the thread).
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!s->http.is_running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_ = std::move(s);
  if (!server_->http.is_running()) {
    stop();
    throw Error(cat("web view: the server on ", host, ":", bound, " did not start within 10 s"));
  }
  return bound;
}

void LiveView::publish(const nlohmann::json& record, std::string jpeg) {
  if (!server_) return;
  std::string text = record.dump();
  auto event = std::make_shared<const std::string>("data: " + text + "\n\n");
  Shared frame = jpeg.empty() ? nullptr : std::make_shared<const std::string>(std::move(jpeg));
  {
    std::lock_guard lock(server_->mutex);
    server_->remember(record, text);
    if (frame) server_->latest_jpeg = std::move(frame);
    ++server_->stats.frames;
    for (const std::shared_ptr<Server::Client>& client : server_->clients) {
      if (client->queue.size() >= options_.client_queue) {
        client->queue.pop_front();
        ++client->dropped_unsent;
        ++server_->stats.dropped_events;
      }
      client->queue.push_back(event);
    }
  }
  server_->changed.notify_all();
}

void LiveView::stop() {
  if (!server_) return;
  {
    std::lock_guard lock(server_->mutex);
    server_->stopping = true;
  }
  server_->changed.notify_all();
  // Joins every thread of the server: event streams see `stopping` within event_wait, idle keep-alive connections
  // end within a second, and a write to a client that reads nothing gives up after write_timeout_ms.
  server_->http.stop();
  if (server_->listener.joinable()) server_->listener.join();
}

LiveViewStats LiveView::stats() const { return server_ ? server_->snapshot() : LiveViewStats{}; }

}  // namespace crowdrt::serve
