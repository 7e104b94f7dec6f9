# `crowdrt export` tests (label "export"): checkpoints from Debian's PyTorch for every encoder crowdrt exports,
# exported by crowdrt, checked by onnx.checker, then run by crowdrt and by ONNX Runtime (node package) and
# compared with PyTorch's output; and bad input. ORT tests report "skipped" when node/npm or the package are
# unavailable. Needs CROWDRT_REF_PYTHON (tests/e2e/tests.cmake) with torch, onnx and numpy.
if(NOT TARGET crowdrt)
  message(STATUS "export tests: no crowdrt program target yet, skipped")
  return()
endif()
set(CROWDRT_REF_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with torch, onnx and numpy for the e2e references")

set(export_dir ${PROJECT_SOURCE_DIR}/tests/models)
set(export_cases_dir ${PROJECT_BINARY_DIR}/testdata/export_cases)
set(export_work ${PROJECT_BINARY_DIR}/testdata/export)
set(export_node_dir ${PROJECT_BINARY_DIR}/testdata/node)
set(export_env PYTHONDONTWRITEBYTECODE=1)

execute_process(COMMAND ${CROWDRT_REF_PYTHON} ${export_dir}/make_export_cases.py --list
                OUTPUT_VARIABLE export_cases RESULT_VARIABLE export_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${CROWDRT_REF_PYTHON} ${export_dir}/export_errors.py --list
                OUTPUT_VARIABLE export_error_kinds OUTPUT_STRIP_TRAILING_WHITESPACE)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${export_dir}/make_export_cases.py
             ${export_dir}/export_errors.py)
if(NOT export_rc EQUAL 0 OR NOT export_cases)
  add_test(NAME export_cases COMMAND ${CROWDRT_REF_PYTHON} ${export_dir}/make_export_cases.py --list)
  set_tests_properties(export_cases PROPERTIES LABELS export)
  message(WARNING "export tests: ${CROWDRT_REF_PYTHON} make_export_cases.py --list failed; only export_cases is registered")
  return()
endif()
string(REPLACE "\n" ";" export_cases "${export_cases}")
string(REPLACE "\n" ";" export_error_kinds "${export_error_kinds}")

add_test(NAME export_cases COMMAND ${CROWDRT_REF_PYTHON} ${export_dir}/make_export_cases.py ${export_cases_dir})
set_tests_properties(export_cases PROPERTIES LABELS export FIXTURES_SETUP export_cases TIMEOUT 600
                     ENVIRONMENT "${export_env}")
add_test(NAME export_ort_package COMMAND ${export_dir}/install_ort.sh ${export_node_dir})
set_tests_properties(export_ort_package PROPERTIES LABELS export FIXTURES_SETUP export_ort TIMEOUT 600)

function(export_test name fixtures)
  add_test(NAME ${name} COMMAND ${CROWDRT_REF_PYTHON} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS export FIXTURES_REQUIRED "${fixtures}" TIMEOUT 600
                       ENVIRONMENT "${export_env}" SKIP_RETURN_CODE 77)
endfunction()

foreach(case ${export_cases})
  export_test(export_model_${case} export_cases ${export_dir}/check_export.py $<TARGET_FILE:crowdrt>
              ${export_cases_dir} ${case} ${export_work}/model_${case} --runtime crowdrt --device cpu)
  export_test(export_ort_${case} "export_cases;export_ort" ${export_dir}/check_export.py $<TARGET_FILE:crowdrt>
              ${export_cases_dir} ${case} ${export_work}/ort_${case} --runtime ort --node-path ${export_node_dir})
endforeach()
# The reference backend (plain loops) on one resnet and one efficientnet case.
foreach(case unet_resnet18_c3 unet_efficientnet-b0_c5)
  export_test(export_model_ref_${case} export_cases ${export_dir}/check_export.py $<TARGET_FILE:crowdrt>
              ${export_cases_dir} ${case} ${export_work}/ref_${case} --runtime crowdrt --device ref)
endforeach()
foreach(kind ${export_error_kinds})
  export_test(export_error_${kind} "" ${export_dir}/export_errors.py $<TARGET_FILE:crowdrt> ${export_work}/error_${kind}
              ${kind})
endforeach()
# --input-size is WIDTHxHEIGHT; a portrait size warns
export_test(export_size "" ${export_dir}/export_size.py $<TARGET_FILE:crowdrt> ${export_work}/size)
