// `crowdrt serve` on the GPU: sustained frames per second of the counting model at 1, 8 and 32 concurrent streams.
// The server is the one `crowdrt serve` runs (ModelRepository + HttpServer on 127.0.0.1, a CUDA plan, frames prepared
// on the GPU per sequence); the clients are threads of this program, one keep-alive connection and one sequence of
// synthetic frames each, sending frames as the binary-tensor extension's UINT8 [H, W, 3] (what a camera client sends).
// Beside it, in the same run: the same frames counted in process (eval::DeviceFramePath, one engine, one stream).
// Every stream's counts are compared with the in-process counts of the same frames (the table says whether they are
// equal). A program apart from the crowdrt CLI so that it can be carried to the GPU machine without OpenCV's image
// codecs.
//   usage: bench_serve_gpu MODEL.onnx [--precision fp16] [--size 608] [--frames 60] [--streams 1,8,32]
//                          [--instances 1,4] [--flow medium] [--work DIR]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "data/synth.h"
#include "engine/builder.h"
#include "engine/plan.h"
#include "eval/device_frames.h"
#include "serve/kserve/http_server.h"
#include "serve/kserve/model_repository.h"

using namespace crowdrt;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

std::vector<int> int_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

struct StreamResult {
  std::vector<double> counts, latencies_ms;
  std::string error;
};

