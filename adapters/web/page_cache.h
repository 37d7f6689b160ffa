// Rendered pages kept by what they were rendered from, so that a page opened again (a citizen
// reloading the case page, the link of every message) is served without reading, folding and
// rendering it again. The key names every input of the page (the streams' versions among them),
// so an entry is never stale: a change makes a new key, and old keys age out. The CSRF token,
// the one part that differs per browser, is rendered as a placeholder and filled in per answer.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace procedo::web {

class PageCache {
 public:
  explicit PageCache(size_t max_bytes = 32 << 20);

  // What a page renders in place of the browser's CSRF token: random per process, so that no
  // text shown on a page can contain it.
  const std::string& TokenPlaceholder() const { return placeholder_; }

  // `html` with `csrf` in place of every placeholder.
  std::string Fill(std::string html, const std::string& csrf) const;
  // The cached page with `csrf` in place of the placeholder; nullopt when absent.
  std::optional<std::string> Find(const std::string& key, const std::string& csrf);
  // Keeps `html` (rendered with the placeholder); the least recently used pages go first when
  // the cache is over its size.
  void Put(const std::string& key, std::string html);

  size_t entries() const;

 private:
  struct Entry {
    std::string key;
    std::string html;
  };
  size_t max_bytes_;
  const std::string placeholder_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace procedo::web
