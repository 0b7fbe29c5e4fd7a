"""XXH3-64 (seed 0) of fedhub_client.xxh3 against the C++ hub's data_hash (messages/checksum.hpp)."""

import os
import tempfile
import time
import unittest

import numpy as np

from fedhub_client.xxh3 import xxh3_64
from hubtools import REFERENCE, need_programs, run


def reference_hashes(data: bytes, prefixes: int):
    """The C++ hashes of data[:0] .. data[:prefixes], then of all of data."""
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
    try:
        out = run([REFERENCE, "hash", f.name, str(prefixes)]).stdout.split()
    finally:
        os.unlink(f.name)
    return [int(h, 16) for h in out]


class Xxh3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_programs(REFERENCE)
        cls.data = np.random.default_rng(20240611).integers(0, 256, size=3 << 20, dtype=np.uint8).tobytes()

    def test_empty_input(self):
        self.assertEqual(xxh3_64(b""), 0x2D06800538D394C2)
        self.assertEqual(reference_hashes(b"", 0)[0], 0x2D06800538D394C2)

    def test_every_length_up_to_300(self):
        # 0..300 covers every short path (0, 1-3, 4-8, 9-16, 17-128, 129-240) and the first long ones.
        expected = reference_hashes(self.data[:300], 300)[:301]
        for n in range(301):
            self.assertEqual(xxh3_64(self.data[:n]), expected[n], f"length {n}")

    def test_block_boundaries(self):
        # The long path: one 1 KiB block, its stripes, the last stripe overlapping, many blocks.
        for n in (960, 1023, 1024, 1025, 1087, 1088, 2047, 2048, 2049, 16 * 1024 + 63, 4096 * 1024 + 1):
            data = self.data[:n] if n <= len(self.data) else self.data + self.data[: n - len(self.data)]
            self.assertEqual(xxh3_64(data), reference_hashes(data, 0)[-1], f"length {n}")

    def test_megabytes_fast_and_equal(self):
        start = time.perf_counter()
        value = xxh3_64(self.data)
        seconds = time.perf_counter() - start
        self.assertEqual(value, reference_hashes(self.data, 0)[-1])
        self.assertLess(seconds, 1.0, f"3 MiB took {seconds:.2f} s")

    def test_numpy_arrays_and_memoryviews(self):
        a = np.frombuffer(self.data[:4096], dtype=np.float32)
        self.assertEqual(xxh3_64(a), xxh3_64(self.data[:4096]))
        self.assertEqual(xxh3_64(memoryview(self.data)[100:5000]), xxh3_64(self.data[100:5000]))


if __name__ == "__main__":
    unittest.main()
