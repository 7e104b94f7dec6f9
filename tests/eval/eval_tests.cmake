# End-to-end tests of eval / run / bench, labelled "eval": a tiny synthetic dataset and ONNX models whose output
# is known exactly (tests/eval/make_models.py), driven through the crowdrt program.
if(NOT TARGET crowdrt)
  return()
endif()
set(CROWDRT_EVAL_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with onnx, numpy and cv2 for the eval tests")
set(eval_work ${PROJECT_BINARY_DIR}/testdata/eval)
set(eval_synth ${eval_work}/synth)

add_test(NAME eval_fixture
         COMMAND sh -c "\"$0\" synth --out \"$1\" --sequences 3 --frames 5 --size 128x96 --seed 21 --overwrite >/dev/null && \"$2\" \"$3\" \"$4\" 64"
                 $<TARGET_FILE:crowdrt> ${eval_synth} ${CROWDRT_EVAL_PYTHON} ${PROJECT_SOURCE_DIR}/tests/eval/make_models.py
                 ${eval_work}/models)
set_tests_properties(eval_fixture PROPERTIES LABELS eval FIXTURES_SETUP eval_data)

foreach(mode constant order bench split)
  add_test(NAME eval_${mode}
           COMMAND ${CROWDRT_EVAL_PYTHON} ${PROJECT_SOURCE_DIR}/tests/eval/check_eval.py $<TARGET_FILE:crowdrt>
                   ${eval_synth} ${eval_work}/models ${eval_work}/${mode} ${mode})
  set_tests_properties(eval_${mode} PROPERTIES LABELS eval FIXTURES_REQUIRED eval_data ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endforeach()

add_test(NAME eval_run
         COMMAND ${CROWDRT_EVAL_PYTHON} ${PROJECT_SOURCE_DIR}/tests/eval/check_run.py $<TARGET_FILE:crowdrt>
                 ${eval_synth}/sequences/00001 ${eval_work}/models ${eval_work}/run)
set_tests_properties(eval_run PROPERTIES LABELS eval FIXTURES_REQUIRED eval_data ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
add_test(NAME eval_run_zones
         COMMAND ${CROWDRT_EVAL_PYTHON} ${PROJECT_SOURCE_DIR}/tests/eval/check_zones_run.py $<TARGET_FILE:crowdrt>
                 ${eval_synth}/sequences/00001 ${eval_work}/models ${eval_work}/run_zones)
set_tests_properties(eval_run_zones PROPERTIES LABELS eval FIXTURES_REQUIRED eval_data ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
# One mode of a check script on a synthetic sequence and the eval models: eval_<name>_<mode>.
function(eval_mode_test name script mode)
  add_test(NAME eval_${name}_${mode}
           COMMAND ${CROWDRT_EVAL_PYTHON} ${PROJECT_SOURCE_DIR}/tests/eval/${script} $<TARGET_FILE:crowdrt>
                   ${eval_synth}/sequences/00001 ${eval_work}/models ${eval_work}/${name}_${mode} ${mode})
  set_tests_properties(eval_${name}_${mode} PROPERTIES LABELS eval FIXTURES_REQUIRED eval_data TIMEOUT 120
                       ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endfunction()
# crowdrt run --http on 127.0.0.1: headless Chromium shows the live view and receives the --jsonl records; 50
# clients come and go and leave no thread behind.
eval_mode_test(live_view check_live_view.py browser)
eval_mode_test(live_view check_live_view.py clients)
# A live stream on loopback (ffmpeg's HTTP listen mode): counts as the file's, reconnects, drops, bounds, errors.
eval_mode_test(run_live check_live_run.py stream)
eval_mode_test(run_live check_live_run.py drop)
# Outputs whole or absent, interrupts that stop (issue 18): every writing command on a full tmpfs and under a
# file-size limit, SIGINT / SIGTERM mid-way, SIGKILL and the same command again.
foreach(mode full_disk size_limit interrupt_build interrupt_frames kill_rerun)
  eval_mode_test(outputs check_outputs.py ${mode})
endforeach()

add_test(NAME eval_demo
         COMMAND ${CROWDRT_EVAL_PYTHON} ${PROJECT_SOURCE_DIR}/tests/eval/check_demo.py $<TARGET_FILE:crowdrt>
                 ${PROJECT_SOURCE_DIR}/models/demo/demo_unet_mobilenet_v2.pth ${eval_work}/demo)
set_tests_properties(eval_demo PROPERTIES LABELS eval TIMEOUT 600 ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
