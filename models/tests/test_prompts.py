"""The batched prompt simulation used in training (prompts.py, *_t functions) follows the per-image
rules: boxes around the target, positive clicks inside it, negatives outside, error clicks on the
error region, padding where nothing applies."""
import unittest

import numpy as np
import torch

from medus.prompts import BOX_BR, BOX_TL, MODES, NEG, PAD, POS, error_clicks_t, initial_prompts_t, interior, interior_t, random_pixels_t


def blobs(b: int, s: int = 64, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    m = np.zeros((b, s, s), bool)
    for j in range(b):
        x0, y0 = rng.integers(0, s - 20, 2)
        w, h = rng.integers(6, 20, 2)
        m[j, y0 : y0 + h, x0 : x0 + w] = True
    return torch.from_numpy(m)


class BatchedPromptTest(unittest.TestCase):
    def test_interior_matches_the_numpy_rule(self):
        m = blobs(12)
        m[3] = False  # empty
        m[4, 10:12, 10:40] = True  # too thin to erode: falls back to itself
        for j in range(len(m)):
            np.testing.assert_array_equal(interior_t(m[j : j + 1])[0].numpy(), interior(m[j].numpy()))

    def test_random_pixels_are_uniform_over_the_region(self):
        reg = torch.zeros(1, 8, 8, dtype=torch.bool)
        spots = [(3, 2), (1, 5), (6, 5), (7, 7)]
        for x, y in spots:
            reg[0, y, x] = True
        xy, ok = random_pixels_t(reg.expand(4000, 8, 8).contiguous(), torch.Generator().manual_seed(1), 2)
        self.assertTrue(bool(ok.all()))
        got = {tuple(map(int, p)) for p in xy.reshape(-1, 2).tolist()}
        self.assertEqual(got, set(spots))
        counts = [int(((xy[..., 0] == x) & (xy[..., 1] == y)).sum()) for x, y in spots]
        for c in counts:  # 8000 draws over 4 pixels: 2000 each, binomial sd ~39
            self.assertLess(abs(c - 2000), 200)
        _, ok = random_pixels_t(torch.zeros(2, 8, 8, dtype=torch.bool), torch.Generator().manual_seed(1))
        self.assertFalse(bool(ok.any()))

    def test_initial_prompts_follow_the_mode(self):
        b = 300
        m = blobs(b, seed=1)
        m[:10] = False  # empty targets get padding whatever the mode
        gen = torch.Generator().manual_seed(2)
        modes = torch.randint(0, 3, (b,), generator=gen)
        coords, labels, lone = initial_prompts_t(m, modes, gen)
        self.assertEqual(tuple(coords.shape), (b, 4, 2))
        seen_extra = seen_box_click = seen_neg = False
        for j in range(b):
            lab = labels[j].tolist()
            pts = [(coords[j, k].tolist(), lab[k]) for k in range(4) if lab[k] != PAD]
            mode = MODES[int(modes[j])]
            inside = lambda xy: bool(m[j, int(xy[1]), int(xy[0])])  # noqa: E731
            if j < 10 or mode == "auto":
                self.assertEqual(pts, [])
                self.assertFalse(bool(lone[j]))
                continue
            ys, xs = np.nonzero(m[j].numpy())
            if mode == "box":
                (tl, l0), (br, l1) = pts[0], pts[1]
                self.assertEqual((l0, l1), (BOX_TL, BOX_BR))
                for got, want in zip(tl + br, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]):
                    self.assertLessEqual(abs(got - want), 20.0 + 1e-6)
                self.assertGreater(br[0], tl[0])
                self.assertGreater(br[1], tl[1])
                for xy, l in pts[2:]:
                    seen_box_click = True
                    self.assertEqual(l, POS)
                    self.assertTrue(inside(xy))
            else:
                self.assertEqual(pts[0][1], POS)
                self.assertTrue(inside(pts[0][0]))
                for xy, l in pts[1:]:
                    seen_extra = True
                    seen_neg |= l == NEG
                    self.assertEqual(inside(xy), l == POS)
                self.assertEqual(bool(lone[j]), len(pts) == 1)
        self.assertTrue(seen_extra and seen_box_click and seen_neg)

    def test_error_clicks_land_on_the_larger_error(self):
        m = torch.zeros(3, 32, 32, dtype=torch.bool)
        m[:, 8:24, 8:24] = True
        pred = m.clone()
        pred[0, 8:24, 8:16] = False  # a miss: positive click inside the missed part
        pred[1, 0:6, :] = True  # a false alarm: negative click on it
        # pred[2] exact: nothing to click
        xy, lab = error_clicks_t(pred, m, torch.Generator().manual_seed(0))
        self.assertEqual(lab[:, 0].tolist(), [POS, NEG, PAD])
        x, y = xy[0, 0].tolist()
        self.assertTrue(8 <= x < 16 and 8 <= y < 24)
        self.assertTrue(xy[1, 0, 1] < 6)


if __name__ == "__main__":
    unittest.main()
