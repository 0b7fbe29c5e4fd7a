"""Runs one test module of tests/python with unittest; exits 77 (CTest's skip) when a Python module
it needs is missing, naming the Debian package that provides it.

    /usr/bin/python3 run_tests.py test_package torch
"""

import importlib
import sys
import unittest

DEBIAN = {"torch": "python3-torch", "numpy": "python3-numpy", "flatbuffers": "python3-flatbuffers",
          "h5py": "python3-h5py", "onnx": "python3-onnx"}


def main() -> int:
    module, needs = sys.argv[1], ["numpy", "flatbuffers"] + sys.argv[2:]
    for name in needs:
        try:
            importlib.import_module(name)
        except ImportError:
            print(f"SKIPPED: {module} needs the Python module '{name}' for {sys.executable} "
                  f"(apt-get install {DEBIAN.get(name, name)})")
            return 77
    suite = unittest.defaultTestLoader.loadTestsFromName(module)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    ran = result.testsRun - len(result.skipped)
    if result.skipped and ran <= 0:
        reasons = "; ".join(sorted({reason for _, reason in result.skipped}))
        print(f"SKIPPED: {module}: {reasons}")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
