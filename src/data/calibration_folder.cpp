#include "data/calibration_folder.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "core/npy.h"
#include "vision/frame.h"
#include "vision/pack_five_channel.h"

namespace crowdrt::data {
namespace fs = std::filesystem;

std::vector<CalibrationSample> list_calibration_folder(const std::string& dir, bool need_flow) {
  const fs::path images = fs::path(dir) / "imgs";
  std::error_code ec;
  if (!fs::is_directory(images, ec))
    throw Error(
        cat(images.string(),
            ": not a folder; a calibration folder holds imgs/ and imgs_flows/ (make one with crowdrt calib-data)"));
  std::vector<CalibrationSample> samples;
  for (const fs::directory_entry& e : fs::directory_iterator(images)) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".jpg" && ext != ".png")) continue;
    CalibrationSample s{e.path().string(), ""};
    if (need_flow) {
      s.flow = (fs::path(dir) / "imgs_flows" / (e.path().stem().string() + ".npy")).string();
      if (!file_exists(s.flow))
        throw Error(cat(
            s.flow, ": missing; 5-channel calibration needs the flow of every image (crowdrt calib-data writes both)"));
    }
    samples.push_back(std::move(s));
  }
  std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.image < b.image; });
  if (samples.empty()) throw Error(cat(images.string(), ": no .jpg or .png images"));
  return samples;
}

Tensor load_calibration_sample(const CalibrationSample& sample, cv::Size size, int channels) {
  cv::Mat bgr = vision::decode_frame(sample.image);
  if (channels == 3) return vision::pack_resized_stack(vision::bgr_to_rgb(bgr), cv::Mat(), size, 3);
  Tensor flow = read_npy(sample.flow);
  // A folder of the network recipe (calib-data --calib-recipe network) holds flow at the network's size, computed
  // between resized frames: the frame is resized the same way first, as inference does.
  if (flow.shape() == Shape{size.height, size.width, 2} && bgr.size() != size) bgr = vision::resize_frame(bgr, size);
  const cv::Mat rgb = vision::bgr_to_rgb(bgr);
  const Shape expected{rgb.rows, rgb.cols, 2};
  if (flow.shape() != expected)
    throw Error(cat(sample.flow, ": flow of shape ", shape_str(flow.shape()), ", expected ", shape_str(expected),
                    " for image ", sample.image, " (the source size) or ", shape_str(Shape{size.height, size.width, 2}),
                    " (the network's, calib-data --calib-recipe network)"));
  const cv::Mat flow_mat(rgb.rows, rgb.cols, CV_32FC2, flow.data<float>());
  return vision::pack_resized_stack(rgb, flow_mat, size, channels);
}

}  // namespace crowdrt::data
