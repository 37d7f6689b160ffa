// Crypto-shredding's two parts: values sealed to their event and field with a subject's key, and
// the store of those keys, whose erasure takes a key off the disk for good.
#include "engine/crypto/subject_keys.h"

#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "engine/crypto/sealed.h"
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

// The wrapped key as the store keeps it (its row layout: "k", subject and group joined by NUL),
// read with RocksDB itself while the store is closed.
std::string Wrapped(const std::string& path, const std::string& subject, const std::string& group) {
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  REQUIRE(
      db->Get(rocksdb::ReadOptions(), std::string("k\0", 2) + subject + '\0' + group, &value).ok());
  return value;
}

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
    auto store = SubjectKeyStore::Open(path, Master());
    REQUIRE(store.ok());
    CHECK((*store)->KeyFor(marta, "contact", false).status().code() == Status::Code::kNotFound);
    contact = (*store)->KeyFor(marta, "contact", true).value();
    identity = (*store)->KeyFor(marta, "identity", true).value();
    paolos = (*store)->KeyFor(paolo, "contact", true).value();
    CHECK(contact != identity);
    CHECK((*store)->KeyFor(marta, "contact", true).value() == contact);
  }
  // Never in clear on the disk: wrapped, and the search finds the wrapped bytes.
  const std::string raw(contact.begin(), contact.end());
  CHECK_FALSE(DiskHolds(path, raw));
  const std::string wrapped = Wrapped(path, marta, "contact");
  CHECK(wrapped.size() == 24 + 32 + 16);
  CHECK(DiskHolds(path, wrapped));
  // Reopened: the same keys.
  auto store = SubjectKeyStore::Open(path, Master());
  REQUIRE(store.ok());
  CHECK((*store)->KeyFor(marta, "contact", false).value() == contact);
  CHECK((*store)->Groups(marta) == std::vector<std::string>{"contact", "identity"});
  // Another master key opens none of them.
  {
    testing::TempDir copy;
    std::filesystem::copy(path, copy.sub("keys"), std::filesystem::copy_options::recursive);
    SubjectKey wrong = Master();
    wrong[0] ^= 1;
    auto other = SubjectKeyStore::Open(copy.sub("keys"), wrong);
    REQUIRE(other.ok());
    CHECK((*other)->KeyFor(marta, "contact", false).status().code() == Status::Code::kCorruption);
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
  store->reset();
  // Reopened: still erased, and no file of the store holds what would open the value again.
  auto reopened = SubjectKeyStore::Open(path, Master());
  REQUIRE(reopened.ok());
  CHECK((*reopened)->Erased(marta, "contact"));
  CHECK((*reopened)->KeyFor(marta, "contact", false).status().code() ==
        Status::Code::kPermissionDenied);
  CHECK(Open(contact, sealed, kEvent, "applicant.email").value() == "marta@example.it");
  reopened->reset();
  // The wrapped key was the only way back: no file of the store holds it any more.
  CHECK_FALSE(DiskHolds(path, wrapped));
  CHECK_FALSE(DiskHolds(path, raw));
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

}  // namespace procedo::crypto
