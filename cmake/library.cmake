# libcrowdrt.so: the public API (include/crowdrt, src/api) over the internal static modules, which stay
# private (hidden by cmake/libcrowdrt.map); installing it with its headers, the crowdrt program, a CMake
# package (find_package(crowdrt) -> crowdrt::crowdrt) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The internal error type is the public one (src/core/error.h includes crowdrt/error.h).
target_include_directories(crowdrt_core PUBLIC ${PROJECT_SOURCE_DIR}/include)

file(GLOB crowdrt_api_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/api/*.cpp)
# An engine-only build (CROWDRT_WITH_FRAMES=OFF) has no OpenCV: its frame entry points say so (no_frames.cpp).
if(CROWDRT_WITH_FRAMES)
  list(REMOVE_ITEM crowdrt_api_sources ${PROJECT_SOURCE_DIR}/src/api/no_frames.cpp)
else()
  list(REMOVE_ITEM crowdrt_api_sources ${PROJECT_SOURCE_DIR}/src/api/frames.cpp)
endif()
add_library(crowdrt_library SHARED ${crowdrt_api_sources})
add_library(crowdrt::crowdrt ALIAS crowdrt_library)
target_link_libraries(crowdrt_library PRIVATE crowdrt_engine crowdrt_serve)  # serve: zones
if(CROWDRT_WITH_FRAMES)
  find_package(OpenCV REQUIRED COMPONENTS videoio)  # FrameSource reads videos
  target_link_libraries(crowdrt_library PRIVATE crowdrt_eval opencv_videoio)
endif()
target_include_directories(crowdrt_library PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(crowdrt_library PUBLIC cxx_std_17)
set(crowdrt_version_script ${PROJECT_SOURCE_DIR}/cmake/libcrowdrt.map)
target_link_options(crowdrt_library PRIVATE -Wl,--version-script=${crowdrt_version_script} -Wl,--no-undefined)
set_target_properties(crowdrt_library PROPERTIES
  OUTPUT_NAME crowdrt EXPORT_NAME crowdrt
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
  LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib
  INSTALL_RPATH_USE_LINK_PATH ON  # dependencies outside the system folders (cuDNN in /usr/local/cuda) stay found
  LINK_DEPENDS ${crowdrt_version_script})

install(TARGETS crowdrt_library EXPORT crowdrtTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/crowdrt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
if(TARGET crowdrt)
  set_target_properties(crowdrt PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
  install(TARGETS crowdrt RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/models/demo/demo_unet_mobilenet_v2.pth ${PROJECT_SOURCE_DIR}/models/demo/MODEL_CARD.md
          DESTINATION ${CMAKE_INSTALL_DATADIR}/crowdrt/models/demo)
endif()

set(crowdrt_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/crowdrt)
install(EXPORT crowdrtTargets NAMESPACE crowdrt:: DESTINATION ${crowdrt_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/crowdrtConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/crowdrtConfig.cmake
  INSTALL_DESTINATION ${crowdrt_cmake_dir} PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/crowdrtConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/crowdrtConfig.cmake ${PROJECT_BINARY_DIR}/package/crowdrtConfigVersion.cmake
  DESTINATION ${crowdrt_cmake_dir})

# pkg-config: the prefix is found from the .pc file's own place, so `cmake --install --prefix` anywhere works.
file(RELATIVE_PATH crowdrt_pc_to_prefix /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" crowdrt_pc_to_prefix "${crowdrt_pc_to_prefix}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/crowdrt.pc.in ${PROJECT_BINARY_DIR}/package/crowdrt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/crowdrt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(CROWDRT_TESTS AND TARGET crowdrt AND CROWDRT_WITH_FRAMES)  # the tests make frames with `crowdrt synth`
  set(CROWDRT_PYTHON_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python the module is built for and tested with")
  include(${PROJECT_SOURCE_DIR}/tests/api/api_tests.cmake)
endif()

# The example, built in-tree too (tests/api builds it again against an installed copy).
add_subdirectory(${PROJECT_SOURCE_DIR}/examples ${PROJECT_BINARY_DIR}/examples)
