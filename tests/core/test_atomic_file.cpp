// AtomicFile, OutputBatch and the interrupt handling of core/cancel.h: a file appears whole under its name or not
// at all, temporaries never outlive their process, and a stop request stops.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/file.h"

using namespace crowdrt;
namespace fs = std::filesystem;

// A fresh folder of its own for each test (outside the anonymous namespace: the unity build includes this file).
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() /
              ("crowdrt_atomic_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(folder_);
    fs::create_directories(folder_);
  }
  void TearDown() override { fs::remove_all(folder_); }
  std::string path(const std::string& name) const { return (folder_ / name).string(); }
  std::set<std::string> names() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(folder_)) out.insert(e.path().filename().string());
    return out;
  }
  static std::string text_of(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void put(const std::string& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }
  fs::path folder_;
};

namespace {

// A process id that no process has: a child that has ended and been waited for.
pid_t ended_process() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// Runs `body` in a child process (for what changes process-wide state: signals, limits) and returns its wait status.
template <class Body>
int in_child(Body body) {
  const pid_t child = ::fork();
  if (child == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return status;
}

}  // namespace

TEST_F(AtomicFileTest, CommitPutsTheWholeFileUnderItsNameAndLeavesNoTemporary) {
  AtomicFile file(path("model.plan"));
  file.write(std::string_view("first "));
  file.write(std::string_view("second"));
  EXPECT_FALSE(file_exists(path("model.plan")));  // nothing under the name before commit
  EXPECT_TRUE(file_exists(file.temp_path()));
  file.commit();
  EXPECT_EQ(text_of(path("model.plan")), "first second");
  EXPECT_EQ(names(), std::set<std::string>{"model.plan"});
}

TEST_F(AtomicFileTest, TheTemporaryIsHiddenNamesItsOwnerAndKeepsTheExtension) {
  AtomicFile file(path("overlay.avi"));
  const std::string name = fs::path(file.temp_path()).filename().string();
  EXPECT_EQ(name.rfind(".overlay.crowdrt-tmp-" + std::to_string(::getpid()) + "-", 0), 0u) << name;
  EXPECT_EQ(fs::path(name).extension(), ".avi");
}

TEST_F(AtomicFileTest, WithoutCommitNothingIsLeft) {
  { AtomicFile file(path("a.json")); file.write(std::string_view("{\"half\": ")); }
  EXPECT_TRUE(names().empty());
}

TEST_F(AtomicFileTest, AnExceptionWhileWritingLeavesNeitherTheFileNorATemporary) {
  put(path("keep.csv"), "earlier file\n");
  EXPECT_THROW(
      {
        AtomicFile file(path("keep.csv"));
        file.write(std::string_view("new"));
        throw Error("the computation failed");
      },
      Error);
  EXPECT_EQ(text_of(path("keep.csv")), "earlier file\n");  // an existing file is replaced only by a complete one
  EXPECT_EQ(names(), std::set<std::string>{"keep.csv"});
}

TEST_F(AtomicFileTest, AMissingFolderIsAnErrorNamingThePath) {
  try {
    write_text_atomic(path("no/such/folder/x.npy"), "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.npy: cannot write: folder"), std::string::npos) << e.what();
  }
}

TEST_F(AtomicFileTest, AFileSizeLimitFailsTheWriteNamingTheFileAndLeavesNothing) {
  const std::string target = path("big.npy");
  const int status = in_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);  // as the crowdrt program does (install_interrupt_handlers)
    const rlimit limit{4096, RLIM_INFINITY};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_file_atomic(target, std::vector<std::byte>(10000));
    } catch (const Error& e) {
      const std::string message = e.what();
      ::_exit(message.find(target + ": cannot write: file too large") == 0 ? 7 : 8);
    }
    ::_exit(9);
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_TRUE(names().empty());
}

TEST_F(AtomicFileTest, ABatchNamesItsFilesOnlyWhenItCommits) {
  OutputBatch batch;
  write_text_atomic(path("counts.csv"), "frame,count\n");
  write_text_atomic(path("counts.png"), "png");
  EXPECT_FALSE(file_exists(path("counts.csv")));
  EXPECT_EQ(names().size(), 2u);  // two temporaries
  batch.commit();
  EXPECT_EQ(names(), (std::set<std::string>{"counts.csv", "counts.png"}));
}

TEST_F(AtomicFileTest, TwoOutputsOfOneNameInABatchAreAnError) {
  OutputBatch batch;
  write_text_atomic(path("a_overlay.png"), "from a.jpg");
  EXPECT_THROW(write_text_atomic(path("a_overlay.png"), "from a.png"), Error);
}

