#include <algorithm>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/file.h"
#include "core/log.h"
#include "core/npy.h"
#include "core/progress.h"
#include "data/calibration_data.h"
#include "data/visdrone.h"
#include "vision/frame.h"

namespace crowdrt::data {
namespace fs = std::filesystem;
namespace {

struct Output {
  std::string source, image, flow;
};

std::string manifest_text(const CalibrationDataOptions& o, const std::string& sequences) {
  return cat(
      "crowdrt calib-data\nsequences=", fs::absolute(sequences).lexically_normal().string(),
      "\nflow=", vision::flow_preset_name(o.flow), "\nevery=", o.every, "\nmax=", o.max, "\n",
      o.recipe == "seed" ? std::string() : cat("recipe=", o.recipe, "\nsize=", o.size.width, "x", o.size.height, "\n"));
}

// The frame the flow is computed on: as read (the seed's recipe) or resized to the network's size.
cv::Mat flow_frame(const CalibrationDataOptions& o, const std::string& path) {
  const cv::Mat bgr = vision::decode_frame(path);
  return o.recipe == "network" ? vision::resize_frame(bgr, o.size) : bgr;
}

std::string read_text(const std::string& path) {
  const std::vector<std::byte> b = read_file(path);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

void write_text(const std::string& path, const std::string& text) { write_text_atomic(path, text); }

// Ctrl-C between frames: what was written stays (each file complete) for --resume, and the message says so.
void stop_if_interrupted(const CalibrationDataResult& result, const std::string& out) {
  try {
    throw_if_cancelled();
  } catch (const Interrupted& e) {
    throw Interrupted(e.cause, e.signal,
                      cat(result.written, " frames written in ", out, " by this run, each file complete; pass --resume "
                          "with the same settings to continue"));
  }
}

// A file written by this tool is complete once it has its final name (write, then rename); the checks
// below also catch files someone else put there.
bool image_complete(const Output& o) {
  std::error_code ec;
  const auto have = fs::file_size(o.image, ec);
  return !ec && have == fs::file_size(o.source);
}

bool flow_complete(const std::string& path) {
  if (!file_exists(path)) return false;
  try {
    const Tensor t = read_npy(path);
    return t.shape().size() == 3 && t.shape()[2] == 2;
  } catch (const Error&) {
    return false;
  }
}

void prepare_out(const CalibrationDataOptions& o, const std::string& manifest) {
  std::error_code ec;
  const fs::path out(o.out);
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) throw Error(cat(o.out, ": exists and is not a folder"));
  const bool empty = !fs::exists(out, ec) || fs::is_empty(out, ec);
  const std::string manifest_path = (out / kCalibrationManifest).string();
  if (!empty && !o.overwrite) {
    if (!o.resume)
      throw Error(cat(o.out,
                      ": not empty; pass --resume to continue an interrupted calib-data run there, --overwrite to "
                      "replace the files this run writes (nothing else is touched), or choose an empty folder"));
    if (!file_exists(manifest_path))
      throw Error(
          cat(o.out, ": --resume, but no ", kCalibrationManifest, " there, so it was not made by crowdrt calib-data"));
    if (read_text(manifest_path) != manifest)
      throw Error(cat(o.out, ": --resume with other settings than the run that started it (see ", manifest_path,
                      "); repeat those settings, or pass --overwrite"));
  }
  fs::create_directories(out / "imgs");
  fs::create_directories(out / "imgs_flows");
  write_text(manifest_path, manifest);
}
}  // namespace

CalibrationDataResult write_calibration_data(const CalibrationDataOptions& o) {
  if (o.flow == vision::FlowPreset::none)
    throw Error("calib-data: --flow none computes no flow; choose ultrafast, fast or medium");
  if (o.every < 1) throw Error(cat("calib-data: --every ", o.every, ": must be 1 or more"));
  if (o.max < 0) throw Error(cat("calib-data: --max ", o.max, ": must be 0 (no limit) or more"));
  if (o.recipe != "seed" && o.recipe != "network")
    throw Error(cat("calib-data: --calib-recipe ", o.recipe, ": expected seed or network"));
  std::string sequences = o.sequences;
  std::error_code ec;
  if (fs::is_directory(fs::path(sequences) / "sequences", ec)) sequences = (fs::path(sequences) / "sequences").string();
  if (!fs::is_directory(sequences, ec)) throw Error(cat(sequences, ": not a folder of sequence folders"));
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(sequences))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());  // the seed uses os.listdir order; sorted is reproducible
  if (names.empty()) throw Error(cat(sequences, ": holds no sequence folders"));

  // Choose the frames first, so that the progress total and --max are known before any work.
  std::vector<std::vector<std::string>> frames(names.size());
  std::vector<std::vector<bool>> chosen(names.size());
  int64_t total = 0;
  for (size_t s = 0; s < names.size(); ++s) {
    frames[s] = list_frames((fs::path(sequences) / names[s]).string());
    chosen[s].assign(frames[s].size(), false);
    for (size_t i = 0; i < frames[s].size(); i += o.every) {
      if (o.max > 0 && total >= o.max) break;
      chosen[s][i] = true;
      ++total;
    }
  }
  // Each file gets its name as soon as it is complete, and complete files stay when the run fails or is
  // interrupted: --resume continues from them (a file under its final name is always whole).
  OutputBatch files(OutputBatch::Rename::at_once, OutputBatch::OnFailure::keep);
  prepare_out(o, manifest_text(o, sequences));

  CalibrationDataResult result;
  Progress progress("calib-data", total);
  vision::DisFlow dis(o.flow);
  for (size_t s = 0; s < names.size(); ++s) {
    std::vector<Output> outputs(frames[s].size());
    std::vector<bool> todo(frames[s].size(), false);
    ptrdiff_t first = -1, last = -1;
    for (size_t i = 0; i < frames[s].size(); ++i) {
      const fs::path src(frames[s][i]);
      const std::string stem = names[s] + "_" + src.stem().string();
      outputs[i] = {src.string(), (fs::path(o.out) / "imgs" / (names[s] + "_" + src.filename().string())).string(),
                    (fs::path(o.out) / "imgs_flows" / (stem + ".npy")).string()};
      if (!chosen[s][i]) continue;
      todo[i] = o.overwrite || !image_complete(outputs[i]) || !flow_complete(outputs[i].flow);
      if (todo[i]) {
        if (first < 0) first = static_cast<ptrdiff_t>(i);
        last = static_cast<ptrdiff_t>(i);
      } else {
        ++result.kept;
        progress.advance();
      }
    }
    if (first < 0) continue;
    // Flow is warm-started from the previous frame's flow, so continue from the frame before the first
    // missing one if its flow is on disk (it is exactly what we computed), else from the sequence start.
    dis.start_sequence();
    ptrdiff_t start = 0;
    if (first > 0 && chosen[s][first - 1] && !todo[first - 1] && !o.overwrite) {
      const cv::Mat previous_gray = vision::gray_from_bgr(flow_frame(o, frames[s][first - 1]));
      Tensor previous_flow = read_npy(outputs[first - 1].flow);
      if (previous_flow.shape() == Shape{previous_gray.rows, previous_gray.cols, 2}) {
        dis.resume_after(previous_gray,
                         cv::Mat(previous_gray.rows, previous_gray.cols, CV_32FC2, previous_flow.data<float>()));
        start = first;
      }
    }
    for (ptrdiff_t i = start; i <= last; ++i) {
      stop_if_interrupted(result, o.out);
      const cv::Mat& flow = dis.next(vision::gray_from_bgr(flow_frame(o, frames[s][i])));
      if (!todo[i]) continue;
      const Tensor flow_tensor = Tensor::from<float>(
          {flow.rows, flow.cols, 2}, std::span<const float>(flow.ptr<float>(0), static_cast<size_t>(flow.total()) * 2));
      write_npy(outputs[i].flow, flow_tensor);
      write_file_atomic(outputs[i].image, read_file(outputs[i].source));
      ++result.written;
      progress.advance();
    }
  }
  files.commit();
  return result;
}

}  // namespace crowdrt::data
