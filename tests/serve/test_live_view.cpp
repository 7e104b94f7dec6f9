// The live web view on 127.0.0.1, through httplib's client and raw sockets: the page and the latest frame are
// served, every published record arrives at each /events client in order and unchanged (after the recent ones, as
// one "history" event), a client that reads
// nothing slows no publish (it loses events instead, counted), the number of event clients and of threads is
// bounded, and stop() ends promptly with clients connected.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "serve/web/listen_address.h"
#include "serve/web/live_view.h"

namespace crowdrt::serve {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

json frame_json(int frame, const std::string& pad = "") {
  json record = {{"frame", frame},
                 {"time", frame * 0.04},
                 {"count", 10.25 + frame / 3.0},
                 {"zones", {{"gate", frame / 7.0}}},
                 {"alerts", json::array()}};
  if (!pad.empty()) record["pad"] = pad;
  return record;
}

// Waits up to `seconds` for `done`; true when it came.
template <class Done>
bool eventually(Done done, double seconds = 5) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// An /events client in a thread of its own: keeps each event's data line, in order, until the stream ends or
// close() is called.
class EventReader {
 public:
  explicit EventReader(int port) : client_("127.0.0.1", port) {
    client_.set_read_timeout(5, 0);
    thread_ = std::thread([this] {
      std::string buffer;
      const httplib::Result result = client_.Get("/events", [&](const char* data, size_t size) {
        buffer.append(data, size);
        for (size_t end; (end = buffer.find("\n\n")) != std::string::npos; buffer.erase(0, end + 2)) {
          const std::string block = buffer.substr(0, end);
          std::lock_guard lock(mutex_);
          if (block.rfind("data: ", 0) == 0) lines_.push_back(block.substr(6));
          if (block.rfind("event: history\ndata: ", 0) == 0) history_ = block.substr(21);
        }
        arrived_.notify_all();
        return !closing_;
      });
      status_ = result ? result->status : -1;
      ended_ = true;
      arrived_.notify_all();
    });
  }
  ~EventReader() { close(); }

  std::vector<std::string> wait_for(size_t count, double seconds = 5) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return lines_.size() >= count || ended_; });
    return lines_;
  }
  void close() {
    closing_ = true;
    client_.stop();  // shuts the socket down: the reading thread returns at once
    if (thread_.joinable()) thread_.join();
  }
  std::string history() {
    std::lock_guard lock(mutex_);
    return history_;
  }
  bool ended() const { return ended_; }
  int status() const { return status_; }

 private:
  httplib::Client client_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::string> lines_;
  std::string history_;
  std::atomic<bool> closing_ = false, ended_ = false;
  std::atomic<int> status_ = 0;
};

// A client that asks for /events with a tiny receive buffer and then reads nothing.
class StalledClient {
 public:
  explicit StalledClient(int port) : socket_(::socket(AF_INET, SOCK_STREAM, 0)) {
    const int small = 1024;
    setsockopt(socket_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(socket_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    const std::string request = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    connected_ =
        connected_ && ::send(socket_, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size());
  }
  ~StalledClient() { ::close(socket_); }
  bool connected() const { return connected_; }

 private:
  int socket_;
  bool connected_ = false;
};

int thread_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// The thread count once it stops changing: a thread just joined can still be listed for a moment.
int settled_thread_count() {
  int last = thread_count();
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    const int now = thread_count();
    if (now == last) return now;
    last = now;
  }
  return last;
}

TEST(LiveView, ServesThePageTheLatestFrameAndHealth) {
  LiveView view;
  const int port = view.start("127.0.0.1", 0);
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);

