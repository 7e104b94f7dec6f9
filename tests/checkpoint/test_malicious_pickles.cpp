// Checkpoints built to run code when Python unpickles them: crowdrt must refuse them by the global they
// name and must not have run anything (the payload would create pwned.marker).
#include <gtest/gtest.h>

#include <filesystem>

#include "checkpoint/checkpoint.h"
#include "checkpoint_files.h"

using namespace crowdrt::checkpoint;
using namespace crowdrt::checkpoint::testing;

namespace {

struct Case {
  const char* file;
  const char* global;
};

class MaliciousCheckpoint : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(MaliciousCheckpoint, IsRefusedByTheGlobalItNamesAndNothingRuns) {
  const std::string marker = checkpoint_path("pwned.marker");
  std::filesystem::remove(marker);
  const std::string path = checkpoint_path(GetParam().file);
  const std::string message = error_of([&] { read_checkpoint(path); });
  EXPECT_TRUE(contains(message, path + ": refuses to load global '" + GetParam().global +
                                    "': checkpoints may only hold tensors; nothing in it was run"));
  EXPECT_EQ(message.find('\n'), std::string::npos) << "errors are one line";
  EXPECT_FALSE(std::filesystem::exists(marker));
}

INSTANTIATE_TEST_SUITE_P(
    Payloads, MaliciousCheckpoint,
    ::testing::Values(Case{"malicious_system.pth", "posix.system"},         // torch.save, GLOBAL opcode
                      Case{"malicious_popen.pth", "subprocess.Popen"},      // torch.save inside an OrderedDict
                      Case{"malicious_plain_system.pth", "posix.system"},   // plain pickle in data.pkl
                      Case{"malicious_plain_eval.pth", "builtins.eval"}));  // protocol 4, STACK_GLOBAL

TEST(MaliciousCheckpoint, TheMarkerIsWhatPythonWouldHaveCreated) {
  // Guards the test above against a payload that could never have fired: the files do name the marker.
  const std::vector<std::byte> bytes = checkpoint_bytes("malicious_system.pth");
  const std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  EXPECT_NE(text.find("touch " + checkpoint_path("pwned.marker")), std::string::npos);
}
