"""Model v2 without a GPU: what v2 adds, tuned on top of the shipped v1.4 weights with the image
encoder and the mask decoder frozen, so that every anatomy v1.4 knew is segmented exactly as before.

    cd models && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m medus.tune --data ../../shared/datasets \\
        --init-onnx medus-s-v1 --minutes 60 --out ~/.cache/medus/v2

Trained: (1) the two new anatomies' embeddings (intrapartum: pubic symphysis, fetal head; PSFHS),
a prompt-tuning of two rows of the anatomy tables, on PSFHS masks in automatic, box and click mode;
(2) the presence head (modeling/presence.py) on target / no-target pairs of every anatomy under
strong scanner-appearance augmentation (appearance.py). Then, on the validation groups only, a
presence threshold per anatomy is chosen with a budget (at most 5% of images with a target called
empty, clean and under each appearance change; at least 90% of images without one kept empty), and
the robustness of that choice is printed per appearance change. The checkpoint exports with
medus.export like train.py's.
"""
import argparse
import json
import math
import os
import time
from typing import Dict, List

import numpy as np
import torch
import torch.nn.functional as F

from .appearance import NAMED, random_appearance
from .augment import augment, zoom_to_target
from .data import ANATOMIES, InMemorySet, is_validation_group, negative_pair, read_meta
from .export import read_onnx_weights
from .losses import mask_losses
from .modeling.medus import MedUS, MedUSConfig
from .prompts import MODES, initial_prompts_t
from .train import PIXEL_MEAN, PIXEL_STD, candidate_losses, cpu_state, normalise, save

V1_ANATOMIES = 8  # rows 1..8 of the anatomy tables are v1.4's and stay as shipped (row 0: "not given")
FALSE_EMPTY_BUDGET = 0.05
TRUE_EMPTY_FLOOR = 0.90
V1_THRESHOLD = 0.4  # v1.4's auto_min_score, for the before/after table


class Draws:
    def __init__(self, ds: InMemorySet, rng: np.random.Generator) -> None:
        self.ds, self.rng = ds, rng
        self.pos: Dict[str, List[int]] = {}
        self.empty: Dict[str, List[int]] = {}
        for k, it in enumerate(ds.items):
            (self.pos if it.has_target else self.empty).setdefault(it.anatomy, []).append(k)
        self.anatomies = [a for a in ANATOMIES if a in self.pos]
        self.new = [a for a in ANATOMIES[V1_ANATOMIES:] if a in self.pos]

    def one(self, ks: List[int]) -> int:
        return int(ks[self.rng.integers(len(ks))])

    def mask_item(self):
        a = self.new[self.rng.integers(len(self.new))]
        r = self.rng.random()
        mode = "auto" if r < 0.45 else ("box" if r < 0.8 else "click")
        given = mode == "auto" or self.rng.random() < 0.9
        return self.one(self.pos[a]), a, mode, True, given

    def presence_item(self):
        """An automatic-mode ask with its answer: (image index, asked anatomy, target present)."""
        a = self.anatomies[self.rng.integers(len(self.anatomies))]
        if self.rng.random() < 0.5:
            return self.one(self.pos[a]), a, True
        if self.empty.get(a) and self.rng.random() < 0.4:
            return self.one(self.empty[a]), a, False
        others = [b for b in self.anatomies if negative_pair(b, a)]
        return self.one(self.pos[others[self.rng.integers(len(others))]]), a, False


def build(init_onnx: str) -> MedUS:
    model = MedUS(MedUSConfig(anatomies=list(ANATOMIES)))
    print("warm start from", init_onnx, read_onnx_weights(init_onnx, model, grow=True), flush=True)
    pe = model.prompt_encoder
    with torch.no_grad():
        for table in (pe.anatomy_embed, pe.anatomy_dense):
            old = table.weight[1 : V1_ANATOMIES + 1]
            # a start near what the model knows: the labour view's head from the biometry head, the symphysis from the mean
            table.weight[1 + ANATOMIES.index("intrapartum-fetal-head")] = table.weight[1 + ANATOMIES.index("fetal-head")]
            table.weight[1 + ANATOMIES.index("intrapartum-pubic-symphysis")] = old.mean(dim=0)
    for p in model.parameters():
        p.requires_grad_(False)
    for table in (pe.anatomy_embed, pe.anatomy_dense):
        table.weight.requires_grad_(True)
        # v1.4's rows keep their values: only the appended rows learn
        table.weight.register_hook(lambda g: torch.cat([torch.zeros_like(g[: V1_ANATOMIES + 1]), g[V1_ANATOMIES + 1 :]]))
    for p in model.mask_decoder.presence_head.parameters():
        p.requires_grad_(True)
    return model


