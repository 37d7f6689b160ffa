// The key store's erasure against rows that batches in flight write back after it: an erasure
// splits a subject's creation row, the sweep in memory takes what a batch wrote back, and opening
// the store after a crash sweeps what that sweep did not reach. Each checks the disk byte by byte.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/crypto/subject_keys.h"
#include "engine/log/log_store.h"
#include "support/disk_holds.h"
#include "support/subject_keys_support.h"
#include "support/temp_dir.h"

namespace procedo::crypto {

using testing::DiskHolds;
using namespace test;  // NOLINT: the helpers of these tests

namespace {

// The log's side table, with a write that can be held (until released) or made to fail, so that
// a test looks at the key store while an erasure's write is under way.
class HeldSide final : public SideTable {
 public:
  explicit HeldSide(SideTable& table) : table_(table) {}
  Result<std::optional<std::string>> GetSide(std::string_view key) const override {
    return table_.GetSide(key);
  }
  Result<std::vector<SideRow>> ScanSide(std::string_view prefix) const override {
    return table_.ScanSide(prefix);
  }
  Status WriteSide(const std::vector<SideRow>& puts,
                   const std::vector<std::string>& deletes) override {
    std::unique_lock lock(mu_);
    if (fail_) return Status::IoError("the disk refused the write (test)");
    if (hold_) {
      held_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !hold_; });
    }
    return table_.WriteSide(puts, deletes);
  }
  Status ScrubSide() override { return table_.ScrubSide(); }
  void OnSideDurable(std::function<void(const std::vector<SideRow>&)> listener) override {
    table_.OnSideDurable(std::move(listener));
  }

  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
    held_ = false;
  }
  void WaitHeld() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return held_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    changed_.notify_all();
  }
  void Fail(bool fail) {
    std::lock_guard lock(mu_);
    fail_ = fail;
  }

 private:
  SideTable& table_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool hold_ = false, held_ = false, fail_ = false;
};

}  // namespace

TEST_CASE("while an erasure runs, its keys are neither opened nor cached; a failed one keeps them",
          "[crypto]") {
  testing::TempDir dir;
  LogOptions o;
  o.path = dir.sub("log");
  auto log = LogStore::Open(o).value();
  HeldSide side(*log);
  auto store = SubjectKeyStore::Open(side, Master()).value();
  const std::string pia =
      store->SubjectFor("comune-forli", "pia@example.it", "contact", {"contact", "identity"})
          .value();
  const SubjectKey contact = store->KeyFor(pia, "contact", false).value();
  const SubjectKey identity = store->KeyFor(pia, "identity", false).value();

  // The erasure's write fails: the keys are as they were, opened from memory and from the disk.
  side.Fail(true);
  CHECK(store->Erase(pia, "").code() == Status::Code::kIoError);
  side.Fail(false);
  CHECK(store->KeyFor(pia, "contact", false).value() == contact);
  CHECK(store->KeyFor(pia, "identity", false).value() == identity);

  // Held inside its write, the rows still on the disk: every group is refused, and stays so.
  side.Hold();
  Status erased;
  std::thread eraser([&] { erased = store->Erase(pia, ""); });
  side.WaitHeld();
  for (const char* group : {"contact", "identity"}) {
    CHECK(store->KeyFor(pia, group, false).status().code() == Status::Code::kPermissionDenied);
    CHECK(store->EnsureKeys(pia, {group}).code() == Status::Code::kPermissionDenied);
  }
  side.Release();
  eraser.join();
  REQUIRE(erased.ok());
  for (const char* group : {"contact", "identity"}) {
    CHECK(store->KeyFor(pia, group, false).status().code() == Status::Code::kPermissionDenied);
  }

  // One group held: the other still opens.
  const std::string ugo =
      store->SubjectFor("comune-forli", "ugo@example.it", "contact", {"contact", "identity"})
          .value();
  const SubjectKey ugos_contact = store->KeyFor(ugo, "contact", false).value();
  side.Hold();
  std::thread one([&] { erased = store->Erase(ugo, "identity"); });
  side.WaitHeld();
  CHECK(store->KeyFor(ugo, "identity", false).status().code() == Status::Code::kPermissionDenied);
  CHECK(store->KeyFor(ugo, "contact", false).value() == ugos_contact);
  side.Release();
  one.join();
  REQUIRE(erased.ok());
  CHECK(store->KeyFor(ugo, "contact", false).value() == ugos_contact);
}

