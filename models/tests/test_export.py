"""Export tests: the ONNX graphs follow the model contract (names, dtypes, shapes) and
onnxruntime's outputs match PyTorch's. Run from models/:  /usr/bin/python3 -m unittest discover -s tests -v"""
import json
import os
import tempfile
import unittest

import onnx
import onnx.numpy_helper
import torch

from medus.data import ANATOMIES, group_of
from medus.export import DECODER_INPUTS, DECODER_OUTPUTS, ENCODER_OUTPUTS, export, parity
from medus.losses import hard_iou, mask_losses
from medus.modeling.common import LayerNorm2d
from medus.modeling.medus import MedUS, MedUSConfig

HERE = os.path.dirname(os.path.abspath(__file__))
SHIPPED = os.path.join(HERE, "..", "medus-s-v1")
ELEM = {1: "float32", 7: "int64"}


def io_spec(values):
    out = {}
    for v in values:
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]
        out[v.name] = (ELEM.get(t.elem_type, str(t.elem_type)), dims)
    return out


def check_contract(test: unittest.TestCase, folder: str) -> None:
    with open(os.path.join(folder, "model.json")) as f:
        m = json.load(f)
    for key in ("name", "version", "input_size", "channels", "resize", "pixel_mean", "pixel_std", "mask_threshold", "anatomies", "decoder_outputs", "license", "training_data"):
        test.assertIn(key, m)
    s, c = m["input_size"], m["channels"]
    enc = onnx.load(os.path.join(folder, "encoder.onnx"))
    dec = onnx.load(os.path.join(folder, "decoder.onnx"))
    ein, eout = io_spec(enc.graph.input), io_spec(enc.graph.output)
    test.assertEqual(ein, {"image": ("float32", [1, c, s, s])})
    test.assertEqual(list(eout), ENCODER_OUTPUTS)
    emb = eout["image_embeddings"][1]
    h, w = emb[2], emb[3]
    din, dout = io_spec(dec.graph.input), io_spec(dec.graph.output)
    test.assertEqual(list(din), DECODER_INPUTS)
    for name in ENCODER_OUTPUTS:
        test.assertEqual(din[name], eout[name])
    test.assertEqual(din["point_coords"][0], "float32")
    test.assertEqual(din["point_coords"][1][0::2], [1, 2])
    test.assertEqual(din["point_labels"][0], "float32")
    test.assertEqual(din["mask_input"], ("float32", [1, 1, 4 * h, 4 * w]))
    test.assertEqual(din["has_mask_input"], ("float32", [1]))
    test.assertEqual(din["anatomy"], ("int64", [1]))
    test.assertEqual(list(dout), DECODER_OUTPUTS)
    # output dims may be symbolic in the graph (the point count is dynamic); parity checks them at run time
    test.assertEqual(m["decoder_outputs"], {"masks": "low_res_masks", "scores": "iou_predictions", "presence": "presence"})
    # automatic mode's "nothing here" threshold for every anatomy the model knows, each a probability
    test.assertEqual(sorted(m.get("presence_thresholds", {})), sorted(m["anatomies"]))
    test.assertTrue(all(0 <= t <= 1 for t in m["presence_thresholds"].values()))


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.manual_seed(0)
        cls.model = MedUS(MedUSConfig(anatomies=list(ANATOMIES))).eval()
        cls.tmp = tempfile.TemporaryDirectory()
        cls.meta = {"pixel_mean": 64.0, "pixel_std": 56.0, "validation": {"auto_min_score": 0.25}, "presence_thresholds": {a: 0.3 for a in ANATOMIES}}
        export(cls.model, cls.tmp.name, cls.meta, "MedUS-test", "0.0.0")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_contract_names_dtypes_shapes(self):
        check_contract(self, self.tmp.name)

    def test_manifest_carries_calibrated_threshold_and_anatomies(self):
        with open(os.path.join(self.tmp.name, "model.json")) as f:
            m = json.load(f)
        self.assertEqual(m["anatomies"], ANATOMIES)
        self.assertAlmostEqual(m["auto_min_score"], 0.25)
        self.assertEqual(m["multimask"], {"single": 0, "candidates": [1, 2, 3]})

    def test_threshold_chosen_after_training_replaces_the_calibrated_one(self):
        with tempfile.TemporaryDirectory() as d:
            m = export(self.model, d, self.meta, "MedUS-test", "0.0.0", auto_min_score=0.4)
            self.assertAlmostEqual(m["auto_min_score"], 0.4)
            with open(os.path.join(d, "model.json")) as f:
                self.assertAlmostEqual(json.load(f)["auto_min_score"], 0.4)

    def test_zoom_is_declared_only_for_models_trained_on_crops(self):
        with open(os.path.join(self.tmp.name, "model.json")) as f:
            self.assertNotIn("zoom", json.load(f))
        with tempfile.TemporaryDirectory() as d:
            m = export(self.model, d, {**self.meta, "p_zoom": 0.25}, "MedUS-test", "0.0.0")
            self.assertEqual(m["zoom"], {"modes": ["automatic", "box"], "margin": 1.2, "min_gain": 1.25})
            m = export(self.model, d, {**self.meta, "p_zoom": 0.25}, "MedUS-test", "0.0.0", zoom_skip=["thyroid-gland"])
            self.assertEqual(m["zoom"]["skip_anatomies"], ["thyroid-gland"])
            with self.assertRaises(ValueError):
                export(self.model, d, {**self.meta, "p_zoom": 0.25}, "MedUS-test", "0.0.0", zoom_skip=["kidney"])

    def test_zoom_augmentation_frames_the_target(self):
        from medus.augment import zoom_to_target

        masks = torch.zeros(2, 1, 256, 256)
        masks[0, 0, 100:140, 40:100] = 1  # small target: gets cropped
        images = masks.clone()
        gen = torch.Generator().manual_seed(1)
        imgs, out = zoom_to_target(images, masks, gen, p=1.0)
        frac = out[0, 0].mean().item()
        self.assertGreater(frac, 1 / 1.6**2 - 0.05)  # target fills the crop up to its margin
        self.assertLess(frac, 1 / 1.15**2 + 0.05)
        self.assertTrue(torch.equal(imgs[0] > 0.5, out[0] > 0.5))  # image and mask move together
        self.assertEqual(out[1].sum().item(), 0)  # an empty target is left alone

    def test_onnxruntime_matches_pytorch(self):
        report = parity(self.model, self.tmp.name)
        self.assertLess(max(report["max_abs_diff"].values()), 2e-3)
        for case in range(3):  # 1, 3 and 5 points: the decoder takes any number of prompts
            self.assertEqual(report["dims"][f"decoder[{case}].low_res_masks"], [1, 4, 64, 64])
            self.assertEqual(report["dims"][f"decoder[{case}].iou_predictions"], [1, 4])

    def test_weights_read_back_from_onnx_for_warm_start(self):
        from medus.export import read_onnx_weights

        fresh = MedUS(MedUSConfig(anatomies=list(ANATOMIES)))
        read_onnx_weights(self.tmp.name, fresh)
        for (k, a), (_, b) in zip(self.model.state_dict().items(), fresh.state_dict().items()):
            self.assertTrue(torch.equal(a, b), k)

    def test_warm_start_grows_the_anatomy_list_keeping_the_old_rows(self):
        """A model with anatomies appended starts from an older folder: old rows copied, new ones left as initialised."""
        from medus.export import read_onnx_weights

        older = MedUS(MedUSConfig(anatomies=list(ANATOMIES[:8]))).eval()
        with tempfile.TemporaryDirectory() as tmp:
            export(older, tmp, self.meta | {"presence_thresholds": {a: 0.3 for a in ANATOMIES[:8]}}, "MedUS-old", "0.0.0")
            newer = MedUS(MedUSConfig(anatomies=list(ANATOMIES)))
            with self.assertRaises(ValueError):
                read_onnx_weights(tmp, newer)
            init_row = newer.prompt_encoder.anatomy_embed.weight[9].detach().clone()
            report = read_onnx_weights(tmp, newer, grow=True)
        self.assertEqual(report["grown"], 3)  # the two embedding tables and the anatomy maps
        old_w = older.prompt_encoder.anatomy_embed.weight
        self.assertTrue(torch.equal(newer.prompt_encoder.anatomy_embed.weight[:9], old_w))
        self.assertTrue(torch.equal(newer.prompt_encoder.anatomy_embed.weight[9], init_row))

    def test_layer_norms_export_as_one_node_each(self):
        """Every nn.LayerNorm and LayerNorm2d is one LayerNormalization node (opset 17), not a
        ReduceMean/Sub/Pow/Sqrt/Div chain that onnxruntime cannot fuse over the channel axis."""
        def norms(module):
            return sum(isinstance(m, (torch.nn.LayerNorm, LayerNorm2d)) for m in module.modules())

        for file, expected in (("encoder.onnx", norms(self.model.image_encoder)), ("decoder.onnx", norms(self.model) - norms(self.model.image_encoder))):
            ops = [n.op_type for n in onnx.load(os.path.join(self.tmp.name, file)).graph.node]
            self.assertEqual(ops.count("LayerNormalization"), expected, file)
            self.assertNotIn("Pow", ops, file)

    def test_reexport_keeps_weights_and_manifest(self):
        """medus.export --reexport rewrites a folder's graphs from its own weights and leaves model.json alone."""
        import shutil

        from medus.export import main

        with tempfile.TemporaryDirectory() as d:
            for f in ("model.json", "encoder.onnx", "decoder.onnx"):
                shutil.copy(os.path.join(self.tmp.name, f), d)
            with open(os.path.join(d, "model.json"), "a") as f:
                f.write(" ")  # any byte change would show
            with open(os.path.join(d, "model.json")) as f:
                manifest = f.read()
            main(["--reexport", "--out", d, "--skip-parity"])
            with open(os.path.join(d, "model.json")) as f:
                self.assertEqual(f.read(), manifest)
            for file in ("encoder.onnx", "decoder.onnx"):
                init = lambda folder: {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(os.path.join(folder, file)).graph.initializer}
                before, after = init(self.tmp.name), init(d)
                self.assertEqual(sorted(before), sorted(after))
                for k in before:
                    self.assertTrue((before[k] == after[k]).all(), k)

    def test_shipped_model_follows_contract(self):
        if not os.path.isfile(os.path.join(SHIPPED, "model.json")):
            self.skipTest("no shipped model in models/medus-s-v1")
        check_contract(self, SHIPPED)


