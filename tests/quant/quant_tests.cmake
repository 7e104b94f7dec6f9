# End-to-end int8 / bf16 tests of `crowdrt build` (label "quant"): tests/quant/check_quant.py, one step each,
# on a random-weight smp-layout UNet-resnet18 (5 channels, 64x64; a UNet-mobilenet_v2 for `bounded`) and
# synthetic frames made by the test.
# The QDQ step runs the exported model in ONNX Runtime (onnxruntime-node, installed by the export tests'
# fixture export_ort; without node it reports itself skipped).
if(NOT TARGET crowdrt)
  return()
endif()
set(quant_work ${PROJECT_BINARY_DIR}/testdata/quant)
set(quant_script ${PROJECT_SOURCE_DIR}/tests/quant/check_quant.py)
if(NOT DEFINED export_node_dir)
  set(export_node_dir ${PROJECT_BINARY_DIR}/testdata/node)
endif()
# The fixture quant_inputs makes the models (one PyTorch export each), the dataset and the frames once; the steps
# only read them (each exported them for itself before: 10 s of PyTorch start-up per step).
add_test(NAME quant_inputs COMMAND ${CROWDRT_REF_PYTHON} ${quant_script} inputs $<TARGET_FILE:crowdrt>
                                   ${quant_work}/inputs)
set_tests_properties(quant_inputs PROPERTIES LABELS quant TIMEOUT 600 FIXTURES_SETUP quant_inputs
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
foreach(step engines cache qdq budget bounded)
  set(fixtures quant_inputs)
  if(step STREQUAL "qdq" AND TEST export_ort_package)
    list(APPEND fixtures export_ort)
  endif()
  add_test(NAME quant_${step}
           COMMAND ${CROWDRT_REF_PYTHON} ${quant_script} ${step} $<TARGET_FILE:crowdrt> ${quant_work}/${step}
                   --inputs ${quant_work}/inputs --node-path ${export_node_dir}/node_modules)
  set_tests_properties(quant_${step} PROPERTIES LABELS quant TIMEOUT 600 SKIP_RETURN_CODE 77
                       ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1" FIXTURES_REQUIRED "${fixtures}")
endforeach()
