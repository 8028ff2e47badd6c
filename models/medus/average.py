"""Averages the weights of checkpoints from one training trajectory (a uniform "model soup",
Wortsman et al. 2022): the end points of a run's learning-rate cycles lie in one basin, and their
mean often generalises better than either, at no cost at inference (same graph, same size).

    cd models && /usr/bin/python3 -m medus.average --out soup.pt run/final1.pt run/final2.pt

The result is a checkpoint like train.py's final.pt, so `medus.export --checkpoint soup.pt` reads it.
"""
import argparse
import os
from typing import Dict, List, Sequence

import torch


def average_states(states: Sequence[Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
    """Mean of each floating-point tensor over the states; other tensors (counters, indices) come
    from the first. All states must hold the same names and shapes."""
    if not states:
        raise ValueError("no checkpoints to average")
    names = list(states[0].keys())
    for k, s in enumerate(states[1:], start=2):
        if set(s.keys()) != set(names):
            missing = sorted(set(names) ^ set(s.keys()))[:5]
            raise ValueError(f"checkpoint {k} does not hold the same weights as the first (differs in {missing})")
    out: Dict[str, torch.Tensor] = {}
    for name in names:
        first = states[0][name]
        for k, s in enumerate(states[1:], start=2):
            if s[name].shape != first.shape:
                raise ValueError(f"{name}: shape {tuple(s[name].shape)} in checkpoint {k}, {tuple(first.shape)} in the first")
        if first.dtype.is_floating_point:
            out[name] = torch.stack([s[name].float() for s in states]).mean(0).to(first.dtype)
        else:
            out[name] = first.clone()
    return out


def main(argv: List[str] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", nargs="+", help="checkpoints written by medus.train (final.pt, best.pt, final_ema.pt)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if len(args.checkpoints) < 2:
        ap.error("give at least two checkpoints")
    # as export.py and train.py load them: our own checkpoints carry run metadata besides tensors
    cks = [torch.load(p, map_location="cpu", weights_only=False) for p in args.checkpoints]
    merged = {"model": average_states([c["model"] for c in cks]), "meta": {**cks[-1].get("meta", {}), "averaged_from": [os.path.abspath(p) for p in args.checkpoints]}}
    # a checkpoint's own validation figures do not describe the average
    merged["meta"].pop("validation", None)
    tmp = args.out + ".tmp"
    torch.save(merged, tmp)
    os.replace(tmp, args.out)
    print(f"averaged {len(cks)} checkpoints into {args.out}")


if __name__ == "__main__":
    main()
