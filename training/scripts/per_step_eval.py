"""Reads the --json tables and --out lines per_step_eval.sh wrote; prints the comparison table and the adoption rule."""
import json, math, re, sys, pathlib

out = pathlib.Path(sys.argv[1])
rows = []
for f in sorted(out.glob("*.whole-horizon.json")):
    tag = f.name.split(".")[0]
    row = {"tag": tag, "held_out": tag.startswith("h_")}
    for mode in ("whole-horizon", "per-step"):
        table = json.loads((out / f"{tag}.{mode}.json").read_text())["series"][0]
        sel = next(m for m in table["models"] if m["role"] == "selected")
        snaive = next(m for m in table["models"] if m["model"] == "seasonal_naive")
        line = (out / f"{tag}.{mode}.txt").read_text()
        kind = re.search(r"selected (\S+(?: \[[^\]]*\])?)", line).group(1)
        row[mode] = (kind, sel["mase_at_h"], sel["mase"], snaive["mase_at_h"])
        row["name"] = table["name"]
    rows.append(row)

def gm(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))

print("| series | whole-horizon kind | per-step kinds (steps 1–12) | MASE@12 old | MASE@12 new | mean MASE 1–12 old | new | s-naive MASE@12 |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    o, n = r["whole-horizon"], r["per-step"]
    print(f"| {r['name']}{' (held out)' if r['held_out'] else ''} | {o[0]} | {n[0] if n[0] != o[0] else 'same'} | {o[1]:.3f} | {n[1]:.3f} | {o[2]:.3f} | {n[2]:.3f} | {o[3]:.3f} |")
for label, subset in (("all 20", rows), ("held-out 14", [r for r in rows if r["held_out"]])):
    r12o = gm([r["whole-horizon"][1] / r["whole-horizon"][3] for r in subset])
    r12n = gm([r["per-step"][1] / r["per-step"][3] for r in subset])
    mo = gm([r["whole-horizon"][2] for r in subset])
    mn = gm([r["per-step"][2] for r in subset])
    ok = r12n < r12o and mn <= 1.01 * mo
    print(f"{label} ({len(subset)}): geomean MASE@12 / s-naive {r12o:.4f} -> {r12n:.4f}; geomean mean MASE {mo:.4f} -> {mn:.4f} ({(mn / mo - 1) * 100:+.2f} %); rule {'holds' if ok else 'fails'}")
