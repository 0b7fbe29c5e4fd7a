"""The Python client over HTTPS (docs/operations.md, "TLS"): ``HubClient(..., ca_file=...)`` talks to a hub
whose HTTP door has ``tls_certificate`` (files from ``fl-hub init-tls``) and gets the same package bytes as
over plain HTTP; a wrong CA is refused; ``ca_file`` on an ``http://`` hub is an error; with mutual TLS a
client without a certificate of the CA is refused and one with ``cert_file``/``key_file`` served; the
command line takes ``--ca-file``, ``--cert`` and ``--cert-key``."""

import json
import os
import shutil
import tempfile
import unittest

from fedhub_client.errors import HubError
from fedhub_client.http_client import HubClient
from hubtools import BIN, PYTHON, SRC, Child, need_programs, python_env, run

RECIPE = {"optimizer": {"name": "adam", "learning_rate": 0.002}, "batch_size": 32, "steps": 20, "samples_per_round": 640}


class HttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_programs("fl-hub", "fl-manager")
        help_text = run([os.path.join(BIN, "fl-hub"), "--help"], check=False).stdout
        if "init-tls" not in help_text:
            raise unittest.SkipTest("fl-hub has no init-tls yet")
        cls.dir = tempfile.mkdtemp(prefix="fedhub-py-https-")
        cls.pki, cls.other = cls.path("pki"), cls.path("other")
        run([os.path.join(BIN, "fl-hub"), "init-tls", cls.pki, "--client", "org-1"])
        run([os.path.join(BIN, "fl-hub"), "init-tls", cls.other, "--client", "org-1"])
        cls.config = {"port": 0, "http_port": 0, "data_dir": cls.path("data")}
        # A model and a participant key, made with the hub plain; its package as plain HTTP serves it.
        hub, caf, http = cls.start(cls.config)
        try:
            with open(cls.path("data/manager.key")) as f:
                cls.key = f.read().strip()
            recipe = cls.path("recipe.json")
            with open(recipe, "w") as f:
                json.dump(RECIPE, f)
            manager = [os.path.join(BIN, "fl-manager"), "--hub", caf, "--key", cls.key, "--timeout", "30"]
            run(manager + ["create", "fmnist", "--arch", os.path.join(SRC, "config", "fmnist-mlp.arch.json"),
                           "--labels", os.path.join(SRC, "config", "fashion-mnist-labels.txt"), "--recipe", recipe])
            cls.pkey = run(manager + ["keys", "add", "org-1", "--role", "participant"]).stdout.strip()
            cls.plain_package, _ = HubClient(http, cls.pkey).download_package("fmnist")
        finally:
            hub.stop()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    @classmethod
    def start(cls, config):
        """fl-hub with ``config``: (the process, the CAF door's host:port, the HTTP door's URL)."""
        with open(cls.path("hub.json"), "w") as f:
            json.dump(config, f)
        hub = Child([os.path.join(BIN, "fl-hub"), "--config", cls.path("hub.json")])
        try:
            caf = hub.wait_for_line(r"listening on (127\.0\.0\.1:\d+)").group(1)
            http = hub.wait_for_line(r"HTTP API and dashboard on (https?://[\d.]+:\d+)/").group(1)
        except Exception:
            hub.stop()
            raise
        return hub, caf, http

    def tls_hub(self, mutual=False):
        config = dict(self.config, tls_certificate=os.path.join(self.pki, "hub.pem"),
                      tls_key=os.path.join(self.pki, "hub.key"))
        if mutual:
            config["tls_client_ca"] = os.path.join(self.pki, "ca.pem")
        hub, _, url = self.start(config)
        self.addCleanup(hub.stop)
        self.assertTrue(url.startswith("https://"), url)
        return url

    def test_https_with_the_right_ca_only(self):
        url = self.tls_hub()
        ca = os.path.join(self.pki, "ca.pem")
        client = HubClient(url, self.pkey, ca_file=ca)
        self.assertEqual(client.whoami(), {"name": "org-1", "role": "participant"})
        data, version = client.download_package("fmnist")
        self.assertEqual((data, version), (self.plain_package, 0))
        # localhost is a name of the certificate too.
        self.assertEqual(HubClient(url.replace("127.0.0.1", "localhost"), self.pkey, ca_file=ca).whoami()["name"],
                         "org-1")
        with self.assertRaises(HubError) as e:
            HubClient(url, self.pkey, ca_file=os.path.join(self.other, "ca.pem")).whoami()
        self.assertEqual(e.exception.code, "unavailable")
        self.assertIn("certificate", str(e.exception))
        with self.assertRaises(HubError) as e:  # the system's CAs do not know the hub's
            HubClient(url, self.pkey).whoami()
        self.assertEqual(e.exception.code, "unavailable")
        with self.assertRaises(HubError) as e:
            HubClient(url.replace("https://", "http://"), self.pkey, ca_file=ca)
        self.assertEqual(e.exception.code, "bad_request")
        with self.assertRaises(HubError) as e:
            HubClient(url, self.pkey, ca_file=self.path("no-such-ca.pem"))
        self.assertEqual(e.exception.code, "bad_request")

        # The command line: --ca-file, also from FEDHUB_CA_FILE.
        out = self.path("cli.fhmp")
        run([PYTHON, "-m", "fedhub_client", "download", "--hub", url, "--key", self.pkey, "--ca-file", ca, "--model",
             "fmnist", "--out", out, "--quiet"], env=python_env())
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.plain_package)
        env = dict(python_env(), FEDHUB_CA_FILE=ca)
        run([PYTHON, "-m", "fedhub_client", "download", "--hub", url, "--key", self.pkey, "--model", "fmnist", "--out",
             out, "--quiet"], env=env)
        r = run([PYTHON, "-m", "fedhub_client", "download", "--hub", url, "--key", self.pkey, "--ca-file",
                 os.path.join(self.other, "ca.pem"), "--model", "fmnist", "--out", out, "--quiet"], env=python_env(),
                check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unavailable", r.stderr)

    def test_mutual_tls(self):
        url = self.tls_hub(mutual=True)
        ca = os.path.join(self.pki, "ca.pem")
        with self.assertRaises(HubError) as e:
            HubClient(url, self.pkey, ca_file=ca).whoami()
        self.assertEqual(e.exception.code, "unavailable")
        with self.assertRaises(HubError):
            HubClient(url, self.pkey, ca_file=ca, cert_file=os.path.join(self.other, "clients", "org-1.pem"),
                      key_file=os.path.join(self.other, "clients", "org-1.key")).whoami()
        member = HubClient(url, self.pkey, ca_file=ca, cert_file=os.path.join(self.pki, "clients", "org-1.pem"),
                           key_file=os.path.join(self.pki, "clients", "org-1.key"))
        self.assertEqual(member.whoami()["name"], "org-1")
        self.assertEqual(member.download_package("fmnist")[0], self.plain_package)
        with self.assertRaises(HubError) as e:
            HubClient(url, self.pkey, ca_file=ca, cert_file=os.path.join(self.pki, "clients", "org-1.pem"))
        self.assertEqual(e.exception.code, "bad_request")
