// crowdrt run: a plan over a video, a folder of images, one image or a live source (a camera, a stream URL, a
// GStreamer pipeline): the density map as a heatmap over each frame with its count, saved as a video or PNGs, and
// the counts per frame as CSV and a plot. With --zones, each zone's count and alerts per frame too; with --jsonl, one
// serve::frame_record per frame for other programs; with --http, the same records and the overlays in a browser,
// live (serve::LiveView).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <opencv2/highgui.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <optional>
#include <sstream>

#include "cli/cli_common.h"
#include "cli/cli_evaluation.h"
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/file.h"
#include "core/log.h"
#include "core/printable.h"
#include "core/progress.h"
#include "data/visdrone.h"
#include "eval/metrics.h"
#include "eval/plots.h"
#include "serve/web/listen_address.h"
#include "serve/web/live_view.h"
#include "serve/zones.h"
#include "serve/zones_json.h"

namespace crowdrt::cli {
namespace {

// The overlay video, written by OpenCV to a temporary beside its name (AtomicFile). OpenCV reports no write error
// (a full disk leaves a short file and a missing index), so the finished file is read back: it gets its name only
// when it holds every frame written, the last one readable.
class OverlayVideo {
 public:
  OverlayVideo(const std::string& path, double fps, cv::Size size) : file_(path), size_(size) {
    writer_.open(file_.temp_path(), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, size);
    if (!writer_.isOpened())
      throw Error(cat(path, ": OpenCV cannot write an MJPG video here; extract the frames to a folder and give that "
                      "folder as --input to get PNG overlays"));
  }
  // A live stream may come back at another size after a reconnect; the video keeps its first frame's.
  void write(const cv::Mat& frame) {
    ++frames_;
    if (frame.size() == size_) {
      writer_.write(frame);
      return;
    }
    cv::Mat resized;
    cv::resize(frame, resized, size_, 0, 0, cv::INTER_AREA);
    writer_.write(resized);
  }
  void finish() {
    writer_.release();
    std::string missing;
    if (!riff_complete(file_.temp_path())) {
      missing = "the file is cut short";
    } else {
      cv::VideoCapture back(file_.temp_path());
      const auto readable = static_cast<int64_t>(back.isOpened() ? back.get(cv::CAP_PROP_FRAME_COUNT) : 0);
      cv::Mat last;
      if (readable != frames_ || !back.set(cv::CAP_PROP_POS_FRAMES, static_cast<double>(frames_ - 1)) ||
          !back.read(last) || last.empty())
        missing = cat("the file holds ", readable, " readable");
    }
    if (!missing.empty())
      throw Error(cat(file_.path(), ": the video could not be written completely (", frames_, " frames written, ",
                      missing, "; ", write_limit_reached(file_.temp_path()), "); nothing was written under this name"));
    file_.commit();
  }

