// tls/: the certificates fl-hub init-tls makes verify as they should (and do
// not against another CA, nor for another name or purpose), bad files are
// named with their fault, handshakes in memory succeed or fail as a client's
// CA and certificate say, and the plain-TCP rule.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <memory>

#include "support/temp_dir.hpp"
#include "tls/certificates.hpp"
#include "tls/plain_policy.hpp"
#include "tls/server_context.hpp"

using namespace fedhub::tls;
using fedhub::testing::TempDir;
namespace fs = std::filesystem;

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr x(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  BOOST_REQUIRE(x);
  return x;
}

// X509_verify_cert of `leaf` against `ca` alone, for `purpose` and, if
// given, a host name or IP address. Returns the verify result (X509_V_OK).
int verify(const CertifiedKey& ca, const CertifiedKey& leaf, int purpose, const std::string& host = "") {
  auto root = parse(ca.certificate_pem);
  auto cert = parse(leaf.certificate_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, root.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert.get(), nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_purpose(param, purpose);
  if (!host.empty()) {
    if (is_ip_address(host))
      X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    else
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  }
  const int ok = X509_verify_cert(ctx);
  const int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  return ok == 1 ? X509_V_OK : (err == X509_V_OK ? -1 : err);
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string refusal(const std::function<void()>& f) {
  try {
    f();
  } catch (const TlsError& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A deployment as fl-hub init-tls writes it, in a temporary directory.
struct Deployment {
  TempDir dir;
  CertifiedKey ca = make_ca("fedhub test CA");
  CertifiedKey hub = make_server_certificate(ca, {"localhost", "127.0.0.1", "::1", "hub.example.org"});
  CertifiedKey client = make_client_certificate(ca, "org-1");
  Deployment() {
    write_certified_key(ca, dir / "ca.pem", dir / "ca.key");
    write_certified_key(hub, dir / "hub.pem", dir / "hub.key");
    write_certified_key(client, dir / "org-1.pem", dir / "org-1.key");
  }
  ServerFiles server(bool mutual = false) const {
    return {dir / "hub.pem", dir / "hub.key", mutual ? dir / "ca.pem" : ""};
  }
};

// Runs a client and a server handshake against each other through a BIO
// pair in memory; returns whether both completed. `client_error` and
// `server_error` say why not.
struct Handshake {
  bool ok = false;
  std::string client_error, server_error;
  std::string peer_cn;  // the client's CN as the server saw it
};

Handshake handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const std::string& host) {
  SSL* s = SSL_new(server_ctx);
  SSL* c = SSL_new(client_ctx);
  set_expected_host(c, host);
  BIO *sb = nullptr, *cb = nullptr;
  BIO_new_bio_pair(&sb, 0, &cb, 0);
  SSL_set_bio(s, sb, sb);
  SSL_set_bio(c, cb, cb);
  SSL_set_accept_state(s);
  SSL_set_connect_state(c);
  Handshake h;
  bool s_done = false, c_done = false, failed = false;
  for (int round = 0; round < 100 && !(s_done && c_done) && !failed; ++round) {
    if (!c_done) {
      const int r = SSL_do_handshake(c);
      if (r == 1)
        c_done = true;
      else if (const int e = SSL_get_error(c, r); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        failed = true;
        h.client_error = take_openssl_errors();
        const long v = SSL_get_verify_result(c);
        if (v != X509_V_OK) h.client_error += std::string(" [verify: ") + X509_verify_cert_error_string(v) + "]";
      }
    }
    if (!s_done) {
      const int r = SSL_do_handshake(s);
      if (r == 1)
        s_done = true;
      else if (const int e = SSL_get_error(s, r); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        failed = true;
        h.server_error = take_openssl_errors();
      }
    }
  }
  // TLS 1.3: the server learns of a refused client certificate on the
  // client's first read; exchange a byte each way to settle it.
  if (s_done && c_done) {
    char byte = 'x';
    bool wrote = false, read_s = false, read_c = false;
    for (int round = 0; round < 20 && !failed && !(read_s && read_c); ++round) {
      if (!wrote) wrote = SSL_write(c, &byte, 1) == 1;
      if (!read_s) {
        char got;
        const int r = SSL_read(s, &got, 1);
        if (r == 1) {
          read_s = true;
          SSL_write(s, &got, 1);
        } else if (const int e = SSL_get_error(s, r); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
          failed = true;
          h.server_error = take_openssl_errors();
        }
      }
      if (!read_c) {
        char got;
        const int r = SSL_read(c, &got, 1);
        if (r == 1)
          read_c = true;
        else if (const int e = SSL_get_error(c, r); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
          failed = true;
          h.client_error = take_openssl_errors();
        }
      }
    }
    h.ok = !failed && read_s && read_c;
    if (X509* peer = SSL_get1_peer_certificate(s)) {
      BIO* bio = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(bio, peer);
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      h.peer_cn = common_name(std::string(data, static_cast<size_t>(n)));
      BIO_free(bio);
      X509_free(peer);
    }
  }
  SSL_free(c);
  SSL_free(s);
  ERR_clear_error();
  return h;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(certificates)

BOOST_AUTO_TEST_CASE(a_server_certificate_verifies_against_its_ca_for_its_names_only) {
  const auto ca = make_ca("fedhub CA");
  const auto other = make_ca("fedhub CA");  // the same name, another key
  const auto hub = make_server_certificate(ca, {"localhost", "127.0.0.1", "::1", "hub.example.org"});
  for (const char* name : {"localhost", "127.0.0.1", "::1", "hub.example.org"})
    BOOST_TEST(verify(ca, hub, X509_PURPOSE_SSL_SERVER, name) == X509_V_OK, name);
  BOOST_TEST(verify(ca, hub, X509_PURPOSE_SSL_SERVER, "evil.example.org") == X509_V_ERR_HOSTNAME_MISMATCH);
  BOOST_TEST(verify(ca, hub, X509_PURPOSE_SSL_SERVER, "10.0.0.1") == X509_V_ERR_IP_ADDRESS_MISMATCH);
  // The IP address is an IP entry, not a DNS name "127.0.0.1".
  BOOST_TEST(verify(ca, hub, X509_PURPOSE_SSL_SERVER) == X509_V_OK);
  BOOST_TEST(verify(other, hub, X509_PURPOSE_SSL_SERVER, "localhost") != X509_V_OK);
  BOOST_TEST(verify(other, hub, X509_PURPOSE_SSL_SERVER, "localhost") == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  // A server certificate is no client certificate.
  BOOST_TEST(verify(ca, hub, X509_PURPOSE_SSL_CLIENT) != X509_V_OK);
  BOOST_TEST(common_name(hub.certificate_pem) == "localhost");
}

BOOST_AUTO_TEST_CASE(the_extensions_are_those_documented) {
  const auto ca = make_ca("fedhub CA");
  auto root = parse(ca.certificate_pem);
  BOOST_TEST(X509_check_ca(root.get()) == 1);
  BOOST_TEST((X509_get_key_usage(root.get()) & KU_KEY_CERT_SIGN) != 0);
  BOOST_TEST(X509_get_version(root.get()) == X509_VERSION_3);
  EVP_PKEY* pub = X509_get0_pubkey(root.get());
  BOOST_TEST(EVP_PKEY_is_a(pub, "EC"));
  char group[64] = {};
  size_t len = 0;
  EVP_PKEY_get_group_name(pub, group, sizeof group, &len);
  BOOST_TEST(std::string(group) == "prime256v1");
  // Ten years, give or take the hour of clock skew.
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(root.get()), X509_get0_notAfter(root.get()));
  BOOST_TEST(days == 3650);
  const auto hub = make_server_certificate(ca, {"localhost"});
  auto leaf = parse(hub.certificate_pem);
  BOOST_TEST(X509_check_ca(leaf.get()) == 0);
  BOOST_TEST((X509_get_extended_key_usage(leaf.get()) & XKU_SSL_SERVER) != 0);
  BOOST_TEST((X509_get_extended_key_usage(leaf.get()) & XKU_SSL_CLIENT) == 0);
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf.get()), X509_get0_notAfter(leaf.get()));
  BOOST_TEST(days == 730);
  // Two certificates of one CA have different serial numbers.
  auto again = parse(make_server_certificate(ca, {"localhost"}).certificate_pem);
  BOOST_TEST(ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf.get()), X509_get0_serialNumber(again.get())) != 0);
}

