"""NIR exchange measured on Fashion-MNIST: ours → NIR → ours, and snnTorch → NIR → ours.

* trained: each workload's LIF network trained for ``--steps`` (cached) is simulated in
  Brian2 directly (:func:`snn.trained.from_spiking_sequential`) and after a trip through a
  NIR file (:func:`snn.nir_bridge.to_nir`, ``nir.write``, ``nir.read``,
  :func:`snn.nir_bridge.from_nir`), on ``--limit`` test images (default all);
* converted: the converted network (``--convert-steps``, ``--convert-limit`` images, seed 0)
  run by :class:`snn.convert.ConvertedNetwork` and by the LIFNetwork imported from its NIR
  graph (:func:`snn.nir_bridge.converted_to_nir`), the same input spikes;
* snnTorch: an MLP 784-128-10 of ``snntorch.Leaky`` neurons (reset to zero, as its NIR
  export says) trained for one epoch with snnTorch for ``--snntorch-steps`` steps, simulated
  by snnTorch (spike-count readout) and, exported by ``snntorch.export_to_nir``, by ours.

    python experiments/nir_round_trip.py --workloads mlp-fmnist cnn-fmnist

Writes ``out/nir_round_trip.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import nir
import torch
from torch import nn

from neuro import workloads
from neuro.provenance import provenance
from neuro.workloads import dataset_for, trained_model
from neuro.workloads.snn_training import default_recipe, trained_snn
from snn.convert import convert
from snn.nir_bridge import converted_to_nir, from_nir, to_nir
from snn.trained import from_spiking_sequential


def trained_trip(name: str, steps: int, limit: int | None) -> dict:
    w = workloads.get(name)
    ts = trained_snn(w, default_recipe(w, steps))
    x, y = dataset_for(w).tensors("test", limit=limit)
    net = ts.net.double()
    direct = from_spiking_sequential(net, w.input_shape)
    a = direct.run(x, steps, chunk=1000)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{name}.nir"
        nir.write(str(path), to_nir(net, w.input_shape))
        size = path.stat().st_size
        back = from_nir(path)
    b = back.run(x, steps, chunk=1000)
    return {"steps": steps, "images": len(y), "nir_file_bytes": size,
            "accuracy_ours": float(a.accuracy(y.numpy())[-1]),
            "accuracy_via_nir": float(b.accuracy(y.numpy())[-1]),
            "equal_predictions": float((a.predictions[-1] == b.predictions[-1]).mean()),
            "synaptic_events_ours": a.synaptic_events, "synaptic_events_via_nir": b.synaptic_events,
            "spikes_ours": a.spikes, "spikes_via_nir": b.spikes}  # fmt: skip


def converted_trip(name: str, steps: int, limit: int) -> dict:
    w = workloads.get(name)
    ds = dataset_for(w)
    tm = trained_model(w)
    x_cal, _ = ds.tensors("train", limit=500)
    x, y = ds.tensors("test", limit=limit)
    net = convert(tm.model, x_cal)
    a = net.run(x, steps, seed=0)
    back = from_nir(converted_to_nir(net, tm.model))
    b = back.run(x, steps, seed=0)
    return {"steps": steps, "images": len(y),
            "accuracy_ours": float(a.accuracy(y.numpy())[-1]),
            "accuracy_via_nir": float(b.accuracy(y.numpy())[-1]),
            "equal_predictions": float((a.predictions[-1] == b.predictions[-1]).mean()),
            "synaptic_events_ours": a.synaptic_events, "synaptic_events_via_nir": b.synaptic_events,
            "spikes_ours": a.spikes, "spikes_via_nir": b.spikes}  # fmt: skip


def snntorch_trip(steps: int, limit: int | None) -> dict:
    import snntorch as snn
    from snntorch import utils
    from snntorch.export_nir import export_to_nir

    ds = dataset_for(workloads.get("mlp-fmnist"))
    x_tr, y_tr = ds.tensors("train")
    x, y = ds.tensors("test", limit=limit)
    x_tr, x = x_tr.reshape(len(x_tr), -1), x.reshape(len(x), -1)
    torch.manual_seed(0)
    kw = dict(init_hidden=True, reset_mechanism="zero", reset_delay=False)
    full = lambda n, v: torch.full((n,), v)  # noqa: E731
    net = nn.Sequential(nn.Linear(784, 128), snn.Leaky(beta=full(128, 0.9), threshold=full(128, 1.0), **kw),
                        nn.Linear(128, 10), snn.Leaky(beta=full(10, 0.9), threshold=full(10, 1.0), output=True, **kw))  # fmt: skip

    def counts(xb):
        utils.reset(net)
        c = 0
        for _ in range(steps):
            c = c + net(xb)[0]
        return c

    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(0)
    t0, c0 = time.perf_counter(), time.process_time()
    order = torch.randperm(len(y_tr), generator=gen)
    for i in range(0, len(y_tr), 128):  # one epoch, snnTorch's spike-count cross-entropy
        idx = order[i : i + 128]
        opt.zero_grad()
        nn.functional.cross_entropy(counts(x_tr[idx]), y_tr[idx]).backward()
        opt.step()
    train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
    with torch.no_grad():
        ref = torch.cat([counts(x[i : i + 1000]) for i in range(0, len(y), 1000)])
    acc_ref = float((ref.argmax(1) == y).float().mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = export_to_nir(net, x[0])
    ours = from_nir(graph)
    r = ours.run(x, steps, chunk=1000)
    return {"steps": steps, "images": len(y), "train_time_s": train_s, "train_cpu_s": train_cpu,
            "nodes": {k: type(v).__name__ for k, v in graph.nodes.items()},
            "accuracy_snntorch": acc_ref, "accuracy_ours": float(r.accuracy(y.numpy())[-1]),
            "equal_predictions": float((r.predictions[-1] == ref.argmax(1).numpy()).mean()),
            "output_spikes_snntorch": int(ref.sum()), "output_spikes_ours": r.spikes[-1]}  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", nargs="*", default=["mlp-fmnist", "cnn-fmnist"])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--convert-steps", type=int, default=32)
    ap.add_argument("--convert-limit", type=int, default=1000)
    ap.add_argument("--snntorch-steps", type=int, default=8)
    ap.add_argument("--parts", nargs="+", default=["trained", "converted", "snntorch"])
    ap.add_argument("--out", type=Path, default=Path("out/nir_round_trip.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out = json.loads(args.out.read_text()) if args.out.is_file() else {}
    out["provenance"] = provenance()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.workloads:
        if "trained" in args.parts:
            out[f"trained/{name}"] = trained_trip(name, args.steps, args.limit)
            print(name, "trained", out[f"trained/{name}"], flush=True)
            args.out.write_text(json.dumps(out, indent=1))
        if "converted" in args.parts:
            out[f"converted/{name}"] = converted_trip(name, args.convert_steps, args.convert_limit)
            print(name, "converted", out[f"converted/{name}"], flush=True)
            args.out.write_text(json.dumps(out, indent=1))
    if "snntorch" in args.parts:
        out["snntorch/mlp-784-128-10"] = snntorch_trip(args.snntorch_steps, args.limit)
        print("snntorch", out["snntorch/mlp-784-128-10"], flush=True)
    args.out.write_text(json.dumps(out, indent=1, default=int))
    return out


if __name__ == "__main__":
    main()