def decode(model, feats, target, modes, anat, gen):
    coords, labels, lone = initial_prompts_t(target, modes, gen)
    b = target.shape[0]
    low, iou, presence = model.decode(feats, coords, labels, torch.zeros(b, 1, 64, 64), torch.zeros(b), anat)
    return low, iou, presence, lone


@torch.no_grad()
def encode(model, imgs, chunk=32):
    outs = [model.image_encoder(normalise(imgs[i : i + chunk])) for i in range(0, len(imgs), chunk)]
    return {k: torch.cat([o[k] for o in outs]) for k in outs[0]}


@torch.no_grad()
def presence_scores(model, images, masks, anat_idx, gen, transform=None):
    """Automatic-mode presence per ask (-1 where the drawn mask is empty anyway) and Dice (nan without target)."""
    scores, quality, dice = [], [], []
    for s in range(0, len(images), 32):
        imgs = torch.from_numpy(images[s : s + 32]).float().div(255).unsqueeze(1)
        gts = torch.from_numpy(masks[s : s + 32]).float().unsqueeze(1)
        if transform is not None:
            imgs, gts = transform(imgs, gts, gen)
        feats = encode(model, imgs)
        target = gts[:, 0] > 0.5
        modes = torch.full((len(imgs),), MODES.index("auto"))
        low, iou, pres, _ = decode(model, feats, target, modes, torch.tensor(anat_idx[s : s + 32]), gen)
        up = F.interpolate(low[:, :1], size=256, mode="bilinear", align_corners=False)[:, 0] > 0
        p = torch.sigmoid(pres[:, 0])
        for j in range(len(imgs)):
            scores.append(float(p[j]) if bool(up[j].any()) else -1.0)
            quality.append(float(iou[j, 0]) if bool(up[j].any()) else -1.0)
            g = target[j]
            dice.append(float(2 * (up[j] & g).sum() / (up[j].sum() + g.sum()).clamp(min=1)) if bool(g.any()) else float("nan"))
    return np.array(scores), np.array(dice), np.array(quality)


