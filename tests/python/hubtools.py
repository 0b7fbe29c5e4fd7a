"""Real fl-hub, fl-manager and fl-participant processes for the Python client's tests.

A Hub starts ``fl-hub`` on a fresh data directory with free ports (CAF and
optionally HTTP), reads the ports from its output lines (waiting for them with
a deadline, never by sleeping) and stops it at the end.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("FEDHUB_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin"))
SRC = os.environ.get("FEDHUB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
REFERENCE = os.environ.get("FEDHUB_PY_REFERENCE", os.path.join(BIN, "fedhub-py-reference"))
FASHION = "/usr/share/datasets/fashion-mnist"
PYTHON = "/usr/bin/python3"


def need_programs(*names):
    """Fails (not skips) when a program the test needs was not built: the test is registered by CMake next to it."""
    for n in names:
        path = n if os.path.isabs(n) else os.path.join(BIN, n)
        if not os.access(path, os.X_OK):
            raise AssertionError(f"{path} is not built: cmake --build BUILD --target python_tests")


def run(argv, timeout=120, env=None, check=True, input=None):
    """Runs a command to its end (killed after ``timeout`` seconds); returns the CompletedProcess."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def python_env():
    """The environment for ``python3 -m fedhub_client`` children: this process's PYTHONPATH."""
    return dict(os.environ)


class Child:
    """A process whose output lines (stdout and stderr together) are collected by a reader thread."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for_line(self, pattern: str, timeout: float = 60.0) -> re.Match:
        """The first new output line matching the regular expression; AssertionError at the deadline or the end."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern!r} from {self.argv[0]} in {timeout} s:\n" + "\n".join(self.seen))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"{self.argv[0]} ended before printing {pattern!r}:\n" + "\n".join(self.seen))
            self.seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m

    def output(self) -> str:
        """Everything read so far and the rest once the process ended."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.seen.append(line)
        return "\n".join(self.seen)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{' '.join(self.argv)} did not end within {timeout} s:\n{self.output()}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Hub:
    """fl-hub on a fresh data directory: ``caf`` is host:port, ``http`` the HTTP door's URL (with http=True)."""

    def __init__(self, http: bool = False):
        need_programs("fl-hub", "fl-manager", "fl-participant")
        self.dir = tempfile.mkdtemp(prefix="fedhub-py-")
        config = {"port": 0, "data_dir": os.path.join(self.dir, "data")}
        if http:
            config["http_port"] = 0
        with open(os.path.join(self.dir, "hub.json"), "w") as f:
            json.dump(config, f)
        self.process = Child([os.path.join(BIN, "fl-hub"), "--config", os.path.join(self.dir, "hub.json")])
        try:
            m = self.process.wait_for_line(r"listening on (127\.0\.0\.1:\d+)")
            self.caf = m.group(1)
            self.http = None
            if http:
                m = self.process.wait_for_line(r"HTTP API and dashboard on (http://[\d.]+:\d+)/")
                self.http = m.group(1)
            with open(os.path.join(self.dir, "data", "manager.key")) as f:
                self.key = f.read().strip()
        except Exception:
            self.close()
            raise

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def manager(self, *args, timeout=120, check=True):
        return run([os.path.join(BIN, "fl-manager"), "--hub", self.caf, "--key", self.key, "--timeout", "30", *args],
                   timeout=timeout, check=check)

    def add_key(self, name: str) -> str:
        return self.manager("keys", "add", name, "--role", "participant").stdout.strip()

    def create(self, name: str, arch: str, labels: str, recipe: dict, *extra):
        """Creates a model from config files and a recipe document."""
        recipe_path = self.path(f"{name}.recipe.json")
        with open(recipe_path, "w") as f:
            json.dump(recipe, f)
        self.manager("create", name, "--arch", arch, "--labels", labels, "--recipe", recipe_path, *extra)

    def participant(self, *args, timeout=300, check=True):
        return run([os.path.join(BIN, "fl-participant"), *args], timeout=timeout, check=check)

    def close(self):
        self.process.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
