// Route matching with path parameters, and the request context's helpers.
#include "node/http/router.hpp"

#include "node/core/query.hpp"

#include <boost/url/decode_view.hpp>

#include <stdexcept>

namespace node::http {

std::string_view context::param(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string> context::query(std::string_view name) const {
  std::optional<std::string> found;
  std::string buf;
  core::for_each_query_param(encoded_query_, [&](std::string_view k, std::string_view v, bool) {
    if (core::decode_query_part(k, buf) != name) return true;
    found = std::string(core::decode_query_part(v, buf));
    return false;
  });
  return found;
}

std::string_view context::header(std::string_view name) const {
  auto it = req_.find(name);
  if (it == req_.end()) return {};
  return it->value();
}

core::result<core::json::value> context::json_body() const {
  std::string_view type = header("Content-Type");
  if (!type.empty()) {
    std::string_view media = type.substr(0, type.find(';'));
    while (!media.empty() && media.back() == ' ')
      media.remove_suffix(1);
    bool is_json = media.size() >= 4 &&
                   (media == "application/json" || media.substr(media.size() - 5) == "+json");
    if (!is_json) {
      return core::error{
          415,
          "unsupported_media_type",
          "the body must be JSON (Content-Type: application/json), not '" + std::string(type) + "'",
          {}};
    }
  }
  if (req_.body().empty()) return core::bad_request("the request body is empty; JSON expected");
  return core::parse_json(req_.body());
}

core::result<void> context::authorize(std::string_view admin_token) const {
  if (admin_token.empty()) return {};
  std::string_view auth = header("Authorization");
  constexpr std::string_view prefix = "Bearer ";
  if (auth.substr(0, prefix.size()) == prefix && auth.substr(prefix.size()) == admin_token) {
    return {};
  }
  return core::unauthorized("this route needs 'Authorization: Bearer <admin token>'");
}

router::segments router::split(std::string_view path) {
  segments out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

namespace {

// A pattern segment in braces ("{id}") is a parameter; anything else is matched literally.
bool is_parameter(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void router::add(bhttp::verb method, std::string pattern, handler h) {
  add_route(route{method, std::move(pattern), {}, std::move(h), {}});
}

void router::add_sync(bhttp::verb method, std::string pattern, sync_handler h) {
  add_route(route{method, std::move(pattern), {}, {}, std::move(h)});
}

void router::set_target(match& m, const route& r) {
  if (r.sync) {
    m.sync_target = &r.sync;
  } else {
    m.target = &r.h;
  }
}

void router::add_route(route r) {
  for (const auto& other : routes_) {
    if (other.method == r.method && other.pattern == r.pattern) {
      throw std::logic_error("route registered twice: " + r.pattern);
    }
  }
  r.literal = true;
  for (auto s : split(r.pattern)) {
    r.segments.emplace_back(s);
    if (is_parameter(s)) r.literal = false;
  }
  routes_.push_back(std::move(r));
}

bool router::matches(const route& r, const segments& segs,
                     std::vector<std::pair<std::string, std::string>>* params) {
  if (r.segments.size() != segs.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& want = r.segments[i];
    if (is_parameter(want)) {
      if (params != nullptr) {
        std::string value;
        boost::urls::decode_view dv(segs[i]);
        value.assign(dv.begin(), dv.end());
        params->emplace_back(want.substr(1, want.size() - 2), std::move(value));
      }
      continue;
    }
    if (want != segs[i]) return false;
  }
  return true;
}

router::match router::find(bhttp::verb method, std::string_view path, context& ctx) const {
  match m;
  // A route without parameters whose pattern is the path itself is the best match there is.
  for (const auto& r : routes_) {
    if (r.literal && r.method == method && r.pattern == path) {
      ctx.params_.clear();
      set_target(m, r);
      m.route = r.pattern;
      m.path_known = true;
      return m;
    }
  }
  auto segs = split(path);
  m.route = "unmatched";
  // An exact literal match beats a parameter match: try routes with fewer parameters first
  // by preferring the first registered route whose literal segments all match.
  const route* best = nullptr;
  int best_literals = -1;
  for (const auto& r : routes_) {
    if (!matches(r, segs, nullptr)) continue;
    m.path_known = true;
    if (r.method != method) continue;
    int literals = 0;
    for (const auto& s : r.segments)
      literals += is_parameter(s) ? 0 : 1;
    if (literals > best_literals) {
      best = &r;
      best_literals = literals;
    }
  }
  if (best != nullptr) {
    ctx.params_.clear();
    matches(*best, segs, &ctx.params_);
    set_target(m, *best);
    m.route = best->pattern;
    return m;
  }
  if (m.path_known) m.allow = allowed(path);
  return m;
}

std::string router::allowed(std::string_view path) const {
  auto segs = split(path);
  std::vector<bhttp::verb> verbs;
  for (const auto& r : routes_) {
    if (!matches(r, segs, nullptr)) continue;
    bool seen = false;
    for (auto v : verbs)
      seen = seen || v == r.method;
    if (!seen) verbs.push_back(r.method);
  }
  if (verbs.empty()) return {};
  std::string out;
  for (auto v : verbs) {
    if (!out.empty()) out += ", ";
    out += std::string(bhttp::to_string(v));
  }
  out += ", OPTIONS";
  return out;
}

}  // namespace node::http
