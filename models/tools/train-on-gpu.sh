#!/bin/bash
# One training run on a lent GPU machine that has only this checkout (no ../shared): reads the pack
# written beforehand by `python3 -m medus.pack ... --out .gpu/pack.npz --with-validation` (carried
# along as .gpu/), warm-starts from the shipped weights and leaves best.pt, final.pt (final_ema.pt) and the log in
# $OUT (the device tool's output folder; /tmp/medus-out elsewhere). This is how v1.4 was trained (its final.pt):
#   MINUTES=9.0 LR=5e-4 FETAL_HEAD_WEIGHT=4 EMA=0.999 bash models/tools/train-on-gpu.sh           # then, on the same machine,
#   RESUME=1 MINUTES=12.0 LR=5e-4 FETAL_HEAD_WEIGHT=4 EMA=0.999 bash models/tools/train-on-gpu.sh # a 3-minute restart (not kept)
# PYTHON picks the interpreter (default python3, the one with torch on the GPU machines); LR, BATCH,
# FETAL_HEAD_WEIGHT (default 2) and FIRST_TRIMESTER_WEIGHT (default 3) change the recipe; EMA=0.999
# also keeps a moving average of the weights (final_ema.pt, validated alongside).
# APPEARANCE (default 0.35) is the probability of each scanner-appearance change per batch (medus/appearance.py),
# the augmentation model v2's presence head was tuned with; APPEARANCE=0 gives v1.4's recipe.
# The checkpoints load in Debian's torch 1.13 for the export (python3 -m medus.export).
set -o pipefail
OUT=${OUT:-/tmp/medus-out}
mkdir -p "$OUT"
cd "$(dirname "$0")/.." || exit 1
nvidia-smi -L 2>/dev/null
"${PYTHON:-python3}" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
extra=(--init-onnx medus-s-v1)
[ -n "$RESUME" ] && extra=(--resume)
[ -n "$EMA" ] && extra+=(--ema "$EMA")
PYTHONUNBUFFERED=1 "${PYTHON:-python3}" -m medus.train --pack ../.gpu/pack.npz --out /tmp/medus-run \
  --minutes "${MINUTES:-8}" --batch "${BATCH:-128}" --lr "${LR:-8e-4}" --val-every 1.5 --threads 8 \
  --anatomy-weight fetal-head="${FETAL_HEAD_WEIGHT:-2}" --first-trimester-weight "${FIRST_TRIMESTER_WEIGHT:-3}" --p-zoom 0.25 --p-appearance "${APPEARANCE:-0.35}" "${extra[@]}" 2>&1 | tee -a "$OUT/train.log"
rc=$?
for f in best.pt final.pt final_ema.pt; do [ -f /tmp/medus-run/$f ] && cp /tmp/medus-run/$f "$OUT/"; done
exit $rc
