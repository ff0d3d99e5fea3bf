#pragma once
// `promtool check metrics` (Debian's prometheus package) on an exposition
// text, as Prometheus's own linter sees a scrape.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace support {

// "" when promtool accepts `text`; else what it said (or why it did not run).
inline std::string promtool_problems(const std::string& text) {
  auto file = std::filesystem::temp_directory_path()
              / std::string{"promtool-"}.append(std::to_string(getpid())).append(".txt");
  std::ofstream{file} << text;
  auto command = std::string{"promtool check metrics < "}.append(file.string()).append(" 2>&1");
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p)
    return "promtool did not start";
  std::array<char, 4096> buf;
  while (auto n = std::fread(buf.data(), 1, buf.size(), p))
    out.append(buf.data(), n);
  int status = pclose(p);
  std::filesystem::remove(file);
  if (status == 0)
    return "";
  return out.empty() ? std::string{"promtool failed with status "}.append(std::to_string(status))
                     : out;
}

} // namespace support
