# Single-op cases for the reference kernels, computed at test time by PyTorch (Debian's python3-torch, which
# only /usr/bin/python3 has); the script exits non-zero saying so when torch is missing.
add_test(NAME op_cases
         COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/reference/make_op_cases.py
                 ${PROJECT_BINARY_DIR}/testdata/ops)
set_tests_properties(op_cases PROPERTIES FIXTURES_SETUP op_cases LABELS unit)
if(TEST unit_backends)
  set_tests_properties(unit_backends PROPERTIES FIXTURES_REQUIRED op_cases)
endif()