class ModuleTest(unittest.TestCase):
    def test_padding_points_do_not_move_the_answer(self):
        """A padding point (label -1) anywhere must not change the output: it has no position."""
        torch.manual_seed(1)
        m = MedUS(MedUSConfig(anatomies=list(ANATOMIES))).eval()
        with torch.no_grad():
            f = m.image_encoder(torch.randn(1, 1, 256, 256))
            args = (torch.zeros(1, 1, 64, 64), torch.zeros(1), torch.tensor([3]))
            a, _, _ = m.decode(f, torch.tensor([[[10.0, 20.0], [0.0, 0.0]]]), torch.tensor([[1.0, -1.0]]), *args)
            b, _, _ = m.decode(f, torch.tensor([[[10.0, 20.0], [200.0, 100.0]]]), torch.tensor([[1.0, -1.0]]), *args)
        self.assertTrue(torch.allclose(a, b, atol=1e-5))

    def test_layer_norm_2d_is_sams_mean_var_form(self):
        """LayerNorm2d, written as channels-last layer_norm for the export, computes SAM's formula."""
        torch.manual_seed(2)
        ln = LayerNorm2d(24)
        with torch.no_grad():
            ln.weight.normal_()
            ln.bias.normal_()
        x = torch.randn(2, 24, 9, 7) * 3 + 1
        u = x.mean(1, keepdim=True)
        v = (x - u).pow(2).mean(1, keepdim=True)
        expected = ln.weight[:, None, None] * (x - u) / torch.sqrt(v + ln.eps) + ln.bias[:, None, None]
        self.assertTrue(torch.allclose(ln(x), expected, atol=1e-5))
        self.assertEqual(sorted(ln.state_dict()), ["bias", "weight"])

    def test_losses_are_zero_for_a_perfect_confident_answer(self):
        gt = torch.zeros(1, 1, 32, 32)
        gt[..., 8:24, 8:24] = 1
        logits = (gt * 2 - 1) * 50
        bce, dice = mask_losses(logits, gt)
        self.assertLess(bce.item(), 1e-6)
        self.assertLess(dice.item(), 1e-3)
        self.assertEqual(hard_iou(logits, gt).item(), 1.0)
        self.assertEqual(hard_iou(-torch.ones_like(gt), torch.zeros_like(gt)).item(), 1.0)

    def test_validation_groups_keep_patients_together(self):
        self.assertEqual(group_of("hc18", "010_2HC"), group_of("hc18", "010_HC"))
        self.assertEqual(group_of("ddti", "100_1_1"), group_of("ddti", "100_2_1"))
        self.assertEqual(group_of("usgra", "train_0000_nerve"), group_of("usgra", "train_0000_vessel"))
        self.assertEqual(group_of("ccaui", "2022_x_slice_1"), group_of("ccaui", "2022_x_slice_9"))


if __name__ == "__main__":
    unittest.main()
