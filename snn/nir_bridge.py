"""NIR exchange: our spiking networks to NIR graphs, and NIR graphs into Brian2.

NIR (Pedersen et al., Nat. Commun. 15:8122, 2024; PyPI ``nir``) describes a spiking
network as a graph of continuous-time nodes. This module is a Brian2 bridge to it:

* :func:`to_nir` writes a directly trained network (:class:`snn.lif.SpikingSequential`)
  and :func:`converted_to_nir` a converted one (:class:`snn.convert.ConvertedNetwork` with
  its torch model); both keep the conv, pooling and linear modules as NIR nodes.
* :func:`from_nir` reads a graph (an ``nir.NIRGraph`` or a file written by ``nir.write``)
  into a :class:`snn.trained.LIFNetwork`: the affine nodes between two neuron nodes
  (``Affine``, ``Linear``, ``Conv2d``, ``AvgPool2d``, ``SumPool2d``, ``Flatten``,
  ``Scale``, ``Delay``; several edges into one node are summed, NIR's
  ``Sum``) are composed into one sparse or dense map in float64, and each neuron node
  (``LIF``, ``CubaLIF``, ``IF``; ``LI`` and ``I`` as the output) becomes a layer of
  :class:`snn.trained.Neurons`. With ``synapse=`` a device synapse's weights can be
  applied by the caller to the composed maps (``LIFNetwork.layers``); the bridge itself
  runs ideal synapses.

Discretisation (forward Euler with step ``dt``, as snnTorch's and Norse's NIR importers):
``LIF``: ``β = 1 - dt/τ``, the input scaled by ``r·dt/τ`` (folded into the incoming map),
``dt/τ · v_leak`` added per step; ``CubaLIF``: ``α = 1 - dt/τ_syn``, ``β = 1 - dt/τ_mem``,
the input scaled by ``w_in·dt/τ_syn · r·dt/τ_mem``, ``dt/τ_mem · v_leak`` per step;
``IF``: ``β = 1``, input × ``r·dt``; ``LI``/``I``: the same without threshold. A neuron
spikes when ``v > v_threshold`` and is set to ``v_reset``; spikes travel within the step.
``dt`` defaults to the graph's ``metadata["dt"]``, else 1e-4 s (snnTorch's exporter
writes ``τ = dt/(1 - β)`` with that ``dt`` and ``r = τ/dt``, which makes the gains 1).

What NIR cannot say, and what we put in ``metadata`` (other tools ignore it): reset by
subtraction (``metadata["reset"] = "subtract"``) and a ``≥`` threshold
(``metadata["threshold"] = ">="``) of converted networks, and the input coding
(graph ``metadata["input"]``: ``"graded"`` or ``"bernoulli"``). A tool that ignores them
resets to ``v_reset`` and compares strictly, a different network.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path
from typing import Any

import nir
import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from devices.validation import ConfigError
from snn.lif import SpikingSequential, segments
from snn.trained import LIFNetwork, Neurons

__all__ = ["to_nir", "converted_to_nir", "from_nir", "DEFAULT_DT_S"]

#: Time step assumed when the graph does not say (snnTorch's exporter's ``dt``), s.
DEFAULT_DT_S = 1e-4
_NEURONS = (nir.LIF, nir.CubaLIF, nir.IF, nir.LI, nir.I)
_AFFINE = (nir.Affine, nir.Linear, nir.Conv2d, nir.AvgPool2d, nir.SumPool2d, nir.Flatten,
           nir.Scale, nir.Delay)  # fmt: skip
_ALLOWED = ("Input, Output, Affine, Linear, Conv2d, AvgPool2d, SumPool2d, Flatten, Scale, "
            "Delay, LIF, CubaLIF, IF, LI, I (edges into one node are summed)")  # fmt: skip
_BATCH_VALUES = 2**21


# -- export ------------------------------------------------------------------------------
def _module_node(m: nn.Module, shape: tuple[int, ...]) -> nir.NIRNode | None:
    f64 = lambda t: t.detach().double().numpy().copy()  # noqa: E731
    if isinstance(m, nn.Conv2d):
        bias = f64(m.bias) if m.bias is not None else np.zeros(m.out_channels)
        return nir.Conv2d(input_shape=tuple(shape[1:]), weight=f64(m.weight),
                          stride=tuple(m.stride), padding=tuple(m.padding),
                          dilation=tuple(m.dilation), groups=m.groups, bias=bias)  # fmt: skip
    if isinstance(m, nn.AvgPool2d):
        pair = lambda v: np.array(v if isinstance(v, tuple) else (v, v))  # noqa: E731
        stride = m.kernel_size if m.stride is None else m.stride
        return nir.AvgPool2d(pair(m.kernel_size), pair(stride), pair(m.padding))
    if isinstance(m, nn.Flatten):
        start = m.start_dim - 1 if m.start_dim > 0 else m.start_dim
        end = m.end_dim - 1 if m.end_dim > 0 else m.end_dim
        return nir.Flatten(input_type={"input": np.array(shape)}, start_dim=start, end_dim=end)
    if isinstance(m, nn.Linear):
        bias = f64(m.bias) if m.bias is not None else np.zeros(m.out_features)
        return nir.Affine(weight=f64(m.weight), bias=bias)
    if isinstance(m, nn.Identity | nn.Dropout):
        return None  # identity at inference: no node
    raise ConfigError(
        f"to_nir: module {type(m).__name__} has no NIR node here; allowed: Conv2d, "
        "AvgPool2d, Flatten, Linear, Identity, Dropout and ReLU (the neurons)"
    )


def _chain(nodes: dict, edges: list, prev: str, name: str, node: nir.NIRNode) -> str:
    nodes[name] = node
    edges.append((prev, name))
    return name


@torch.no_grad()
def _export(
    segs: list[nn.Sequential], in_shape: tuple[int, ...], neuron, out_gain_dt: float,
    scales: list[tuple[float, float]] | None, delays: list[int], dt: float, meta: dict,
) -> nir.NIRGraph:  # fmt: skip
    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type=np.array(in_shape))}
    edges: list[tuple[str, str]] = []
    prev, shape = "input", tuple(in_shape)
    x = torch.zeros(1, *in_shape, dtype=torch.float64)
    for k, seg in enumerate(segs):
        if delays[k]:
            prev = _chain(
                nodes, edges, prev, f"delay{k}", nir.Delay(np.full(shape, delays[k] * dt))
            )
        if scales and scales[k][0] != 1.0:
            prev = _chain(
                nodes, edges, prev, f"scale_in{k}", nir.Scale(np.full(shape, scales[k][0]))
            )
        for j, m in enumerate(seg):
            node = _module_node(m, shape)
            if node is not None:
                prev = _chain(nodes, edges, prev, f"l{k}_{j}", node)
            x = copy.deepcopy(m).double()(x)
            shape = tuple(x.shape[1:])
        if scales:
            prev = _chain(
                nodes, edges, prev, f"scale_out{k}", nir.Scale(np.full(shape, scales[k][1]))
            )
        last = k == len(segs) - 1
        node = nir.I(r=np.full(shape, out_gain_dt / dt)) if last else neuron(shape)
        prev = _chain(nodes, edges, prev, "readout" if last else f"neurons{k}", node)
    _chain(nodes, edges, prev, "output", nir.Output(output_type=np.array(shape)))
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"dt": dt, **meta})
    return graph


def to_nir(net: SpikingSequential, in_shape: tuple[int, ...], *, dt: float = DEFAULT_DT_S) -> nir.NIRGraph:  # fmt: skip
    """A directly trained network as a NIR graph.

    Parameters
    ----------
    net : SpikingSequential
        The trained network (its modules and :class:`snn.lif.LIFConfig`).
    in_shape : tuple of int
        One input's shape, e.g. ``(1, 28, 28)``.
    dt : float
        Seconds per time step the continuous parameters are written for: ``τ = dt/(1-β)``,
        ``r = τ/dt`` (so that the input gain ``r·dt/τ`` is 1), as snnTorch's exporter.

    Returns
    -------
    nir.NIRGraph
        ``input → [conv/pool/flatten/affine nodes → LIF (IF when β = 1)] × L → … → I →
        output``; the last node is the non-spiking integrator of the readout (``r = 1/dt``).
    """
    c = net.lif

    def neuron(shape):
        ones = np.ones(shape)
        meta = {"reset": "subtract"} if c.reset == "subtract" else {}
        if c.beta == 1.0:
            return nir.IF(r=ones / dt, v_threshold=ones * c.threshold, v_reset=0 * ones,
                          metadata=meta)  # fmt: skip
        tau = dt / (1.0 - c.beta)
        return nir.LIF(tau=ones * tau, r=ones * tau / dt, v_leak=0 * ones,
                       v_threshold=ones * c.threshold, v_reset=0 * ones, metadata=meta)  # fmt: skip

    segs = segments(net.model)
    return _export(segs, tuple(in_shape), neuron, 1.0, None, [0] * len(segs), dt,
                   {"input": "graded", "producer": "neuro-cosim snn.nir_bridge.to_nir"})  # fmt: skip


def converted_to_nir(net: Any, model: nn.Module, *, dt: float = DEFAULT_DT_S) -> nir.NIRGraph:
    """A converted network (:func:`snn.convert.convert`) as a NIR graph.

    Parameters
    ----------
    net : snn.convert.ConvertedNetwork
        A chain (no skips, no max pooling); its ``lams`` scale the segments.
    model : torch.nn.Module
        The model it was converted from (its conv, pooling and linear modules are written
        as nodes; the balancing as ``Scale`` nodes around each segment:
        ``W' = W λ_{l-1}/λ_l``, ``b' = b/λ_l``).
    dt : float
        Seconds per time step (``IF`` with ``r = 1/dt``: gain 1).

    Returns
    -------
    nir.NIRGraph
        IF neurons with threshold 1, ``metadata`` reset by subtraction and ``≥``; a
        ``Delay`` of one step before every hidden layer (a converted network delivers a
        spike in the step after it was sent); graph ``metadata["input"] = "bernoulli"``.
    """
    segs = segments(model)
    kinds = getattr(net, "kinds", None)
    if len(segs) != len(net.lams) or (
        kinds and any(k not in ("input", "if", "out") for k in kinds)
    ):
        raise ConfigError(
            "converted_to_nir: the converted network must be a chain with one scale factor "
            f"per segment of the model; got {len(segs)} segments and {len(net.lams)} factors"
        )
    lams = [1.0, *net.lams]
    scales = [(lams[k], 1.0 / lams[k + 1]) for k in range(len(segs))]

    def neuron(shape):
        ones = np.ones(shape)
        return nir.IF(r=ones / dt, v_threshold=ones, v_reset=0 * ones,
                      metadata={"reset": "subtract", "threshold": ">="})  # fmt: skip

    delays = [1] * (len(segs) - 1) + [0]
    return _export(segs, tuple(net.in_shape), neuron, 1.0, scales, delays, dt,
                   {"input": "bernoulli", "producer": "neuro-cosim snn.nir_bridge.converted_to_nir"})  # fmt: skip


# -- import ------------------------------------------------------------------------------
def _pair(v: Any) -> tuple[int, int]:
    a = np.asarray(v).reshape(-1)
    return (int(a[0]), int(a[0])) if a.size == 1 else (int(a[0]), int(a[1]))


def _apply(node: nir.NIRNode, x: torch.Tensor, linear: bool) -> torch.Tensor:
    """The node on a batch ``x`` (float64); ``linear``: with its offsets zeroed."""
    t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    if isinstance(node, nir.Affine | nir.Linear):
        w = t(node.weight)
        y = x @ w.T
        if isinstance(node, nir.Affine) and not linear:
            y = y + t(node.bias)
        return y
    if isinstance(node, nir.Conv2d):
        pad = node.padding if isinstance(node.padding, str) else _pair(node.padding)
        bias = None if linear else t(node.bias)
        return torch.nn.functional.conv2d(x, t(node.weight), bias, _pair(node.stride), pad,
                                          _pair(node.dilation), node.groups)  # fmt: skip
    if isinstance(node, nir.AvgPool2d | nir.SumPool2d):
        k = _pair(node.kernel_size)
        y = torch.nn.functional.avg_pool2d(x, k, _pair(node.stride), _pair(node.padding))
        return y * (k[0] * k[1]) if isinstance(node, nir.SumPool2d) else y
    if isinstance(node, nir.Flatten):
        start = node.start_dim + 1 if node.start_dim >= 0 else node.start_dim
        end = node.end_dim + 1 if node.end_dim >= 0 else node.end_dim
        return torch.flatten(x, start, end)
    if isinstance(node, nir.Scale):
        return x * t(node.scale).reshape(x.shape[1:])
    return x  # Delay (the delay is counted by the caller)


def _snap(a: np.ndarray) -> np.ndarray:
    """Round values within 1e-12 of a 12-digit decimal to it (undo ``dt/(dt/(1-β))``)."""
    r = np.round(a, 12)
    return np.where(np.abs(a - r) <= 1e-12 * np.maximum(1.0, np.abs(r)), r, a)


def _param(node: nir.NIRNode, name: str, shape: tuple[int, ...], n: int) -> np.ndarray:
    a = np.asarray(getattr(node, name), dtype=float)
    if a.size == n:
        return a.reshape(-1)
    try:
        return np.broadcast_to(a, shape).reshape(-1)  # scalars, per-channel (C, 1, 1) values
    except ValueError:
        raise ConfigError(
            f"from_nir: {type(node).__name__}.{name} has shape {a.shape}; the layer has "
            f"shape {shape}"
        ) from None


def from_nir(
    graph: nir.NIRGraph | str | Path, *, dt: float | None = None, input: str | None = None
) -> LIFNetwork:
    """A NIR graph as a Brian2 :class:`snn.trained.LIFNetwork` (see the module docstring).

    Parameters
    ----------
    graph : nir.NIRGraph or path
        The graph, or a file written by ``nir.write``.
    dt : float, optional
        Seconds per step (default: ``graph.metadata["dt"]``, else :data:`DEFAULT_DT_S`).
    input : str, optional
        ``"graded"`` or ``"bernoulli"`` (default: ``graph.metadata["input"]``, else graded:
        the values given to ``run`` reach the first nodes at every step).

    Raises
    ------
    ConfigError
        A node type outside the list above, a graph that is not a chain of neuron layers
        (each layer fed by exactly one earlier layer), or delays that are not whole
        steps or differ within one map.
    """
    if isinstance(graph, str | Path):
        graph = nir.read(str(graph))
    meta = _meta(graph)
    dt = float(dt if dt is not None else meta.get("dt", DEFAULT_DT_S))
    coding = input or str(meta.get("input", "graded"))
    nodes, edges = graph.nodes, graph.edges
    for name, node in nodes.items():
        if not isinstance(node, (nir.Input, nir.Output, *_NEURONS, *_AFFINE)):
            raise ConfigError(
                f"from_nir: node {name!r} ({type(node).__name__}) is not supported; "
                f"allowed: {_ALLOWED}"
            )
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
        succs[a].append(b)
    inputs = [k for k, v in nodes.items() if isinstance(v, nir.Input)]
    outputs = [k for k, v in nodes.items() if isinstance(v, nir.Output)]
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConfigError(
            f"from_nir: the graph must have one Input and one Output node; got "
            f"{len(inputs)} and {len(outputs)}"
        )
    src_shape = tuple(int(s) for s in np.asarray(nodes[inputs[0]].input_type["input"]).reshape(-1))

    def sources(name: str, seen=()) -> set[str]:
        """Input or neuron nodes reached backwards from ``name`` through affine nodes."""
        if name in seen:
            raise ConfigError(f"from_nir: a cycle through {name!r} without a neuron node "
                              "(recurrent subgraphs are not supported)")  # fmt: skip
        out: set[str] = set()
        for p in preds[name]:
            if isinstance(nodes[p], (nir.Input, *_NEURONS)):
                out.add(p)
            else:
                out |= sources(p, (*seen, name))
        return out

    # the chain of populations: input → neuron layer → … → output
    chain, shapes = [inputs[0]], {inputs[0]: src_shape}
    layers, neurons, delays = [], [], []
    while True:
        cur = chain[-1]
        nxt = _next_population(cur, nodes, succs)
        if nxt is None:
            break
        srcs = sources(nxt)
        if srcs != {cur}:
            raise ConfigError(
                f"from_nir: node {nxt!r} is fed by {sorted(srcs)}; only chains of neuron "
                "layers (each fed by the one before) are supported"
            )
        w, b, shape, delay = _compose(nxt, cur, shapes[cur], nodes, preds, dt)
        shapes[nxt] = shape
        node = nodes[nxt]
        is_last = _next_population(nxt, nodes, succs) is None
        if not is_last and isinstance(node, nir.LI | nir.I):
            raise ConfigError(f"from_nir: {type(node).__name__} node {nxt!r} must be the last")
        nr, w, b = _neurons(node, shape, w, b, dt)
        layers.append((w, b))
        neurons.append(nr)
        delays.append(delay)
        chain.append(nxt)
    if len(chain) == 1:
        raise ConfigError("from_nir: no neuron node between Input and Output")
    last = chain[-1]
    if preds[outputs[0]] != [last]:
        # the output reads an affine map of the last layer: integrate it (potential readout)
        if sources(outputs[0]) != {last}:
            raise ConfigError("from_nir: the Output must be fed by the last neuron layer")
        w, b, shape, delay = _compose(outputs[0], last, shapes[last], nodes, preds, dt)
        layers.append((w, b))
        neurons.append(Neurons("integrator", w.shape[0], beta=1.0))
        delays.append(delay)
    readout = "potential" if neurons[-1].kind == "integrator" else "spikes"
    return LIFNetwork(layers, neurons, input=coding, readout=readout, in_shape=src_shape,
                      delays=delays)  # fmt: skip


def _meta(node: Any) -> dict[str, Any]:
    """A node's metadata with HDF5's bytes decoded (``nir.read`` returns ``b"subtract"``)."""
    out = {}
    for k, v in (getattr(node, "metadata", None) or {}).items():
        if isinstance(v, np.ndarray) and v.shape == ():
            v = v[()]
        out[k] = v.decode() if isinstance(v, bytes) else v
    return out


def _next_population(cur: str, nodes: dict, succs: dict) -> str | None:
    """The first neuron node downstream of ``cur`` through affine nodes (None: the output)."""
    frontier, seen, found = list(succs[cur]), set(), []
    while frontier:
        n = frontier.pop(0)
        if n in seen:
            continue
        seen.add(n)
        if isinstance(nodes[n], _NEURONS):
            found.append(n)
        elif not isinstance(nodes[n], nir.Output):
            frontier += succs[n]
    if len(set(found)) > 1:
        raise ConfigError(
            f"from_nir: {cur!r} feeds several neuron nodes {sorted(set(found))}; only chains "
            "are supported"
        )
    return found[0] if found else None


@torch.no_grad()
def _compose(target: str, source: str, in_shape: tuple[int, ...], nodes: dict, preds: dict,
             dt: float):  # fmt: skip
    """``W, b`` (float64) of the affine sub-graph from ``source`` into ``target``."""
    delays: set[int] = set()

    def value(name: str, x: torch.Tensor, linear: bool, memo: dict, acc: int) -> torch.Tensor:
        if name == source:
            delays.add(acc)
            return x
        if name in memo:
            return memo[name]
        node = nodes[name]
        d = 0
        if isinstance(node, nir.Delay):
            steps = np.asarray(node.delay, dtype=float) / dt
            if not np.allclose(steps, np.round(steps.reshape(-1)[0]), atol=1e-9):
                raise ConfigError(f"from_nir: Delay {name!r} is not one whole number of steps "
                                  f"of dt = {dt} s")  # fmt: skip
            d = int(round(float(steps.reshape(-1)[0])))
        parts = [value(p, x, linear, memo, acc + d) for p in preds[name]]
        total = parts[0]
        for p in parts[1:]:
            total = total + p  # several edges into one node: NIR sums them
        out = _apply(node, total, linear)
        memo[name] = out
        return out

    def f(x: torch.Tensor, linear: bool) -> torch.Tensor:
        parts = [value(p, x, linear, {}, 0) for p in preds[target]]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total

    n_in = int(np.prod(in_shape))
    try:
        y0 = f(torch.zeros(1, *in_shape, dtype=torch.float64), False)
    except RuntimeError as e:
        raise ConfigError(
            f"from_nir: the nodes into {target!r} cannot take shape {in_shape}: "
            f"{str(e).strip().splitlines()[0]}"
        ) from None
    if len(delays) > 1:
        raise ConfigError(f"from_nir: paths into {target!r} have different delays {sorted(delays)}")
    out_shape = tuple(y0.shape[1:])
    n_out = int(np.prod(out_shape))
    b = y0.reshape(-1).numpy().copy()
    batch = max(1, _BATCH_VALUES // (n_in + n_out))
    rows, cols, vals = [], [], []
    for start in range(0, n_in, batch):
        m = min(batch, n_in - start)
        e = torch.zeros(m, n_in, dtype=torch.float64)
        e[torch.arange(m), torch.arange(start, start + m)] = 1.0
        y = f(e.reshape(m, *in_shape), True).reshape(m, n_out)
        r, j = torch.nonzero(y, as_tuple=True)
        rows.append(j.numpy())
        cols.append(r.numpy() + start)
        vals.append(y[r, j].numpy())
    nnz = int(sum(len(v) for v in vals))
    coo = (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols)))
    if nnz == n_in * n_out:
        w: Any = np.zeros((n_out, n_in))
        w[coo[1]] = coo[0]
    else:
        w = sp.csc_array(coo, shape=(n_out, n_in))
    return w, b, out_shape, next(iter(delays))


def _scale_rows(w: Any, g: np.ndarray) -> Any:
    if np.all(g == 1.0):
        return w
    return sp.csc_array(sp.diags(g) @ w) if sp.issparse(w) else w * g[:, None]


def _neurons(node: nir.NIRNode, shape: tuple[int, ...], w: Any, b: np.ndarray, dt: float):
    """The layer's :class:`Neurons`, and ``W, b`` with the input gain folded in."""
    n = int(np.prod(shape))
    p = lambda name: _param(node, name, shape, n)  # noqa: E731
    meta = _meta(node)
    reset = "subtract" if meta.get("reset") == "subtract" else "zero"
    strict = meta.get("threshold", ">") != ">="
    if isinstance(node, nir.CubaLIF):
        a_syn, a_mem = dt / p("tau_syn"), dt / p("tau_mem")
        gain = _snap(p("w_in") * a_syn * p("r") * a_mem)
        nr = Neurons("cuba", n, beta=_snap(1 - a_mem), alpha=_snap(1 - a_syn),
                     threshold=p("v_threshold"), v_reset=p("v_reset"), reset=reset,
                     strict=strict, drive=a_mem * p("v_leak"))  # fmt: skip
        return nr, _scale_rows(w, gain), b * gain
    if isinstance(node, nir.LIF | nir.LI):
        a = dt / p("tau")
        gain = _snap(p("r") * a)
        bias = b * gain + a * p("v_leak")
        if isinstance(node, nir.LI):
            return Neurons("integrator", n, beta=_snap(1 - a)), _scale_rows(w, gain), bias
        nr = Neurons("lif", n, beta=_snap(1 - a), threshold=p("v_threshold"),
                     v_reset=p("v_reset"), reset=reset, strict=strict)  # fmt: skip
        return nr, _scale_rows(w, gain), bias
    gain = _snap(p("r") * dt)  # IF, I
    if isinstance(node, nir.I):
        return Neurons("integrator", n, beta=1.0), _scale_rows(w, gain), b * gain
    nr = Neurons("lif", n, beta=1.0, threshold=p("v_threshold"), v_reset=p("v_reset"),
                 reset=reset, strict=strict)  # fmt: skip
    return nr, _scale_rows(w, gain), b * gain
