# The Python module's tests (label "python"): tests/python/test_*.py with Debian's python3, the module from
# build/python, and the crowdrt program for fixtures and comparisons.
file(GLOB python_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/python/test_*.py)
foreach(test_file ${python_tests})
  get_filename_component(name ${test_file} NAME_WE)
  add_test(NAME python_${name} COMMAND ${CROWDRT_PYTHON_EXECUTABLE} ${test_file} -v)
  set_tests_properties(python_${name} PROPERTIES LABELS python TIMEOUT 300
    ENVIRONMENT "PYTHONPATH=${PROJECT_BINARY_DIR}/python;CROWDRT_BIN=$<TARGET_FILE:crowdrt>;PYTHONDONTWRITEBYTECODE=1")
endforeach()
