// Who is acting, however they authenticated: staff with a JWT (adapters/http/auth.h), integrators
// with an API key (adapters/api_keys.h), over HTTP or through the Kafka command topic alike.
#pragma once

#include <string>

namespace procedo {

struct Principal {
  std::string id;      // JWT subject or API key id
  std::string role;    // operator, validator, ..., integrator, admin
  std::string tenant;  // owning organisation; admins may have none
};

}  // namespace procedo
