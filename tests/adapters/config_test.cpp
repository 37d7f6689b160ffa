#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "adapters/config.h"
#include "support/temp_dir.h"

using namespace procedo;

namespace {
EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* n) -> const char* {
    auto it = vars.find(n);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}
}  // namespace

TEST_CASE("defaults serve a single machine", "[config]") {
  auto c = LoadConfig("", Env({}));
  REQUIRE(c.ok());
  CHECK(c->data_dir == "data");
  CHECK(c->log_sync);
  CHECK(c->log_max_event_bytes == 1 << 20);
}

TEST_CASE("the file sets keys and the environment overrides them", "[config]") {
  testing::TempDir dir;
  std::string path = dir.sub("procedo.toml");
  std::ofstream(path) << "data_dir = \"/srv/procedo\"\n[log]\nsync = false\nmax_event_bytes = 4096\n";
  auto c = LoadConfig(path, Env({}));
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/srv/procedo");
  CHECK_FALSE(c->log_sync);
  CHECK(c->log_max_event_bytes == 4096);
  c = LoadConfig(path, Env({{"PROCEDO_LOG_SYNC", "true"}, {"PROCEDO_DATA_DIR", "/tmp/x"}}));
  REQUIRE(c.ok());
  CHECK(c->log_sync);
  CHECK(c->data_dir == "/tmp/x");
}

TEST_CASE("bad configuration names the key", "[config]") {
  testing::TempDir dir;
  std::string path = dir.sub("procedo.toml");
  SECTION("unknown key") {
    std::ofstream(path) << "[log]\nsynk = true\n";
    auto c = LoadConfig(path, Env({}));
    CHECK(c.status().IsInvalidArgument());
    CHECK_THAT(c.status().message(), Catch::Contains("log.synk"));
  }
  SECTION("wrong type") {
    std::ofstream(path) << "[log]\nsync = \"yes\"\n";
    CHECK_THAT(LoadConfig(path, Env({})).status().message(), Catch::Contains("log.sync must be a boolean"));
  }
  SECTION("syntax error") {
    std::ofstream(path) << "[log\n";
    CHECK(LoadConfig(path, Env({})).status().IsInvalidArgument());
  }
  SECTION("bad environment value") {
    auto c = LoadConfig("", Env({{"PROCEDO_LOG_SYNC", "maybe"}}));
    CHECK_THAT(c.status().message(), Catch::Contains("PROCEDO_LOG_SYNC"));
  }
  SECTION("missing file") { CHECK(LoadConfig(dir.sub("nope.toml"), Env({})).status().IsNotFound()); }
  SECTION("out of range") {
    CHECK(LoadConfig("", Env({{"PROCEDO_LOG_MAX_EVENT_BYTES", "10"}})).status().IsInvalidArgument());
  }
}
