#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace crowdrt {

namespace {

// "a FIFO (named pipe)", "a character device"...: what a path that is not a regular file is.
const char* special_file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void check_regular_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error(cat(path, ": cannot open (", std::strerror(errno), ")"));
  if (!S_ISREG(st.st_mode))
    throw Error(cat(path, ": is ", special_file_kind(st.st_mode), ", expected a regular ",
                    what.empty() ? "file" : what + " file"));
}

std::vector<std::byte> read_file(const std::string& path) {
  // O_NONBLOCK: a FIFO is opened without waiting for a writer, then refused by fstat; on a regular file
  // the flag changes nothing.
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (file.fd < 0) {
    if (errno == EISDIR) throw Error(cat(path, ": is a folder, expected a file"));
    throw Error(cat(path, ": cannot open (", std::strerror(errno), ")"));
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) throw Error(cat(path, ": cannot read its size (", std::strerror(errno), ")"));
  if (!S_ISREG(st.st_mode)) throw Error(cat(path, ": is ", special_file_kind(st.st_mode), ", expected a file"));
  std::vector<std::byte> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(file.fd, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(cat(path, ": read failed (", std::strerror(errno), ")"));
    if (got == 0) throw Error(cat(path, ": read failed (the file shrank while being read)"));
    done += static_cast<size_t>(got);
  }
  return bytes;
}

void check_output_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return;  // free, or a file --overwrite may replace
  if (S_ISDIR(st.st_mode)) throw Error(cat(path, ": is a folder, give a file path"));
  throw Error(cat(path, ": is ", special_file_kind(st.st_mode),
                  "; crowdrt writes only regular files and never replaces a special file, even when told to overwrite; "
                  "choose a file path"));
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace crowdrt
