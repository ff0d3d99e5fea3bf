#pragma once
// What was built: the project's version (CMake's project(VERSION)) and the
// git commit it was built from ("unknown" outside a checkout, "-dirty" with
// uncommitted changes). Shown by --version and the *_build_info gauge.
#include <string_view>

namespace actors {

struct build_info {
  std::string_view version;
  std::string_view commit;
};

build_info this_build();

} // namespace actors
