"""Reads what train_ab_eval.sh wrote (per series and variant a/b: the --json table and the last --out line) and prints
the comparison table and the geometric means adoption rules read, over the 20 series of sessions 3-12 (tags x_ and
h_), their 14 held-out ones (h_), the 23 fresh ones of session 13 (f_) and all 37 held-out ones (h_ and f_):
the selected model's MASE at step 12 divided by seasonal naive's, its mean MASE over steps 1-12, and the gbdt
and ssa candidates' MASE at step 12."""
import json, math, re, sys, pathlib

if len(sys.argv) != 2:
    sys.exit("usage: train_ab_eval.py OUT_DIR (the folder train_ab_eval.sh wrote)")
out = pathlib.Path(sys.argv[1])
if not (out / "a.flags").is_file() or not any(out.glob("*.a.json")):
    sys.exit(f"{out}: no results of train_ab_eval.sh here (a.flags and TAG.a.json files); run train_ab_eval.sh with this OUT_DIR first.")
missing = [f.name.replace(".a.json", ".b.json") for f in out.glob("*.a.json") if not (out / f.name.replace(".a.json", ".b.json")).is_file()]
if missing:
    sys.exit(f"{out}: variant b is missing for {', '.join(sorted(missing))}; the run stopped early, run train_ab_eval.sh again.")
flags = {v: (out / f"{v}.flags").read_text().strip() or "(defaults)" for v in ("a", "b")}
rows = []
for f in sorted(out.glob("*.a.json")):
    tag = f.name.split(".")[0]
    row = {"tag": tag, "held_out": tag.startswith("h_"), "fresh": tag.startswith("f_")}
    for v in ("a", "b"):
        table = json.loads((out / f"{tag}.{v}.json").read_text())["series"][0]
        models = table["models"]
        sel = next(m for m in models if m["role"] == "selected")
        snaive = next(m for m in models if m["model"] == "seasonal_naive")
        gbdt = next((m for m in models if m["model"] == "gbdt"), None)
        ssa = next((m for m in models if m["model"] == "ssa"), None)
        line = (out / f"{tag}.{v}.txt").read_text()
        kind = re.search(r"selected (\S+(?: \[[^\]]*\])?)", line).group(1)
        row[v] = {"kind": kind, "m12": sel["mase_at_h"], "mean": sel["mase"], "snaive12": snaive["mase_at_h"],
                  "gbdt12": gbdt["mase_at_h"] if gbdt else float("nan"), "ssa12": ssa["mase_at_h"] if ssa else float("nan")}
        row["name"] = table["name"]
    rows.append(row)


def gm(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


print(f"a: {flags['a']}\nb: {flags['b']}\n")
print("| series | kind a | kind b | MASE@12 a | MASE@12 b | mean MASE 1–12 a | b | gbdt MASE@12 a | b | s-naive MASE@12 |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    a, b = r["a"], r["b"]
    print(f"| {r['name']}{' (held out)' if r['held_out'] else ' (fresh)' if r['fresh'] else ''} | {a['kind']} | {b['kind'] if b['kind'] != a['kind'] else 'same'} | "
          f"{a['m12']:.3f} | {b['m12']:.3f} | {a['mean']:.3f} | {b['mean']:.3f} | {a['gbdt12']:.3f} | {b['gbdt12']:.3f} | {a['snaive12']:.3f} |")
print()
groups = (("all 20", [r for r in rows if not r["fresh"]]), ("held-out 14", [r for r in rows if r["held_out"]]),
          ("fresh", [r for r in rows if r["fresh"]]), ("held-out and fresh", [r for r in rows if r["held_out"] or r["fresh"]]))
for label, subset in groups:
    if not subset:
        continue
    parts = []
    for key, name in (("ratio", "selected MASE@12 / s-naive"), ("mean", "selected mean MASE 1-12"), ("gbdt12", "gbdt MASE@12"),
                      ("ssa12", "ssa MASE@12")):
        vals = {}
        for v in ("a", "b"):
            xs = [r[v]["m12"] / r[v]["snaive12"] if key == "ratio" else r[v][key] for r in subset]
            vals[v] = gm(xs) if all(x == x for x in xs) else float("nan")
        parts.append(f"{name} {vals['a']:.4f} -> {vals['b']:.4f} ({(vals['b'] / vals['a'] - 1) * 100:+.2f} %)")
    print(f"{label} ({len(subset)}): " + "; ".join(parts))
