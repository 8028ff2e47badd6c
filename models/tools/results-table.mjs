// Turns `medus eval --json` and `medus eval --hc --json` outputs into the model card's results
// tables, so the card quotes exactly what the app measured.
//   node models/tools/results-table.mjs eval.json hc-auto.json hc-box.json
import { readFileSync } from 'node:fs';

const [evalFile, ...hcFiles] = process.argv.slice(2);
const ev = JSON.parse(readFileSync(evalFile, 'utf8'));
const runs = ev.runs ?? [ev];
const names = [...new Set(runs.flatMap((r) => Object.keys(r.datasets)))];
const label = { box: 'Box', point: '1 click', point3: '3 clicks + refinement', auto: 'Automatic' };
const f = (x, d = 3) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const sg = (x) => `${x >= 0 ? '+' : ''}${f(x, 2)}`;
for (const metric of ['dice', 'iou', 'hd95']) {
  console.log(`\n**${metric === 'hd95' ? 'HD95 (pixels at 256×256, lower is better)' : metric === 'dice' ? 'Dice' : 'IoU'}**, test split\n`);
  console.log(`| prompt | ${names.join(' | ')} | mean |`);
  console.log(`|---|${names.map(() => '---').join('|')}|---|`);
  for (const r of runs) {
    console.log(`| ${label[r.prompt] ?? r.prompt} | ${names.map((n) => f(r.datasets[n]?.[metric], metric === 'hd95' ? 1 : 3)).join(' | ')} | ${f(r.mean[metric], metric === 'hd95' ? 1 : 3)} |`);
  }
}
console.log(`\n| dataset | test items with a target (n) |\n|---|---|`);
for (const n of names) console.log(`| ${n} | ${runs[0].datasets[n]?.n ?? '–'} |`);
const auto = runs.find((r) => r.prompt === 'auto');
if (auto?.no_target) console.log(`\nAutomatic mode on test images without a target: ${(100 * auto.no_target.empty_rate).toFixed(1)}% returned empty (n = ${auto.no_target.n}: ${Object.entries(auto.datasets).filter(([, d]) => d.no_target).map(([k, d]) => `${k} ${d.no_target.n}`).join(', ')}).`);
for (const h of hcFiles) {
  const r = JSON.parse(readFileSync(h, 'utf8'));
  console.log(`\nHC18 head circumference (${r.prompt}, n = ${r.n}): mean absolute error ${f(r.hc_mae_mm, 2)} mm, median ${f(r.hc_median_mm, 2)} mm, 95th percentile ${f(r.hc_p95_mm, 2)} mm; mean signed error ${sg(r.hc_mean_signed_mm)} mm; from the ground-truth masks ${f(r.gt_mask_hc_mae_mm, 2)} mm (signed ${sg(r.gt_mask_hc_mean_signed_mm)} mm); no head found in ${r.not_found}.${r.gt_mask_outline_offset_px === undefined ? '' : ` Outline offset from the reference ellipse: model ${sg(r.hc_outline_offset_px)} px, ground-truth masks ${sg(r.gt_mask_outline_offset_px)} px.`}`);
  if (r.by_reference_hc) console.log(`By reference HC: ${r.by_reference_hc.map((s) => `${s.range}: n ${s.n}, mean ${f(s.hc_mae_mm ?? NaN, 2)} mm, median ${f(s.hc_median_mm ?? NaN, 2)} mm, not found ${s.not_found}`).join('; ')}.`);
}