TEST_CASE("an erasure splits a creation row: what it erased leaves the disk, the rest stays",
          "[crypto]") {
  testing::TempDir dir;
  const std::string path = dir.sub("log");
  std::string marta, luca;
  SubjectKey lucas_contact{};
  std::string martas_created, lucas_created;
  {
    KeysOnLog store(path, Master());
    std::vector<SideRow> carried;
    marta = store
                ->SubjectFor("comune-forli", "marta@example.it", "contact",
                             {"contact", "identity", "contact"}, &carried)
                .value();
    REQUIRE(carried.size() == 2);
    martas_created = carried[0].key.starts_with("c") ? carried[0].value : carried[1].value;
    const SubjectKey contact = store->KeyFor(marta, "contact", false).value();
    CHECK(store->KeyFor(marta, "identity", false).value() != contact);
    REQUIRE(AppendCarrying(*store.log, "case-comune-forli-1", carried).ok());
    CHECK(store->Groups(marta) == std::vector<std::string>{"contact", "identity"});

    // The identity group first: the identifier (a contact) still finds Marta.
    REQUIRE(store->Erase(marta, "identity").ok());
    CHECK(store->KeyFor(marta, "identity", false).status().code() ==
          Status::Code::kPermissionDenied);
    CHECK(store->KeyFor(marta, "contact", false).value() == contact);
    CHECK(store->FindSubject("comune-forli", "marta@example.it").value() == marta);
    CHECK(store->TenantOf(marta) == "comune-forli");
    CHECK(store->Groups(marta) == std::vector<std::string>{"contact"});
    // Then the contact group: the identifier finds nobody, the owner stays.
    REQUIRE(store->Erase(marta, "contact").ok());
    CHECK_FALSE(store->FindSubject("comune-forli", "marta@example.it").value().has_value());
    CHECK(store->TenantOf(marta) == "comune-forli");
    CHECK(store->Groups(marta).empty());

    // Luca's creation row is in flight when his identity group is erased: the batch writes it
    // back, the sweep deletes it again, and his contact key, written on its own by the erasure,
    // opens what the batch's events were sealed with. An erasure of another group before the
    // sweep splits the written-back row again without writing the identity key out.
    std::vector<SideRow> lucas;
    luca = store
               ->SubjectFor("comune-forli", "luca@example.it", "contact",
                            {"contact", "identity", "special"}, &lucas)
               .value();
    lucas_contact = store->KeyFor(luca, "contact", false).value();
    REQUIRE(lucas.size() == 2);
    lucas_created = lucas[0].key.starts_with("c") ? lucas[0].value : lucas[1].value;
    REQUIRE(store->Erase(luca, "identity").ok());
    REQUIRE(AppendCarrying(*store.log, "case-comune-forli-2", lucas).ok());
    CHECK(store->NeedsSweep());
    REQUIRE(store->Erase(luca, "special").ok());
    REQUIRE(store->Sweep().ok());
    CHECK(store->KeyFor(luca, "contact", false).value() == lucas_contact);
    CHECK(store->FindSubject("comune-forli", "luca@example.it").value() == luca);
  }
  CHECK(Created(path, marta).empty());
  CHECK(Created(path, luca).empty());
  // The erased keys' only wrapping: the box at the row's end, random bytes no compression splits.
  CHECK_FALSE(DiskHolds(path, martas_created.substr(martas_created.size() - 64)));
  CHECK_FALSE(DiskHolds(path, lucas_created.substr(lucas_created.size() - 64)));
  CHECK_FALSE(Wrapped(path, luca, "contact").empty());
  CHECK(Wrapped(path, luca, "identity").empty());
  CHECK(Wrapped(path, luca, "special").empty());
  KeysOnLog reopened(path, Master());
  CHECK(reopened->KeyFor(luca, "contact", false).value() == lucas_contact);
  CHECK(reopened->KeyFor(luca, "identity", false).status().code() ==
        Status::Code::kPermissionDenied);
  CHECK(reopened->SubjectFor("comune-forli", "luca@example.it", "contact").value() == luca);
  CHECK(reopened->TenantOf(marta) == "comune-forli");
  CHECK(reopened->Groups(luca) == std::vector<std::string>{"contact"});
}

