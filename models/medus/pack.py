"""Packs the training data into one file small enough to travel to a remote GPU machine.

    cd models && /usr/bin/python3 -m medus.pack --data ../../shared/datasets --out ../.gpu/pack.npz

The 256x256 JPEGs of the `train` split are stored as they are (datasets named by --keep) or
re-encoded at --quality, masks as bits; the train/validation grouping of medus.train is kept, so a
run on the pack trains and validates on exactly the items a run on the folder would. The pack is
derived data: keep it out of git (it is as licensed as the datasets it comes from)."""
import argparse
import io
import json
import os
from dataclasses import asdict
from typing import List, Tuple

import numpy as np
from PIL import Image

from .data import Item, is_validation_group, read_meta

SIZE = 256


def _jpeg(root: str, it: Item, keep: bool, quality: int) -> bytes:
    path = os.path.join(root, it.dataset, "img", it.id + ".jpg")
    with Image.open(path) as img:
        if keep and img.mode == "L" and img.size == (SIZE, SIZE):
            with open(path, "rb") as f:
                return f.read()
        buf = io.BytesIO()
        img.convert("L").resize((SIZE, SIZE)).save(buf, "JPEG", quality=quality)
        return buf.getvalue()


def _mask(root: str, it: Item) -> np.ndarray:
    with Image.open(os.path.join(root, it.dataset, "mask", it.id + ".png")) as m:
        return np.asarray(m.convert("L").resize((SIZE, SIZE), Image.NEAREST)) > 127


def write_pack(root: str, out: str, keep: List[str], quality: int, with_validation: bool) -> dict:
    items = [it for it in read_meta(root) if it.split == "train"]
    roles = ["validation" if is_validation_group(it.group) else "train" for it in items]
    chosen = [(it, r) for it, r in zip(items, roles) if with_validation or r == "train"]
    blobs, masks, meta = [], np.zeros((len(chosen), SIZE, SIZE // 8), np.uint8), []
    for k, (it, role) in enumerate(chosen):
        blobs.append(_jpeg(root, it, it.dataset in keep, quality))
        masks[k] = np.packbits(_mask(root, it), axis=-1)
        meta.append({**asdict(it), "role": role})
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp.npz"
    np.savez_compressed(
        tmp,
        jpeg=np.frombuffer(b"".join(blobs), np.uint8),
        offsets=offsets,
        masks=masks,
        meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
    )
    os.replace(tmp, out)
    return {"items": len(chosen), "bytes": os.path.getsize(out)}


def read_pack(path: str, role: str) -> Tuple[List[Item], np.ndarray, np.ndarray]:
    with np.load(path) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        jpeg, offsets, packed = z["jpeg"], z["offsets"], z["masks"]
    idx = [k for k, m in enumerate(meta) if m["role"] == role]
    items = [Item(**{f: v for f, v in meta[k].items() if f != "role"}) for k in idx]
    images = np.zeros((len(idx), SIZE, SIZE), np.uint8)
    masks = np.zeros((len(idx), SIZE, SIZE), np.uint8)
    for j, k in enumerate(idx):
        images[j] = np.asarray(Image.open(io.BytesIO(jpeg[offsets[k] : offsets[k + 1]].tobytes())).convert("L"))
        masks[j] = np.unpackbits(packed[k], axis=-1)[:, :SIZE]
    return items, images, masks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("MEDUS_DATASETS", "../../shared/datasets"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--keep", default="hc18", help="comma-separated datasets whose JPEGs are stored unchanged")
    ap.add_argument("--quality", type=int, default=80, help="JPEG quality for the other datasets")
    ap.add_argument("--with-validation", action="store_true", help="also pack the validation groups")
    args = ap.parse_args()
    print(json.dumps(write_pack(args.data, args.out, [k for k in args.keep.split(",") if k], args.quality, args.with_validation)))


if __name__ == "__main__":
    main()