 private:
  // An AVI file is a chain of RIFF chunks ("RIFF" size "AVI " ..., then "RIFF" size "AVIX" ... past 1 GB) whose
  // sizes the writer fills in when it closes the file: they add up to the file's length only when every write
  // reached the disk. (Checked before OpenCV reads the file back, which prints its own lines on a broken one.)
  static bool riff_complete(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    const uintmax_t length = std::filesystem::file_size(path, ec);
    if (!in || ec) return false;
    for (uintmax_t at = 0; at < length;) {
      unsigned char header[12];
      if (!in.seekg(static_cast<std::streamoff>(at)) || !in.read(reinterpret_cast<char*>(header), sizeof header) ||
          std::memcmp(header, "RIFF", 4) != 0)
        return false;
      const uint32_t size = header[4] | header[5] << 8 | header[6] << 16 | static_cast<uint32_t>(header[7]) << 24;
      if (size < 4) return false;
      at += 8 + size + (size & 1);
      if (at > length) return false;
    }
    return length > 0;
  }
  // Why OpenCV's writes stopped, as far as can be told from outside: a full disk or a file-size limit.
  static std::string write_limit_reached(const std::string& path) {
    struct rlimit limit {};
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && ::getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
        static_cast<rlim_t>(st.st_size) + 65536 >= limit.rlim_cur)
      return "it reached the file-size limit, ulimit -f";
    struct statvfs fs {};
    if (::statvfs(path.c_str(), &fs) == 0 && fs.f_bavail * fs.f_bsize < 65536)
      return "no space left on the device";
    return "is the disk full?";
  }
  AtomicFile file_;  // destroyed after the writer: a run that fails removes the temporary
  cv::Size size_;
  cv::VideoWriter writer_;
  int64_t frames_ = 0;
};

bool is_video(const std::string& input) {
  namespace fs = std::filesystem;
  if (fs::is_directory(input)) return false;
  std::string e = fs::path(input).extension().string();
  for (char& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !(e == ".jpg" || e == ".jpeg" || e == ".png" || e == ".bmp");
}

// Overlay file names: <frame name>_overlay.png for images (named after their source frames), and
// frame_<NNNNNN>_overlay.png (1-based, as in counts.csv) for the frames of a video.
std::vector<std::string> overlay_names(const std::string& input, bool video) {
  namespace fs = std::filesystem;
  if (video) return {};
  const std::vector<std::string> frames =
      fs::is_directory(input) ? data::list_frames(input) : std::vector<std::string>{input};
  std::vector<std::string> names;
  for (const std::string& f : frames) names.push_back(fs::path(f).stem().string() + "_overlay.png");
  return names;
}

std::string video_overlay_name(int64_t frame) {
  char name[48];
  std::snprintf(name, sizeof(name), "frame_%06lld_overlay.png", static_cast<long long>(frame + 1));
  return name;
}

// A CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// Where the frames come from and what bounds the run (any source); for live sources, what to do when the counting
// falls behind or the stream breaks.
struct InputArgs {
  std::string input;
  int64_t max_frames = 0;
  double duration = 0;
  std::string live_drop = "oldest";
  int reconnect = 10;
};

void add_input_options(CLI::App* cmd, InputArgs& in) {
  cmd->add_option(
         "--input", in.input,
         "A video file, a folder of images (sorted by name), one image, or a live source: a camera index (0), "
         "a V4L2 device (/dev/video0), a stream URL (rtsp://, http://, https://; file:// reads a file) or a "
         "GStreamer pipeline (elements joined by ' ! ', ending in appsink). Digits alone are a camera (./0 is a file); "
         "Ctrl-C ends a live run and writes what it counted")
      ->required();
  cmd->add_option("--max-frames", in.max_frames, "Stop after this many frames (any source; default: all)")
      ->type_name("N")->check(at_least(1));
  cmd->add_option("--duration", in.duration,
                  "Stop reading after this many seconds from the first frame (any source; default 0: no limit)")
      ->type_name("SECONDS")->check(at_least(0));
  cmd->add_option("--live-drop", in.live_drop,
                  "Live sources, when counting falls behind: oldest (drop the oldest waiting frame, counted in the "
                  "summary; the default) or none (read no faster than frames are counted). Files never drop")
      ->check(one_of({"oldest", "none"}));
  cmd->add_option("--reconnect", in.reconnect,
                  "Live sources: attempts to reopen a lost stream (waiting 0.5 s, doubling to 8 s) before the run "
                  "ends; 0 ends the run when the stream does (default 10)")
      ->type_name("N")->check(at_least(0));
}

eval::SequenceSource open_input(const InputArgs& in) {
  eval::LiveOptions live;
  live.drop = eval::parse_live_drop(in.live_drop);
  live.reconnect_attempts = in.reconnect;
  if (eval::is_live_input(in.input)) {
    // Ctrl-C (SIGINT) or SIGTERM ends a live run as the end of its stream would: what was counted is written
    // (the command sets InterruptResponse::finish); a second signal stops the program at once.
    live.interrupted = [] { return interrupt_signal() != 0; };
  }
  return eval::bounded_sequence(eval::input_sequence(in.input, live), in.max_frames, in.duration);
}

// What a live source did: frames read, counted, dropped and left, reconnects, and where the flow restarted.
void print_live_summary(std::FILE* stream, const eval::SequenceSource& source, int64_t counted,
                        const std::vector<int64_t>& flow_restarts) {
  const eval::LiveCounters c = source.live->counters();
  std::string restarts;
  for (int64_t frame : flow_restarts) restarts += cat(restarts.empty() ? "" : ", ", frame);
  std::fprintf(stream,
               "live %s: %lld frames read, %lld counted, %lld dropped (--live-drop %s), %lld unprocessed at the end; "
               "%d reconnect%s (%.1f s without frames)%s%s%s\n",
               source.live->name().c_str(), static_cast<long long>(c.read), static_cast<long long>(counted),
               static_cast<long long>(c.dropped), eval::live_drop_name(source.live->options().drop),
               static_cast<long long>(c.queued), c.reconnects, c.reconnects == 1 ? "" : "s", c.gap_seconds,
               restarts.empty() ? "" : "; the optical flow restarted at frame ", restarts.c_str(),
               c.interrupted ? "; stopped by an interrupt"
               : c.gave_up   ? "; the stream ended and was not reopened"
                             : "");
}

// The zones of a run, bound to the frame and density map sizes of its first frame.
struct BoundZones {
  std::vector<serve::Zone> zones;
  std::optional<serve::ZoneMasks> masks;
  std::optional<serve::ZoneAlerts> alerts;
  cv::Size frame_size;
};

// Binds the zones to the first frame's size and the plan's density map size. Nothing is bound when the input
// has no frame to read; the first counted frame binds them then.
void bind_zones(BoundZones& bound, const eval::SequenceSource& source, const Engine& engine) {
  cv::Mat first;
  if (source.frame_size.empty() && !source.open()->read(first)) return;  // a live source is not read twice
  const Shape& map = engine.outputs().at(0).shape;
  if (map.size() < 2) throw Error(cat("--zones: the plan's output is ", shape_str(map), ", not a density map"));
  bound.frame_size = source.frame_size.empty() ? first.size() : source.frame_size;
  bound.masks.emplace(bound.zones, bound.frame_size.width, bound.frame_size.height,
                      static_cast<int>(map[map.size() - 1]), static_cast<int>(map[map.size() - 2]));
  bound.alerts.emplace(bound.zones);
}

// Each zone's polygon on the overlay (scaled from the frame), its name and count beside it; red while alerting.
void draw_zones(cv::Mat& overlay, const BoundZones& bound, const std::vector<double>& counts) {
  const double sx = static_cast<double>(overlay.cols) / bound.frame_size.width,
               sy = static_cast<double>(overlay.rows) / bound.frame_size.height;
  for (size_t z = 0; z < bound.zones.size(); ++z) {
    const serve::Zone& zone = bound.zones[z];
    const double fx = zone.normalized ? bound.frame_size.width : 1.0,
                 fy = zone.normalized ? bound.frame_size.height : 1.0;
    std::vector<cv::Point> points;
    for (const serve::Point& p : zone.polygon)
      points.emplace_back(cvRound(p.x * fx * sx), cvRound(p.y * fy * sy));
    const cv::Scalar colour = bound.alerts->alerting(z) ? cv::Scalar(0, 0, 255) : cv::Scalar(255, 255, 255);
    cv::polylines(overlay, std::vector<std::vector<cv::Point>>{points}, true, colour, 2, cv::LINE_AA);
    // The label is centred on the mean of the corners (inside convex zones, away from the count at the top left)
    // and kept on the image.
    cv::Point2d centre(0, 0);
    for (const cv::Point& p : points) centre += cv::Point2d(p.x, p.y) / static_cast<double>(points.size());
    char text[32];
    std::snprintf(text, sizeof(text), ": %.1f", counts[z]);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(zone.name + text, cv::FONT_HERSHEY_SIMPLEX, 0.45, 1, &baseline);
    const cv::Point at(std::clamp(cvRound(centre.x) - size.width / 2, 0, std::max(overlay.cols - size.width, 0)),
                       std::clamp(cvRound(centre.y) + size.height / 2, size.height,
                                  std::max(overlay.rows - baseline, size.height)));
    cv::putText(overlay, zone.name + text, at, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
    cv::putText(overlay, zone.name + text, at, cv::FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv::LINE_AA);
  }
}

// Where the JSON Lines records go: a file, or stdout ("-"); a line at a time, so that readers can follow. The one
// output written in place rather than through a temporary, since it is meant to be read while the run lasts: each
// record is written whole or (a failed write, cut back) not at all, and a run that fails removes the file it created.
class JsonLines {
 public:
  explicit JsonLines(const std::string& path) : path_(path), to_stdout_(path == "-") {
    if (to_stdout_) return;
    const bool existed = file_exists(path);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) throw Error(cat(path, ": cannot write the JSON Lines file here (", std::strerror(errno),
                                 "); check the folder and permissions"));
    if (!existed) note_created_output(path);
  }
  ~JsonLines() {
    if (fd_ >= 0) ::close(fd_);
  }
  JsonLines(const JsonLines&) = delete;
  JsonLines& operator=(const JsonLines&) = delete;
  void write(const nlohmann::json& record) {
    const std::string line = record.dump() + "\n";
    if (to_stdout_) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
      return;
    }
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        [[maybe_unused]] const int cut = ::ftruncate(fd_, static_cast<off_t>(length_));  // earlier records stay whole
        throw Error(cat(path_, ": cannot write record ", record.value("frame", 0), ": ",
                        err == ENOSPC ? "no space left on the device" : err == EFBIG ? "the file-size limit (ulimit -f)"
                                                                                  : std::strerror(err)));
      }
      done += static_cast<size_t>(n);
    }
    length_ += line.size();
  }

 private:
  std::string path_;
  bool to_stdout_;
  int fd_ = -1;
  size_t length_ = 0;
};

