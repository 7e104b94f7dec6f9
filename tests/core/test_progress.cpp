#include <gtest/gtest.h>
#include <unistd.h>

#include "core/progress.h"

using namespace crowdrt;

TEST(Progress, CountsAndStaysSilentWhenStderrIsNotATerminal) {
  if (::isatty(STDERR_FILENO)) GTEST_SKIP() << "stderr is a terminal here; the silence is for logs and pipes";
  testing::internal::CaptureStderr();
  {
    Progress progress("work", 3);
    progress.advance();
    progress.advance(2);
    EXPECT_EQ(progress.done(), 3);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}
