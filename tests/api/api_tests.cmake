# The public library as its users see it (label "api"): only the public API exported, and crowdrt installed
# into a temporary prefix, the example built against it with find_package and pkg-config, then run.
set(api_python ${CROWDRT_PYTHON_EXECUTABLE})
add_test(NAME api_exported_symbols COMMAND ${api_python} ${PROJECT_SOURCE_DIR}/tests/api/exported_symbols.py
         $<TARGET_FILE:crowdrt_library>)
add_test(NAME api_install COMMAND ${api_python} ${PROJECT_SOURCE_DIR}/tests/api/install_test.py
         ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/testdata/api_install)
set_tests_properties(api_exported_symbols api_install PROPERTIES LABELS api TIMEOUT 300
                     ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)

# C++ tests of the public API, linked with libcrowdrt.so like a user's program (label "unit", so the ASan
# build runs them too). The fixture makes their tiny ONNX model.
add_test(NAME api_tiny_model COMMAND ${api_python} ${PROJECT_SOURCE_DIR}/tests/python/tiny_model.py
         ${PROJECT_BINARY_DIR}/testdata/api/tiny5_32x48.onnx --channels 5 --size 32x48)
set_tests_properties(api_tiny_model PROPERTIES FIXTURES_SETUP api_tiny_model LABELS unit)
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/testdata/api)
file(GLOB api_test_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/api/*.cpp)
add_executable(test_api ${api_test_sources})
target_link_libraries(test_api PRIVATE crowdrt::crowdrt GTest::gtest GTest::gtest_main)
# -O1 as the other test programs; no precompiled headers, so that the public headers are compiled as users do.
target_compile_options(test_api PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O1>)
target_compile_definitions(test_api PRIVATE CROWDRT_TEST_DATA="${PROJECT_BINARY_DIR}/testdata")
add_dependencies(unit_tests test_api)
add_test(NAME unit_api COMMAND test_api)
set_tests_properties(unit_api PROPERTIES LABELS unit FIXTURES_REQUIRED api_tiny_model)