BOOST_AUTO_TEST_CASE(a_client_certificate_verifies_for_client_auth) {
  const auto ca = make_ca("fedhub CA");
  const auto client = make_client_certificate(ca, "org-1");
  BOOST_TEST(verify(ca, client, X509_PURPOSE_SSL_CLIENT) == X509_V_OK);
  BOOST_TEST(verify(ca, client, X509_PURPOSE_SSL_SERVER) != X509_V_OK);
  BOOST_TEST(verify(make_ca("x"), client, X509_PURPOSE_SSL_CLIENT) != X509_V_OK);
  BOOST_TEST(common_name(client.certificate_pem) == "org-1");
}

BOOST_AUTO_TEST_CASE(bad_names_and_cas_are_refused) {
  const auto ca = make_ca("fedhub CA");
  BOOST_TEST(contains(refusal([&] { make_server_certificate(ca, {}); }), "at least one name"));
  BOOST_TEST(contains(refusal([&] { make_server_certificate(ca, {"a b"}); }), "'a b' is neither"));
  BOOST_TEST(contains(refusal([&] { make_server_certificate(ca, {""}); }), "neither"));
  BOOST_TEST(contains(refusal([&] { make_client_certificate(ca, "org 1"); }), "not a participant name"));
  const auto hub = make_server_certificate(ca, {"localhost"});
  BOOST_TEST(contains(refusal([&] { make_client_certificate(hub, "org-1"); }), "not a CA"));
  const CertifiedKey mixed{ca.certificate_pem, make_ca("other").key_pem};
  BOOST_TEST(contains(refusal([&] { make_client_certificate(mixed, "org-1"); }), "not the key"));
  BOOST_TEST(is_ip_address("10.1.2.3"));
  BOOST_TEST(is_ip_address("fe80::1"));
  BOOST_TEST(!is_ip_address("10.1.2"));
  BOOST_TEST(!is_ip_address("localhost"));
}

