"""Build hook: generates the FlatBuffers code (package ``fedhub.fb``) from the
hub's schemas with ``flatc --python`` into the build tree, so that it is part
of every wheel and install but never of the source tree.

The schemas are ``../../messages/schemas/*.fbs`` (this folder inside a fedhub
checkout) or the folder named by ``FEDHUB_SCHEMAS``; ``flatc`` is found on
PATH or named by ``FLATC``.
"""

import glob
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def schema_files():
    folder = os.environ.get("FEDHUB_SCHEMAS", os.path.join(HERE, "..", "..", "messages", "schemas"))
    files = sorted(glob.glob(os.path.join(folder, "*.fbs")))
    if not files:
        raise SystemExit(
            f"fedhub-client: no FlatBuffers schemas in {folder}: build from a fedhub checkout "
            "(clients/python) or set FEDHUB_SCHEMAS to the folder of messages/schemas/*.fbs"
        )
    return folder, files


class BuildWithFlatc(build_py):
    """build_py that also runs flatc --python into build_lib (the generated ``fedhub/fb`` package)."""

    def run(self):
        super().run()
        flatc = os.environ.get("FLATC") or shutil.which("flatc")
        if not flatc:
            raise SystemExit("fedhub-client: flatc not found: apt-get install flatbuffers-compiler (or set FLATC)")
        folder, files = schema_files()
        self.announce(f"generating fedhub.fb from {len(files)} schemas with {flatc}", level=2)
        subprocess.run([flatc, "--python", "-o", self.build_lib, "-I", folder, *files], check=True)


setup(cmdclass={"build_py": BuildWithFlatc})
