// crowdrt run: a plan over a video, a folder of images or one image: the density map as a heatmap over each
// frame with its count, saved as a video or PNGs, and the counts per frame as CSV and a plot.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <opencv2/highgui.hpp>
#include <opencv2/videoio.hpp>
#include <sstream>

#include "cli/cli_common.h"
#include "cli/cli_evaluation.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/visdrone.h"
#include "eval/metrics.h"
#include "eval/plots.h"

namespace crowdrt::cli {
namespace {

class OverlayVideo {
 public:
  OverlayVideo(const std::string& path, double fps, cv::Size size) : path_(path) {
    writer_.open(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps, size);
    if (!writer_.isOpened())
      throw Error(cat(path, ": OpenCV cannot write an MJPG video here; extract the frames to a folder and give that "
                      "folder as --input to get PNG overlays"));
  }
  void write(const cv::Mat& frame) { writer_.write(frame); }

 private:
  std::string path_;
  cv::VideoWriter writer_;
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
  const std::vector<std::string> frames = fs::is_directory(input) ? data::list_frames(input) : std::vector<std::string>{input};
  std::vector<std::string> names;
  for (const std::string& f : frames) names.push_back(fs::path(f).stem().string() + "_overlay.png");
  return names;
}

std::string video_overlay_name(int64_t frame) {
  char name[48];
  std::snprintf(name, sizeof(name), "frame_%06lld_overlay.png", static_cast<long long>(frame + 1));
  return name;
}

}  // namespace

void register_run(CLI::App& app) {
  struct Args {
    std::string plan, input, out;
    PipelineArgs pipeline;
    bool png = false, show = false, overwrite = false;
    double fps = 0;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("run", "Count people in a video, a folder of images or an image: heatmap overlays, counts CSV and plot");
  cmd->add_option("--plan,--loadEngine", a->plan, "Plan file")->required();
  cmd->add_option("--input", a->input, "A video file, a folder of images (sorted by name) or one image")->required();
  cmd->add_option("--out", a->out, "Output folder (default: out/run/<input name>)");
  add_pipeline_options(cmd, a->pipeline);
  cmd->add_flag("--png", a->png,
                "For a video input, also write each overlay as a PNG beside overlay.avi (images always give PNGs)");
  cmd->add_option("--fps", a->fps, "Frame rate of the overlay video (default: the input's, or 10)");
  cmd->add_flag("--show", a->show, "Also show each overlay in a window (needs a display)");
  cmd->add_flag("--overwrite", a->overwrite, "Replace files of an earlier run in --out");
  cmd->callback([a] {
    namespace fs = std::filesystem;
    eval::SequenceSource source = eval::input_sequence(a->input);
    const std::string out = a->out.empty() ? (fs::path("out") / "run" / source.name).string() : a->out;
    const bool video = is_video(a->input), pngs_wanted = !video || a->png;
    const std::vector<std::string> image_names = overlay_names(a->input, video);
    const std::string csv = (fs::path(out) / "counts.csv").string(), plot = (fs::path(out) / "counts.png").string(),
                      video_path = (fs::path(out) / "overlay.avi").string();
    fs::create_directories(out);
    check_writable(csv, a->overwrite);
    check_writable(plot, a->overwrite);
    if (video) check_writable(video_path, a->overwrite);
    for (const std::string& name : image_names) check_writable((fs::path(out) / name).string(), a->overwrite);
    bool show = a->show;
    if (show && std::getenv("DISPLAY") == nullptr && std::getenv("WAYLAND_DISPLAY") == nullptr) {
      log_warn("--show: no display (DISPLAY is not set); writing files only");
      show = false;
    }
    double fps = a->fps;
    if (fps <= 0 && is_video(a->input)) fps = cv::VideoCapture(a->input).get(cv::CAP_PROP_FPS);
    if (fps <= 0) fps = 10;

    Engine engine = Engine::load(a->plan, RuntimeOptions{a->pipeline.threads});
    eval::PipelineOptions options = pipeline_options(a->pipeline);
    choose_flow_device(options, a->pipeline, engine, a->plan);
    options.keep_frames = true;
    std::unique_ptr<OverlayVideo> writer;
    std::ostringstream counts;
    counts.precision(9);
    counts << "frame,count\n";
    std::vector<double> series;
    int pngs = 0;
    std::string first_png;
    Progress progress("run", source.frames);
    const std::vector<eval::SequenceSource> sources{source};
    const eval::PipelineRun run = eval::run_pipeline(engine, sources, options, [&](const eval::FrameOutput& f) {
      const double count = eval::count_of_density(f.density->span<float>());
      counts << f.frame + 1 << "," << count << "\n";
      series.push_back(count);
      const cv::Mat overlay = eval::density_overlay(*f.frame_bgr, *f.density, count);
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
    write_text_file(csv, counts.str());
    eval::write_image(plot, eval::count_plot({{"predicted count", series, cv::Scalar(40, 40, 220)}},
                                             cat("crowdrt run: ", source.name)));
    std::string overlays = video ? video_path : "";
    if (pngs > 0) overlays += cat(video ? " and " : "", pngs, " overlay PNGs (", fs::path(first_png).filename().string(),
                                  pngs > 1 ? " ..." : "", ")");
    std::printf("%lld frames in %.2f s (%.2f FPS); wrote %s, %s and %s\n", static_cast<long long>(run.frames),
                run.wall_seconds, run.wall_seconds > 0 ? run.frames / run.wall_seconds : 0.0, csv.c_str(),
                plot.c_str(), overlays.c_str());
  });
}

}  // namespace crowdrt::cli
