# Checkpoints for test_checkpoint, written at test time by PyTorch (Debian's python3-torch, which only
# /usr/bin/python3 has) so that what we read is what torch.save really writes.
add_test(NAME make_checkpoints
         COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/reference/make_checkpoints.py
                 ${PROJECT_BINARY_DIR}/testdata/checkpoints)
set_tests_properties(make_checkpoints PROPERTIES FIXTURES_SETUP checkpoints LABELS unit)
if(TEST unit_checkpoint)
  set_tests_properties(unit_checkpoint PROPERTIES FIXTURES_REQUIRED checkpoints)
endif()
