// Builds against the tls component of mcpsse, installed (find_package(mcpsse
// COMPONENTS tls)) or pulled in with add_subdirectory() (MCPSSE_TLS=ON; the
// add_subdirectory consumer builds this file too), target mcpsse::tls: <mcpsse/tls.hpp>
// compiles, and the program links against OpenSSL through the component alone.
#include <mcpsse/tls.hpp>

#include <openssl/crypto.h>

#include <cstdio>

int main(int argc, char** argv) {
    mcpsse::TlsOptions options;
    options.certificate_chain_file = "server.pem";
    options.private_key_file = "server.key";
    static_assert(sizeof(mcpsse::Tls) > 0);
    if (argc > 2) {  // never taken by the test: only has to compile and link
        options.certificate_chain_file = argv[1];
        options.private_key_file = argv[2];
        mcpsse::Tls tls{options};
        static_cast<void>(tls);
    }
    std::printf("mcpsse tls consumer: %s\n", OpenSSL_version(OPENSSL_VERSION));
    return 0;
}