// --http HOST:PORT as a usage error (exit 2) when malformed, with the parser's own words.
CLI::Validator listen_address() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        try {
          serve::parse_listen_address(value);
        } catch (const Error& e) {
          return e.what();
        }
        return "";
      },
      "");
}

// --http: the live web view, serving from before the first frame until the run ends. The URL goes to stderr
// (stdout may be carrying --jsonl -).
std::unique_ptr<serve::LiveView> start_live_view(const std::string& address_text) {
  if (address_text.empty()) return nullptr;
  const serve::ListenAddress address = serve::parse_listen_address(address_text);
  auto view = std::make_unique<serve::LiveView>();
  const int port = view->start(address.host, address.port);
  if (!serve::is_loopback_host(address.host))
    log_warn(cat("--http ", address_text, ": the web view has no authentication; anyone who can reach this machine "
                 "on port ", port, " sees the frames and counts"));
  std::fprintf(stderr, "web view: %s\n", serve::http_url(address.host, port).c_str());
  std::fflush(stderr);
  return view;
}

// One frame to the web view: its record, as --jsonl writes it, and its overlay as a JPEG. Returns the seconds
// that took, the view's whole cost to the counting.
double publish_frame(serve::LiveView& view, const nlohmann::json& record, const cv::Mat& overlay) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", overlay, jpeg, {cv::IMWRITE_JPEG_QUALITY, 85});
  view.publish(record, std::string(jpeg.begin(), jpeg.end()));
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Stops the web view (its browsers see the stream end) and says on stderr what it served and what it cost.
void stop_live_view(serve::LiveView& view, double publish_seconds) {
  view.stop();
  const serve::LiveViewStats s = view.stats();
  std::fprintf(stderr,
               "web view: %lld frames published (%.3f ms a frame to encode and publish) to %lld event client%s; "
               "%lld events dropped for slow clients, %lld clients refused (too many at once)\n",
               static_cast<long long>(s.frames), s.frames > 0 ? 1e3 * publish_seconds / s.frames : 0.0,
               static_cast<long long>(s.event_clients), s.event_clients == 1 ? "" : "s",
               static_cast<long long>(s.dropped_events), static_cast<long long>(s.refused_clients));
}

}  // namespace

