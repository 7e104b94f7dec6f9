# CLI-driven data tests, labelled "data": `crowdrt preprocess` against the seed's input recipe computed
# independently in Python (tests/reference/seed_input.py with Debian's python3-opencv and numpy) for every
# flow preset, both variants (eval: resize then flow; calib: flow at source resolution then resize).
# Measured on Debian's OpenCV 4.6.0: RGB identical, calib flow identical, eval flow within 6e-8 (the seed's
# x255 / 255 round trip); the tolerance below leaves room for flows up to ~50 px.
if(NOT TARGET crowdrt)
  return()
endif()
set(CROWDRT_DATA_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with cv2 and numpy for the seed input reference")
set(data_work ${PROJECT_BINARY_DIR}/testdata/data)
set(data_synth ${data_work}/synth)

add_test(NAME data_synth COMMAND crowdrt synth --out ${data_synth} --sequences 1 --frames 6 --size 240x180 --seed 11 --overwrite)
set_tests_properties(data_synth PROPERTIES LABELS data FIXTURES_SETUP data_synth)

foreach(mode eval calib)
  foreach(flow ultrafast fast medium)
    set(out ${data_work}/preprocess_${mode}_${flow})
    add_test(NAME data_seed_input_${mode}_${flow}
             COMMAND sh -c "\"$0\" preprocess --sequence \"$1\" --size 128x96 --flow $2 --channels 5 --mode $3 --out \"$4\" --overwrite && \"$5\" \"$6\" \"$1\" \"$4\" --size 128x96 --flow $2 --channels 5 --mode $3 --tol 1e-5"
                     $<TARGET_FILE:crowdrt> ${data_synth}/sequences/00001 ${flow} ${mode} ${out}
                     ${CROWDRT_DATA_PYTHON} ${PROJECT_SOURCE_DIR}/tests/reference/seed_input.py)
    set_tests_properties(data_seed_input_${mode}_${flow} PROPERTIES LABELS data FIXTURES_REQUIRED data_synth)
  endforeach()
endforeach()
add_test(NAME data_seed_input_three_channels
         COMMAND sh -c "\"$0\" preprocess --sequence \"$1\" --size 128x96 --flow none --channels 3 --out \"$2\" --overwrite && \"$3\" \"$4\" \"$1\" \"$2\" --size 128x96 --channels 3"
                 $<TARGET_FILE:crowdrt> ${data_synth}/sequences/00001 ${data_work}/preprocess_3ch
                 ${CROWDRT_DATA_PYTHON} ${PROJECT_SOURCE_DIR}/tests/reference/seed_input.py)
set_tests_properties(data_seed_input_three_channels PROPERTIES LABELS data FIXTURES_REQUIRED data_synth)

# The CLI refuses a non-empty calibration folder (exit 1, message naming --resume and --overwrite).
add_test(NAME data_calib_data_refuses_non_empty
         COMMAND sh -c "mkdir -p \"$1\" && touch \"$1/mine\" && ! \"$0\" calib-data --sequences \"$2\" --out \"$1\" 2>\"$1.err\" && grep -q -- --resume \"$1.err\" && test -f \"$1/mine\""
                 $<TARGET_FILE:crowdrt> ${data_work}/calib_refuse ${data_synth})
set_tests_properties(data_calib_data_refuses_non_empty PROPERTIES LABELS data FIXTURES_REQUIRED data_synth)