TEST_F(AtomicFileTest, ABatchThatFailsRemovesWhatItCreatedButNothingThatWasThereBefore) {
  put(path("existing.png"), "before");
  {
    OutputBatch outer(OutputBatch::Rename::at_once);
    create_output_folders(path("run/a"));
    write_text_atomic(path("run/a/0001.png"), "new file");
    write_text_atomic(path("existing.png"), "replaced, as --overwrite asks");
    {
      OutputBatch inner;
      write_text_atomic(path("run/a/0002.png"), "waiting");
      inner.commit();  // passes its files on to the outer batch
    }
    EXPECT_TRUE(file_exists(path("run/a/0002.png")));
  }  // no commit: the command failed
  EXPECT_EQ(names(), std::set<std::string>{"existing.png"});  // run/a and run removed with their files
  EXPECT_EQ(text_of(path("existing.png")), "replaced, as --overwrite asks");
}

TEST_F(AtomicFileTest, ABatchThatKeepsLeavesItsCompleteFilesAfterAFailure) {
  {
    OutputBatch keep(OutputBatch::Rename::at_once, OutputBatch::OnFailure::keep);
    write_text_atomic(path("imgs_0001.npy"), "complete");
    AtomicFile unfinished(path("imgs_0002.npy"));
    unfinished.write(std::string_view("half"));
  }
  EXPECT_EQ(names(), std::set<std::string>{"imgs_0001.npy"});
}

TEST_F(AtomicFileTest, StaleTemporariesAreRemovedOnlyWhenTheirOwnerHasEnded) {
  const pid_t gone = ended_process();
  const std::string ours_gone = cat(".model.crowdrt-tmp-", gone, "-0.plan"),
                    ours_running = cat(".model.crowdrt-tmp-", ::getppid(), "-3.plan"),
                    legacy_gone = cat("model.plan.tmp-", gone), other_legacy = cat("notes.txt.tmp-", gone),
                    not_ours = cat(".model.crowdrt-tmp-", gone, "x.plan");
  for (const std::string& n : {ours_gone, ours_running, legacy_gone, other_legacy, not_ours}) put(path(n), "x");
  EXPECT_EQ(remove_stale_temporaries(folder_.string(), "model.plan"), 2);
  EXPECT_EQ(names(), (std::set<std::string>{ours_running, other_legacy, not_ours}));
}

TEST_F(AtomicFileTest, TheFirstFileWrittenInAFolderCleansItsStaleTemporaries) {
  const std::string stale = cat(".frame_000002_overlay.crowdrt-tmp-", ended_process(), "-7.png");
  put(path(stale), "left by a killed run");
  write_text_atomic(path("frame_000001_overlay.png"), "png");
  EXPECT_EQ(names(), std::set<std::string>{"frame_000001_overlay.png"});
}

TEST_F(AtomicFileTest, ASignalThatEndsTheProcessRemovesItsTemporaries) {
  const std::string target = path("model.plan");
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const int status = in_child([&] {
    install_interrupt_handlers();  // InterruptResponse::exit: remove the temporaries, end by the signal
    AtomicFile file(target);
    file.write(std::string_view("half a plan"));
    const std::string temp = file.temp_path() + "\n";
    [[maybe_unused]] const ssize_t n = ::write(pipe_fds[1], temp.data(), temp.size());
    ::raise(SIGTERM);
    ::_exit(3);  // not reached
  });
  ::close(pipe_fds[1]);
  char buffer[4096] = {};
  [[maybe_unused]] const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer - 1);
  ::close(pipe_fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_NE(std::string(buffer).find(".crowdrt-tmp-"), std::string::npos);
  EXPECT_TRUE(names().empty());  // neither the temporary nor the plan
}

TEST_F(AtomicFileTest, ASecondSignalEndsTheProcessEvenWhereTheFirstOnlyAsksToStop) {
  const std::string target = path("overlay.avi");
  const int status = in_child([&] {
    install_interrupt_handlers();
    const InterruptResponseScope cancel(InterruptResponse::cancel);
    AtomicFile file(target);
    ::raise(SIGINT);  // asks to stop
    if (interrupt_signal() != SIGINT) ::_exit(4);
    ::raise(SIGINT);  // the impatient second Ctrl-C
    ::_exit(5);       // not reached
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_TRUE(names().empty());
}

TEST(Cancel, ASignalAsksLongCallsToStopOnlyWhereTheyCancel) {
  const int status = in_child([] {
    install_interrupt_handlers();
    const InterruptResponseScope finish(InterruptResponse::finish);
    ::raise(SIGINT);  // noted, the process lives on
    if (interrupt_signal() != SIGINT) ::_exit(4);
    throw_if_cancelled();  // finish: the command ends its own way, no exception
    const InterruptResponseScope cancel(InterruptResponse::cancel);
    try {
      throw_if_cancelled();
    } catch (const Interrupted& e) {
      ::_exit(e.signal == SIGINT && std::string(e.what()).rfind("interrupted by SIGINT", 0) == 0 ? 0 : 5);
    }
    ::_exit(6);
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Cancel, ACallersStopConditionStopsTheCallsOfItsThread) {
  bool stop = false;
  const CancelScope scope([&stop] { return stop; });
  EXPECT_NO_THROW(throw_if_cancelled());
  stop = true;
  ::usleep(25000);  // the condition is asked at most every 20 ms
  EXPECT_THROW(throw_if_cancelled(), Interrupted);
}