// One client: a sequence of `frames` frames on one keep-alive connection.
StreamResult run_stream(int port, const std::string& model, const std::vector<cv::Mat>& frames, int id) {
  StreamResult r;
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_read_timeout(120, 0);
  const std::string path = "/v2/models/" + model + "_counting/infer";
  for (size_t i = 0; i < frames.size(); ++i) {
    const cv::Mat& f = frames[i];
    const size_t bytes = f.total() * f.elemSize();
    const nlohmann::json header = {
        {"inputs", {{{"name", "frame"}, {"datatype", "UINT8"}, {"shape", {f.rows, f.cols, 3}},
                     {"parameters", {{"binary_data_size", bytes}}}}}},
        {"parameters", {{"sequence_id", id}, {"sequence_start", i == 0}, {"sequence_end", i + 1 == frames.size()}}}};
    const std::string head = header.dump();
    std::string body = head;
    body.append(reinterpret_cast<const char*>(f.data), bytes);
    const auto t = Clock::now();
    auto res = client.Post(path, {{"Inference-Header-Content-Length", std::to_string(head.size())}}, body,
                           "application/octet-stream");
    r.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    if (!res || res->status != 200) {
      r.error = cat("stream ", id, " frame ", i + 1, ": ",
                    res ? cat(res->status, " ", res->body.substr(0, 200)) : "no answer");
      return r;
    }
    const nlohmann::json answer = nlohmann::json::parse(res->body);
    for (const auto& o : answer["outputs"])
      if (o["name"] == "count") r.counts.push_back(o["data"][0].get<double>());
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: %s MODEL.onnx [--precision fp16] [--size 608] [--frames 60] [--streams 1,8,32] "
                         "[--instances 1,4] [--flow medium] [--work DIR]\n", argv[0]);
    return 2;
  }
  std::string onnx = argv[1], precision = "fp16", flow = "medium",
              work = (fs::temp_directory_path() / "serve_gpu").string();
  int size = 608, frames_per_stream = 60;
  std::vector<int> stream_counts = {1, 8, 32}, instance_counts = {1, 4};
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--precision") precision = v;
    else if (k == "--size") size = std::stoi(v);
    else if (k == "--frames") frames_per_stream = std::stoi(v);
    else if (k == "--streams") stream_counts = int_list(v);
    else if (k == "--instances") instance_counts = int_list(v);
    else if (k == "--flow") flow = v;
    else if (k == "--work") work = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  try {
    BuildOptions options;
    options.device = "cuda";
    options.precision = precision_from_name(precision);
    const fs::path plan_dir = fs::path(work) / "repository" / "bench" / "1";
    fs::create_directories(plan_dir);
    write_plan((plan_dir / "model.plan").string(), build_plan(onnx, options));
    // Frames: one synthetic sequence per stream (size x size, so the resize is the identity), rendered up front.
    const int max_streams = *std::max_element(stream_counts.begin(), stream_counts.end());
    std::vector<std::vector<cv::Mat>> frames(max_streams);
    for (int s = 0; s < max_streams; ++s) {
      data::SynthSequence seq({size, size}, 2027, static_cast<uint64_t>(s));
      for (int f = 0; f < frames_per_stream; ++f) frames[s].push_back(seq.render_next().bgr);
    }

    // In process: DeviceFramePath on one engine, every stream's frames one sequence after another.
    serve::kserve::RepositoryOptions repo_options;
    std::vector<std::vector<double>> expected(max_streams);
    {
      Engine engine = Engine::load((plan_dir / "model.plan").string(), repo_options.runtime);
      eval::DeviceFramePath path(engine, vision::parse_flow_preset(flow));
      for (int warm = 0; warm < 10; ++warm) {
        path.submit(frames[0][warm % frames_per_stream]);
        path.wait_count();
      }
      const auto t = Clock::now();
      for (int s = 0; s < max_streams; ++s) {
        path.start_sequence();
        for (const cv::Mat& f : frames[s]) {
          path.submit(f);
          expected[s].push_back(path.wait_count());
        }
      }
      const double seconds = std::chrono::duration<double>(Clock::now() - t).count();
      std::printf("in process (DeviceFramePath, 1 engine): %d frames in %.3f s = %.1f frames/s\n",
                  max_streams * frames_per_stream, seconds, max_streams * frames_per_stream / seconds);
    }
    {
      const fs::path config_path = plan_dir.parent_path() / "config.json";
      std::FILE* config = std::fopen(config_path.c_str(), "w");
      const bool written = config && std::fprintf(config, "{\"flow\": \"%s\", \"flow_device\": \"cuda\"}\n",
                                                  flow.c_str()) > 0;
      if (!config || std::fclose(config) != 0 || !written)
        throw Error(cat("cannot write ", config_path.string(), ": ", std::strerror(errno)));
    }

    std::printf("%-9s %-7s %-7s %-10s %-9s %-9s %-9s %s\n", "instances", "streams", "frames", "frames/s", "p50 ms",
                "p99 ms", "max ms", "counts equal to in process");
    for (int instances : instance_counts) {
      repo_options.instances = instances;
      serve::kserve::ModelRepository repository((fs::path(work) / "repository").string(), repo_options);
      repository.load_all();
      serve::kserve::HttpOptions http;
      http.port = 0;
      http.threads = max_streams + 4;
      http.max_request_bytes = size_t{256} << 20;
      serve::kserve::Service service(repository, {static_cast<size_t>(max_streams) + 8, 60}, "");
      serve::kserve::HttpServer server(service, http);
      const int port = server.bind();
      std::thread listener([&] { server.listen(); });
      run_stream(port, "bench", std::vector<cv::Mat>(frames[0].begin(), frames[0].begin() + 10), 999999);  // warm-up
      std::string failure;
      for (int streams : stream_counts) {
        std::vector<StreamResult> results(streams);
        std::vector<std::thread> clients;
        const auto t = Clock::now();
        for (int s = 0; s < streams; ++s)
          clients.emplace_back([&, s] { results[s] = run_stream(port, "bench", frames[s], s + 1); });
        for (std::thread& c : clients) c.join();
        const double seconds = std::chrono::duration<double>(Clock::now() - t).count();
        std::vector<double> latencies;
        double worst = 0;  // largest |count - in-process count|
        int first_differing = 0;  // a frame number (1-based) where some stream's count differs
        for (int s = 0; s < streams; ++s) {
          if (!results[s].error.empty() && failure.empty()) failure = results[s].error;
          latencies.insert(latencies.end(), results[s].latencies_ms.begin(), results[s].latencies_ms.end());
          for (size_t f = 0; f < std::min(expected[s].size(), results[s].counts.size()); ++f) {
            const double d = std::abs(results[s].counts[f] - expected[s][f]);
            if (d > 0 && first_differing == 0) first_differing = static_cast<int>(f) + 1;
            worst = std::max(worst, d);
          }
        }
        const int total = streams * frames_per_stream;
        std::printf(
            "%-9d %-7d %-7d %-10.1f %-9.2f %-9.2f %-9.2f %s\n", instances, streams, total, total / seconds,
            percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 1.0),
            worst == 0 ? "yes" : cat("no: largest difference ", worst, ", e.g. at frame ", first_differing).c_str());
        std::fflush(stdout);
        if (!failure.empty()) break;
      }
      server.stop();
      listener.join();
      if (!failure.empty()) throw Error(failure);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_serve_gpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
