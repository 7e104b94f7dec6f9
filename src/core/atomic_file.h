// Files that appear whole or not at all (issue 18). Bytes go to a temporary beside the final name,
// ".<stem>.crowdrt-tmp-<pid>-<n><extension>": hidden, marked as crowdrt's, naming the process that owns it, and
// ending in the final name's extension (OpenCV's encoders choose the format by it). Every write, the fsync and the
// close are checked (a full disk, ENOSPC, or a file-size limit, EFBIG, is an Error naming the final path), and only
// then is the temporary renamed onto the final name. On an error, an exception or destruction without commit the
// temporary is removed; a SIGINT / SIGTERM that ends the process removes it too (remove_live_temporaries, from the
// interrupt handler of core/cancel.h); after a SIGKILL, the next crowdrt writing into that folder removes the
// temporaries whose owner no longer runs.
//
// An OutputBatch groups the files of one command or call: while a batch that renames at commit is open, committed
// files wait as temporaries and get their final names together when the batch commits, so an interrupted or failed
// command leaves nothing under a final name; files that a batch created (no file of that name before) are removed
// when it ends without commit. Files that existed before are never removed (--overwrite replaces them as asked).
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace crowdrt {

class AtomicFile {
 public:
  // Creates the temporary for `path`: Error naming path when its folder is missing or cannot be written. The first
  // AtomicFile of a process in a folder removes the stale temporaries there (remove_stale_temporaries).
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  const std::string& path() const { return path_; }
  // Where the bytes are until commit(), for writers that open a file by name (cv::VideoWriter).
  const std::string& temp_path() const { return temp_; }
  void write(std::span<const std::byte> bytes);
  void write(std::string_view text);
  // Flushes the file to the disk (fsync), closes it and gives it its final name, now or when the innermost open
  // OutputBatch of this thread commits (Rename::at_commit). Error naming path when any of it fails (the temporary
  // is removed then).
  void commit();

 private:
  std::string path_, temp_;
  int fd_ = -1;
  void* slot_ = nullptr;  // the temporary's entry in the signal handler's list
  bool committed_ = false;
};

// Writes a whole file through an AtomicFile.
void write_file_atomic(const std::string& path, std::span<const std::byte> bytes);
void write_text_atomic(const std::string& path, std::string_view text);

// The outputs of one command or library call, opened on a thread (batches nest; AtomicFile::commit uses the
// innermost one of its thread).
class OutputBatch {
 public:
  enum class Rename {
    at_once,    // each file gets its final name when it is committed (outputs read back during the command)
    at_commit,  // committed files keep their temporary names until this batch commits
  };
  enum class OnFailure {
    remove_created,  // ending without commit removes the files (and empty folders) this batch created
    keep,            // complete files stay (calib-data, which resumes from them)
  };
  explicit OutputBatch(Rename rename = Rename::at_commit, OnFailure on_failure = OnFailure::remove_created);
  ~OutputBatch();
  OutputBatch(const OutputBatch&) = delete;
  OutputBatch& operator=(const OutputBatch&) = delete;

  // Renames the waiting files onto their final names (Error naming the file when one cannot be; every file of the
  // batch is then removed). The files it created pass to the enclosing batch, which removes them if it fails.
  void commit();

 private:
  friend class AtomicFile;
  friend void create_output_folders(const std::string& folder);
  friend void note_created_output(const std::string& path);
  struct Waiting {
    std::string temp, path;
    void* slot;
  };
  void created(const std::string& path);
  void discard() noexcept;
  Rename rename_;
  OnFailure on_failure_;
  std::vector<Waiting> waiting_;
  std::unordered_set<std::string> waiting_paths_;
  std::vector<std::string> created_, created_folders_;  // in creation order
  OutputBatch* parent_;
  bool committed_ = false;
};

// Records a file that the caller created and wrote in place (not through an AtomicFile: `run --jsonl`, which is
// read while it is written) in the innermost batch, which removes it if it ends without commit.
void note_created_output(const std::string& path);

// std::filesystem::create_directories that records the folders it makes in the innermost batch, which removes
// them (when empty) if it ends without commit. Error naming the folder when it cannot be made.
void create_output_folders(const std::string& folder);

// Removes the temporaries in `folder` whose owner process no longer runs, and "<writing_name>.tmp-<pid>" files of
// the same name that earlier crowdrt versions left; returns how many. The first AtomicFile of a process in a folder
// calls it (with its own file name).
int remove_stale_temporaries(const std::string& folder, const std::string& writing_name = "");

// Unlinks every temporary of this process; async-signal-safe (the interrupt handler calls it before the process
// ends by the signal).
void remove_live_temporaries() noexcept;

}  // namespace crowdrt
