"""Exports a trained checkpoint to the model contract (../shared/design/model-contract.md):
model.json, encoder.onnx, decoder.onnx in models/<name>/, then checks onnxruntime's outputs
against PyTorch's on random prompts (through onnxruntime-node, the runtime the app ships).

    cd models && /usr/bin/python3 -m medus.export --checkpoint ~/.cache/medus/run/final.pt --out medus-s-v1
    cd models && /usr/bin/python3 -m medus.export --reexport --out medus-s-v1   # same weights, this exporter's graphs
"""
import argparse
import json
import os
import subprocess
import tempfile
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import nn

from .data import ANATOMIES
from .modeling.medus import MedUS, MedUSConfig

ENCODER_OUTPUTS = ["image_embeddings", "features_s8", "features_s4"]
DECODER_INPUTS = ENCODER_OUTPUTS + ["point_coords", "point_labels", "mask_input", "has_mask_input", "anatomy"]
DECODER_OUTPUTS = ["low_res_masks", "iou_predictions", "presence"]
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# 17: nn.LayerNorm and LayerNorm2d export as one LayerNormalization node each (at opset 14 torch spelt
# them out as ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add, which onnxruntime could not fuse over the channel
# axis); onnxruntime-node 1.30, the runtime the app ships, runs it.
OPSET = 17