  const httplib::Result page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("new EventSource(\"events\")"), std::string::npos);
  EXPECT_NE(page->body.find("<canvas id=\"plot\">"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page loads nothing from elsewhere";
  EXPECT_EQ(page->body.find("https://"), std::string::npos) << "the page loads nothing from elsewhere";

  const httplib::Result none = client.Get("/frame.jpg");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 503) << "no frame has been published yet";

  view.publish(frame_json(1), "first jpeg");
  view.publish(frame_json(2), "second jpeg");
  const httplib::Result frame = client.Get("/frame.jpg");
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->status, 200);
  EXPECT_EQ(frame->get_header_value("Content-Type"), "image/jpeg");
  EXPECT_EQ(frame->body, "second jpeg");

  const httplib::Result health = client.Get("/health");
  ASSERT_TRUE(health);
  const json h = json::parse(health->body);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["frames"], 2);
  EXPECT_EQ(h["event_clients"], 0);

  const httplib::Result missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(LiveView, EventsArriveInOrderAndEqualWhatWasPublished) {
  LiveView view;
  const int port = view.start("127.0.0.1", 0);
  EventReader first(port), second(port);
  ASSERT_TRUE(eventually([&] { return view.stats().event_clients_now == 2; }));
  std::vector<std::string> published;
  for (int frame = 1; frame <= 50; ++frame) {
    const json record = frame_json(frame);
    published.push_back(record.dump());
    view.publish(record, "jpeg");
  }
  EXPECT_EQ(first.wait_for(50), published);
  EXPECT_EQ(second.wait_for(50), published);
  EXPECT_EQ(view.stats().dropped_events, 0);
  EXPECT_EQ(view.stats().event_clients, 2);
}

TEST(LiveView, ANewClientGetsTheRecentRecordsAndOlderAlertsFirst) {
  LiveView view;
  const int port = view.start("127.0.0.1", 0);
  json alert = frame_json(1);
  alert["alerts"] = json::array({{{"zone", "gate"}, {"event", "enter"}, {"count", 41.0}, {"limit", 40}}});
  view.publish(alert, "jpeg");
  for (int frame = 2; frame <= 400; ++frame) view.publish(frame_json(frame), "jpeg");
  EventReader reader(port);
  ASSERT_TRUE(eventually([&] { return !reader.history().empty(); }));
  const json history = json::parse(reader.history());
  ASSERT_TRUE(history.is_array());
  ASSERT_EQ(history.size(), 301u) << "the alert of frame 1, then the last 300 frames";
  EXPECT_EQ(history[0], alert);
  for (size_t i = 1; i < history.size(); ++i) EXPECT_EQ(history[i], frame_json(static_cast<int>(i) + 100));
  EXPECT_TRUE(reader.wait_for(1, 0.3).empty()) << "the history is not repeated as frame events";
  view.publish(frame_json(401), "jpeg");
  EXPECT_EQ(reader.wait_for(1), std::vector<std::string>{frame_json(401).dump()});
}

TEST(LiveView, PublishDoesNotWaitForAClientThatReadsNothing) {
  LiveViewOptions options;
  options.write_timeout_ms = 500;
  LiveView view(options);
  const int port = view.start("127.0.0.1", 0);
  StalledClient stalled(port);
  ASSERT_TRUE(stalled.connected());
  EventReader reader(port);
  ASSERT_TRUE(eventually([&] { return view.stats().event_clients_now == 2; }));

  // 3000 records of 4 KB, 12 MB: far more than the socket buffers hold for the stalled client.
  const std::string pad(4096, 'x');
  double slowest_ms = 0;
  for (int frame = 1; frame <= 3000; ++frame) {
    const json record = frame_json(frame, pad);
    const auto before = Clock::now();
    view.publish(record, "jpeg");
    slowest_ms = std::max(slowest_ms, std::chrono::duration<double, std::milli>(Clock::now() - before).count());
  }
  // A publish that waited for the stalled client would wait for its write timeout (500 ms) at least.
  EXPECT_LT(slowest_ms, 250) << "one publish waited for a client";
  EXPECT_GT(view.stats().dropped_events, 0) << "the stalled client lost no events, so nothing was ever waiting";

  // The reading client still gets the newest record; the stalled one is dropped after the write timeout.
  EXPECT_TRUE(eventually([&] {
    const std::vector<std::string> lines = reader.wait_for(1, 0.1);
    return !lines.empty() && json::parse(lines.back())["frame"] == 3000;
  }));
  EXPECT_TRUE(eventually([&] { return view.stats().event_clients_now == 1; }, 5))
      << "a client that took nothing for the write timeout still holds its place";
  const auto stop_start = Clock::now();
  view.stop();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - stop_start).count(), 2.0);
}

