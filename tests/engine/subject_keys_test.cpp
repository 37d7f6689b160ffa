// Crypto-shredding's two parts: values sealed to their event and field with a subject's key, and
// the store of those keys (beside the events, in the log's side table), whose erasure takes a key
// off the disk for good.
#include "engine/crypto/subject_keys.h"

#include <rocksdb/db.h>
#include <sodium.h>
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
#include "support/subject_keys_support.h"
#include "support/temp_dir.h"

namespace procedo::crypto {
namespace {

const std::string kEvent = "0190d5a2-7c11-7000-8000-000000000001";

using testing::DiskHolds;
using namespace test;  // NOLINT: the helpers of these tests

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

TEST_CASE("base64url is libsodium's, and a long value seals and opens too", "[crypto]") {
  // The encoder on the sealing path is the project's own (libsodium's is constant-time, which
  // ciphertexts do not need): it must give libsodium's text, which opening decodes, at every
  // length's remainder.
  std::string bytes;
  for (int n = 0; n <= 70; ++n) {
    std::string ours;
    AppendBase64Url(ours, bytes);
    std::string theirs(
        sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(theirs.data(), theirs.size(),
                      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    theirs.resize(theirs.size() - 1);
    INFO(n);
    CHECK(ours == theirs);
    CHECK(ours.size() == Base64UrlSize(bytes.size()));
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
  const SubjectKey key = NewKey();
  const std::string note(1000, 'x');  // past the stack buffer a short value is boxed in
  CHECK(Open(key, Seal(key, note, kEvent, "notes.0"), kEvent, "notes.0").value() == note);
  std::string appended = "prefix.";
  AppendSealed(appended, key, "Maria", kEvent, "a", "j1.");
  CHECK(appended.starts_with("prefix.j1."));
  CHECK(Open(key, "v1." + appended.substr(10), kEvent, "a").value() == "Maria");
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