def _legacy_exporter() -> Dict:
    """Newer torch defaults to the dynamo exporter; ask for the TorchScript one, which this
    export (names, dynamic point count, training-mode initializers) is written for."""
    import inspect

    return {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


class EncoderOnnx(nn.Module):
    def __init__(self, model: MedUS) -> None:
        super().__init__()
        self.enc = model.image_encoder

    def forward(self, image: torch.Tensor):
        f = self.enc(image)
        return tuple(f[k] for k in ENCODER_OUTPUTS)


class DecoderOnnx(nn.Module):
    def __init__(self, model: MedUS) -> None:
        super().__init__()
        self.model = model

    def forward(self, image_embeddings, features_s8, features_s4, point_coords, point_labels, mask_input, has_mask_input, anatomy):
        feats = {"image_embeddings": image_embeddings, "features_s8": features_s8, "features_s4": features_s4}
        masks, iou, presence_logit = self.model.decode(feats, point_coords, point_labels, mask_input, has_mask_input, anatomy)
        # the graph answers a probability, so that the app's thresholds read as "how sure"
        return masks, iou, torch.sigmoid(presence_logit)


def load_checkpoint(path: str):
    ck = torch.load(path, map_location="cpu", weights_only=False)  # our own checkpoints carry run metadata besides tensors
    meta = ck.get("meta", {})
    cfg = MedUSConfig.from_dict(meta["config"]) if "config" in meta else MedUSConfig(anatomies=list(ANATOMIES))
    model = MedUS(cfg)
    # a checkpoint from before the anatomy maps: zero maps answer exactly as it did
    missing, unexpected = model.load_state_dict(ck["model"], strict=False)
    if unexpected or [k for k in missing if k != "prompt_encoder.anatomy_map"]:
        raise ValueError(f"{path}: weights do not match the model (missing {missing}, unexpected {unexpected})")
    model.eval()
    return model, meta


def example_decoder_inputs(model: MedUS, feats, n_points: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    s = model.cfg.img_size
    coords = torch.rand(1, n_points, 2, generator=g) * s
    labels = torch.tensor([[2.0, 3.0] + [1.0] * (n_points - 3) + [-1.0]])[:, :n_points]
    low = 4 * (s // 16)
    return (
        feats[0],
        feats[1],
        feats[2],
        coords,
        labels,
        torch.randn(1, 1, low, low, generator=g),
        torch.ones(1),
        torch.tensor([1], dtype=torch.int64),
    )


def export_graphs(model: MedUS, out_dir: str, opset: int = OPSET) -> None:
    """Writes encoder.onnx and decoder.onnx (not the manifest) into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    s, c = model.cfg.img_size, model.cfg.in_chans
    image = torch.randn(1, c, s, s)
    with torch.no_grad():
        feats = EncoderOnnx(model)(image)
        # Exported in "training" mode only so that torch keeps one initializer per parameter (it
        # merges equal tensors otherwise, which would break reading the weights back); the model
        # has no dropout or batch norm, so the graph computes the same thing.
        model.train()
        torch.onnx.export(
            EncoderOnnx(model), (image,), os.path.join(out_dir, "encoder.onnx"),
            input_names=["image"], output_names=ENCODER_OUTPUTS, opset_version=opset,
            # no folding: initializers keep their parameter names, so the weights can be read back
            # into PyTorch (warm start); onnxruntime folds constants itself when it loads the graph
            do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, **_legacy_exporter(),
        )
        dec_inputs = example_decoder_inputs(model, feats)
        torch.onnx.export(
            DecoderOnnx(model), dec_inputs, os.path.join(out_dir, "decoder.onnx"),
            input_names=DECODER_INPUTS, output_names=DECODER_OUTPUTS, opset_version=opset, do_constant_folding=False,
            training=torch.onnx.TrainingMode.PRESERVE, **_legacy_exporter(),
            dynamic_axes={"point_coords": {1: "num_points"}, "point_labels": {1: "num_points"}},
        )
        model.eval()


def export(model: MedUS, out_dir: str, meta: Dict, name: str, version: str, opset: int = OPSET, zoom_margin: Optional[float] = None, zoom_passes: int = 1, zoom_skip: Optional[List[str]] = None, auto_min_score: Optional[float] = None) -> Dict:
    export_graphs(model, out_dir, opset)
    s, c = model.cfg.img_size, model.cfg.in_chans
    validation = meta.get("validation", {})
    manifest = {
        "name": name,
        "version": version,
        "input_size": s,
        "channels": c,
        "resize": "stretch",
        "pixel_mean": [meta.get("pixel_mean", 64.0)] * c,
        "pixel_std": [meta.get("pixel_std", 56.0)] * c,
        "mask_threshold": 0.0,
        "anatomies": list(model.cfg.anatomies),
        "decoder_outputs": {"masks": "low_res_masks", "scores": "iou_predictions", "presence": "presence"},
        # Index 0 answers unambiguous prompts; 1..3 are candidates for a lone positive click.
        "multimask": {"single": 0, "candidates": [1, 2, 3]},
        # Automatic mode: below this predicted quality the answer is "no target in this image".
        "auto_min_score": float(auto_min_score if auto_min_score is not None else validation.get("auto_min_score", meta.get("auto_min_score", 0.3))),
        "license": "Apache-2.0 (weights and code); see MODEL_CARD.md for the training data's licences",
        "training_data": ["BUSI", "HC18", "MMOTU OTU_2D", "TG3K", "DDTI", "USGRA-Seg", "Common Carotid Artery Ultrasound Images", "PSFHS"],
        "parameters": int(sum(p.numel() for p in model.parameters())),
    }
    if meta.get("presence_thresholds"):
        # Automatic mode's "nothing here" per anatomy, chosen on the validation groups (medus.tune)
        manifest["presence_thresholds"] = {k: float(v) for k, v in meta["presence_thresholds"].items()}
    if zoom_margin is None and meta.get("p_zoom", 0) > 0:
        zoom_margin = 1.2
    if zoom_margin:
        # Trained on crops around targets (train --p-zoom): the app may re-encode such a crop for a
        # sharper second pass in automatic and box mode (electron/engine/zoom.ts).
        manifest["zoom"] = {"modes": ["automatic", "box"], "margin": float(zoom_margin), "min_gain": 1.25}
        if zoom_passes > 1:
            manifest["zoom"]["passes"] = int(zoom_passes)
        if zoom_skip:
            unknown = [a for a in zoom_skip if a not in model.cfg.anatomies]
            if unknown:
                raise ValueError(f"--zoom-skip: unknown anatomies {unknown}; the model knows {model.cfg.anatomies}")
            manifest["zoom"]["skip_anatomies"] = list(zoom_skip)
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def parity(model: MedUS, out_dir: str, tol: float = 2e-3, node: str = "node") -> Dict:
    """Runs the exported graphs in onnxruntime-node on fixed inputs and compares with PyTorch."""
    s, c = model.cfg.img_size, model.cfg.in_chans
    g = torch.Generator().manual_seed(1)
    image = torch.randn(1, c, s, s, generator=g)
    with torch.no_grad():
        feats = EncoderOnnx(model)(image)
        cases = []
        for n_points, seed in ((1, 2), (3, 3), (5, 4)):
            inp = example_decoder_inputs(model, feats, n_points, seed)
            if n_points == 1:  # automatic mode: one padding point, no mask
                inp = inp[:3] + (torch.zeros(1, 1, 2), torch.tensor([[-1.0]]), torch.zeros_like(inp[5]), torch.zeros(1), torch.tensor([3], dtype=torch.int64))
            out = DecoderOnnx(model)(*inp)
            cases.append((inp, out))
    with tempfile.TemporaryDirectory() as tmp:
        def dump(name, t):
            arr = t.numpy()
            arr.astype(arr.dtype).tofile(os.path.join(tmp, name + ".bin"))
            return {"file": name + ".bin", "dtype": "int64" if arr.dtype == np.int64 else "float32", "dims": list(arr.shape)}

        spec = {"model": os.path.abspath(out_dir), "encoder": {"inputs": {"image": dump("image", image)}, "expected": {k: dump("enc_" + k, v) for k, v in zip(ENCODER_OUTPUTS, feats)}}, "decoder": []}
        for i, (inp, out) in enumerate(cases):
            spec["decoder"].append({
                "inputs": {k: dump(f"dec{i}_{k}", v) for k, v in zip(DECODER_INPUTS, inp)},
                "expected": {k: dump(f"dec{i}_out_{k}", v) for k, v in zip(DECODER_OUTPUTS, out)},
            })
        with open(os.path.join(tmp, "spec.json"), "w") as f:
            json.dump(spec, f)
        script = os.path.join(REPO_ROOT, "models", "tools", "ort-parity.mjs")
        res = subprocess.run([node, script, tmp], capture_output=True, text=True, cwd=REPO_ROOT)
        if res.returncode != 0:
            raise RuntimeError("onnxruntime parity run failed:\n" + res.stdout + res.stderr)
        report = json.loads(res.stdout)
    worst = max(report["max_abs_diff"].values())
    if worst > tol:
        raise AssertionError(f"onnxruntime differs from PyTorch by {worst:.2e} (> {tol}): {report}")
    return report


# Weights a newer model may add on top of an older folder's (warm start with grow=True).
GROWABLE = ("prompt_encoder.anatomy_embed.weight", "prompt_encoder.anatomy_dense.weight", "prompt_encoder.anatomy_map")
NEW_MODULES = ("mask_decoder.presence_head.", "prompt_encoder.anatomy_map")


def read_onnx_weights(folder: str, model: MedUS, grow: bool = False) -> Dict[str, int]:
    """Loads the weights of a shipped model folder back into `model` (warm start for training).
    Returns how many parameters/buffers were found; raises if any is missing or mis-shaped.
    With grow=True an older folder may lack what a newer model adds: anatomy rows appended at the
    end of the list (the old rows are copied, the new ones keep their initialisation) and whole new
    modules (the presence head)."""
    import onnx
    from onnx import numpy_helper

    found: Dict[str, torch.Tensor] = {}
    for file, prefix in (("encoder.onnx", "enc."), ("decoder.onnx", "model.")):
        for init in onnx.load(os.path.join(folder, file)).graph.initializer:
            if init.name.startswith(prefix):
                name = init.name[len(prefix):]
                found[("image_encoder." + name) if prefix == "enc." else name] = torch.from_numpy(numpy_helper.to_array(init).copy())
    state = model.state_dict()
    missing = [k for k in state if k not in found and not (grow and k.startswith(NEW_MODULES))]
    if missing:
        raise ValueError(f"{folder}: {len(missing)} weights not found in the ONNX files, e.g. {missing[:3]}")
    grown = []
    for k, v in state.items():
        if k not in found:
            found[k] = v.clone()
            continue
        if tuple(found[k].shape) != tuple(v.shape):
            old = found[k]
            if grow and k in GROWABLE and old.shape[1:] == v.shape[1:] and old.shape[0] < v.shape[0]:
                new = v.clone()
                new[: old.shape[0]] = old
                found[k] = new
                grown.append(k)
                continue
            raise ValueError(f"{folder}: {k} has shape {tuple(found[k].shape)}, the model expects {tuple(v.shape)}")
    model.load_state_dict({k: found[k] for k in state})
    return {"tensors": len(state), "grown": len(grown), "new": sum(1 for k in state if k.startswith(NEW_MODULES))}


def main(argv: Optional[list] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint")
    src.add_argument("--reexport", action="store_true",
                     help="read the weights back from --out's ONNX files and write its two graphs again with this exporter "
                     "(same weights, the current graph form), keeping its model.json as it is")
    ap.add_argument("--out", default="medus-s-v1", help="model folder (relative to models/ when not absolute)")
    ap.add_argument("--name", default="MedUS-S")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--skip-parity", action="store_true")
    ap.add_argument("--zoom-passes", type=int, default=1, help="zoomed passes automatic mode may take (each inside the last crop)")
    ap.add_argument("--zoom-skip", default="", help="comma-separated anatomies the second pass is not run for (chosen on validation data)")
    ap.add_argument("--zoom-margin", type=float, help="declare the zoomed second pass with this crop margin (default 1.2 when the checkpoint was trained with --p-zoom; 0 = never)")
    ap.add_argument("--auto-min-score", type=float, help="automatic mode's 'nothing here' threshold, replacing the one the training run calibrated "
                    "(that one counts cross-organ asks, which the model already answers empty; choose this one on the validation groups' images without a target)")
    ap.add_argument("--presence-threshold", action="append", default=[], metavar="ANATOMY=T",
                    help="set one anatomy's presence threshold (repeatable), e.g. for an anatomy with no validation group; say where it was chosen in the model card")
    args = ap.parse_args(argv)
    if args.auto_min_score is not None and not 0 <= args.auto_min_score <= 1:
        ap.error("--auto-min-score must lie between 0 and 1")
    out = args.out if os.path.isabs(args.out) else os.path.join(REPO_ROOT, "models", args.out)
    if args.reexport:
        with open(os.path.join(out, "model.json")) as f:
            anatomies = json.load(f)["anatomies"]
        model = MedUS(MedUSConfig(anatomies=list(anatomies)))
        print("weights", json.dumps(read_onnx_weights(out, model)))
        model.eval()
        export_graphs(model, out)
        if not args.skip_parity:
            print("parity", json.dumps(parity(model, out)))
        return
    model, meta = load_checkpoint(args.checkpoint)
    for spec in args.presence_threshold:
        name, _, t = spec.partition("=")
        if name not in model.cfg.anatomies or not 0 <= float(t) <= 1:
            ap.error(f"--presence-threshold {spec}: needs a known anatomy and a threshold between 0 and 1")
        meta = {**meta, "presence_thresholds": {**meta.get("presence_thresholds", {}), name: float(t)}}
    skip = [a for a in args.zoom_skip.split(",") if a]
    manifest = export(model, out, meta, args.name, args.version, zoom_margin=args.zoom_margin, zoom_passes=args.zoom_passes, zoom_skip=skip, auto_min_score=args.auto_min_score)
    print(json.dumps({k: manifest[k] for k in ("name", "version", "parameters", "auto_min_score")}))
    if not args.skip_parity:
        print("parity", json.dumps(parity(model, out)))


if __name__ == "__main__":
    main()
