// Crypto-shredding's two parts: values sealed to their event and field with a subject's key, and
// the store of those keys (beside the events, in the log's side table), whose erasure takes a key
// off the disk for good.
#include "engine/crypto/subject_keys.h"

#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "engine/crypto/sealed.h"
#include "engine/log/log_store.h"
#include "support/disk_holds.h"
#include "support/temp_dir.h"

namespace procedo::crypto {
namespace {

const std::string kEvent = "0190d5a2-7c11-7000-8000-000000000001";

SubjectKey Master() {
  SubjectKey m{};
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i * 7 + 1);
  return m;
}

// A row of the log's side table as the store keeps it (its layout: a kind, the subject and a
// group joined by NUL), read with RocksDB itself while the log is closed; "" when none.
std::string SideRowOf(const std::string& path, const std::string& kind, const std::string& subject,
                      const std::string& group) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                      {"side", {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  auto s =
      db->Get(rocksdb::ReadOptions(), handles[1], kind + '\0' + subject + '\0' + group, &value);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  REQUIRE((s.ok() || s.IsNotFound()));
  return value;
}

// A key made on its own: "k", wrapped alone.
std::string Wrapped(const std::string& path, const std::string& subject, const std::string& group) {
  return SideRowOf(path, "k", subject, group);
}

// A new subject's creation row: its tenant, index link and first keys in one.
std::string Created(const std::string& path, const std::string& subject) {
  return SideRowOf(path, "c", subject, "");
}

// A log and the key store beside it, opened together and closed together.
struct KeysOnLog {
  std::unique_ptr<LogStore> log;
  std::unique_ptr<SubjectKeyStore> keys;
  KeysOnLog(const std::string& path, const SubjectKey& master) {
    LogOptions o;
    o.path = path;
    log = LogStore::Open(o).value();
    keys = SubjectKeyStore::Open(*log, master).value();
  }
  SubjectKeyStore* operator->() { return keys.get(); }
  void Close() {
    keys.reset();
    log.reset();
  }
};

using testing::DiskHolds;

}  // namespace

TEST_CASE("a sealed value opens only with its key, in its event and field", "[crypto]") {
  const SubjectKey key = NewKey(), other = NewKey();
  const std::string sealed = Seal(key, "Maria Rossi", kEvent, "applicant.name");
  CHECK(sealed.starts_with("v1."));
  CHECK(sealed.find("Maria") == std::string::npos);
  CHECK(Open(key, sealed, kEvent, "applicant.name").value() == "Maria Rossi");
  // Sealed twice, never the same text (a fresh nonce), and both open.
  const std::string again = Seal(key, "Maria Rossi", kEvent, "applicant.name");
  CHECK(again != sealed);
  CHECK(Open(key, again, kEvent, "applicant.name").value() == "Maria Rossi");
  // Moved to another event or field, or opened with another subject's key: refused.
  CHECK(
      Open(key, sealed, "0190d5a2-7c11-7000-8000-000000000002", "applicant.name").status().code() ==
      Status::Code::kCorruption);
  CHECK(Open(key, sealed, kEvent, "applicant.email").status().code() == Status::Code::kCorruption);
  CHECK(Open(other, sealed, kEvent, "applicant.name").status().code() == Status::Code::kCorruption);
  // One bit flipped anywhere in the text, or text that is no sealed value at all.
  std::string flipped = sealed;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  CHECK_FALSE(Open(key, flipped, kEvent, "applicant.name").ok());
  for (const char* bad : {"", "v1.", "v1.!!!!", "v2.AAAA", "Maria Rossi"}) {
    INFO(bad);
    CHECK(Open(key, bad, kEvent, "applicant.name").status().IsInvalidArgument());
  }
  CHECK(Open(key, Seal(key, "", kEvent, "x"), kEvent, "x").value().empty());
}

TEST_CASE("a subject's key is made once, kept wrapped, and erased off the disk", "[crypto]") {
  testing::TempDir dir;
  const std::string path = dir.sub("keys");
  const std::string marta = NewSubjectId(), paolo = NewSubjectId();
  CHECK(marta.starts_with("subj-"));
  CHECK(marta != paolo);
  SubjectKey contact{}, identity{}, paolos{};
  {
    KeysOnLog store(path, Master());
    CHECK(store->KeyFor(marta, "contact", false).status().code() == Status::Code::kNotFound);
    contact = store->KeyFor(marta, "contact", true).value();
    identity = store->KeyFor(marta, "identity", true).value();
    paolos = store->KeyFor(paolo, "contact", true).value();
    CHECK(contact != identity);
    CHECK(store->KeyFor(marta, "contact", true).value() == contact);
  }
  // Never in clear on the disk: wrapped, and the search finds the wrapped bytes.
  const std::string raw(contact.begin(), contact.end());
  CHECK_FALSE(DiskHolds(path, raw));
  const std::string wrapped = Wrapped(path, marta, "contact");
  CHECK(wrapped.size() == 24 + 32 + 16);
  CHECK(DiskHolds(path, wrapped));
  // Reopened: the same keys.
  auto store = std::make_unique<KeysOnLog>(path, Master());
  CHECK((*store)->KeyFor(marta, "contact", false).value() == contact);
  CHECK((*store)->Groups(marta) == std::vector<std::string>{"contact", "identity"});
  // Another master key opens none of them.
  {
    testing::TempDir copy;
    std::filesystem::copy(path, copy.sub("keys"), std::filesystem::copy_options::recursive);
    SubjectKey wrong = Master();
    wrong[0] ^= 1;
    KeysOnLog other(copy.sub("keys"), wrong);
    CHECK(other->KeyFor(marta, "contact", false).status().code() == Status::Code::kCorruption);
  }

  // What the key sealed, and the wrapped key's bytes as the store kept them.
  const std::string sealed = Seal(contact, "marta@example.it", kEvent, "applicant.email");
  REQUIRE((*store)->Erase(marta, "contact").ok());
  CHECK((*store)->Erased(marta, "contact"));
  CHECK_FALSE((*store)->Erased(marta, "identity"));
  CHECK((*store)->KeyFor(marta, "contact", true).status().code() ==
        Status::Code::kPermissionDenied);  // never made again
  CHECK((*store)->KeyFor(marta, "identity", false).value() == identity);
  CHECK((*store)->KeyFor(paolo, "contact", false).value() == paolos);
  CHECK((*store)->Groups(marta) == std::vector<std::string>{"identity"});
  REQUIRE((*store)->Erase(marta, "contact").ok());  // again: nothing to do, no error
  // Every group at once.
  REQUIRE((*store)->Erase(marta, "").ok());
  CHECK((*store)->KeyFor(marta, "identity", false).status().code() ==
        Status::Code::kPermissionDenied);
  CHECK((*store)->Groups(marta).empty());
  CHECK((*store)->KeyFor(paolo, "contact", false).value() == paolos);
  store.reset();
  CHECK(Wrapped(path, marta, "contact").empty());
  CHECK(Wrapped(path, paolo, "contact").size() == wrapped.size());
  // Reopened: still erased, and no file of the store holds what would open the value again.
  {
    KeysOnLog reopened(path, Master());
    CHECK(reopened->Erased(marta, "contact"));
    CHECK(reopened->KeyFor(marta, "contact", false).status().code() ==
          Status::Code::kPermissionDenied);
    CHECK(Open(contact, sealed, kEvent, "applicant.email").value() == "marta@example.it");
  }
  // The wrapped key was the only way back: no file of the store holds it any more.
  CHECK_FALSE(DiskHolds(path, wrapped));
  CHECK_FALSE(DiskHolds(path, raw));
}

// A command's event on a new stream, carrying the key store's rows as the command path does.
Result<AppendResult> AppendCarrying(LogStore& log, const std::string& stream,
                                    std::vector<SideRow> rows) {
  AppendRequest r;
  r.stream = stream;
  r.expected = ExpectedVersion::NoStream();
  r.events.push_back(NewEvent{"case.noted", "{}", "comune-forli", "{}", "", "", std::nullopt});
  r.side_rows = std::move(rows);
  return log.Append(std::move(r));
}

TEST_CASE("a new person's rows reach the disk in the batch of the event that needs them",
          "[crypto]") {
  testing::TempDir dir;
  const std::string path = dir.sub("log");
  std::string marta, paolo, anna;
  SubjectKey martas{};
  {
    KeysOnLog store(path, Master());
    std::vector<SideRow> carried;
    marta = store->SubjectFor("comune-forli", "marta@example.it", "contact", {"contact"}, &carried)
                .value();
    // The creation row (owner, index link, key) and the index entry: made, known here, on no
    // disk yet.
    CHECK(carried.size() == 2);
    CHECK(store->TenantOf(marta) == "comune-forli");
    martas = store->KeyFor(marta, "contact", false).value();
    CHECK(Created(path, marta).empty());
    // Another command meeting the same person before the first one's batch carries them too.
    std::vector<SideRow> again;
    CHECK(store->SubjectFor("comune-forli", " MARTA@example.it", "contact", {}, &again).value() ==
          marta);
    REQUIRE(store->EnsureKeys(marta, {"contact", "identity"}, "comune-forli", &again).ok());
    CHECK(again.size() == 3);  // the two, and the identity key this one made
    REQUIRE(AppendCarrying(*store.log, "case-comune-forli-1", carried).ok());
    // Written: a third command carries only what is still in flight (the identity key).
    std::vector<SideRow> third;
    REQUIRE(store->EnsureKeys(marta, {"contact"}, "comune-forli", &third).ok());
    CHECK(third.size() == 1);
    // A refused command's person: nothing of them is written, and a restart forgets them.
    paolo = store->SubjectFor("comune-forli", "paolo@example.it", "contact", {"contact"}, &third)
                .value();
    // Erased while a batch carrying a new key is in flight: that batch writes it back, and the
    // sweep erases it again.
    std::vector<SideRow> annas;
    anna = store->SubjectFor("comune-forli", "anna@example.it", "contact", {"contact"}, &annas)
               .value();
    REQUIRE(store->Erase(anna, "").ok());
    CHECK_FALSE(store->NeedsSweep());
    REQUIRE(AppendCarrying(*store.log, "case-comune-forli-2", annas).ok());
    CHECK(store->NeedsSweep());
    REQUIRE(store->Sweep().ok());
    CHECK_FALSE(store->NeedsSweep());
    CHECK(store->KeyFor(anna, "contact", false).status().code() == Status::Code::kPermissionDenied);
  }
  CHECK_FALSE(Created(path, marta).empty());
  CHECK(Wrapped(path, marta, "identity").empty());  // its command never appended
  CHECK(Created(path, paolo).empty());
  CHECK(Created(path, anna).empty());
  KeysOnLog reopened(path, Master());
  CHECK(reopened->KeyFor(marta, "contact", false).value() == martas);
  CHECK(reopened->TenantOf(marta) == "comune-forli");
  CHECK_FALSE(reopened->TenantOf(paolo).has_value());
  // The identifier finds Marta again; Paolo's, never written, makes a new subject.
  CHECK(reopened->SubjectFor("comune-forli", "marta@example.it", "contact").value() == marta);
  CHECK(reopened->SubjectFor("comune-forli", "paolo@example.it", "contact").value() != paolo);
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

TEST_CASE("the master key comes from a file of 64 hexadecimal digits", "[crypto]") {
  testing::TempDir dir;
  const std::string good = dir.sub("master.key"), bad = dir.sub("bad.key");
  std::ofstream(good) << "  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
  auto key = ReadMasterKey(good);
  REQUIRE(key.ok());
  CHECK((*key)[0] == 0);
  CHECK((*key)[31] == 31);
  std::ofstream(bad) << "not a key";
  CHECK_THAT(ReadMasterKey(bad).status().message(), Catch::Contains("64 hexadecimal digits"));
  CHECK(ReadMasterKey(dir.sub("missing.key")).status().IsInvalidArgument());
}

TEST_CASE("a forked child that does not exec still makes keys, and not its parent's", "[crypto]") {
  const SubjectKey before = NewKey();  // the parent's generator is in use before the fork
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const SubjectKey made = NewKey();
    const bool written =
        ::write(pipe_fds[1], made.data(), made.size()) == static_cast<ssize_t>(made.size());
    ::_exit(written ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  SubjectKey from_child{};
  const ssize_t got = ::read(pipe_fds[0], from_child.data(), from_child.size());
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  // The parent's next key and the child's first come from different streams.
  const SubjectKey after = NewKey();
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(got == static_cast<ssize_t>(from_child.size()));
  CHECK(from_child != after);
  CHECK(from_child != before);
}

}  // namespace procedo::crypto
