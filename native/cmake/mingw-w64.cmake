# Cross-compiling Forkless for 64-bit Windows with Debian's mingw-w64, tests run under Wine.
#
#   cmake -S . -B target/windows/build -DCMAKE_TOOLCHAIN_FILE=native/cmake/mingw-w64.cmake
#
# The -posix compilers on purpose: the win32-thread variant of libstdc++ lacks std::mutex and
# std::thread, which Google Test needs. ci/windows.sh is the one script that uses this file.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_fl_triple x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_fl_triple}-gcc-posix)
set(CMAKE_CXX_COMPILER ${_fl_triple}-g++-posix)
set(CMAKE_ASM_COMPILER ${_fl_triple}-gcc-posix)
set(CMAKE_RC_COMPILER ${_fl_triple}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${_fl_triple})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest (and gtest_discover_tests) start the .exe files through Wine. Debian's wine64 package
# installs the loader under /usr/lib/wine; `wine` is a wrapper that picks it too.
find_program(FORKLESS_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(FORKLESS_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${FORKLESS_WINE})
endif()
