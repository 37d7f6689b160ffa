#include "adapters/web/page_cache.h"

#include "adapters/web/console.h"

namespace procedo::web {

PageCache::PageCache(size_t max_bytes)
    : max_bytes_(max_bytes), placeholder_("csrf-" + RandomHex(16)) {
  // Without randomness a placeholder could be guessed and shown by a page: keep nothing then.
  if (placeholder_.size() <= 5) max_bytes_ = 0;
}

std::optional<std::string> PageCache::Find(const std::string& key, const std::string& csrf) {
  std::string html;
  {
    std::lock_guard lock(mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it->second);
    html = it->second->html;
  }
  return Fill(std::move(html), csrf);
}

std::string PageCache::Fill(std::string html, const std::string& csrf) const {
  for (size_t at = html.find(placeholder_); at != std::string::npos;
       at = html.find(placeholder_, at + csrf.size())) {
    html.replace(at, placeholder_.size(), csrf);
  }
  return html;
}

void PageCache::Put(const std::string& key, std::string html) {
  const size_t size = key.size() + html.size();
  if (size > max_bytes_ / 4) return;
  std::lock_guard lock(mu_);
  if (index_.count(key) != 0) return;  // the same inputs render the same page
  lru_.push_front(Entry{key, std::move(html)});
  index_.emplace(key, lru_.begin());
  bytes_ += size;
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    bytes_ -= lru_.back().key.size() + lru_.back().html.size();
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

size_t PageCache::entries() const {
  std::lock_guard lock(mu_);
  return index_.size();
}

}  // namespace procedo::web
