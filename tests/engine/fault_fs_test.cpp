// The fault file system's model of a power loss (fault_fs.h), one rule at a time: the durability
// test is only as strict as this model.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/fault_fs.h"
#include "support/temp_dir.h"

using namespace procedo;
using namespace procedo::testing;

namespace {

using rocksdb::IOOptions;
using Files = std::map<std::string, std::string>;  // name -> bytes

struct Disk {
  TempDir tmp;
  std::string root = tmp.sub("db");
  std::shared_ptr<FaultFs> fs;

  // Files written here before the file system exists count as durable.
  explicit Disk(const Files& before = {}) {
    std::filesystem::create_directories(root);
    for (const auto& [name, bytes] : before) std::ofstream(At(name)) << bytes;
    fs = std::make_shared<FaultFs>(root);
  }
  std::string At(const std::string& name) const { return root + "/" + name; }

  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    REQUIRE(fs->NewWritableFile(At(name), rocksdb::FileOptions(), &f, nullptr).ok());
    return f;
  }
  void SyncDir() {
    std::unique_ptr<rocksdb::FSDirectory> d;
    REQUIRE(fs->NewDirectory(root, IOOptions(), &d, nullptr).ok());
    REQUIRE(d->Fsync(IOOptions(), nullptr).ok());
  }
  // The files of the disk after a power loss now.
  Files PowerLoss() {
    const std::string image = tmp.sub("image");
    auto report = fs->SimulatePowerLoss(image);
    INFO(report.status().ToString());
    REQUIRE(report.ok());
    Files files;
    for (const auto& e : std::filesystem::directory_iterator(image)) {
      std::ostringstream bytes;
      bytes << std::ifstream(e.path(), std::ios::binary).rdbuf();
      files[e.path().filename().string()] = bytes.str();
    }
    return files;
  }
};

void Write(rocksdb::FSWritableFile& f, const std::string& bytes) {
  REQUIRE(f.Append(bytes, IOOptions(), nullptr).ok());
}

}  // namespace

TEST_CASE("a power loss keeps each file's synced prefix and nothing after it", "[fault_fs]") {
  Disk d;
  auto f = d.Create("a");
  Write(*f, "synced");
  REQUIRE(f->Sync(IOOptions(), nullptr).ok());
  Write(*f, " not synced");
  REQUIRE(f->Close(IOOptions(), nullptr).ok());  // closing is no sync
  d.SyncDir();
  CHECK(d.PowerLoss() == Files{{"a", "synced"}});
}

TEST_CASE("a new file needs its data and its directory synced to survive", "[fault_fs]") {
  Disk d;
  auto data_only = d.Create("data-only");
  Write(*data_only, "x");
  REQUIRE(data_only->Sync(IOOptions(), nullptr).ok());
  auto name_only = d.Create("name-only");
  Write(*name_only, "y");
  d.SyncDir();
  auto late = d.Create("after-the-directory-sync");
  Write(*late, "z");
  REQUIRE(late->Sync(IOOptions(), nullptr).ok());
  CHECK(d.PowerLoss() == Files{{"data-only", "x"}});
}

TEST_CASE("renames and deletions are undone until their directory is synced", "[fault_fs]") {
  Disk d(Files{{"old", "before"}, {"gone", "deleted"}, {"target", "replaced"}});
  REQUIRE(d.fs->RenameFile(d.At("old"), d.At("new"), IOOptions(), nullptr).ok());
  REQUIRE(d.fs->DeleteFile(d.At("gone"), IOOptions(), nullptr).ok());
  auto tmp = d.Create("tmp");
  Write(*tmp, "fresh");
  REQUIRE(tmp->Sync(IOOptions(), nullptr).ok());
  REQUIRE(d.fs->RenameFile(d.At("tmp"), d.At("target"), IOOptions(), nullptr).ok());
  CHECK(d.PowerLoss() == Files{{"old", "before"}, {"gone", "deleted"}, {"target", "replaced"}});
}

TEST_CASE("a synced directory makes renames and deletions durable", "[fault_fs]") {
  Disk d(Files{{"old", "before"}, {"gone", "deleted"}});
  REQUIRE(d.fs->RenameFile(d.At("old"), d.At("new"), IOOptions(), nullptr).ok());
  REQUIRE(d.fs->DeleteFile(d.At("gone"), IOOptions(), nullptr).ok());
  d.SyncDir();
  CHECK(d.PowerLoss() == Files{{"new", "before"}});
}

TEST_CASE("after a power loss nothing reaches the disk", "[fault_fs]") {
  Disk d(Files{{"kept", "1"}});
  auto f = d.Create("a");
  Write(*f, "x");
  d.fs->SimulatePowerLossAt(2, d.tmp.sub("image"));
  REQUIRE(f->Sync(IOOptions(), nullptr).ok());    // the first call after arming still runs
  auto s = f->Append("y", IOOptions(), nullptr);  // the power goes off instead of this one
  CHECK(s.IsIOError());
  CHECK(f->Sync(IOOptions(), nullptr).IsIOError());
  CHECK(d.fs->DeleteFile(d.At("kept"), IOOptions(), nullptr).IsIOError());
  REQUIRE(d.fs->power_loss().has_value());
  REQUIRE(d.fs->power_loss()->ok());
  CHECK(d.fs->power_loss()->value().unsynced_bytes == 0);
  CHECK(d.fs->power_loss()->value().files_dropped == 1);  // "a": synced, its name never was
  CHECK(std::filesystem::exists(d.tmp.sub("image") + "/kept"));
  CHECK_FALSE(std::filesystem::exists(d.tmp.sub("image") + "/a"));
}
