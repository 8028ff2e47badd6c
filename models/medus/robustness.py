"""The model card's robustness table: automatic mode on the test split under each scanner-appearance
change (appearance.NAMED, applied alone to every image), at 256×256 in PyTorch (the model alone,
not the app's zoomed second pass). Per anatomy and change: the false-empty rate (images with a
target answered "nothing here") under v1.4's rule (quality score ≥ 0.4) and under v2's (presence ≥
the anatomy's threshold from the manifest), and automatic Dice; plus the true-empty rate on images
without a target (truly empty, and images of another organ).

    cd models && OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m medus.robustness --checkpoint ~/.cache/medus/v2/final.pt \\
        --manifest medus-s-v1/model.json --data ../../shared/datasets --per-anatomy 60 --json robustness.json
"""
import argparse
import json
import os

import numpy as np
import torch

from .appearance import NAMED
from .data import ANATOMIES, InMemorySet, negative_pair, read_meta
from .export import load_checkpoint
from .tune import V1_THRESHOLD, presence_scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--manifest", required=True, help="the exported model.json (its presence_thresholds)")
    ap.add_argument("--data", default=os.environ.get("MEDUS_DATASETS", "../../shared/datasets"))
    ap.add_argument("--per-anatomy", type=int, default=60, help="test images with a target per anatomy (and 1.5x as many asks without)")
    ap.add_argument("--json")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, _ = load_checkpoint(args.checkpoint)
    with open(args.manifest) as f:
        thresholds = json.load(f)["presence_thresholds"]
    items = [it for it in read_meta(args.data) if it.split == "test"]
    ds = InMemorySet(args.data, items)
    rng = np.random.default_rng(0)
    gen = torch.Generator().manual_seed(0)
    out = {}
    for a in [x for x in ANATOMIES if any(it.anatomy == x for it in items)]:
        ai = ANATOMIES.index(a)
        pos = [k for k, it in enumerate(items) if it.anatomy == a and it.has_target]
        pos = list(rng.choice(pos, size=min(args.per_anatomy, len(pos)), replace=False))
        empty = [k for k, it in enumerate(items) if it.anatomy == a and not it.has_target]
        others = [k for k, it in enumerate(items) if it.has_target and negative_pair(it.anatomy, a)]
        neg = empty[: args.per_anatomy // 2] + list(rng.choice(others, size=min(args.per_anatomy, len(others)), replace=False))
        t = thresholds[a]
        row = {"n_pos": len(pos), "n_neg": len(neg), "threshold": t, "changes": {}}
        for name, tf in [("none", None)] + list(NAMED.items()):
            p, dice, q = presence_scores(model, ds.images[pos], ds.masks[pos], [ai] * len(pos), gen, tf)
            found2 = p >= t
            row["changes"][name] = {
                "v1_false_empty": float(np.mean(q < V1_THRESHOLD)),
                "v2_false_empty": float(np.mean(~found2)),
                "v2_auto_dice": float(np.mean(np.where(found2, dice, 0.0))),
            }
        pn, _, qn = presence_scores(model, ds.images[neg], np.zeros_like(ds.masks[neg]), [ai] * len(neg), gen)
        row["v1_true_empty"] = float(np.mean(qn < V1_THRESHOLD))
        row["v2_true_empty"] = float(np.mean(pn < t))
        out[a] = row
        print(a, json.dumps({k: row[k] for k in ("n_pos", "n_neg", "threshold", "v1_true_empty", "v2_true_empty")}), flush=True)
    names = ["none"] + list(NAMED)
    print("\n| change | " + " | ".join(out) + " |")
    print("|---|" + "---|" * len(out))
    for n in names:
        cells = [f"{100 * out[a]['changes'][n]['v1_false_empty']:.0f} → {100 * out[a]['changes'][n]['v2_false_empty']:.0f}" for a in out]
        print(f"| {n} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