void register_run(CLI::App& app) {
  struct Args {
    std::string plan, out, zones, jsonl, http;
    InputArgs input;
    PipelineArgs pipeline;
    bool png = false, show = false, overwrite = false;
    double fps = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("run", "Count people in a video, a folder of images, an image or a live source: "
                                             "heatmap overlays, counts CSV and plot");
  cmd->add_option("--plan,--loadEngine", a->plan, "Plan file")->required();
  add_input_options(cmd, a->input);
  cmd->add_option("--out", a->out, "Output folder (default: out/run/<input name>)");
  add_pipeline_options(cmd, a->pipeline);
  cmd->add_flag("--png", a->png,
                "For a video input, also write each overlay as a PNG beside overlay.avi (images always give PNGs)");
  cmd->add_option("--fps", a->fps, "Frame rate of the overlay video (default: the input's, or 10)");
  cmd->add_flag("--show", a->show, "Also show each overlay in a window (needs a display)");
  cmd->add_flag("--overwrite", a->overwrite, "Replace files of an earlier run in --out");
  cmd->add_option("--zones", a->zones,
                  "Zones file (JSON): count each zone and alert above its limit; columns in counts.csv, "
                  "polygons on the overlays");
  cmd->add_option("--jsonl", a->jsonl,
                  "Write one JSON record per frame (count, zones, alerts) to this file, a record at a time so that it "
                  "can be followed (a run that fails removes it), or to stdout with -");
  cmd->add_option("--http", a->http,
                  "Serve a live web view while the run lasts, at HOST:PORT (a port alone: 127.0.0.1:PORT; port 0: any "
                  "free port; the URL is printed on stderr): the latest overlay, zone counts, alerts and the count "
                  "over time, and each frame's JSON record (as --jsonl writes it) as Server-Sent Events at /events. "
                  "It has no authentication: give a host other than loopback only on a network you trust")
      ->type_name("HOST:PORT")
      ->check(listen_address());
  cmd->callback([a] {
    namespace fs = std::filesystem;
    BoundZones bound;
    if (!a->zones.empty()) bound.zones = serve::read_zones(a->zones);  // a bad file fails before anything is written
    const bool jsonl_stdout = a->jsonl == "-";
    std::FILE* const summary_stream = jsonl_stdout ? stderr : stdout;
    eval::SequenceSource source = open_input(a->input);
    const std::string input_path = eval::file_url_path(a->input.input);
    const std::string out = a->out.empty() ? (fs::path("out") / "run" / source.name).string() : a->out;
    const bool video = source.live || is_video(input_path), pngs_wanted = !video || a->png;
    const std::vector<std::string> image_names = overlay_names(input_path, video);
    const std::string csv = (fs::path(out) / "counts.csv").string(), plot = (fs::path(out) / "counts.png").string(),
                      video_path = (fs::path(out) / "overlay.avi").string();
    Engine engine = Engine::load(a->plan, RuntimeOptions{a->pipeline.threads});
    if (!bound.zones.empty()) bind_zones(bound, source, engine);  // zones outside the frame fail before any write
    // A port in use fails before anything is written.
    std::unique_ptr<serve::LiveView> view = start_live_view(a->http);
    double publish_seconds = 0;
    // Ctrl-C: a live run writes what it counted; any other stops within a frame, writing nothing. The outputs get
    // their names together at the end (core/atomic_file.h).
    const InterruptResponseScope interrupts(source.live ? InterruptResponse::finish : InterruptResponse::cancel);
    OutputBatch outputs;
    create_output_folders(out);
    check_writable(csv, a->overwrite);
    check_writable(plot, a->overwrite);
    if (video) check_writable(video_path, a->overwrite);
    for (const std::string& name : image_names) check_writable((fs::path(out) / name).string(), a->overwrite);
    if (!a->jsonl.empty() && !jsonl_stdout) check_writable(a->jsonl, a->overwrite);
    bool show = a->show;
    if (show && std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr) {
      log_warn("--show: no display (DISPLAY is not set); writing files only");
      show = false;
    }
    double fps = a->fps;
    if (fps <= 0) fps = source.fps;
    if (fps <= 0) fps = 10;

    eval::PipelineOptions options = pipeline_options(a->pipeline);
    choose_flow_device(options, a->pipeline, engine, a->plan);
    options.keep_frames = true;
    if (source.live) options.lookahead = 1;  // the newest frames, not a backlog: the live queue drops instead
    std::vector<int64_t> flow_restarts;  // frames (1-based) after a live source's gap
    std::unique_ptr<OverlayVideo> writer;
    std::ostringstream counts;
    counts.precision(9);
    counts << "frame,count";
    for (const serve::Zone& zone : bound.zones) counts << "," << csv_field(zone.name);
    counts << (bound.zones.empty() ? "" : ",alerts") << (source.live ? ",flow_restart\n" : "\n");
    std::vector<double> series;
    std::vector<double> zone_sums(bound.zones.size(), 0.0);
    std::vector<int> zone_enters(bound.zones.size(), 0);
    std::unique_ptr<JsonLines> jsonl;
    int pngs = 0;
    std::string first_png;
    Progress progress("run", source.frames);
    const std::vector<eval::SequenceSource> sources{source};
    const auto start = std::chrono::steady_clock::now();
    const eval::PipelineRun run = eval::run_pipeline(engine, sources, options, [&](const eval::FrameOutput& f) {
      const Shape& shape = f.density->shape();
      const int map_h = static_cast<int>(shape[shape.size() - 2]), map_w = static_cast<int>(shape.back());
      if (!bound.zones.empty() && !bound.masks) {
        bound.frame_size = f.source_size;
        bound.masks.emplace(bound.zones, f.source_size.width, f.source_size.height, map_w, map_h);
        bound.alerts.emplace(bound.zones);
      }
      if (!a->jsonl.empty() && !jsonl) jsonl = std::make_unique<JsonLines>(a->jsonl);
      const double count = eval::count_of_density(f.density->span<float>());
      std::vector<double> zone_counts;
      std::vector<serve::AlertEvent> events;
      if (bound.masks) {
        zone_counts = bound.masks->counts(f.density->span<float>().data(), map_w, map_h);
        events = bound.alerts->update(f.frame + 1, zone_counts);
      }
      counts << f.frame + 1 << "," << count;
      for (size_t z = 0; z < zone_counts.size(); ++z) {
        counts << "," << zone_counts[z];
        zone_sums[z] += zone_counts[z];
      }
      if (!bound.zones.empty()) {
        std::string alerts;
        for (const serve::AlertEvent& e : events) {
          alerts += cat(alerts.empty() ? "" : ";", e.zone, ":", serve::alert_kind_name(e.kind));
          if (e.kind == serve::AlertKind::enter)
            for (size_t z = 0; z < bound.zones.size(); ++z)
              if (bound.zones[z].name == e.zone) ++zone_enters[z];
        }
        counts << "," << csv_field(alerts);
      }
      if (source.live) counts << "," << (f.flow_restarted ? 1 : 0);
      counts << "\n";
      series.push_back(count);
      if (f.flow_restarted) flow_restarts.push_back(f.frame + 1);
      nlohmann::json record;
      if (jsonl || view) {
        const double time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        record = serve::frame_record(f.frame + 1, time_s, count, bound.zones, zone_counts, events);
        if (source.live) record["flow_restart"] = f.flow_restarted;
      }
      if (jsonl) jsonl->write(record);
      cv::Mat overlay = eval::density_overlay(*f.frame_bgr, *f.density, count);
      if (bound.masks) draw_zones(overlay, bound, zone_counts);
      if (view) publish_seconds += publish_frame(*view, record, overlay);
      if (video) {
        if (!writer) writer = std::make_unique<OverlayVideo>(video_path, fps, overlay.size());
        writer->write(overlay);
      }
      if (pngs_wanted) {
        const size_t i = static_cast<size_t>(f.frame);
        const std::string name = i < image_names.size() ? image_names[i] : video_overlay_name(f.frame);
        const std::string path = (fs::path(out) / name).string();
        check_writable(path, a->overwrite);
        eval::write_image(path, overlay);
        if (pngs++ == 0) first_png = path;
      }
      if (show) {
        cv::imshow("crowdrt run", overlay);
        cv::waitKey(1);
      }
      progress.advance();
    });
    progress.finish();  // the summary below starts on a line of its own
    if (view) stop_live_view(*view, publish_seconds);
    if (writer) writer->finish();
    write_text_file(csv, counts.str());
    eval::write_image(plot, eval::count_plot({{"predicted count", series, cv::Scalar(40, 40, 220)}},
                                             cat("crowdrt run: ", source.name)));
    outputs.commit();
    std::string overlays = video ? video_path : "";
    if (pngs > 0)
      overlays += cat(video ? " and " : "", pngs, " overlay PNGs (", fs::path(first_png).filename().string(),
                      pngs > 1 ? " ..." : "", ")");
    if (!a->jsonl.empty() && !jsonl_stdout) overlays += cat(" and ", a->jsonl);
    std::fprintf(summary_stream, "%lld frames in %.2f s (%.2f FPS); wrote %s, %s and %s\n",
                 static_cast<long long>(run.frames), run.wall_seconds,
                 run.wall_seconds > 0 ? run.frames / run.wall_seconds : 0.0, csv.c_str(), plot.c_str(),
                 overlays.c_str());
    for (size_t z = 0; z < bound.zones.size(); ++z)
      std::fprintf(summary_stream, "zone %s: mean count %.2f, %d enter alert%s\n",
                   printable(bound.zones[z].name).c_str(),
                   series.empty() ? 0.0 : zone_sums[z] / static_cast<double>(series.size()), zone_enters[z],
                   zone_enters[z] == 1 ? "" : "s");
    if (source.live) print_live_summary(summary_stream, source, run.frames, flow_restarts);
  });
}

}  // namespace crowdrt::cli
