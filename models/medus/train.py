"""Trains MedUS from scratch (or resumes) on the `train` split of every dataset in the shared layout.

    cd models && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m medus.train --data ../../shared/datasets --minutes 100

Runs unchanged on CUDA (newer torch) when a GPU is present. The learning-rate schedule follows the
wall-clock budget, so a run always finishes on time; checkpoints every few minutes allow resuming.
"""
import argparse
import contextlib
import json
import math
import os
import time
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .appearance import random_appearance
from .augment import augment, zoom_to_target
from .data import ANATOMIES, InMemorySet, is_validation_group, negative_pair, read_meta
from .losses import hard_iou, mask_losses
from .modeling.medus import MedUS, MedUSConfig
from .prompts import MODES, error_clicks_t, initial_prompt, initial_prompts_t, pack

PIXEL_MEAN, PIXEL_STD = 64.0, 56.0


def normalise(images01: torch.Tensor) -> torch.Tensor:
    return (images01 * 255.0 - PIXEL_MEAN) / PIXEL_STD


class Sampler:
    """Equal sampling per anatomy; automatic mode on a share of steps, with empty targets drawn from
    truly empty images and from images of another organ group ("no fetal head in a thyroid scan")."""

    def __init__(self, ds: InMemorySet, rng: np.random.Generator, p_auto=0.35, p_box=0.4, p_neg=0.3, weights: Optional[Dict[str, float]] = None, first_trimester_weight: float = 1.0):
        self.ds, self.rng = ds, rng
        self.p_auto, self.p_box, self.p_neg = p_auto, p_box, p_neg
        self.pos: Dict[str, List[int]] = {}
        self.empty: Dict[str, List[int]] = {}
        for k, it in enumerate(ds.items):
            (self.pos if it.has_target else self.empty).setdefault(it.anatomy, []).append(k)
        self.anatomies = [a for a in ANATOMIES if a in self.pos]
        w = np.array([(weights or {}).get(a, 1.0) for a in self.anatomies], float)
        self.p_anatomy = w / w.sum()
        # Within an anatomy, first-trimester heads (reference HC < 100 mm, dated by CRL in practice) can be
        # drawn more often: they are a sixth of HC18 and the case automatic mode gets wrong (sac for head).
        self.p_item: Dict[str, np.ndarray] = {}
        for a, ks in self.pos.items():
            iw = np.array([first_trimester_weight if (ds.items[k].hc_mm or 1e9) < 100 else 1.0 for k in ks])
            self.p_item[a] = iw / iw.sum()

    def draw(self):
        a = self.anatomies[self.rng.choice(len(self.anatomies), p=self.p_anatomy)]
        r = self.rng.random()
        mode = "auto" if r < self.p_auto else ("box" if r < self.p_auto + self.p_box else "click")
        empty = False
        if mode == "auto" and self.rng.random() < self.p_neg:
            if self.empty.get(a) and self.rng.random() < 0.5:
                k = self.rng.choice(self.empty[a])
            else:
                other = [b for b in self.anatomies if negative_pair(b, a)]
                b = other[self.rng.integers(len(other))]
                k = self.rng.choice(self.pos[b])
            empty = True
        else:
            k = self.pos[a][self.rng.choice(len(self.pos[a]), p=self.p_item[a])]
        given = mode == "auto" or self.rng.random() < 0.9
        return int(k), a, mode, empty, given


def build_model(device) -> MedUS:
    return MedUS(MedUSConfig(anatomies=list(ANATOMIES))).to(device)


def decode_step(model, feats, prompts, mask_in, has_mask, anatomy, device):
    coords, labels = pack(prompts)
    return model.decode(
        feats,
        torch.from_numpy(coords).to(device),
        torch.from_numpy(labels).to(device),
        mask_in,
        has_mask,
        anatomy,
    )


