# End-to-end tests of `crowdrt serve`, labelled "serve": the KServe v2 protocol over loopback HTTP and gRPC with
# clients written from the specification (tests/serve/v2_client.py; v2_grpc_client.py, its stubs compiled from our
# .proto at run time with python3-grpc-tools), on plans of the known-output models of tests/eval.
if(NOT TARGET crowdrt)
  return()
endif()
set(serve_work ${PROJECT_BINARY_DIR}/testdata/serve)

add_test(NAME serve_fixture
         COMMAND ${CROWDRT_EVAL_PYTHON} ${PROJECT_SOURCE_DIR}/tests/serve/make_repository.py $<TARGET_FILE:crowdrt>
                 ${serve_work}/fixture)
set_tests_properties(serve_fixture PROPERTIES LABELS serve FIXTURES_SETUP serve_data ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)

foreach(check protocol streams batch)
  add_test(NAME serve_${check}
           COMMAND ${CROWDRT_EVAL_PYTHON} ${PROJECT_SOURCE_DIR}/tests/serve/check_serve_${check}.py $<TARGET_FILE:crowdrt>
                   ${serve_work}/fixture ${serve_work}/${check})
  # Each starts its own server on a free loopback port and stops it; the timeout bounds a hung server.
  set_tests_properties(serve_${check} PROPERTIES LABELS serve FIXTURES_REQUIRED serve_data TIMEOUT 120
                       ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endforeach()
