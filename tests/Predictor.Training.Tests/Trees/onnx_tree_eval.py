#!/usr/bin/python3
"""Evaluates a Predictor GBDT ONNX file independently of the C# code and of ONNX Runtime (which Debian does not
package for Python): it parses the file with python3-onnx and interprets the few operators the exporter writes
(Concat, TreeEnsembleRegressor of ai.onnx.ml, Gather, Slice, Add, Sub, Identity) in numpy, walking every tree from the
attributes as the operator specification defines them (BRANCH_LEQ: x <= threshold goes to the true child).

Usage: onnx_tree_eval.py MODEL WINDOW_F32 CALENDAR_F32|- N OUT_F32
Inputs are raw little-endian float32 [N, W] and [N, C]; writes forecast then upper, each [N, H], to OUT_F32.
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def tree_ensemble(x, a):
    n_targets = a["n_targets"]
    modes = [m.decode() for m in a["nodes_modes"]]
    tree_ids = np.array(a["nodes_treeids"])
    node_ids = np.array(a["nodes_nodeids"])
    assert a.get("aggregate_function", b"SUM") == b"SUM"
    assert a.get("post_transform", b"NONE") == b"NONE"
    # Index (tree, node) -> position; the spec requires ids 0, 1, 2, ... within each tree.
    pos = {(int(t), int(i)): k for k, (t, i) in enumerate(zip(tree_ids, node_ids))}
    for t in set(tree_ids.tolist()):
        ids = sorted(i for (tt, i) in pos if tt == t)
        assert ids == list(range(len(ids))), f"tree {t}: node ids {ids[:5]}... do not count from 0"
    leaf_votes = {}
    for t, i, target, w in zip(a["target_treeids"], a["target_nodeids"], a["target_ids"], a["target_weights"]):
        leaf_votes.setdefault((t, i), []).append((target, np.float32(w)))
    out = np.zeros((x.shape[0], n_targets), dtype=np.float32)
    for row in range(x.shape[0]):
        for t in sorted(set(tree_ids.tolist())):
            k = pos[(t, 0)]
            while modes[k] != "LEAF":
                assert modes[k] == "BRANCH_LEQ", modes[k]
                v = x[row, a["nodes_featureids"][k]]
                if np.isnan(v):
                    go_true = a["nodes_missing_value_tracks_true"][k] == 1
                else:
                    go_true = v <= np.float32(a["nodes_values"][k])
                child = a["nodes_truenodeids"][k] if go_true else a["nodes_falsenodeids"][k]
                k = pos[(t, child)]
            for target, w in leaf_votes.get((t, int(node_ids[k])), []):
                out[row, target] += w
    base = np.array(a.get("base_values", [0.0] * n_targets), dtype=np.float32)
    return out + base


def main(model_path, window_path, calendar_path, n, out_path):
    model = onnx.load(model_path)
    g = model.graph
    values = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    inputs = {i.name: i for i in g.input}
    w = inputs["window"].type.tensor_type.shape.dim[1].dim_value
    values["window"] = np.fromfile(window_path, dtype="<f4").reshape(n, w)
    if "calendar" in inputs:
        c = inputs["calendar"].type.tensor_type.shape.dim[1].dim_value
        values["calendar"] = np.fromfile(calendar_path, dtype="<f4").reshape(n, c)
    for node in g.node:
        a = attrs(node)
        ins = [values[i] for i in node.input]
        if node.op_type == "Concat":
            r = np.concatenate(ins, axis=a["axis"])
        elif node.op_type == "TreeEnsembleRegressor":
            assert node.domain == "ai.onnx.ml"
            r = tree_ensemble(ins[0], a)
        elif node.op_type == "Gather":
            r = np.take(ins[0], ins[1], axis=a.get("axis", 0))
        elif node.op_type == "Slice":
            # Opset >= 10: starts, ends, optional axes and steps as inputs.
            starts, ends = ins[1], ins[2]
            axes = ins[3] if len(ins) > 3 else range(len(starts))
            steps = ins[4] if len(ins) > 4 else [1] * len(starts)
            index = [slice(None)] * ins[0].ndim
            for s_, e_, ax, st in zip(starts, ends, axes, steps):
                index[int(ax)] = slice(int(s_), int(e_), int(st))
            r = ins[0][tuple(index)]
        elif node.op_type == "Add":
            r = (ins[0] + ins[1]).astype(np.float32)
        elif node.op_type == "Sub":
            r = (ins[0] - ins[1]).astype(np.float32)
        elif node.op_type == "Identity":
            r = ins[0]
        else:
            raise SystemExit(f"unexpected operator {node.op_type}")
        values[node.output[0]] = r
    np.concatenate([values["forecast"].ravel(), values["upper"].ravel()]).astype("<f4").tofile(out_path)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