def candidate_losses(low_res, iou_pred, gt):
    up = F.interpolate(low_res, size=gt.shape[-2:], mode="bilinear", align_corners=False)
    b, m = up.shape[:2]
    bce, dice = mask_losses(up.reshape(b * m, 1, *up.shape[-2:]), gt.repeat_interleave(m, 0))
    total = (bce + dice).reshape(b, m)
    target_iou = hard_iou(up.reshape(b * m, 1, *up.shape[-2:]), gt.repeat_interleave(m, 0)).reshape(b, m)
    iou_loss = F.mse_loss(iou_pred, target_iou, reduction="none")
    return up, total, iou_loss


@torch.no_grad()
def validate(model, ds: InMemorySet, device, max_items=400) -> Dict:
    """Box and automatic Dice per anatomy on the validation groups, and the automatic-mode score
    threshold that best separates "target present" from "nothing here" (cross-group pairs + empties)."""
    model.eval()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(ds.items))[:max_items]
    res: Dict[str, Dict[str, List[float]]] = {}
    pos_scores, pos_dice, neg_scores = [], [], []
    for start in range(0, len(idx), 32):
        ks = idx[start : start + 32]
        imgs = torch.from_numpy(ds.images[ks]).float().div(255).unsqueeze(1).to(device)
        gts = torch.from_numpy(ds.masks[ks]).float().unsqueeze(1).to(device)
        feats = model.image_encoder(normalise(imgs))
        anat = torch.tensor([ANATOMIES.index(ds.items[k].anatomy) for k in ks], device=device)
        zeros = torch.zeros(len(ks), 1, 64, 64, device=device)
        hm = torch.zeros(len(ks), device=device)
        for mode in ("box", "auto"):
            prompts = [initial_prompt(ds.masks[k], mode, rng) for k in ks]
            low, iou, _ = decode_step(model, feats, prompts, zeros, hm, anat, device)
            up = F.interpolate(low[:, :1], size=256, mode="bilinear", align_corners=False)
            pred = up > 0
            for j, k in enumerate(ks):
                it = ds.items[k]
                g = gts[j, 0] > 0.5
                p = pred[j, 0]
                if it.has_target:
                    d = (2 * (p & g).sum() / (p.sum() + g.sum()).clamp(min=1)).item()
                    res.setdefault(it.anatomy, {}).setdefault(mode, []).append(d)
                    if mode == "auto":
                        pos_scores.append(iou[j, 0].item())
                        pos_dice.append(d)
                elif mode == "auto":
                    neg_scores.append(iou[j, 0].item() if p.any() else -1.0)
        # cross-group negatives for the threshold
        other = []
        for k in ks:
            cands = [a for a in ANATOMIES if negative_pair(ds.items[k].anatomy, a)]
            other.append(ANATOMIES.index(cands[rng.integers(len(cands))]))
        prompts = [[(0.0, 0.0, -1.0)] for _ in ks]
        low, iou, _ = decode_step(model, feats, prompts, zeros, hm, torch.tensor(other, device=device), device)
        up = F.interpolate(low[:, :1], size=256, mode="bilinear", align_corners=False)
        for j in range(len(ks)):
            neg_scores.append(iou[j, 0].item() if (up[j, 0] > 0).any() else -1.0)
    model.train()
    summary = {a: {m: float(np.mean(v)) for m, v in d.items()} for a, d in res.items()}
    box = float(np.mean([d["box"] for d in summary.values() if "box" in d]))
    auto = float(np.mean([d["auto"] for d in summary.values() if "auto" in d]))
    best_t, best_obj = 0.0, -1.0
    ps, pd_, ns = np.array(pos_scores), np.array(pos_dice), np.array(neg_scores)
    for t in np.linspace(0, 0.9, 91):
        obj = np.where(ps >= t, pd_, 0.0).mean() + (ns < t).mean()
        if obj > best_obj:
            best_obj, best_t = obj, float(t)
    empty_ok = float((ns < best_t).mean()) if len(ns) else float("nan")
    return {"box": box, "auto": auto, "per_anatomy": summary, "auto_min_score": best_t, "empty_ok": empty_ok}


