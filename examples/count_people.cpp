// Counts the people in every frame of a video (or a folder of images, or one image) with a crowdrt plan.
//   count_people MODEL.plan VIDEO [ultrafast|fast|medium]
// Build the plan first: crowdrt build --onnx MODEL.onnx -o MODEL.plan
#include <crowdrt/crowdrt.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: %s MODEL.plan VIDEO|FOLDER|IMAGE [ultrafast|fast|medium]\n", argv[0]);
    return 2;
  }
  try {
    crowdrt::EngineOptions options;
    if (argc == 4) options.flow = argv[3];  // the optical-flow preset the model was trained with
    crowdrt::Engine engine(argv[1], options);
    crowdrt::FrameSource video(argv[2]);

    crowdrt::Frame frame;
    double total = 0;
    while (video.next(frame)) {
      const double people = engine.count(frame);  // resize, RGB + flow, inference, sum / 100
      total += people;
      std::printf("frame %lld: %.6f\n", static_cast<long long>(video.position()), people);
    }
    if (video.position() == 0) throw crowdrt::Error(std::string(argv[2]) + ": no frames");
    std::printf("%lld frames, %.6f people per frame on average\n", static_cast<long long>(video.position()),
                total / static_cast<double>(video.position()));
    return 0;
  } catch (const crowdrt::Error& e) {
    std::fprintf(stderr, "count_people: %s\n", e.what());
    return 1;
  }
}