TEST_CASE("rows written back after an erasure are swept when the store opens after a crash",
          "[crypto]") {
  testing::TempDir dir;
  const std::string path = dir.sub("log");
  std::string nina, olga, ninas, olgas, special;
  SubjectKey contact{};
  auto created = [](const std::vector<SideRow>& rows) {
    for (const auto& r : rows) {
      if (r.key.starts_with("c")) return r.value;
    }
    return std::string();
  };
  {
    KeysOnLog store(path, Master());
    // Nina's first rows and a later key are in flight while two of her groups are erased, and
    // all of Olga's while she is erased whole; the batches land after the erasures.
    std::vector<SideRow> carried, olgas_rows;
    nina = store
               ->SubjectFor("comune-forli", "nina@example.it", "identity", {"contact", "identity"},
                            &carried)
               .value();
    REQUIRE(store->EnsureKeys(nina, {"special"}, "", &carried).ok());
    REQUIRE(carried.size() == 3);
    ninas = created(carried);
    for (const auto& r : carried) {
      if (r.key.starts_with("k")) special = r.value;
    }
    contact = store->KeyFor(nina, "contact", false).value();
    olga = store
               ->SubjectFor("comune-forli", "olga@example.it", "contact", {"contact", "identity"},
                            &olgas_rows)
               .value();
    olgas = created(olgas_rows);
    REQUIRE(store->Erase(nina, "identity").ok());
    REQUIRE(store->Erase(nina, "special").ok());
    REQUIRE(store->Erase(olga, "").ok());
    REQUIRE(AppendCarrying(*store.log, "case-comune-forli-1", carried).ok());
    REQUIRE(AppendCarrying(*store.log, "case-comune-forli-2", olgas_rows).ok());
    CHECK(store->NeedsSweep());
    // The process dies here, before the erasure reactor sweeps.
  }
  CHECK(Created(path, nina) == ninas);
  CHECK(Created(path, olga) == olgas);
  CHECK(Wrapped(path, nina, "special") == special);
  CHECK(SideRowOf(path, "w", nina, "") == "due");
  {
    KeysOnLog reopened(path, Master());
    CHECK(reopened->KeyFor(nina, "contact", false).value() == contact);
    for (const char* group : {"identity", "special"}) {
      CHECK(reopened->KeyFor(nina, group, false).status().code() ==
            Status::Code::kPermissionDenied);
    }
    CHECK(reopened->KeyFor(olga, "contact", false).status().code() ==
          Status::Code::kPermissionDenied);
    CHECK_FALSE(reopened->FindSubject("comune-forli", "nina@example.it").value().has_value());
    CHECK(reopened->TenantOf(nina) == "comune-forli");
    CHECK(reopened->Groups(nina) == std::vector<std::string>{"contact"});
    CHECK(reopened->Groups(olga).empty());
  }
  for (const auto& subject : {nina, olga}) {
    CHECK(Created(path, subject).empty());
    CHECK(SideRowOf(path, "w", subject, "").empty());
  }
  CHECK_FALSE(Wrapped(path, nina, "contact").empty());
  CHECK(Wrapped(path, nina, "special").empty());
  CHECK(Wrapped(path, olga, "contact").empty());
  // The erased keys' only wrappings, and the index entries' hashes (a creation row's third
  // length-prefixed part), are off the disk.
  for (const auto& row : {ninas, olgas, special}) {
    CHECK_FALSE(DiskHolds(path, row.substr(row.size() - 64)));
  }
  for (std::string row : {ninas, olgas}) {
    for (int part = 0; part < 2; ++part) row.erase(0, 1 + static_cast<uint8_t>(row[0]));
    CHECK_FALSE(DiskHolds(path, row.substr(1, static_cast<uint8_t>(row[0]))));
  }
  // Opened again with nothing to sweep: the kept key is still there.
  KeysOnLog again(path, Master());
  CHECK(again->KeyFor(nina, "contact", false).value() == contact);
}

}  // namespace procedo::crypto
