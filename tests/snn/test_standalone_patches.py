"""The text patches :mod:`snn.backend` applies to Brian2's generated C++ (no Brian2 build).

The patched loops are compiled with the system's C++ compiler (about 1 s each) and run
on small inputs: they must visit the same synapses and report the same spikes, in the
same order, as the loops Brian2 generates.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from snn.backend import _blocked_threshold, _read_runs

CXX = shutil.which("g++") or shutil.which("c++")
needs_cxx = pytest.mark.skipif(CXX is None, reason="no C++ compiler")

#: A code object as Brian2's ``synapses.cpp`` template generates it (the loop of the
#: branch for code that touches pre- or postsynaptic variables), with a body that
#: records the synapses it visits.
_SYNAPSES = """\
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <vector>
struct Pathway { std::vector<int> q; std::vector<int>* peek() { return &q; } } syn_pre;
double _ptr_array_syn_w[64];
std::vector<int> visited;
void _run_syn_pre_codeobject()
{
    {
    std::vector<int> *_spiking_synapses = syn_pre.peek();
    const int _num_spiking_synapses = _spiking_synapses->size();
    {
        for(int _spiking_synapse_idx=0;
            _spiking_synapse_idx<_num_spiking_synapses;
            _spiking_synapse_idx++)
        {
            const size_t _idx = (*_spiking_synapses)[_spiking_synapse_idx];
            const size_t _vectorisation_idx = _idx;
            double w = _ptr_array_syn_w[_idx];
            if (w >= 0) { visited.push_back((int)_idx); }
            _ptr_array_syn_w[_idx] = w + 1;
        }
    }
    }
}
int main(int argc, char** argv)
{
    for (int k=1; k<argc; k++) syn_pre.q.push_back(atoi(argv[k]));
    _run_syn_pre_codeobject();
    for (size_t k=0; k<visited.size(); k++) printf("%d ", visited[k]);
    return 0;
}
"""

#: A code object as Brian2's ``threshold.cpp`` template generates it, with refractoriness.
_THRESHOLD = """\
#include <cstdio>
#include <cstdint>
#include <cstdlib>
const size_t N = NEURONS;
double _ptr_array_v[N];
double _ptr_array_lastspike[N];
char _ptr_array_not_refractory[N];
int32_t _ptr_array__spikespace[N + 1];
void _run_thresholder()
{
    const double t = 1.0;
    const double _lio_1 = 0.5;
    long _count = 0;
    for(size_t _idx=0; _idx<N; _idx++)
    {
        const size_t _vectorisation_idx = _idx;
        const char not_refractory = _ptr_array_not_refractory[_idx];
        const double v = _ptr_array_v[_idx];
        char _cond;
        if(!not_refractory)
            _cond = (v > _lio_1) && false;
        else
            _cond = (v > _lio_1) && true;

        if(_cond) {
            _ptr_array__spikespace[_count++] = _idx;
            _ptr_array_not_refractory[_idx] = false;
            _ptr_array_lastspike[_idx] = t;
        }
    }
    _ptr_array__spikespace[N] = _count;
}
int main(int argc, char** argv)
{
    for (size_t k=0; k<N; k++)
    {
        _ptr_array_v[k] = atof(argv[1 + 2 * k]);
        _ptr_array_not_refractory[k] = (char)atoi(argv[2 + 2 * k]);
    }
    _run_thresholder();
    for (long k=0; k<_ptr_array__spikespace[N]; k++) printf("%d ", _ptr_array__spikespace[k]);
    for (size_t k=0; k<N; k++) printf("%d ", (int)_ptr_array_not_refractory[k]);
    return 0;
}
"""


def _run(source: str, args: list[str], tmp_path) -> list[int]:
    src, exe = tmp_path / "t.cpp", tmp_path / "t"
    src.write_text(source)
    subprocess.run([CXX, "-O2", "-std=c++11", "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe), *args], check=True, capture_output=True, text=True)
    return [int(v) for v in out.stdout.split()]


@needs_cxx
def test_queue_loop_reads_runs_as_pairs_and_single_indices_in_order(tmp_path):
    # A slot with a run 3..5 (~3, 6), a single synapse 9, a run 10..11 (~10, 12), a single
    # 0: Brian2's loop (single indices only) and the patched one visit 3 4 5 9 10 11 0.
    patched = _read_runs(_SYNAPSES)
    assert patched is not None and "__builtin_prefetch(&_ptr_array_syn_w[_ahead])" in patched
    queue = [~3, 6, 9, ~10, 12, 0]
    assert _run(patched, [str(v) for v in queue], tmp_path) == [3, 4, 5, 9, 10, 11, 0]
    singles = [3, 4, 5, 9, 10, 11, 0]
    assert _run(patched, [str(v) for v in singles], tmp_path) == singles
    assert _run(_SYNAPSES, [str(v) for v in singles], tmp_path) == singles
    # a long slot, so that the prefetch reads ahead (past the first eight numbers)
    runs = [(k, k + 1 + k % 3) for k in range(0, 60, 4)]
    queue = [v for a, b in runs for v in ((a,) if b == a + 1 else (~a, b))]
    want = [k for a, b in runs for k in range(a, b)]
    assert _run(patched, [str(v) for v in queue], tmp_path) == want


@needs_cxx
@pytest.mark.parametrize("n", [1, 64, 150])
def test_blocked_threshold_reports_the_same_spikes_in_order(tmp_path, n):
    # Blocks of 64 neurons are tested at once; a block with a crossing is walked one by
    # one: the same spike indices in the same order and the same refractory flags.
    code = _THRESHOLD.replace("NEURONS", str(n))
    patched = _blocked_threshold(code)
    assert patched is not None and "_any |= _cond" in patched
    rng = np.random.default_rng(n)
    v = np.where(rng.random(n) < 0.05, 0.9, 0.1)  # a few above the threshold 0.5
    v[n // 2] = 0.9
    ref = (rng.random(n) < 0.8).astype(int)
    ref[n // 2] = 1  # at least one spike
    args = [s for k in range(n) for s in (repr(float(v[k])), str(ref[k]))]
    out = _run(patched, args, tmp_path)
    assert out == _run(code, args, tmp_path)
    spikes = [k for k in range(n) if v[k] > 0.5 and ref[k]]
    assert spikes and out[: len(spikes)] == spikes


def test_blocked_threshold_leaves_random_or_writing_conditions_alone():
    # A condition that draws random numbers (the per-step Poisson input) or writes must
    # be evaluated once per neuron and step: not patched.
    rand = _THRESHOLD.replace("(v > _lio_1)", "(_rand(_vectorisation_idx) < v)")
    assert _blocked_threshold(rand) is None
    writes = _THRESHOLD.replace(
        "const double v = _ptr_array_v[_idx];",
        "const double v = _ptr_array_v[_idx];\n        _ptr_array_lastspike[_idx] = v;",
    )
    assert _blocked_threshold(writes) is None
    assert _read_runs("no queue loop here") is None
