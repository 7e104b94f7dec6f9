// The frames part of the public API in an engine-only build (CROWDRT_WITH_FRAMES=OFF, no OpenCV): every
// frame entry point is an Error saying so; tensors still run through Engine::infer and count.
#include "api/internal.h"

namespace crowdrt::internal {
void check_flow_preset(const std::string&) {}  // nothing reads frames here
::crowdrt::CalibrationInputFactory calibration_frames() { return {}; }
}  // namespace crowdrt::internal

namespace crowdrt::v0 {
namespace {
[[noreturn]] void no_frames(const char* what) {
  throw Error(cat(what, ": this crowdrt was built without frames (CROWDRT_WITH_FRAMES=OFF, no OpenCV); ",
                  "pass network inputs to Engine::infer / count, or rebuild with frames"));
}
}  // namespace

struct FrameInput {};
void FrameInputDeleter::operator()(FrameInput* input) const { delete input; }

double Engine::count(const FrameView&) {
  impl();
  no_frames("Engine::count(frame)");
}
ZoneCounts Engine::count(const FrameView&, const std::vector<Zone>&) {
  impl();
  no_frames("Engine::count(frame, zones)");
}
void Engine::reset() { impl(); }

struct FrameSource::Impl {};
FrameSource::FrameSource(const std::string&) { no_frames("FrameSource"); }
FrameSource::FrameSource(const std::string&, const FrameSourceOptions&) { no_frames("FrameSource"); }
FrameSource::~FrameSource() = default;
FrameSource::FrameSource(FrameSource&&) noexcept = default;
FrameSource& FrameSource::operator=(FrameSource&&) noexcept = default;
bool FrameSource::next(Frame&) { no_frames("FrameSource"); }
std::int64_t FrameSource::position() const { return 0; }
bool FrameSource::live() const { return false; }
bool FrameSource::after_gap() const { return false; }
std::int64_t FrameSource::dropped() const { return 0; }
int FrameSource::reconnects() const { return 0; }
const std::string& FrameSource::path() const { no_frames("FrameSource"); }

struct Preprocessor::Impl {};
Preprocessor::Preprocessor(const PreprocessOptions&) { no_frames("Preprocessor"); }
Preprocessor::~Preprocessor() = default;
Preprocessor::Preprocessor(Preprocessor&&) noexcept = default;
Preprocessor& Preprocessor::operator=(Preprocessor&&) noexcept = default;
Tensor Preprocessor::process(const FrameView&) { no_frames("Preprocessor"); }
void Preprocessor::reset() { no_frames("Preprocessor"); }
const PreprocessOptions& Preprocessor::options() const { no_frames("Preprocessor"); }

}  // namespace crowdrt::v0