TEST(LiveView, StopEndsPromptlyWithClientsConnected) {
  LiveView view;
  const int port = view.start("127.0.0.1", 0);
  std::vector<std::unique_ptr<EventReader>> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(std::make_unique<EventReader>(port));
  StalledClient stalled(port);  // connected, silent: one more thread busy with an /events stream
  httplib::Client idle("127.0.0.1", port);
  idle.set_keep_alive(true);
  ASSERT_TRUE(idle.Get("/health"));  // and a kept-alive connection, idle
  ASSERT_TRUE(eventually([&] { return view.stats().event_clients_now == 4; }));
  view.publish(frame_json(1), "jpeg");
  for (auto& reader : readers) ASSERT_EQ(reader->wait_for(1).size(), 1u);

  const auto start = Clock::now();
  view.stop();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(seconds, 1.5) << "stop() took " << seconds << " s with clients connected";
  for (auto& reader : readers) EXPECT_TRUE(eventually([&] { return reader->ended(); }, 2));
  view.publish(frame_json(2), "jpeg");  // after stop: nothing to send to, and no failure
  view.stop();                          // twice: nothing more to do
}

TEST(LiveView, EventClientsAndThreadsAreBounded) {
  LiveViewOptions options;
  options.threads = 4;
  options.max_event_clients = 2;
  const int before = settled_thread_count();
  {
    LiveView view(options);
    const int port = view.start("127.0.0.1", 0);
    const int serving = settled_thread_count();
    EXPECT_EQ(serving, before + 5) << "4 server threads and the one that accepts connections";
    for (int round = 0; round < 10; ++round) {
      EventReader first(port), second(port);
      ASSERT_TRUE(eventually([&] { return view.stats().event_clients_now == 2; }));
      httplib::Client third("127.0.0.1", port);
      const httplib::Result refused = third.Get("/events");
      ASSERT_TRUE(refused);
      EXPECT_EQ(refused->status, 503) << "a third event client beyond the limit of 2";
      first.close();
      second.close();
      // As in a run, frames keep coming: the writes to the clients that left fail and free their places.
      ASSERT_TRUE(eventually([&] {
        view.publish(frame_json(round), "jpeg");
        return view.stats().event_clients_now == 0;
      })) << "clients that left still hold their places";
      EXPECT_EQ(settled_thread_count(), serving);
    }
    EXPECT_EQ(view.stats().event_clients, 20);
    EXPECT_EQ(view.stats().refused_clients, 10);
  }
  EXPECT_EQ(settled_thread_count(), before) << "the view's threads outlive it";
}

TEST(LiveView, StartFailsWithOneLineOnAPortInUse) {
  LiveView first;
  const int port = first.start("127.0.0.1", 0);
  LiveView second;
  try {
    second.start("127.0.0.1", port);
    FAIL() << "a second view started on a port in use";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_THROW(first.start("127.0.0.1", 0), Error) << "started twice";
}

TEST(LiveView, RefusesOptionsThatCannotServe) {
  LiveViewOptions options;
  options.threads = 2;
  options.max_event_clients = 2;
  EXPECT_THROW(LiveView view(options), Error) << "event streams would hold every thread";
}

TEST(ListenAddress, ParsesHostAndPortOrAPortAloneOnLoopback) {
  ListenAddress a = parse_listen_address("8080");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 8080);
  a = parse_listen_address("0.0.0.0:80");
  EXPECT_EQ(a.host, "0.0.0.0");
  EXPECT_EQ(a.port, 80);
  a = parse_listen_address("[::1]:0");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 0);
  a = parse_listen_address("localhost:65535");
  EXPECT_EQ(a.host, "localhost");
  EXPECT_EQ(a.port, 65535);
  EXPECT_EQ(http_url("::1", 8080), "http://[::1]:8080/");
  EXPECT_EQ(http_url("127.0.0.1", 8080), "http://127.0.0.1:8080/");
}

TEST(ListenAddress, RefusesMalformedAddressesWithOneLineNamingThem) {
  for (const std::string text : {"", "http", "65536", ":8080", "host:", "::1:8080", "[::1]8080", "-1", "80 "}) {
    try {
      parse_listen_address(text);
      ADD_FAILURE() << "'" << text << "' was accepted";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("'" + text + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("HOST:PORT"), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

TEST(ListenAddress, KnowsLoopbackHosts) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("192.168.1.5"));
  EXPECT_FALSE(is_loopback_host("::"));
}

}  // namespace
}  // namespace crowdrt::serve
