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

TEST_CASE("an Ente's own pagoPA station is a table of its own", "[config]") {
  testing::TempDir dir;
  std::string path = dir.sub("procedo.toml");
  std::ofstream(path) << "[pagopa]\npositions_url = \"https://gpd.example/v1\"\n"
                         "[pagopa.tenants.comune-forli]\n"
                         "positions_url = \"https://forli.example/gpd\"\n"
                         "subscription_key_file = \"/etc/procedo/forli.key\"\n"
                         "[pagopa.tenants.comune-aosta]\nreceipts_url = \"https://aosta.example/r\"\n";
  auto c = LoadConfig(path, Env({}));
  REQUIRE(c.ok());
  CHECK(c->pagopa_positions_url == "https://gpd.example/v1");
  REQUIRE(c->pagopa_tenants.size() == 2);
  const auto& forli = c->pagopa_tenants.at("comune-forli");
  CHECK(forli.positions_url == "https://forli.example/gpd");
  CHECK(forli.subscription_key_file == "/etc/procedo/forli.key");
  CHECK(forli.receipts_url.empty());
  CHECK(c->pagopa_tenants.at("comune-aosta").receipts_url == "https://aosta.example/r");
  for (const char* bad : {"[pagopa.tenants.comune-forli]\nposition_url = \"x\"\n",
                          "[pagopa.tenants]\npositions_url = \"x\"\n",
                          "[pagopa.tenants.comune-forli]\npositions_url = 3\n"}) {
    INFO(bad);
    std::ofstream(path) << bad;
    auto wrong = LoadConfig(path, Env({}));
    REQUIRE_FALSE(wrong.ok());
    CHECK_THAT(wrong.status().message(), Catch::Contains("pagopa.tenants"));
  }
}
