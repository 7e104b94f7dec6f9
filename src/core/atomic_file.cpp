#include "core/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "core/error.h"
#include "core/log.h"

namespace crowdrt {
namespace {
namespace fs = std::filesystem;

constexpr std::string_view kTempMarker = ".crowdrt-tmp-";

// The list the interrupt handler walks: entries are only ever added (never freed), each with a path buffer that
// is reused only by paths that fit, so a handler running on another thread never reads freed memory.
struct TempEntry {
  std::atomic<int> state{0};  // 0 free, 1 being set (skipped by the handler), 2 a live temporary
  char* path = nullptr;
  size_t capacity = 0;
  TempEntry* next = nullptr;
};
std::atomic<TempEntry*> temp_entries{nullptr};

TempEntry* register_temporary(const std::string& path) {
  for (TempEntry* e = temp_entries.load(std::memory_order_acquire); e != nullptr; e = e->next) {
    int free_state = 0;
    if (e->capacity > path.size() && e->state.load(std::memory_order_relaxed) == 0 &&
        e->state.compare_exchange_strong(free_state, 1, std::memory_order_acquire)) {
      std::memcpy(e->path, path.c_str(), path.size() + 1);
      e->state.store(2, std::memory_order_release);
      return e;
    }
  }
  auto* e = new TempEntry;  // never freed: see TempEntry
  e->capacity = std::max<size_t>(path.size() + 1, 256);
  e->path = new char[e->capacity];
  std::memcpy(e->path, path.c_str(), path.size() + 1);
  e->state.store(2, std::memory_order_relaxed);
  TempEntry* head = temp_entries.load(std::memory_order_relaxed);
  do e->next = head;
  while (!temp_entries.compare_exchange_weak(head, e, std::memory_order_release, std::memory_order_relaxed));
  return e;
}

void unregister_temporary(void* entry) {
  if (entry != nullptr) static_cast<TempEntry*>(entry)->state.store(0, std::memory_order_release);
}

std::string folder_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// ".<stem>.crowdrt-tmp-<pid>-<n><ext>", the stem shortened so that the name stays within NAME_MAX (255).
std::string temporary_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const fs::path p(path);
  std::string stem = p.stem().string();
  const std::string ext = p.extension().string(),
                    tail = cat(kTempMarker, ::getpid(), "-", counter.fetch_add(1), ext);
  if (1 + stem.size() + tail.size() > 255) stem.resize(255 - 1 - std::min<size_t>(tail.size(), 254));
  return (p.parent_path() / ("." + stem + tail)).string();
}

// The owner's process id of a temporary's file name, or 0 when the name is not one of ours.
long temporary_owner(const std::string& name) {
  if (name.size() < 2 || name[0] != '.') return 0;
  const size_t at = name.rfind(kTempMarker);
  if (at == std::string::npos || at == 0) return 0;
  const char* digits = name.c_str() + at + kTempMarker.size();
  char* end = nullptr;
  const long pid = std::strtol(digits, &end, 10);
  if (end == digits || *end != '-' || pid <= 0) return 0;
  const char* n = end + 1;
  std::strtol(n, &end, 10);
  if (end == n || (*end != '\0' && *end != '.')) return 0;
  return pid;
}

// "<writing_name>.tmp-<pid>", as earlier crowdrt versions named their temporaries: the pid, or 0.
long legacy_owner(const std::string& name, const std::string& writing_name) {
  const std::string prefix = writing_name + ".tmp-";
  if (writing_name.empty() || name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  for (size_t i = prefix.size(); i < name.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return 0;
  return std::strtol(name.c_str() + prefix.size(), nullptr, 10);
}

bool process_gone(long pid) { return pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

// Why a write, fsync or close failed, in words that say what to do.
std::string write_failure(int err) {
  switch (err) {
    case ENOSPC: return "no space left on the device (ENOSPC); free some space or write elsewhere";
    case EDQUOT: return "disk quota exceeded (EDQUOT); free some space or write elsewhere";
    case EFBIG: return "file too large for this file system or the file-size limit (EFBIG, ulimit -f)";
    default: return cat(std::strerror(err), " (errno ", err, ")");
  }
}

thread_local OutputBatch* innermost_batch = nullptr;

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw Error("cannot write a file with an empty name");
  const std::string folder = folder_of(path_);
  {
    static std::mutex mutex;
    static std::set<std::string> cleaned;
    std::lock_guard<std::mutex> lock(mutex);
    std::error_code ec;
    if (cleaned.insert(fs::absolute(folder, ec).lexically_normal().string()).second)
      remove_stale_temporaries(folder, fs::path(path_).filename().string());
  }
  temp_ = temporary_name(path_);
  slot_ = register_temporary(temp_);
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    const int err = errno;
    unregister_temporary(slot_);
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) throw Error(cat(path_, ": cannot write: folder ", folder, " does not exist"));
    throw Error(cat(path_, ": cannot write in ", folder, ": ", write_failure(err)));
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  ::unlink(temp_.c_str());
  unregister_temporary(slot_);
}

void AtomicFile::write(std::span<const std::byte> bytes) {
  if (fd_ < 0) throw Error(cat(path_, ": written after it was committed"));
  const auto* p = reinterpret_cast<const char*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Error(cat(path_, ": cannot write: ", write_failure(errno), "; nothing was written under this name"));
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void AtomicFile::write(std::string_view text) {
  write(std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

void AtomicFile::commit() {
  if (committed_ || fd_ < 0) throw Error(cat(path_, ": committed twice"));
  const bool synced = ::fsync(fd_) == 0 || errno == EINVAL;  // EINVAL: a file system without fsync
  const int sync_error = errno;
  const int fd = fd_;
  fd_ = -1;
  if (!synced || ::close(fd) != 0)
    throw Error(cat(path_, ": cannot write: ", write_failure(synced ? errno : sync_error),
                    "; nothing was written under this name"));
  OutputBatch* batch = innermost_batch;
  if (batch != nullptr && batch->rename_ == OutputBatch::Rename::at_commit) {
    // Two outputs of one command under one name (two frames "a.jpg" and "a.png" give one overlay name): the
    // second would silently replace the first when the batch commits.
    if (!batch->waiting_paths_.insert(path_).second)
      throw Error(cat(path_, ": written twice by this command (two outputs with one name); nothing was written"));
    batch->waiting_.push_back({temp_, path_, slot_});  // the batch owns the temporary now
    committed_ = true;
    return;
  }
  struct stat before {};
  const bool existed = ::lstat(path_.c_str(), &before) == 0;
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    throw Error(cat(path_, ": cannot rename the complete file into place: ", std::strerror(errno)));
  committed_ = true;
  unregister_temporary(slot_);
  if (batch != nullptr && !existed) batch->created(path_);
}

void write_file_atomic(const std::string& path, std::span<const std::byte> bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

void write_text_atomic(const std::string& path, std::string_view text) {
  AtomicFile file(path);
  file.write(text);
  file.commit();
}

OutputBatch::OutputBatch(Rename rename, OnFailure on_failure)
    : rename_(rename), on_failure_(on_failure), parent_(innermost_batch) {
  innermost_batch = this;
}

OutputBatch::~OutputBatch() {
  if (!committed_) discard();
  innermost_batch = parent_;
}

void OutputBatch::created(const std::string& path) { created_.push_back(path); }

void OutputBatch::commit() {
  if (committed_) return;
  for (size_t i = 0; i < waiting_.size(); ++i) {
    Waiting& w = waiting_[i];
    struct stat before {};
    const bool existed = ::lstat(w.path.c_str(), &before) == 0;
    if (::rename(w.temp.c_str(), w.path.c_str()) != 0) {
      const int err = errno;
      waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<ptrdiff_t>(i));
      throw Error(cat(w.path, ": cannot rename the complete file into place: ", std::strerror(err)));
    }
    unregister_temporary(w.slot);
    if (!existed) created_.push_back(w.path);
  }
  waiting_.clear();
  waiting_paths_.clear();
  committed_ = true;
  if (parent_ != nullptr && on_failure_ == OnFailure::remove_created) {
    parent_->created_.insert(parent_->created_.end(), created_.begin(), created_.end());
    parent_->created_folders_.insert(parent_->created_folders_.end(), created_folders_.begin(), created_folders_.end());
  }
}

void OutputBatch::discard() noexcept {
  for (const Waiting& w : waiting_) {
    ::unlink(w.temp.c_str());
    unregister_temporary(w.slot);
  }
  waiting_.clear();
  if (on_failure_ == OnFailure::keep) return;
  for (const std::string& path : created_) ::unlink(path.c_str());
  for (auto it = created_folders_.rbegin(); it != created_folders_.rend(); ++it) ::rmdir(it->c_str());  // if empty
  created_.clear();
  created_folders_.clear();
}

void note_created_output(const std::string& path) {
  if (OutputBatch* batch = innermost_batch) batch->created(path);
}

void create_output_folders(const std::string& folder) {
  std::vector<std::string> made;
  std::error_code ec;
  fs::path normal = fs::path(folder).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();  // "out/" is "out"
  for (fs::path p = normal; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    made.insert(made.begin(), p.string());
    if (p == p.parent_path()) break;
  }
  fs::create_directories(folder, ec);
  if (ec) throw Error(cat(folder, ": cannot create the folder: ", ec.message()));
  if (OutputBatch* batch = innermost_batch)
    batch->created_folders_.insert(batch->created_folders_.end(), made.begin(), made.end());
}

int remove_stale_temporaries(const std::string& folder, const std::string& writing_name) {
  DIR* dir = ::opendir(folder.c_str());
  if (dir == nullptr) return 0;
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    long owner = temporary_owner(name);
    if (owner == 0) owner = legacy_owner(name, writing_name);
    if (owner != 0 && process_gone(owner)) stale.push_back(name);
  }
  ::closedir(dir);
  int removed = 0;
  for (const std::string& name : stale) {
    const std::string path = (fs::path(folder) / name).string();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // only plain files are ours
    if (::unlink(path.c_str()) == 0) {
      ++removed;
      log_verbose(cat("removed ", path, ", a temporary file of a crowdrt that ended before finishing it"));
    }
  }
  return removed;
}

void remove_live_temporaries() noexcept {
  for (TempEntry* e = temp_entries.load(std::memory_order_acquire); e != nullptr; e = e->next)
    if (e->state.load(std::memory_order_acquire) == 2 && std::strstr(e->path, ".crowdrt-tmp-") != nullptr)
      ::unlink(e->path);
}

}  // namespace crowdrt