BOOST_AUTO_TEST_CASE(keys_are_written_0600_and_atomically) {
  TempDir dir;
  const auto ca = make_ca("fedhub CA");
  write_certified_key(ca, dir / "ca.pem", dir / "ca.key");
  struct stat st {};
  BOOST_REQUIRE(::stat((dir / "ca.key").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_REQUIRE(::stat((dir / "ca.pem").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0644u);
  BOOST_TEST(!fs::exists(dir / "ca.key.tmp"));
  const auto back = read_certified_key(dir / "ca.pem", dir / "ca.key");
  BOOST_TEST(back.certificate_pem == ca.certificate_pem);
  BOOST_TEST(back.key_pem == ca.key_pem);
  // Over an existing file: replaced, still 0600.
  write_file_atomic(dir / "ca.key", "x", 0600);
  BOOST_REQUIRE(::stat((dir / "ca.key").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST(contains(refusal([&] { write_file_atomic(dir / "no-such-dir/ca.key", "x", 0600); }), "cannot write"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(server_context)

BOOST_AUTO_TEST_CASE(bad_files_are_named_with_their_fault) {
  Deployment d;
  auto files = d.server();
  BOOST_TEST(make_server_context(files) != nullptr);

  auto missing = files;
  missing.certificate = d.dir / "nope.pem";
  BOOST_TEST(refusal([&] { make_server_context(missing); }) ==
             "certificate file '" + (d.dir / "nope.pem") + "': no such file");

  write(d.dir / "garbage.pem", "not a certificate\n");
  auto not_pem = files;
  not_pem.certificate = d.dir / "garbage.pem";
  BOOST_TEST(contains(refusal([&] { make_server_context(not_pem); }), "garbage.pem': holds no PEM certificate"));
  auto key_not_pem = files;
  key_not_pem.key = d.dir / "garbage.pem";
  BOOST_TEST(contains(refusal([&] { make_server_context(key_not_pem); }), "garbage.pem': holds no PEM private key"));
  auto cert_as_key = files;
  cert_as_key.key = d.dir / "hub.pem";
  BOOST_TEST(contains(refusal([&] { make_server_context(cert_as_key); }), "holds no PEM private key"));

  auto wrong_key = files;
  wrong_key.key = d.dir / "org-1.key";
  BOOST_TEST(refusal([&] { make_server_context(wrong_key); }) == "key file '" + (d.dir / "org-1.key") +
                                                                     "': is not the key of certificate file '" +
                                                                     (d.dir / "hub.pem") + "'");

  write_certified_key(make_server_certificate(d.ca, {"localhost"}, std::chrono::days(-1)), d.dir / "old.pem",
                      d.dir / "old.key");
  const std::string expired = refusal([&] { make_server_context({d.dir / "old.pem", d.dir / "old.key", ""}); });
  BOOST_TEST(contains(expired, "old.pem': expired on 20"), expired);

  auto client_as_server = files;
  client_as_server.certificate = d.dir / "org-1.pem";
  client_as_server.key = d.dir / "org-1.key";
  BOOST_TEST(contains(refusal([&] { make_server_context(client_as_server); }), "is not a server certificate"));

  auto bad_ca = d.server(true);
  bad_ca.client_ca = d.dir / "hub.pem";
  BOOST_TEST(contains(refusal([&] { make_server_context(bad_ca); }),
                      "client CA file '" + (d.dir / "hub.pem") + "': holds a certificate that is not a CA"));
  bad_ca.client_ca = d.dir / "missing-ca.pem";
  BOOST_TEST(contains(refusal([&] { make_server_context(bad_ca); }), "client CA file"));

  BOOST_TEST(contains(refusal([&] { make_client_context({}); }), "needs the CA file"));
  BOOST_TEST(contains(refusal([&] {
                        make_client_context({d.dir / "ca.pem", d.dir / "org-1.pem", ""});
                      }),
                      "go together"));
}

BOOST_AUTO_TEST_CASE(configures_an_existing_context) {
  Deployment d;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  configure_server_context(ctx, d.server(true));
  BOOST_TEST(SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION);
  BOOST_TEST(SSL_CTX_get_verify_mode(ctx) == (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));
  SSL_CTX_free(ctx);
}

BOOST_AUTO_TEST_CASE(a_handshake_succeeds_with_the_right_ca_only) {
  Deployment d;
  TempDir other;
  write_certified_key(make_ca("fedhub test CA"), other / "ca.pem", other / "ca.key");
  auto server = make_server_context(d.server());
  auto right = make_client_context({d.dir / "ca.pem", "", ""});
  auto wrong = make_client_context({other / "ca.pem", "", ""});

  for (const char* host : {"localhost", "127.0.0.1", "::1"}) {
    const auto h = handshake(server.get(), right.get(), host);
    BOOST_TEST(h.ok, host << ": " << h.client_error << " / " << h.server_error);
  }
  const auto refused = handshake(server.get(), wrong.get(), "localhost");
  BOOST_TEST(!refused.ok);
  BOOST_TEST(contains(refused.client_error, "certificate verify failed"), refused.client_error);
  const auto wrong_name = handshake(server.get(), right.get(), "other.example.org");
  BOOST_TEST(!wrong_name.ok);
  BOOST_TEST(contains(wrong_name.client_error, "hostname mismatch"), wrong_name.client_error);

  // TLS 1.1 is refused by the server.
  SslCtxPtr old(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_max_proto_version(old.get(), TLS1_1_VERSION);
  SSL_CTX_set_security_level(old.get(), 0);
  SSL_CTX_load_verify_locations(old.get(), (d.dir / "ca.pem").c_str(), nullptr);
  BOOST_TEST(!handshake(server.get(), old.get(), "localhost").ok);
}

BOOST_AUTO_TEST_CASE(mutual_tls_needs_a_client_certificate_of_the_ca) {
  Deployment d;
  auto server = make_server_context(d.server(true));
  auto anonymous = make_client_context({d.dir / "ca.pem", "", ""});
  auto member = make_client_context({d.dir / "ca.pem", d.dir / "org-1.pem", d.dir / "org-1.key"});
  TempDir other;
  const auto stranger_ca = make_ca("fedhub test CA");
  write_certified_key(stranger_ca, other / "ca.pem", other / "ca.key");
  write_certified_key(make_client_certificate(stranger_ca, "org-1"), other / "org-1.pem", other / "org-1.key");
  auto stranger = make_client_context({d.dir / "ca.pem", other / "org-1.pem", other / "org-1.key"});

  const auto without = handshake(server.get(), anonymous.get(), "127.0.0.1");
  BOOST_TEST(!without.ok);
  BOOST_TEST(contains(without.server_error, "peer did not return a certificate"), without.server_error);
  const auto with = handshake(server.get(), member.get(), "127.0.0.1");
  BOOST_TEST(with.ok, with.client_error << " / " << with.server_error);
  BOOST_TEST(with.peer_cn == "org-1");
  const auto foreign = handshake(server.get(), stranger.get(), "127.0.0.1");
  BOOST_TEST(!foreign.ok);
  BOOST_TEST(contains(foreign.server_error, "certificate verify failed"), foreign.server_error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plain_policy)

BOOST_AUTO_TEST_CASE(loopback_addresses) {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "localhost"})
    BOOST_TEST(is_loopback(a), a);
  for (const char* a :
       {"0.0.0.0", "::", "", "10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "fe80::1", "hub.example.org", "128.0.0.1"})
    BOOST_TEST(!is_loopback(a), a);
}

BOOST_AUTO_TEST_CASE(plain_beyond_loopback_is_refused_unless_allowed) {
  BOOST_TEST(
      (check_plain_listener("the HTTP door", "http_bind", "127.0.0.1", false, false).verdict == PlainVerdict::fine));
  BOOST_TEST(
      (check_plain_listener("the HTTP door", "http_bind", "0.0.0.0", true, false).verdict == PlainVerdict::fine));
  const auto refused = check_plain_listener("the HTTP door", "http_bind", "0.0.0.0", false, false);
  BOOST_TEST((refused.verdict == PlainVerdict::refuse));
  BOOST_TEST(contains(refused.message, "the HTTP door would listen on 0.0.0.0 (http_bind) without TLS"));
  BOOST_TEST(contains(refused.message, "allow_plain_remote"));
  const auto warned = check_plain_listener("the HTTP door", "http_bind", "::", false, true);
  BOOST_TEST((warned.verdict == PlainVerdict::warn));
  BOOST_TEST(contains(warned.message, "warning: the HTTP door listens on :: without TLS"));
}

BOOST_AUTO_TEST_SUITE_END()
