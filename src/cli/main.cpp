// crowdrt: the command-line front of the engine. Exit codes: 0 ok, 2 usage error, 1 any other error, 128 + the
// signal's number (130 for Ctrl-C, 143 for SIGTERM) when a signal stopped the command.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/cli_common.h"
#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/error.h"
#include "core/log.h"
#include "core/printable.h"

namespace {
// CLI11 answers an unknown subcommand with "A subcommand is required"; name the word instead.
std::string unknown_subcommand(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* word = argv[i];
    if (std::strcmp(word, "--log-level") == 0) {
      ++i;
      continue;
    }
    if (word[0] == '-') continue;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      if (sub->check_name(word)) return "";
    std::string names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      names += (names.empty() ? "" : ", ") + sub->get_name();
    return std::string("unknown subcommand '") + word + "'; choose one of: " + names;
  }
  return "";
}
}  // namespace

int main(int argc, char** argv) {
  // SIGINT / SIGTERM remove the files being written; each long command says how it stops (core/cancel.h).
  crowdrt::install_interrupt_handlers();
  // What the command writes gets its final names when it has all been written (core/atomic_file.h).
  crowdrt::OutputBatch outputs;
  CLI::App app{"crowdrt: crowd-counting models from ONNX to a fast engine on CPUs and GPUs.\n"
               "Run `crowdrt SUBCOMMAND --help` for each subcommand's options."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("crowdrt ") + CROWDRT_VERSION);
  // Global options (below) are accepted before or after the subcommand; a subcommand's own -v / -q wins where it
  // has one. Subcommands inherit this setting when they are added.
  app.fallthrough();
  crowdrt::cli::register_build(app);
  crowdrt::cli::register_infer(app);
  crowdrt::cli::register_perf(app);
  crowdrt::cli::register_inspect(app);
#if CROWDRT_WITH_FRAMES
  crowdrt::cli::register_synth(app);
  crowdrt::cli::register_calib_data(app);
  crowdrt::cli::register_preprocess(app);
  crowdrt::cli::register_eval(app);
  crowdrt::cli::register_run(app);
  crowdrt::cli::register_bench(app);
  crowdrt::cli::register_demo(app);
  crowdrt::cli::register_serve(app);
#endif
  crowdrt::cli::register_export(app);
  bool verbose = false, quiet = false;
  std::string level;
  app.add_flag("-v,--verbose", verbose, "More messages on stderr (each layer's kernel and precision in build)");
  app.add_flag("-q,--quiet", quiet, "No information or progress on stderr; warnings and errors only");
  app.add_option("--log-level", level, "warn, info (default) or verbose")
      ->check(crowdrt::cli::one_of({"warn", "info", "verbose", "quiet"}));
  app.parse_complete_callback([&] {
    if (!level.empty()) crowdrt::set_log_level(*crowdrt::log_level_from_name(level));
    if (quiet) crowdrt::set_log_level(crowdrt::LogLevel::warn);
    if (verbose) crowdrt::set_log_level(crowdrt::LogLevel::verbose);
  });
  try {
    if (const std::string unknown = unknown_subcommand(app, argc, argv); !unknown.empty()) {
      std::fprintf(stderr, "crowdrt: usage error: %s (see --help)\n", crowdrt::printable(unknown).c_str());
      return 2;
    }
    app.parse(argc, argv);
    outputs.commit();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "crowdrt: usage error: %s (see --help)\n", crowdrt::printable(e.what()).c_str());
    return 2;
  } catch (const crowdrt::Interrupted& e) {
    std::fprintf(stderr, "crowdrt: %s\n", e.what());
    return e.signal != 0 ? 128 + e.signal : 1;
  } catch (const crowdrt::Error& e) {
    // Messages quote data files (testlist lines, file and zone names): their bytes are escaped, never sent raw.
    std::fprintf(stderr, "crowdrt: error: %s\n", crowdrt::printable(e.what()).c_str());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "crowdrt: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crowdrt: error: %s\n", crowdrt::printable(e.what()).c_str());
    return 1;
  }
  return 0;
}
