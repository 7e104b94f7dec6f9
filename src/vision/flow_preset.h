// The DIS optical-flow presets the seed uses, apart from any implementation (OpenCV on the CPU, ours in CUDA).
#pragma once

namespace crowdrt::vision {

// `none` means no flow channels (3-channel models).
enum class FlowPreset { none, ultrafast, fast, medium };

// OpenCV 4.6's DISOpticalFlow::create(preset) parameters, with the seed's spatial propagation off.
struct DisSettings {
  int finest_scale = 2;
  int patch_size = 8;
  int patch_stride = 4;
  int gradient_descent_iterations = 16;
  int variational_iterations = 5;  // fixed-point iterations; 0 skips the variational refinement
  int sor_iterations = 5;
  float alpha = 20.0f, gamma = 10.0f, delta = 5.0f;  // smoothness, gradient and colour constancy weights
};

constexpr DisSettings dis_settings(FlowPreset preset) {
  DisSettings s;
  switch (preset) {
    case FlowPreset::ultrafast:
      s.finest_scale = 2;
      s.patch_stride = 4;
      s.gradient_descent_iterations = 12;
      s.variational_iterations = 0;
      break;
    case FlowPreset::fast:
      s.finest_scale = 2;
      s.patch_stride = 4;
      s.gradient_descent_iterations = 16;
      s.variational_iterations = 5;
      break;
    case FlowPreset::medium:
      s.finest_scale = 1;
      s.patch_stride = 3;
      s.gradient_descent_iterations = 25;
      s.variational_iterations = 5;
      break;
    case FlowPreset::none: break;
  }
  return s;
}

}  // namespace crowdrt::vision
