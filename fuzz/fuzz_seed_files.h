// LLVMFuzzerInitialize for the ONNX and plan fuzzers: with CROWDRT_FUZZ_WRITE_SEEDS=DIR in the environment the
// target writes its seed corpus into DIR and exits (scripts/run-fuzzers.sh does this before each run, so the
// seeds are generated, not committed); otherwise it lowers the log level so that runs print only libFuzzer's lines.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/log.h"

namespace crowdrt::fuzz {

using SeedList = std::vector<std::pair<std::string, std::string>>;  // file name, bytes

inline int initialise(SeedList (*seeds)()) {
  set_log_level(LogLevel::warn);
  const char* dir = std::getenv("CROWDRT_FUZZ_WRITE_SEEDS");
  if (!dir) return 0;
  for (const auto& [name, bytes] : seeds()) {
    std::ofstream out(std::string(dir) + "/" + name, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write the seed %s/%s\n", dir, name.c_str());
      std::exit(1);
    }
  }
  std::exit(0);
}

}  // namespace crowdrt::fuzz
