#include <gtest/gtest.h>

#include "core/log.h"

using namespace crowdrt;

namespace {
// Restores the process-wide level whatever a test sets.
class LogLevelTest : public ::testing::Test {
 protected:
  void TearDown() override { set_log_level(LogLevel::info); }
};

std::string logged_at(LogLevel level) {
  set_log_level(level);
  testing::internal::CaptureStderr();
  log_warn("w");
  log_info("i");
  log_verbose("v");
  return testing::internal::GetCapturedStderr();
}
}  // namespace

TEST_F(LogLevelTest, WarningsAreWrittenAtEveryLevel) {
  EXPECT_EQ(logged_at(LogLevel::warn), "warning: w\n");
  EXPECT_EQ(logged_at(LogLevel::info), "warning: w\ni\n");
  EXPECT_EQ(logged_at(LogLevel::verbose), "warning: w\ni\nv\n");
}

TEST_F(LogLevelTest, NamesAreTheCommandLineWords) {
  EXPECT_EQ(log_level_from_name("warn"), LogLevel::warn);
  EXPECT_EQ(log_level_from_name("quiet"), LogLevel::warn);
  EXPECT_EQ(log_level_from_name("info"), LogLevel::info);
  EXPECT_EQ(log_level_from_name("verbose"), LogLevel::verbose);
  EXPECT_EQ(log_level_from_name("loud"), std::nullopt);
}

TEST_F(LogLevelTest, AMessageFirstClearsAProgressLine) {
  set_progress_line_open(true);
  testing::internal::CaptureStderr();
  log_info("i");
  log_info("j");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "\r\033[Ki\nj\n");
}
