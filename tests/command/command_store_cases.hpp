#pragma once
// command_store's behaviour, written once and run on each backend: the unit
// test binary instantiates it over in-memory SQLite, command_store_it over
// the fixture's real PostgreSQL (a fresh database per test).
#include "store/command_store.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

namespace command_test {

struct store_backend {
  std::string name;
  std::function<std::unique_ptr<soci::session>()> open; // a fresh, empty database
};

inline std::ostream& operator<<(std::ostream& out, const store_backend& b) {
  return out << b.name;
}

inline std::string backend_name(const ::testing::TestParamInfo<store_backend>& info) {
  return info.param.name;
}

class command_store_cases : public ::testing::TestWithParam<store_backend> {
protected:
  command_store_cases() : db(GetParam().open()), store(*db) { store.migrate(); }
  std::unique_ptr<soci::session> db;
  command::command_store store;
};

} // namespace command_test
