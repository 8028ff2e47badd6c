"""Reads the shared datasets layout (see ../shared/datasets/README.md) into memory.

Each dataset folder has meta.csv with id,split,anatomy,structure,...,has_target and 256x256
img/ID.jpg + mask/ID.png. The anatomy key the model understands is "<anatomy>-<structure>".
"""
import csv
import hashlib
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np
from PIL import Image

# Fixed order: the index is the decoder's `anatomy` input, so never reorder, only append.
ANATOMIES = [
    "thyroid-nodule",
    "thyroid-gland",
    "breast-lesion",
    "fetal-head",
    "ovary-tumour",
    "carotid-artery",
    "nerve-block-nerve",
    "nerve-block-vessel",
    "intrapartum-pubic-symphysis",
    "intrapartum-fetal-head",
]

# Organ groups: an image of one group never contains the target of another, which lets automatic
# mode learn "nothing here" from cross-group pairs as well as from the few truly empty images.
ORGAN_GROUP = {
    "thyroid-nodule": "thyroid",
    "thyroid-gland": "thyroid",
    "breast-lesion": "breast",
    "fetal-head": "fetal",
    "ovary-tumour": "ovary",
    "carotid-artery": "neck-vessels",
    "nerve-block-nerve": "neck-vessels",
    "nerve-block-vessel": "neck-vessels",
    "intrapartum-pubic-symphysis": "intrapartum",
    "intrapartum-fetal-head": "intrapartum",
}

# Cross-group pairs that are no "nothing here" example: a labour (transperineal) view shows part of
# the fetal head, and an axial biometry view may too: neither answer would be right to teach.
AMBIGUOUS_GROUPS = {frozenset({"fetal", "intrapartum"})}


def negative_pair(image_anatomy: str, asked_anatomy: str) -> bool:
    """True when asking `asked_anatomy` on an image of `image_anatomy`'s group must answer empty."""
    a, b = ORGAN_GROUP[image_anatomy], ORGAN_GROUP[asked_anatomy]
    return a != b and frozenset({a, b}) not in AMBIGUOUS_GROUPS

# How items of one patient / video / recording are recognised, so validation never shares a group with training.
_GROUP_RULES = {
    "hc18": lambda i: i.split("_")[0],
    "ddti": lambda i: i.split("_")[0],
    "usgra": lambda i: "_".join(i.split("_")[:2]),
    "ccaui": lambda i: i.split("_slice")[0],
    "tg3k": lambda i: str(int(re.sub(r"\D", "", i) or 0) // 60),  # consecutive video frames
}


def anatomy_key(anatomy: str, structure: str) -> str:
    return f"{anatomy}-{structure}"


def group_of(dataset: str, item_id: str) -> str:
    rule = _GROUP_RULES.get(dataset)
    return f"{dataset}/{rule(item_id) if rule else item_id}"


def is_validation_group(group: str, fraction: float = 0.1) -> bool:
    h = int(hashlib.sha1(group.encode()).hexdigest()[:8], 16)
    return (h % 1000) < fraction * 1000


@dataclass
class Item:
    dataset: str
    id: str
    split: str
    anatomy: str
    has_target: bool
    group: str
    hc_mm: Optional[float] = None  # the sonographers' head circumference (HC18 only)


def read_meta(root: str) -> List[Item]:
    items: List[Item] = []
    for name in sorted(os.listdir(root)):
        meta = os.path.join(root, name, "meta.csv")
        if not os.path.isfile(meta):
            continue
        with open(meta, newline="") as f:
            for row in csv.DictReader(f):
                items.append(
                    Item(
                        dataset=name,
                        id=row["id"],
                        split=row["split"],
                        anatomy=anatomy_key(row["anatomy"], row["structure"]),
                        has_target=row.get("has_target", "1").strip() != "0",
                        group=group_of(name, row["id"]),
                        hc_mm=float(row["hc_mm"]) if (row.get("hc_mm") or "").strip() else None,
                    )
                )
    return items


class InMemorySet:
    """Images and masks of a list of items as uint8 arrays [N, 256, 256], cached to an .npz."""

    def __init__(self, root: str, items: List[Item], cache: Optional[str] = None) -> None:
        self.items = items
        if cache and os.path.isfile(cache):
            z = np.load(cache)
            if len(z["images"]) == len(items):
                self.images, self.masks = z["images"], z["masks"]
                return
        self.images = np.zeros((len(items), 256, 256), np.uint8)
        self.masks = np.zeros((len(items), 256, 256), np.uint8)
        for k, it in enumerate(items):
            img = Image.open(os.path.join(root, it.dataset, "img", it.id + ".jpg")).convert("L")
            msk = Image.open(os.path.join(root, it.dataset, "mask", it.id + ".png")).convert("L")
            self.images[k] = np.asarray(img.resize((256, 256)))
            self.masks[k] = (np.asarray(msk.resize((256, 256), Image.NEAREST)) > 127).astype(np.uint8)
        if cache:
            os.makedirs(os.path.dirname(cache) or ".", exist_ok=True)
            np.savez(cache, images=self.images, masks=self.masks)

    @classmethod
    def from_pack(cls, path: str, role: str) -> "InMemorySet":
        """The items of one role ("train" or "validation") of a pack written by medus.pack."""
        from .pack import read_pack

        items, images, masks = read_pack(path, role)
        ds = cls.__new__(cls)
        ds.items, ds.images, ds.masks = items, images, masks
        return ds

    def by_anatomy(self) -> Dict[str, List[int]]:
        out: Dict[str, List[int]] = {}
        for k, it in enumerate(self.items):
            out.setdefault(it.anatomy, []).append(k)
        return out
