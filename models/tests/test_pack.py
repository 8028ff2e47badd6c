"""The pack that carries training data to a GPU machine holds the same items, masks and
train/validation roles as reading the dataset folders, and the sampler honours its weights."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

from medus.data import InMemorySet, is_validation_group, read_meta
from medus.pack import write_pack
from medus.train import Sampler


def make_layout(root: str, n: int = 24) -> None:
    rng = np.random.default_rng(1)
    for name, anatomy, structure in (("hc18", "fetal", "head"), ("busi", "breast", "lesion")):
        os.makedirs(os.path.join(root, name, "img"))
        os.makedirs(os.path.join(root, name, "mask"))
        with open(os.path.join(root, name, "meta.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "split", "anatomy", "structure", "hc_mm", "has_target"])
            for k in range(n):
                item = f"{k:03d}_HC" if name == "hc18" else f"case_{k}"
                img = rng.integers(0, 255, (256, 256), dtype=np.uint8)
                msk = np.zeros((256, 256), np.uint8)
                msk[40 + k : 120 + k, 60:140 + k] = 255
                Image.fromarray(img).save(os.path.join(root, name, "img", item + ".jpg"), quality=95)
                Image.fromarray(msk).save(os.path.join(root, name, "mask", item + ".png"))
                hc = f"{60 + 10 * k:.1f}" if name == "hc18" else ""
                w.writerow([item, "test" if k == n - 1 else "train", anatomy, structure, hc, "1"])


class PackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = os.path.join(cls.tmp.name, "datasets")
        make_layout(cls.root)
        cls.pack = os.path.join(cls.tmp.name, "pack.npz")
        cls.info = write_pack(cls.root, cls.pack, keep=["hc18"], quality=80, with_validation=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_same_items_roles_and_masks_as_the_folders(self):
        items = [it for it in read_meta(self.root) if it.split == "train"]
        self.assertEqual(self.info["items"], len(items))  # the test-split items stay out
        for role, want in (("train", False), ("validation", True)):
            ds = InMemorySet.from_pack(self.pack, role)
            expect = [it for it in items if is_validation_group(it.group) == want]
            self.assertEqual([(it.dataset, it.id) for it in ds.items], [(it.dataset, it.id) for it in expect])
            ref = InMemorySet(self.root, expect)
            np.testing.assert_array_equal(ds.masks, ref.masks)
            for k, it in enumerate(ds.items):
                diff = np.abs(ds.images[k].astype(int) - ref.images[k].astype(int))
                if it.dataset == "hc18":  # kept byte for byte
                    self.assertEqual(int(diff.max()), 0)
                else:  # re-encoded: close, not equal
                    self.assertLess(float(diff.mean()), 12.0)

    def test_reference_hc_travels_and_weights_first_trimester_heads(self):
        ds = InMemorySet.from_pack(self.pack, "train")
        heads = [k for k, it in enumerate(ds.items) if it.dataset == "hc18"]
        self.assertTrue(all(ds.items[k].hc_mm is not None for k in heads))
        small = {k for k in heads if ds.items[k].hc_mm < 100}
        self.assertTrue(small and len(small) < len(heads))
        counts = {}
        for weight in (1.0, 5.0):
            s = Sampler(ds, np.random.default_rng(0), p_auto=0.0, first_trimester_weight=weight)
            draws = [s.draw() for _ in range(4000)]
            fetal = [d[0] for d in draws if d[1] == "fetal-head"]
            counts[weight] = sum(k in small for k in fetal) / len(fetal)
        share = len(small) / len(heads)
        self.assertAlmostEqual(counts[1.0], share, delta=0.05)
        self.assertAlmostEqual(counts[5.0], 5 * share / (5 * share + 1 - share), delta=0.05)

    def test_a_short_run_trains_from_the_pack_with_scanner_appearance_changes(self):
        # the GPU script's recipe on the CPU for a few seconds: every appearance change on (p = 1)
        out = os.path.join(self.tmp.name, "run")
        r = subprocess.run(
            [sys.executable, "-m", "medus.train", "--pack", self.pack, "--out", out, "--minutes", "0.05", "--batch", "4", "--threads", "1", "--p-appearance", "1.0", "--p-zoom", "0.25"],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertTrue(os.path.exists(os.path.join(out, "final.pt")))


if __name__ == "__main__":
    unittest.main()
