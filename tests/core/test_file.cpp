// Inputs and outputs are what they claim: a FIFO, device, socket or folder where a file is read is refused
// without being opened (a FIFO with no writer would block), and an output path that is a special file is refused
// whatever --overwrite says. /dev/null is only looked at, never written.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "../test_util.h"

using namespace crowdrt;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("crowdrt_test_file_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

using crowdrt::test_util::error_of;

}  // namespace

TEST(SpecialFiles, AFifoWithNoWriterIsRefusedWithoutWaiting) {
  const fs::path dir = fresh_dir("fifo");
  const std::string fifo = (dir / "model.onnx").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of([&] { read_file(fifo); }), fifo + ": is a FIFO (named pipe), expected a file");
  EXPECT_EQ(error_of([&] { check_regular_file(fifo, "model"); }),
            fifo + ": is a FIFO (named pipe), expected a regular model file");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  fs::remove_all(dir);
}

TEST(SpecialFiles, DevicesAndFoldersAreNotReadAsFiles) {
  EXPECT_EQ(error_of([] { read_file("/dev/null"); }), "/dev/null: is a character device, expected a file");
  EXPECT_EQ(error_of([] { check_regular_file("/dev/zero", "plan"); }),
            "/dev/zero: is a character device, expected a regular plan file");
  const fs::path dir = fresh_dir("folder");
  EXPECT_EQ(error_of([&] { read_file(dir.string()); }), dir.string() + ": is a folder, expected a file");
  EXPECT_NE(error_of([&] { check_regular_file((dir / "missing").string()); }).find("No such file"), std::string::npos);
  fs::remove_all(dir);
}

TEST(SpecialFiles, ARegularFileAndALinkToOneAreRead) {
  const fs::path dir = fresh_dir("regular");
  const std::string path = (dir / "a.bin").string();
  const std::byte bytes[] = {std::byte{1}, std::byte{2}, std::byte{3}};
  write_file_atomic(path, bytes);
  fs::create_symlink(path, dir / "link.bin");
  EXPECT_EQ(read_file((dir / "link.bin").string()).size(), 3u);
  EXPECT_NO_THROW(check_regular_file(path));
  EXPECT_NO_THROW(check_output_path(path));  // a regular file: replacing it is overwrite's question
  EXPECT_NO_THROW(check_output_path((dir / "new.bin").string()));
  fs::remove_all(dir);
}

TEST(SpecialFiles, AnOutputThatIsASpecialFileIsNeverReplaced) {
  const fs::path dir = fresh_dir("outputs");
  const std::string fifo = (dir / "out.npy").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(error_of([&] {
              check_output_path(fifo);
            }).find(fifo + ": is a FIFO (named pipe); crowdrt writes only regular files"),
            std::string::npos);
  EXPECT_NE(error_of([] { check_output_path("/dev/null"); }).find("/dev/null: is a character device"),
            std::string::npos);
  EXPECT_NE(error_of([&] { check_output_path(dir.string()); }).find("is a folder"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  fs::remove_all(dir);
}
