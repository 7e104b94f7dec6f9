// crowdrt: the command-line front of the engine. Exit codes: 0 ok, 2 usage error, 1 any other error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/cli_common.h"
#include "core/error.h"
#include "core/log.h"

int main(int argc, char** argv) {
  CLI::App app{"crowdrt: crowd-counting models from ONNX to a fast engine on CPUs and GPUs.\n"
               "Run `crowdrt SUBCOMMAND --help` for each subcommand's options."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("crowdrt ") + CROWDRT_VERSION);
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
#endif
  crowdrt::cli::register_export(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "crowdrt: usage error: %s (see --help)\n", e.what());
    return 2;
  } catch (const crowdrt::Error& e) {
    std::fprintf(stderr, "crowdrt: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "crowdrt: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crowdrt: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
