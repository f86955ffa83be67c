#include "verify.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "http_client.hpp"

namespace parley::bench {
namespace {

namespace json = boost::json;

std::optional<json::value> get_json(const url& base, const std::string& path, const std::string& key) {
  auto r = sync_request(base, "GET", path, key);
  if (!r || r->first != 200) {
    std::fprintf(stderr, "parley-bench: GET %s answered %d\n", path.c_str(), r ? r->first : 0);
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto v = json::parse(r->second, ec);
  if (ec) return std::nullopt;
  return v;
}

std::string text(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  const auto* x = o ? o->if_contains(key) : nullptr;
  return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string();
}

// Counts every stored message's provider id, page by page. False when the API failed.
bool count_stored(const url& base, const std::string& key, std::unordered_map<std::string, int>& stored) {
  std::string cursor;
  do {
    auto page = get_json(base, "/v1/conversations?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor), key);
    if (!page) return false;
    for (const auto& c : page->as_object().at("conversations").as_array()) {
      std::string before;
      do {
        auto messages = get_json(base, "/v1/conversations/" + text(c, "id") + "/messages?limit=500" +
                                           (before.empty() ? "" : "&before=" + before), key);
        if (!messages) return false;
        for (const auto& m : messages->as_object().at("messages").as_array()) ++stored[text(m, "provider_message_id")];
        before = text(*messages, "next_before");
      } while (!before.empty());
    }
    cursor = text(*page, "next_cursor");
  } while (!cursor.empty());
  return true;
}

}  // namespace

int run_verify(const verify_options& o) {
  auto base = parse_url(o.target);
  if (!base) {
    std::fprintf(stderr, "parley-bench: --target must be http://HOST:PORT\n");
    return 2;
  }
  std::ifstream in(o.run_file);
  std::stringstream buffer;
  buffer << in.rdbuf();
  boost::system::error_code ec;
  auto run = json::parse(buffer.str(), ec);
  if (!in || ec || !run.is_object() || !run.as_object().contains("acknowledged")) {
    std::fprintf(stderr, "parley-bench: %s is not the --json of an ingest run\n", o.run_file.c_str());
    return 2;
  }
  std::string key = o.api_key.empty() ? text(run, "api_key") : o.api_key;
  if (key.empty()) {
    std::fprintf(stderr, "parley-bench: the run did not create its tenant; give --api-key\n");
    return 2;
  }
  std::unordered_map<std::string, int> stored;
  if (!count_stored(*base, key, stored)) return 2;

  std::unordered_map<std::string, int> acknowledged;
  for (const auto& id : run.as_object().at("acknowledged").as_array()) {
    if (id.is_string()) ++acknowledged[std::string(id.as_string())];
  }
  std::vector<std::string> missing, duplicated;
  for (const auto& [id, n] : acknowledged) {
    auto it = stored.find(id);
    if (it == stored.end()) missing.push_back(id);
  }
  for (const auto& [id, n] : stored) {
    if (n > 1) duplicated.push_back(id);
  }
  std::printf("parley-bench verify: %zu acknowledged ids, %zu stored ids, %zu missing, %zu stored more than once\n",
              acknowledged.size(), stored.size(), missing.size(), duplicated.size());
  for (std::size_t i = 0; i < missing.size() && i < 10; ++i) std::printf("  missing: %s\n", missing[i].c_str());
  for (std::size_t i = 0; i < duplicated.size() && i < 10; ++i) std::printf("  duplicated: %s\n", duplicated[i].c_str());
  if (!o.json_file.empty()) {
    std::ofstream out(o.json_file);
    out << "{\"acknowledged\":" << acknowledged.size() << ",\"stored\":" << stored.size() << ",\"missing\":" << missing.size()
        << ",\"duplicated\":" << duplicated.size() << "}\n";
  }
  return missing.empty() && duplicated.empty() ? 0 : 1;
}

}  // namespace parley::bench
