# End-to-end tests: the crowdrt program on whole UNet / UNet++ models against PyTorch, and on bad input.
# Labelled "e2e" (`ctest -L e2e`). They need Debian's python3 with torch, onnx and numpy (CROWDRT_REF_PYTHON);
# without them the fixture fails and so do the tests, loudly.
# The CPU engine runs the covering cases (7 of 16; export_models.py --covering): each architecture with both
# encoders, 3 and 5 channels, square, 64x96 and 96x64 inputs, opsets 11, 13 and 17, and BN kept and fused, so
# every value of every dimension is checked with each architecture; the other 9 only recombine them (they cost
# 2 min of `make test`).
#   CROWDRT_E2E_ALL=ON     all 16 reference cases
#   CROWDRT_E2E_QUICK=ON   only the smallest covering subset (4 of 16, export_models.py --quick)
#   CROWDRT_E2E_REF=ON     also run the --quick cases on the reference backend (--device ref)
if(NOT TARGET crowdrt)
  message(STATUS "e2e tests: no crowdrt program target yet, skipped")
  return()
endif()

set(CROWDRT_REF_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with torch, onnx and numpy for the e2e references")
option(CROWDRT_E2E_ALL "e2e: all 16 reference models, not only the covering 7" OFF)
option(CROWDRT_E2E_QUICK "e2e: only the smallest covering subset of the reference models" OFF)
option(CROWDRT_E2E_REF "e2e: also check the reference backend on the quick subset" ON)

set(e2e_dir ${PROJECT_SOURCE_DIR}/tests/e2e)
set(e2e_export ${PROJECT_SOURCE_DIR}/tests/reference/export_models.py)
set(e2e_models ${PROJECT_BINARY_DIR}/testdata/models)
set(e2e_work ${PROJECT_BINARY_DIR}/testdata/e2e)
set(e2e_bin $<TARGET_FILE:crowdrt>)
set(e2e_set_flag --covering)
if(CROWDRT_E2E_QUICK)
  set(e2e_set_flag --quick)
elseif(CROWDRT_E2E_ALL)
  set(e2e_set_flag)
endif()

# The case names come from the generator itself (--list imports no torch).
execute_process(COMMAND ${CROWDRT_REF_PYTHON} ${e2e_export} --list ${e2e_set_flag}
                OUTPUT_VARIABLE e2e_cases RESULT_VARIABLE e2e_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${CROWDRT_REF_PYTHON} ${e2e_export} --list --quick
                OUTPUT_VARIABLE e2e_quick_cases OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${CROWDRT_REF_PYTHON} ${e2e_dir}/bad_input.py --list
                OUTPUT_VARIABLE e2e_bad_kinds OUTPUT_STRIP_TRAILING_WHITESPACE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${e2e_export} ${e2e_dir}/bad_input.py)
if(NOT e2e_rc EQUAL 0 OR NOT e2e_cases)
  # Still register a test, so that a missing interpreter shows up as a failure instead of silence.
  add_test(NAME e2e_models COMMAND ${CROWDRT_REF_PYTHON} ${e2e_export} --list)
  set_tests_properties(e2e_models PROPERTIES LABELS e2e)
  message(WARNING "e2e tests: ${CROWDRT_REF_PYTHON} ${e2e_export} --list failed; only e2e_models is registered")
  return()
endif()
string(REPLACE "\n" ";" e2e_cases "${e2e_cases}")
string(REPLACE "\n" ";" e2e_quick_cases "${e2e_quick_cases}")
string(REPLACE "\n" ";" e2e_bad_kinds "${e2e_bad_kinds}")
list(GET e2e_quick_cases 0 e2e_small_case)   # 3 channels, 64x64: the model the CLI tests use

set(e2e_env PYTHONDONTWRITEBYTECODE=1)

# Fixture: the reference models (up to date ones are kept, so a second run takes seconds).
add_test(NAME e2e_models COMMAND ${CROWDRT_REF_PYTHON} ${e2e_export} ${e2e_models} ${e2e_set_flag})
set_tests_properties(e2e_models PROPERTIES LABELS e2e FIXTURES_SETUP e2e_models TIMEOUT 600 ENVIRONMENT "${e2e_env}")

function(e2e_test name)
  add_test(NAME ${name} COMMAND ${CROWDRT_REF_PYTHON} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS e2e FIXTURES_REQUIRED e2e_models TIMEOUT 600
                       ENVIRONMENT "${e2e_env}")
endfunction()

foreach(case ${e2e_cases})
  e2e_test(e2e_model_${case} ${e2e_dir}/check_model.py ${e2e_bin} ${e2e_models} ${case} ${e2e_work}/model_${case})
endforeach()
if(CROWDRT_E2E_REF)
  foreach(case ${e2e_quick_cases})
    e2e_test(e2e_model_ref_${case} ${e2e_dir}/check_model.py ${e2e_bin} ${e2e_models} ${case}
             ${e2e_work}/model_ref_${case} --device ref)
  endforeach()
endif()
foreach(kind ${e2e_bad_kinds})
  e2e_test(e2e_bad_${kind} ${e2e_dir}/bad_input.py ${e2e_bin} ${e2e_models} ${e2e_small_case} ${e2e_work}/bad_${kind}
           ${kind})
endforeach()
e2e_test(e2e_help ${e2e_dir}/help.py ${e2e_bin})
e2e_test(e2e_perf_json ${e2e_dir}/perf_json.py ${e2e_bin} ${e2e_models} ${e2e_small_case} ${e2e_work}/perf_json)
e2e_test(e2e_inspect ${e2e_dir}/inspect_layers.py ${e2e_bin} ${e2e_models} ${e2e_small_case} ${e2e_work}/inspect)
# help needs no models
set_tests_properties(e2e_help PROPERTIES FIXTURES_REQUIRED "")
# usage errors (exit 2, the bad value named, only existing flags mentioned) need no models
e2e_test(e2e_usage_errors ${e2e_dir}/usage_errors.py ${e2e_bin} ${e2e_work}/usage_errors)
set_tests_properties(e2e_usage_errors PROPERTIES FIXTURES_REQUIRED "")
e2e_test(e2e_progress_log ${e2e_dir}/progress_log.py ${e2e_bin} ${e2e_work}/progress_log)
set_tests_properties(e2e_progress_log PROPERTIES FIXTURES_REQUIRED "")
# hostile models, plans and calibration caches (issue 18) are built by the test from tests/python/tiny_model.py
e2e_test(e2e_hostile_models ${e2e_dir}/hostile_models.py ${e2e_bin} ${e2e_work}/hostile_models)
set_tests_properties(e2e_hostile_models PROPERTIES FIXTURES_REQUIRED "")
# inputs and outputs that are not what they claim (FIFOs, devices, damaged frames and videos; issue 18 item 5)
foreach(mode files frames)
  e2e_test(e2e_hostile_inputs_${mode} ${e2e_dir}/hostile_inputs.py ${e2e_bin} ${e2e_work}/hostile_inputs_${mode} ${mode})
  set_tests_properties(e2e_hostile_inputs_${mode} PROPERTIES FIXTURES_REQUIRED "")
endforeach()
# plans with a batch dimension (build --input-shape input:3x5x64x64 on the demo model's batch-1 ONNX) against the
# batch-1 plan item by item, on the reference backend and the CPU engine; needs no models
e2e_test(e2e_batch_plans ${e2e_dir}/batch_plans.py ${e2e_bin} ${PROJECT_SOURCE_DIR} ${e2e_work}/batch_plans)
set_tests_properties(e2e_batch_plans PROPERTIES FIXTURES_REQUIRED "")
