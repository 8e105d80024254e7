# Finds Eddy's dependencies, all from Debian 12 packages. Used by the build and by the installed
# EddyConfig.cmake, so an application that links Eddy::eddy gets the same targets.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(absl)
find_dependency(Protobuf)
find_dependency(ZLIB)
find_dependency(zstd)
find_dependency(Snappy)
find_dependency(simdjson)
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::LZ4)
  pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET GLOBAL liblz4)
endif()
