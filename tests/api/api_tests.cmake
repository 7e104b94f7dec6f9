# The public library as its users see it (label "api"): only the public API exported, and crowdrt installed
# into a temporary prefix, the example built against it with find_package and pkg-config, then run.
set(api_python ${CROWDRT_PYTHON_EXECUTABLE})
add_test(NAME api_exported_symbols COMMAND ${api_python} ${PROJECT_SOURCE_DIR}/tests/api/exported_symbols.py
         $<TARGET_FILE:crowdrt_library>)
add_test(NAME api_install COMMAND ${api_python} ${PROJECT_SOURCE_DIR}/tests/api/install_test.py
         ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/testdata/api_install)
set_tests_properties(api_exported_symbols api_install PROPERTIES LABELS api TIMEOUT 300
                     ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
