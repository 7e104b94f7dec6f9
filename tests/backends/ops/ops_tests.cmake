# test_backend_ops: every op's cases on every backend in every precision against the reference backend
# (tests/backends/ops). On the CPU (oneDNN builds, label unit) in two parts that ctest runs side by side, Resize's
# 408 cases apart from the other ops', each one thread per backend: on a loaded 2-core machine oneDNN's threads
# mostly wait for each other (the same runs took 95 s with every core, 11 s with one). On CUDA (label gpu) where the
# GPU tests are built (CROWDRT_GPU_TESTS), like the other GPU programs. `test_backend_ops --perf` times the cases.
file(GLOB backend_ops_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/backends/ops/*.cpp)
add_executable(test_backend_ops ${backend_ops_srcs})
target_link_libraries(test_backend_ops PRIVATE crowdrt_backends)
crowdrt_test_program(test_backend_ops)
add_dependencies(unit_tests test_backend_ops)
if(CROWDRT_WITH_ONEDNN)
  add_test(NAME unit_backend_ops COMMAND test_backend_ops --backend cpu --threads 1 --not-op Resize)
  add_test(NAME unit_backend_ops_resize COMMAND test_backend_ops --backend cpu --threads 1 --op Resize)
  set_tests_properties(unit_backend_ops unit_backend_ops_resize PROPERTIES LABELS unit)
endif()
if(CROWDRT_WITH_CUDA AND CROWDRT_GPU_TESTS)
  target_compile_definitions(test_backend_ops PRIVATE CROWDRT_BACKEND_OPS_CUDA=1)
  add_test(NAME gpu_backend_ops COMMAND test_backend_ops --backend cuda)
  set_tests_properties(gpu_backend_ops PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)  # 77: no GPU here
endif()
