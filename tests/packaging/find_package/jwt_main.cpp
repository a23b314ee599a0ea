// Builds against the jwt component of mcpsse, installed (find_package(mcpsse
// COMPONENTS jwt)) or pulled in with add_subdirectory() (MCPSSE_JWT=ON; the
// add_subdirectory consumer builds this file too), target mcpsse::jwt: <mcpsse/jwt.hpp>
// compiles, and the program links against OpenSSL's libcrypto through the component
// alone.
#include <mcpsse/jwt.hpp>

#include <openssl/crypto.h>

#include <cstdio>

int main() {
    mcpsse::JwtVerifierOptions options;
    options.issuer = "https://issuer.example";
    options.audience = "https://mcp.example/mcp";
    const mcpsse::JwtVerifier verifier{options, nlohmann::json{{"keys", nlohmann::json::array()}}};
    const bool refused = !verifier.verify("a.b.c");
    std::printf("mcpsse jwt consumer: %s, garbage refused: %s\n", OpenSSL_version(OPENSSL_VERSION),
                refused ? "yes" : "no");
    return refused ? 0 : 1;
}