@torch.no_grad()
def validate(model, val: InMemorySet, full: bool, n_pos: int = 120, only=None) -> Dict:
    """Per anatomy: PSFHS box/automatic Dice; presence scores on positives (clean, and under each
    appearance change when `full`) and on no-target asks; the threshold chosen within the budget."""
    model.eval()
    gen = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    by_anat: Dict[str, List[int]] = {}
    empties: Dict[str, List[int]] = {}
    for k, it in enumerate(val.items):
        (by_anat if it.has_target else empties).setdefault(it.anatomy, []).append(k)
    out: Dict = {"per_anatomy": {}}
    transforms = dict(NAMED) if full else {k: NAMED[k] for k in ("dark (gain 0.45)", "low contrast (0.5)")}
    for a in [x for x in ANATOMIES if x in by_anat and (only is None or x in only)]:
        ai = ANATOMIES.index(a)
        pos = np.array(by_anat[a][:n_pos])
        negs = list(empties.get(a, []))[: n_pos // 2]
        others = [k for k, it in enumerate(val.items) if it.has_target and negative_pair(it.anatomy, a)]
        negs += list(rng.choice(others, size=min(n_pos, len(others)), replace=False))
        neg = np.array(negs)
        res: Dict = {}
        clean, dice, q_clean = presence_scores(model, val.images[pos], val.masks[pos], [ai] * len(pos), gen)
        res["auto_dice"] = float(np.nanmean(dice))
        pos_pool = {"clean": clean}
        v1_pool = {"clean": q_clean}  # v1.4's rule: the quality score against one threshold
        for name, tf in transforms.items():
            pos_pool[name], _, v1_pool[name] = presence_scores(model, val.images[pos], val.masks[pos], [ai] * len(pos), gen, tf)
        neg_scores, _, neg_quality = presence_scores(model, val.images[neg], np.zeros_like(val.masks[neg]), [ai] * len(neg), gen)
        pooled = np.concatenate(list(pos_pool.values()))
        best = None
        for t in np.linspace(0.02, 0.95, 94):
            fe = float((pooled < t).mean())
            te = float((neg_scores < t).mean())
            # within the false-empty budget, the threshold that best separates (empties kept empty minus
            # targets missed); the lowest of equals, so no target is given up for nothing
            if fe <= FALSE_EMPTY_BUDGET and (best is None or te - fe > best[2] - best[1] + 1e-9):
                best = (float(t), fe, te)
        if best is None:
            best = (0.02, float((pooled < 0.02).mean()), float((neg_scores < 0.02).mean()))
        t = best[0]
        res.update({
            "threshold": round(t, 3),
            "false_empty_pooled": best[1],
            "true_empty": best[2],
            "true_empty_floor_met": best[2] >= TRUE_EMPTY_FLOOR,
            "false_empty": {k: float((v < t).mean()) for k, v in pos_pool.items()},
            "v1_false_empty": {k: float((v < V1_THRESHOLD).mean()) for k, v in v1_pool.items()},
            "v1_true_empty": float((neg_quality < V1_THRESHOLD).mean()),
            "n_pos": int(len(pos)),
            "n_neg": int(len(neg)),
        })
        if a in ANATOMIES[V1_ANATOMIES:]:
            # box Dice for the new anatomies
            imgs = torch.from_numpy(val.images[pos]).float().div(255).unsqueeze(1)
            gts = torch.from_numpy(val.masks[pos]).float().unsqueeze(1)
            d = []
            for s in range(0, len(pos), 32):
                feats = encode(model, imgs[s : s + 32])
                target = gts[s : s + 32, 0] > 0.5
                low, _, _, _ = decode(model, feats, target, torch.full((len(target),), MODES.index("box")), torch.full((len(target),), ai), gen)
                up = F.interpolate(low[:, :1], size=256, mode="bilinear", align_corners=False)[:, 0] > 0
                d += [float(2 * (up[j] & target[j]).sum() / (up[j].sum() + target[j].sum()).clamp(min=1)) for j in range(len(target))]
            res["box_dice"] = float(np.mean(d))
        out["per_anatomy"][a] = res
    model.train()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("MEDUS_DATASETS", "../../shared/datasets"))
    ap.add_argument("--init-onnx", default="medus-s-v1")
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/medus/v2"))
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mask-batch", type=int, default=8)
    ap.add_argument("--presence-batch", type=int, default=16)
    ap.add_argument("--lr-embed", type=float, default=5e-3)
    ap.add_argument("--lr-presence", type=float, default=2e-3)
    ap.add_argument("--val-every", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-items", type=int, default=120, help="validation images with a target per anatomy (and as many asks without)")
    ap.add_argument("--stage2-from", help="second stage: from this first-stage checkpoint, train only the new anatomies' rows and maps (presence head frozen)")
    ap.add_argument("--lr-map", type=float, default=5e-3)
    ap.add_argument("--only", help="with --rechoose: these anatomies only (comma list)")
    ap.add_argument("--rechoose-out", default="final_v2.pt")
    ap.add_argument("--rechoose", help="choose every anatomy's presence threshold again on the validation groups for this checkpoint (writes final_v2.pt)")
    args = ap.parse_args()
    if args.stage2_from:
        return stage2(args)
    if args.rechoose:
        return rechoose(args)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    items = [it for it in read_meta(args.data) if it.split == "train"]
    cache = os.path.join(args.out, "cache")
    train = InMemorySet(args.data, [it for it in items if not is_validation_group(it.group)], os.path.join(cache, "train.npz"))
    val = InMemorySet(args.data, [it for it in items if is_validation_group(it.group)], os.path.join(cache, "val.npz"))
    print(f"data: {len(train.items)} train / {len(val.items)} validation items in {time.time() - t0:.0f}s", flush=True)
    torch.manual_seed(args.seed)
    model = build(args.init_onnx)
    pe = model.prompt_encoder
    opt = torch.optim.AdamW(
        [
            {"params": [pe.anatomy_embed.weight, pe.anatomy_dense.weight], "lr": args.lr_embed, "weight_decay": 0.0},
            {"params": list(model.mask_decoder.presence_head.parameters()), "lr": args.lr_presence, "weight_decay": 0.01},
        ]
    )
    base_lr = [g["lr"] for g in opt.param_groups]
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    draws = Draws(train, rng)
    meta = {"config": model.cfg.to_dict(), "pixel_mean": PIXEL_MEAN, "pixel_std": PIXEL_STD, "p_zoom": 0.25, "args": vars(args), "torch": str(torch.__version__), "recipe": "medus.tune (frozen encoder and decoder)"}
    budget, start, last_val, step, samples = args.minutes * 60, time.time(), time.time(), 0, 0
    run = {"mask": 0.0, "presence": 0.0, "n": 0}
    log = []
    model.train()
    while time.time() - start < budget:
        frac = (time.time() - start) / budget
        for g, lr in zip(opt.param_groups, base_lr):
            g["lr"] = lr * min(1.0, (step + 1) / 50) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        m_items = [draws.mask_item() for _ in range(args.mask_batch)]
        p_items = [draws.presence_item() for _ in range(args.presence_batch)]
        ks = [d[0] for d in m_items] + [d[0] for d in p_items]
        imgs = torch.from_numpy(train.images[ks]).float().div(255).unsqueeze(1)
        keep = torch.tensor([1.0] * len(m_items) + [1.0 if d[2] else 0.0 for d in p_items])
        gts = torch.from_numpy(train.masks[ks]).float().unsqueeze(1) * keep.view(-1, 1, 1, 1)
        imgs, gts = zoom_to_target(imgs, gts, gen, 0.25)
        imgs, gts = augment(imgs, gts, gen)
        imgs, gts = random_appearance(imgs, gts, gen, p=0.3)
        feats = encode(model, imgs)
        target = gts[:, 0] > 0.5
        modes = torch.tensor([MODES.index(d[2]) for d in m_items] + [MODES.index("auto")] * len(p_items))
        anat = torch.tensor([ANATOMIES.index(d[1]) if d[4] else -1 for d in m_items] + [ANATOMIES.index(d[1]) for d in p_items])
        low, iou, pres, lone = decode(model, feats, target, modes, anat, gen)
        nm = len(m_items)
        _, total, _ = candidate_losses(low[:nm], iou[:nm], gts[:nm])
        pick = torch.where(lone[:nm], total[:, 1:].argmin(dim=1) + 1, torch.zeros(nm, dtype=torch.long))
        loss_mask = total.gather(1, pick[:, None]).mean()
        # presence: every automatic ask in the batch (the mask stream's automatic asks are positives too)
        is_auto = modes == MODES.index("auto")
        present = torch.tensor([1.0] * nm + [1.0 if d[2] else 0.0 for d in p_items])
        # an appearance change may crop the target out of the frame: then it is not there any more
        present = present * target.flatten(1).any(dim=1).float()
        loss_presence = F.binary_cross_entropy_with_logits(pres[is_auto, 0], present[is_auto])
        loss = loss_mask + loss_presence
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        samples += len(ks)
        run["mask"] += float(loss_mask)
        run["presence"] += float(loss_presence)
        run["n"] += 1
        if step % 50 == 0:
            el = time.time() - start
            print(f"step {step} samples {samples} mask {run['mask'] / run['n']:.4f} presence {run['presence'] / run['n']:.4f} {samples / el:.1f} img/s {el / 60:.1f} min", flush=True)
            run = {"mask": 0.0, "presence": 0.0, "n": 0}
        if time.time() - last_val > args.val_every * 60:
            v = validate(model, val, full=False, n_pos=args.val_items)
            log.append({"step": step, "minutes": (time.time() - start) / 60, "validation": v})
            print("validation", json.dumps(log[-1]), flush=True)
            save(os.path.join(args.out, "last.pt"), {"model": cpu_state(model), "meta": {**meta, "step": step}})
            last_val = time.time()
    v = validate(model, val, full=True, n_pos=args.val_items)
    thresholds = {a: r["threshold"] for a, r in v["per_anatomy"].items()}
    print("final validation", json.dumps(v), flush=True)
    final_meta = {**meta, "step": step, "samples": samples, "minutes": (time.time() - start) / 60, "log": log, "validation": v,
                  "presence_thresholds": thresholds, "auto_min_score": float(np.median(list(thresholds.values())))}
    save(os.path.join(args.out, "final.pt"), {"model": cpu_state(model), "meta": final_meta})
    print("done", flush=True)



def stage2(args) -> None:
    """The new anatomies need more than two embedding rows: a learned map per anatomy over the
    embedding grid (prompt_encoder.anatomy_map) says where a labour view's structures lie. Only the
    new anatomies' rows and maps learn; the presence head and every v1.4 path stay as stage 1 left
    them, so only the new anatomies' thresholds are chosen again."""
    from .export import load_checkpoint

    torch.set_num_threads(args.threads)
    model, meta = load_checkpoint(args.stage2_from)
    items = [it for it in read_meta(args.data) if it.split == "train"]
    cache = os.path.join(args.out, "cache")
    train = InMemorySet(args.data, [it for it in items if not is_validation_group(it.group)], os.path.join(cache, "train.npz"))
    val = InMemorySet(args.data, [it for it in items if is_validation_group(it.group)], os.path.join(cache, "val.npz"))
    for p in model.parameters():
        p.requires_grad_(False)
    pe = model.prompt_encoder
    keep_old = lambda g: torch.cat([torch.zeros_like(g[: V1_ANATOMIES + 1]), g[V1_ANATOMIES + 1 :]])  # noqa: E731
    for w in (pe.anatomy_embed.weight, pe.anatomy_dense.weight, pe.anatomy_map):
        w.requires_grad_(True)
        w.register_hook(keep_old)
    opt = torch.optim.Adam([{"params": [pe.anatomy_embed.weight, pe.anatomy_dense.weight], "lr": args.lr_embed}, {"params": [pe.anatomy_map], "lr": args.lr_map}])
    base_lr = [g["lr"] for g in opt.param_groups]
    rng = np.random.default_rng(args.seed + 1)
    gen = torch.Generator().manual_seed(args.seed + 1)
    draws = Draws(train, rng)
    budget, start, step, samples, run = args.minutes * 60, time.time(), 0, 0, 0.0
    model.train()
    while time.time() - start < budget:
        frac = (time.time() - start) / budget
        for g, lr in zip(opt.param_groups, base_lr):
            g["lr"] = lr * min(1.0, (step + 1) / 30) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        m_items = [draws.mask_item() for _ in range(args.mask_batch)]
        ks = [d[0] for d in m_items]
        imgs = torch.from_numpy(train.images[ks]).float().div(255).unsqueeze(1)
        gts = torch.from_numpy(train.masks[ks]).float().unsqueeze(1)
        imgs, gts = zoom_to_target(imgs, gts, gen, 0.25)
        imgs, gts = augment(imgs, gts, gen)
        imgs, gts = random_appearance(imgs, gts, gen, p=0.2)
        feats = encode(model, imgs)
        target = gts[:, 0] > 0.5
        modes = torch.tensor([MODES.index(d[2]) for d in m_items])
        anat = torch.tensor([ANATOMIES.index(d[1]) if d[4] else -1 for d in m_items])
        low, iou, _, lone = decode(model, feats, target, modes, anat, gen)
        _, total, _ = candidate_losses(low, iou, gts)
        pick = torch.where(lone, total[:, 1:].argmin(dim=1) + 1, torch.zeros(len(ks), dtype=torch.long))
        loss = total.gather(1, pick[:, None]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        samples += len(ks)
        run += float(loss)
        if step % 50 == 0:
            el = time.time() - start
            print(f"stage 2 step {step} samples {samples} mask {run / 50:.4f} {samples / el:.1f} img/s {el / 60:.1f} min", flush=True)
            run = 0.0
    new = ANATOMIES[V1_ANATOMIES:]
    v = validate(model, val, full=True, n_pos=args.val_items, only=new)
    print("stage 2 validation", json.dumps(v), flush=True)
    thresholds = {**meta["presence_thresholds"], **{a: r["threshold"] for a, r in v["per_anatomy"].items()}}
    final_meta = {**meta, "stage2": {"step": step, "samples": samples, "minutes": (time.time() - start) / 60, "validation": v}, "presence_thresholds": thresholds}
    save(os.path.join(args.out, "final_stage2.pt"), {"model": cpu_state(model), "meta": final_meta})
    print("done", flush=True)



def rechoose(args) -> None:
    from .export import load_checkpoint

    torch.set_num_threads(args.threads)
    model, meta = load_checkpoint(args.rechoose)
    items = [it for it in read_meta(args.data) if it.split == "train"]
    val = InMemorySet(args.data, [it for it in items if is_validation_group(it.group)], os.path.join(args.out, "cache", "val.npz"))
    only = [a for a in args.only.split(",") if a] if args.only else None
    v = validate(model, val, full=True, n_pos=args.val_items, only=only)
    print("rechosen validation", json.dumps(v), flush=True)
    thresholds = {**meta.get("presence_thresholds", {}), **{a: r["threshold"] for a, r in v["per_anatomy"].items()}}
    save(os.path.join(args.out, args.rechoose_out), {"model": cpu_state(model), "meta": {**meta, "validation": v, "presence_thresholds": thresholds, "threshold_rule": "max(true-empty - false-empty) within the false-empty budget"}})
    print("done", flush=True)


if __name__ == "__main__":
    main()