class WeightAverage:
    """Exponential moving average of the weights (Polyak averaging). A fine-tuning run's last steps
    wander around a minimum; their average usually sits nearer its centre than any one of them.
    The model has LayerNorm and GRN but no batch statistics, so averaged weights need no re-estimation."""

    def __init__(self, model, decay: float):
        self.decay = decay
        self.updates = 0
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model) -> None:
        self.updates += 1
        # a short warm-up, so the average is not dominated by the starting weights on short runs
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.state[k].copy_(v)

    @contextlib.contextmanager
    def swapped_into(self, model):
        """The model holds the averaged weights inside the block, its own weights again after it."""
        own = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.state)
        try:
            yield model
        finally:
            model.load_state_dict(own)


def cpu_state(model) -> Dict[str, torch.Tensor]:
    """Weights as CPU tensors, so a checkpoint written on a GPU loads anywhere."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def last_checkpoint(model, opt, state, meta, ema: Optional[WeightAverage]) -> Dict:
    ck = {"model": cpu_state(model), "opt": opt.state_dict(), "state": state, "meta": meta}
    if ema is not None:
        ck["ema"] = {"state": {k: v.detach().cpu() for k, v in ema.state.items()}, "updates": ema.updates}
    return ck


def save(path, obj):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("MEDUS_DATASETS", "../../shared/datasets"))
    ap.add_argument("--pack", help="read the items from a file written by medus.pack instead of --data (for a remote GPU)")
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/medus/run"), help="checkpoint folder (not in git)")
    ap.add_argument("--minutes", type=float, default=100.0, help="wall-clock training budget")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-every", type=float, default=15.0, help="minutes between validations")
    ap.add_argument("--resume", action="store_true", help="continue from <out>/last.pt")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--anatomy-weight", action="append", default=[], metavar="NAME=W", help="sample an anatomy W times as often as the others (repeatable), e.g. fetal-head=2")
    ap.add_argument("--first-trimester-weight", type=float, default=1.0, help="draw fetal heads with reference HC < 100 mm W times as often as other heads")
    ap.add_argument("--p-appearance", type=float, default=0.0, help="each scanner-appearance change of appearance.py applied with this probability per batch (0.35 trains v2's robustness; 0 = v1.4's recipe)")
    ap.add_argument("--p-zoom", type=float, default=0.0, help="share of samples cropped to their target's box (trains the app's zoom refinement)")
    ap.add_argument("--ema", type=float, default=0.0, metavar="DECAY", help="also keep a moving average of the weights (e.g. 0.998), validated alongside and written to final_ema.pt")
    ap.add_argument("--init-onnx", help="warm start from a shipped model folder (e.g. medus-s-v1): its ONNX weights are read back into the modules")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":  # TF32 matmuls/convolutions: fp32 training, tensor-core speed
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    if args.pack:
        train_set = InMemorySet.from_pack(args.pack, "train")
        val_set = InMemorySet.from_pack(args.pack, "validation")
    else:
        items = [it for it in read_meta(args.data) if it.split == "train"]
        train_items = [it for it in items if not is_validation_group(it.group)]
        val_items = [it for it in items if is_validation_group(it.group)]
        cache = os.path.join(os.path.dirname(args.out), "cache")
        train_set = InMemorySet(args.data, train_items, os.path.join(cache, "train.npz"))
        val_set = InMemorySet(args.data, val_items, os.path.join(cache, "val.npz"))
    print(f"data: {len(train_set.items)} train / {len(val_set.items)} validation items, loaded in {time.time() - t0:.0f}s, device {device}", flush=True)

    torch.manual_seed(args.seed)
    model = build_model(device)
    if args.init_onnx and not args.resume:
        from .export import read_onnx_weights

        print("warm start from", args.init_onnx, read_onnx_weights(args.init_onnx, model, grow=True), flush=True)
        model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    state = {"step": 0, "samples": 0, "elapsed": 0.0, "best": -1.0, "log": []}
    resumed_ema = None
    if args.resume and os.path.isfile(os.path.join(args.out, "last.pt")):
        ck = torch.load(os.path.join(args.out, "last.pt"), map_location=device, weights_only=False)  # torch >= 2.6 defaults to True; our own checkpoint holds the optimiser state and run metadata
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        resumed_ema = ck.get("ema")
        print(f"resumed at step {state['step']}, {state['elapsed'] / 60:.1f} min", flush=True)
    ema = WeightAverage(model, args.ema) if args.ema > 0 else None
    if ema is not None and resumed_ema is not None:
        ema.state = {k: v.to(device) for k, v in resumed_ema["state"].items()}
        ema.updates = resumed_ema["updates"]
    rng = np.random.default_rng(args.seed + state["step"])
    gen = torch.Generator(device=device).manual_seed(args.seed + state["step"])
    # appearance.py draws on the CPU (JPEG round trips, per-image marks): its own generator
    cpu_gen = torch.Generator().manual_seed(args.seed + 7919 + state["step"])
    weights = {}
    for spec in args.anatomy_weight:
        name, _, w = spec.partition("=")
        if name not in ANATOMIES:
            ap.error(f"--anatomy-weight: unknown anatomy {name!r}")
        weights[name] = float(w)
    sampler = Sampler(train_set, rng, weights=weights, first_trimester_weight=args.first_trimester_weight)
    # The whole training set lives on the device (560 MB): no per-step host-to-device copies on a GPU.
    all_images = torch.from_numpy(train_set.images).to(device)
    all_masks = torch.from_numpy(train_set.masks).to(device)
    budget = args.minutes * 60
    start = time.time() - state["elapsed"]
    last_ckpt = last_val = time.time()
    model.train()
    meta = {"config": model.cfg.to_dict(), "pixel_mean": PIXEL_MEAN, "pixel_std": PIXEL_STD, "p_zoom": args.p_zoom, "args": vars(args), "torch": str(torch.__version__), "device": str(device)}
    run_loss, run_n, t_log = 0.0, 0, time.time()

    while True:
        elapsed = time.time() - start
        frac = elapsed / budget
        if frac >= 1:
            break
        lr = args.lr * min(1.0, (state["step"] + 1) / 200) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        draws = [sampler.draw() for _ in range(args.batch)]
        ks = [d[0] for d in draws]
        sel = torch.tensor(ks, device=device)
        imgs = all_images[sel].float().div(255).unsqueeze(1)
        keep = torch.tensor([0.0 if d[3] else 1.0 for d in draws], device=device)
        gts = all_masks[sel].float().unsqueeze(1) * keep.view(-1, 1, 1, 1)
        if args.p_zoom > 0:
            imgs, gts = zoom_to_target(imgs, gts, gen, args.p_zoom)
        imgs, gts = augment(imgs, gts, gen)
        if args.p_appearance > 0:
            # scanner appearance (gain, contrast, TGC, gamma, speckle, blur, JPEG, depth crop, sector, burned-in marks)
            a_imgs, a_gts = random_appearance(imgs.float().cpu(), gts.float().cpu(), cpu_gen, args.p_appearance)
            imgs, gts = a_imgs.to(device), a_gts.to(device)
        # prompts are simulated on the device for the whole batch (prompts.py): no per-image host work
        target = gts[:, 0] > 0.5
        modes = torch.tensor([MODES.index(d[2]) for d in draws], device=device)
        coords, labels, lone = initial_prompts_t(target, modes, gen)
        anat = torch.tensor([ANATOMIES.index(d[1]) if d[4] else -1 for d in draws], device=device)
        feats = model.image_encoder(normalise(imgs))
        b = len(ks)
        low, iou, pres = model.decode(feats, coords, labels, torch.zeros(b, 1, 64, 64, device=device), torch.zeros(b, device=device), anat)
        up, total, iou_l = candidate_losses(low, iou, gts)
        pick = torch.where(lone, total[:, 1:].argmin(dim=1) + 1, torch.zeros_like(anat))
        loss = total.gather(1, pick[:, None]).mean() + iou_l.mean()
        # the presence head answers automatic mode's "is it there at all" (positives, empties and cross-organ asks)
        auto = modes == MODES.index("auto")
        if bool(auto.any()):
            present = target.flatten(1).any(dim=1).float()
            loss = loss + F.binary_cross_entropy_with_logits(pres[auto, 0], present[auto])
        if rng.random() < 0.5:  # one step of iterative refinement from the error region
            pred = up.gather(1, pick.view(b, 1, 1, 1).expand(b, 1, *up.shape[-2:]))[:, 0] > 0
            click_xy, click_label = error_clicks_t(pred, target, gen)
            prev = low.gather(1, pick.view(b, 1, 1, 1).expand(b, 1, *low.shape[-2:])).detach()
            low2, iou2, _ = model.decode(feats, torch.cat([coords, click_xy], 1), torch.cat([labels, click_label], 1), prev, torch.ones(b, device=device), anat)
            _, total2, iou_l2 = candidate_losses(low2, iou2, gts)
            loss = loss + total2[:, 0].mean() + iou_l2[:, 0].mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if ema is not None:
            ema.update(model)
        state["step"] += 1
        state["samples"] += b
        state["elapsed"] = time.time() - start
        run_loss += loss.item()
        run_n += 1
        if state["step"] % 25 == 0:
            rate = run_n * b / (time.time() - t_log)
            print(f"step {state['step']} samples {state['samples']} loss {run_loss / run_n:.4f} lr {lr:.2e} {rate:.1f} img/s {state['elapsed'] / 60:.1f} min", flush=True)
            run_loss, run_n, t_log = 0.0, 0, time.time()
        now = time.time()
        if now - last_val > args.val_every * 60:
            v = validate(model, val_set, device)
            state["log"].append({"step": state["step"], "minutes": state["elapsed"] / 60, **{k: v[k] for k in ("box", "auto", "auto_min_score", "empty_ok")}})
            print("validation", json.dumps(state["log"][-1]), flush=True)
            if ema is not None:
                with ema.swapped_into(model):
                    ve = validate(model, val_set, device)
                print("validation (averaged weights)", json.dumps({"step": state["step"], **{k: ve[k] for k in ("box", "auto", "auto_min_score", "empty_ok")}}), flush=True)
            score = v["box"] + v["auto"]
            if score > state["best"]:
                state["best"] = score
                save(os.path.join(args.out, "best.pt"), {"model": cpu_state(model), "meta": {**meta, "validation": v, "step": state["step"]}})
            last_val = time.time()
        if now - last_ckpt > 300:
            save(os.path.join(args.out, "last.pt"), last_checkpoint(model, opt, state, meta, ema))
            last_ckpt = now

    v = validate(model, val_set, device)
    state["log"].append({"step": state["step"], "minutes": state["elapsed"] / 60, **{k: v[k] for k in ("box", "auto", "auto_min_score", "empty_ok")}})
    print("final validation", json.dumps(v), flush=True)
    final = {"model": cpu_state(model), "meta": {**meta, "validation": v, "step": state["step"], "samples": state["samples"], "minutes": state["elapsed"] / 60, "log": state["log"]}}
    save(os.path.join(args.out, "final.pt"), final)
    if ema is not None:
        with ema.swapped_into(model):
            ve = validate(model, val_set, device)
            print("final validation (averaged weights)", json.dumps(ve), flush=True)
            save(os.path.join(args.out, "final_ema.pt"), {"model": cpu_state(model), "meta": {**final["meta"], "validation": ve, "ema_decay": args.ema}})
    save(os.path.join(args.out, "last.pt"), last_checkpoint(model, opt, state, meta, ema))
    print("done", flush=True)


if __name__ == "__main__":
    main()
