"""Weight averaging: the moving average a training run keeps (--ema) and the checkpoint soup
(medus.average) give the means they promise, and the averaged model still runs."""
import os
import tempfile
import unittest

import torch

from medus.average import average_states, main as average_main
from medus.train import WeightAverage, build_model


class WeightAverageTest(unittest.TestCase):
    def test_moving_average_follows_the_weights_with_its_decay(self):
        model = torch.nn.Linear(3, 2)
        with torch.no_grad():
            model.weight.fill_(0.0)
            model.bias.fill_(0.0)
        avg = WeightAverage(model, decay=0.5)
        with torch.no_grad():
            model.weight.fill_(1.0)
        avg.update(model)  # warm-up decay min(0.5, 2/11): mostly the new weights
        d = 2 / 11
        self.assertTrue(torch.allclose(avg.state["weight"], torch.full((2, 3), 1 - d)))
        for _ in range(200):
            avg.update(model)
        self.assertTrue(torch.allclose(avg.state["weight"], torch.ones(2, 3), atol=1e-6))
        self.assertTrue(torch.equal(avg.state["bias"], torch.zeros(2)))

    def test_swapped_weights_are_restored_after_the_block(self):
        model = torch.nn.Linear(2, 1)
        own = {k: v.clone() for k, v in model.state_dict().items()}
        avg = WeightAverage(model, decay=0.9)
        with torch.no_grad():
            avg.state["weight"].fill_(7.0)
        with avg.swapped_into(model) as m:
            self.assertTrue(torch.equal(m.weight, torch.full((1, 2), 7.0)))
        for k, v in model.state_dict().items():
            self.assertTrue(torch.equal(v, own[k]))


class AverageCheckpointsTest(unittest.TestCase):
    def test_mean_of_float_tensors_and_first_of_the_rest(self):
        a = {"w": torch.tensor([1.0, 2.0]), "n": torch.tensor(3)}
        b = {"w": torch.tensor([3.0, 6.0]), "n": torch.tensor(5)}
        out = average_states([a, b])
        self.assertTrue(torch.equal(out["w"], torch.tensor([2.0, 4.0])))
        self.assertEqual(int(out["n"]), 3)

    def test_checkpoints_of_different_models_are_refused(self):
        with self.assertRaisesRegex(ValueError, "same weights"):
            average_states([{"w": torch.zeros(2)}, {"v": torch.zeros(2)}])
        with self.assertRaisesRegex(ValueError, "shape"):
            average_states([{"w": torch.zeros(2)}, {"w": torch.zeros(3)}])

    def test_averaged_checkpoint_loads_into_the_model(self):
        torch.manual_seed(0)
        m1, m2 = build_model(torch.device("cpu")), build_model(torch.device("cpu"))
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for k, m in enumerate((m1, m2)):
                p = os.path.join(tmp, f"c{k}.pt")
                torch.save({"model": m.state_dict(), "meta": {"validation": {"box": 0.5}}}, p)
                paths.append(p)
            out = os.path.join(tmp, "soup.pt")
            average_main(["--out", out, *paths])
            ck = torch.load(out)
            self.assertNotIn("validation", ck["meta"])
            m3 = build_model(torch.device("cpu"))
            m3.load_state_dict(ck["model"])
            name = next(k for k, v in m1.state_dict().items() if v.dtype.is_floating_point and v.numel() > 1)
            self.assertTrue(torch.allclose(m3.state_dict()[name], (m1.state_dict()[name] + m2.state_dict()[name]) / 2))


if __name__ == "__main__":
    unittest.main()
