# The Python module `crowdrt` (python/, pybind11 from Debian) into build/python/, over libcrowdrt.so.
# Built when Debian's python3 headers and pybind11 are present; otherwise skipped with a note.
option(CROWDRT_PYTHON "Build the Python module" ON)
set(CROWDRT_PYTHON_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python the module is built for and tested with")
if(NOT CROWDRT_PYTHON)
  return()
endif()

set(Python_EXECUTABLE ${CROWDRT_PYTHON_EXECUTABLE})
find_package(Python COMPONENTS Interpreter Development.Module QUIET)
set(PYBIND11_FINDPYTHON ON)
find_package(pybind11 CONFIG QUIET)
if(NOT Python_Development.Module_FOUND OR NOT pybind11_FOUND)
  message(STATUS "Python module: skipped (needs python3-dev and pybind11-dev for ${CROWDRT_PYTHON_EXECUTABLE})")
  return()
endif()

# NO_EXTRAS: no link-time optimisation (it doubles the module's build time for a thin layer over libcrowdrt.so).
pybind11_add_module(crowdrt_python MODULE NO_EXTRAS ${PROJECT_SOURCE_DIR}/python/crowdrt_module.cpp)
target_link_libraries(crowdrt_python PRIVATE crowdrt::crowdrt)
set_target_properties(crowdrt_python PROPERTIES OUTPUT_NAME crowdrt LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/python)
# The type stubs beside the module, in the build tree and installed (tests/python/test_stubs.py checks them).
configure_file(${PROJECT_SOURCE_DIR}/python/crowdrt.pyi ${PROJECT_BINARY_DIR}/python/crowdrt.pyi COPYONLY)

# Installed beside the library: <prefix>/<libdir>/python3/dist-packages, finding libcrowdrt through its RPATH.
set(CROWDRT_PYTHON_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/python3/dist-packages CACHE STRING
    "Where `cmake --install` puts the Python module, relative to the prefix")
file(RELATIVE_PATH crowdrt_python_to_lib /prefix/${CROWDRT_PYTHON_INSTALL_DIR} /prefix/${CMAKE_INSTALL_LIBDIR})
set_target_properties(crowdrt_python PROPERTIES INSTALL_RPATH "$ORIGIN/${crowdrt_python_to_lib}")
install(TARGETS crowdrt_python LIBRARY DESTINATION ${CROWDRT_PYTHON_INSTALL_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/python/crowdrt.pyi DESTINATION ${CROWDRT_PYTHON_INSTALL_DIR})

if(CROWDRT_TESTS AND TARGET crowdrt AND CROWDRT_WITH_FRAMES)  # the tests make frames with `crowdrt synth`
  include(${PROJECT_SOURCE_DIR}/tests/python/python_tests.cmake)
endif()
