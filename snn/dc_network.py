"""The Brian2 network of Diehl & Cook (2015) for one chunk of images.

One run shows up to ``n_images`` images, each in a presentation of ``t_present`` with
Poisson input and ``t_rest`` without. The input rates per intensity unit come from a 2-D
``TimedArray`` with one row per image; the weights, thresholds and membrane potentials are
passed in at the start of the run and read back at its end, so that the C++ standalone
binary is compiled once per shape (:class:`snn.backend.StandaloneProject`) and re-run per
chunk.

Inside a run, as in the paper's code: weight normalisation before every presentation
(while learning) through a running per-neuron sum of the incoming weights, adaptive
thresholds, lateral inhibition, STDP, and the intensity raise. A one-neuron controller
group counts the excitatory spikes of the current presentation; at the end of each
presentation (its last time step) it either shows the same image again with intensity
``+ intensity_step`` (fewer than ``min_spikes`` spikes and fewer than ``max_repeats``
repeats so far; paper sec. 2.5) or moves on to the next image at the starting intensity.
The input group reads the controller's image index (a row of the ``TimedArray``),
intensity and time step through linked variables. After the last image the controller
stops the run (``Network._globally_stopped``, the flag Brian2's own interrupt handler
uses), so a run lasts exactly as many presentations as it needed; its duration is only
an upper bound (``n_images × (1 + max_repeats)`` presentations). Between runs (in
:mod:`snn.diehl_cook`): the device drift.

Input synapses: every input reaches every excitatory neuron with its own delay, uniform
in 0-10 ms (the original code's ``delay['ee_input']`` and Brian2's own example,
``examples/frompapers/Diehl_Cook_2015.py``: ``delay = 'rand() * 10 * ms'``). They are
stored grouped by delay per input (:meth:`DCNetwork._layout`), so that the spike queue
pushes and the ``on_pre`` code walks blocks of adjacent synapses.

Integration: exponential Euler at ``dt`` for the neurons by default
(``DiehlCookConfig.method``; forward Euler, Brian 1's and so the original code's, is an
option and can be unstable for these conductance equations); Brian2's ``refractory`` with
``(unless refractory)`` clamps ``v`` like Brian 1's refractoriness.
"""

from __future__ import annotations

import warnings
from typing import Any

import brian2 as b2
import numpy as np
from brian2 import Hz, second

from snn.backend import StandaloneProject, check_backend, insert_seed, use_runtime
from snn.config import DiehlCookConfig
from snn.synapse import IdealSynapse

__all__ = ["DCNetwork", "stop_run"]

#: ``theta``, ``post1`` and ``post2`` decay linearly (``dtheta/dt = -plastic * theta /
#: tau_theta``, ``dpost/dt = -post / tau_post``): one multiplication per step by the
#: integration method's factor, in a loop of their own (``_DECAY``), so that the state
#: update of ``v``, ``ge``, ``gi`` vectorises (GCC gives up on the loop with all six).
_EXC = """
dv/dt = ((v_rest_e - v) + ge * (e_exc - v) + gi * (e_inh_e - v)) / tau_e : volt (unless refractory)
dge/dt = -ge / tau_ge : 1
dgi/dt = -gi / tau_gi : 1
theta : volt
post1 : 1
post2 : 1
colsum : 1
nratio : 1
plastic : 1 (shared)
"""
_DECAY = """
theta = theta * (1 + plastic * (f_theta - 1))
post1 = post1 * f_post1
post2 = post2 * f_post2
"""
#: No synapse targets the inhibitory neurons' inhibitory conductance (the code connects
#: Ae -> Ai and Ai -> Ae only), so their ``gi`` (code ``neuron_eqs_i``) is always 0 and is
#: left out: the same ``v``, one decay and one array fewer per step.
_INH = """
dv/dt = ((v_rest_i - v) + ge * (e_exc - v)) / tau_i : volt (unless refractory)
dge/dt = -ge / tau_ge : 1
"""

#: The controller (one neuron): image index in the run's list, intensity of the current
#: presentation, repeats of the current image so far, excitatory spikes and time steps
#: of the current presentation, presentations completed, images in this run.
_CTL = """
img : integer
level : 1
rep : integer
nspk : integer
step : integer
npres : integer
n_img : integer
halted : integer
"""
#: Run at the end of every time step (after all spikes of the step are counted): at the
#: end of a presentation decide between a re-show at ``level + intensity_step`` and the
#: next image at ``level0``; stop the run once every image is done.
_CTL_STEP = """
step += 1
_end = int(step >= steps_image)
_silent = _end * int(nspk < min_spikes) * int(rep < max_repeats)
_next = _end - _silent
img += _next
rep = (rep + 1) * _silent + rep * (1 - _end)
level = level + intensity_step * _silent + (level0 - level) * _next
nspk = nspk * (1 - _end)
npres += _end
step = step * (1 - _end)
halted = stop_run(int(img >= n_img))
"""


#: The time step within the current presentation, from the clock (presentations start at
#: multiples of ``t_image_stepped``): equal to the controller's ``step`` during the
#: thresholds, but an expression of the shared ``t`` only, so the generated threshold code
#: computes it once per step instead of loading the linked ``step_c`` once per input.
_STEP = "(int(t / dt + 0.5) % steps_image)"


def _stop_run_numpy(cond):
    if np.any(cond):
        b2.Network._globally_stopped = True
    return cond


#: ``stop_run(cond)``: ends the current run after this time step when ``cond`` is non-zero
#: (returns ``cond``). C++: sets ``Network::_globally_stopped``, which the standalone
#: network loop checks before every step (Brian2's SIGINT handler sets the same flag);
#: numpy runtime: ``Network._globally_stopped``, checked by ``Network.run`` likewise.
stop_run = b2.Function(
    _stop_run_numpy, arg_units=[1], return_unit=1, arg_types=["integer"],
    return_type="integer", stateless=False,
)  # fmt: skip
stop_run.implementations.add_implementation(
    "cpp",
    "static inline int stop_run(const int cond)\n"
    "{\n    if (cond) Network::_globally_stopped = true;\n    return cond;\n}\n",
    compiler_kwds={"headers": ['"network.h"']},
)


def _stable_repr(namespace: dict[str, Any]) -> str:
    """A namespace's repr with functions by name (a Function's repr holds its address)."""
    return repr(sorted((k, f"Function {k}" if isinstance(v, b2.Function) else v)
                       for k, v in namespace.items()))  # fmt: skip


def compile_flags() -> dict[str, list[str]]:
    """Brian2's default C++ flags without ``-fno-finite-math-only``, linked ``-ffast-math``.

    Without ``-fno-finite-math-only`` GCC calls glibc's vector ``exp`` (libmvec, declared
    only under ``__FAST_MATH__``), so the neuron updates vectorise; linking with
    ``-ffast-math`` adds ``crtfastmath.o``, which flushes denormals to zero (a decaying
    conductance or trace otherwise spends its last ~36 time constants in denormals,
    each operation on them ~100 cycles). The network uses no infinities or NaNs.
    """
    args = [a for a in b2.prefs["codegen.cpp.extra_compile_args_gcc"]
            if a != "-fno-finite-math-only"]  # fmt: skip
    return {"compile_args": args, "link_args": ["-ffast-math"]}


class DCNetwork:
    """Builds and runs the Diehl & Cook network for chunks of up to ``n_images`` images.

    Parameters
    ----------
    cfg : DiehlCookConfig
        Parameters.
    n_input, n_exc : int
        Input pixels and excitatory (= inhibitory) neurons.
    synapse : IdealSynapse or DeviceSynapse
        The plastic input synapse.
    n_images : int
        Images per run at most (the chunk).
    backend : {"standalone", "numpy"}
        See :mod:`snn.backend`.
    learning : bool
        Build the learning network (STDP, normalisation, adaptive thresholds; switched off
        per run by ``plastic = 0``). ``False`` builds the inference network: the input
        synapses only transmit (:meth:`~snn.synapse.IdealSynapse.inference_code`), the
        thresholds stay fixed, the same state variables go in and come out. With learning
        off both give the same spike statistics; the inference network is cheaper per
        synaptic event (no update code and, for device synapses, no random draws).
    by_delay : bool
        Store each input's synapses sorted by delay (default; see :meth:`_layout`).
        ``False`` stores them source-major (``k = i * n_exc + j``), with the same
        delays: the same events in the same order, slower.
    """

    def __init__(
        self,
        cfg: DiehlCookConfig,
        n_input: int,
        n_exc: int,
        synapse: IdealSynapse,
        n_images: int,
        backend: str = "standalone",
        *,
        learning: bool = True,
        by_delay: bool = True,
    ) -> None:
        check_backend(backend)
        self.learning = bool(learning)
        self.cfg, self.n_input, self.n_exc = cfg, n_input, n_exc
        self.synapse, self.n_images, self.backend = synapse, n_images, backend
        #: Stepped time steps per presentation (the rest beyond ``t_rest_step`` is one
        #: analytic jump at the start of the next presentation; see ``_jumps``).
        self.steps_image = int(round(float(cfg.t_image_stepped / cfg.dt)))
        self.steps_on = int(round(float(cfg.t_present / cfg.dt)))
        self.jump = float(cfg.t_skip / second) > 0
        #: Upper bound of a run: every image shown 1 + max_repeats times. The controller
        #: stops the run as soon as the last image is done.
        self.max_presentations = n_images * (1 + cfg.max_repeats)
        self.duration = self.max_presentations * cfg.t_image_stepped
        #: Without delays the presynaptic trace lives in the input neurons (exactly
        #: equivalent, one trace per input instead of per synapse) and the synapses use
        #: Brian2's homogeneous-delay fast path.
        self.fast = float(cfg.delay_max / second) == 0.0
        if self.learning:
            self.code = synapse.code(
                cfg.stdp,
                transmit="ge_post += {w}",
                post_traces="neuron",
                pre_trace="neuron" if self.fast else "arrival",
                plastic="plastic_post",
                running_sum=True,
                clock="(t + toff_pre)" if self.jump else "t",
                norm_ratio="nratio_post",
            )
        else:
            self.code = synapse.inference_code(transmit="ge_post += {w}")
        self._project: StandaloneProject | None = None
        #: Seed of the synaptic delays (fixed per network, part of its shape).
        self.delay_seed = 12345
        self.by_delay = bool(by_delay)
        #: Input synapse ``s`` of the Brian2 object is synapse ``order[s]`` of the
        #: source-major order ``k = i * n_exc + j`` used for every per-synapse array
        #: outside this class (None on the fast path: the same order).
        self.order: np.ndarray | None = None
        #: Delay of each synapse (in the Brian2 object's order) in time steps.
        self.delay_steps: np.ndarray | None = None
        if not self.fast:
            self.order, self.delay_steps = self._layout()
        if backend == "standalone":
            spec = {
                "cfg": repr(cfg),
                "n_input": n_input,
                "n_exc": n_exc,
                "n_images": n_images,
                "code": [self.code.model, self.code.on_pre, self.code.on_post,
                         self.code.normalise, _stable_repr(self.code.namespace)],
                "controller": _CTL + _CTL_STEP,
                "exc": _EXC + _DECAY,
                "inh": _INH,
                "brian2": b2.__version__,
            }  # fmt: skip
            if not self.learning:
                spec["learning"] = False
            if not self.fast:
                spec["layout"] = "by-delay-1" if self.by_delay else "source-major-1"
            self._project = StandaloneProject(
                "dc", spec, self._construct_placeholder, **compile_flags()
            )

    # -- construction --------------------------------------------------------------
    def _layout(self) -> tuple[np.ndarray, np.ndarray]:
        """The input synapses' delays and the order they are stored in.

        Delays are uniform in ``[0, delay_max]`` (code: ``delay['ee_input'] = (0, 10)
        ms``), drawn once per network from ``delay_seed`` and rounded to time steps as
        Brian2's spike queue rounds them (``int(d / dt + 0.5)``). With ``by_delay``, each
        input's synapses are stored sorted by delay (then by target): the synapses that
        one input spike reaches in the same time step are then adjacent, so the spike
        queue pushes them as one block (the ``queue-runs`` patch of
        :mod:`snn.backend`) and the ``on_pre`` code reads and writes their weights and
        traces contiguously instead of one cache line each. The events of a time step
        are processed in the same order either way (by input, then by target).

        Returns
        -------
        order : numpy.ndarray
            ``(n_input * n_exc,)`` source-major index ``k = i * n_exc + j`` of each stored
            synapse.
        steps : numpy.ndarray
            ``(n_input * n_exc,)`` delay of each stored synapse in time steps.
        """
        c = self.cfg
        n = self.n_input * self.n_exc
        u = np.random.default_rng(self.delay_seed).random(n)
        steps = np.floor(u * float(c.delay_max / c.dt) + 0.5).astype(np.int64)
        if not self.by_delay:
            return np.arange(n), steps
        per_input = steps.reshape(self.n_input, self.n_exc)
        within = np.argsort(per_input, axis=1, kind="stable")
        order = (within + self.n_exc * np.arange(self.n_input)[:, None]).reshape(-1)
        return order, steps[order]

    def _stored(self, name: str, value: Any) -> Any:
        """A per-synapse array in the Brian2 object's order (others unchanged)."""
        if self.order is None or (name != "w" and name not in self.synapse.state_names):
            return value
        a = np.asarray(value)
        return a[self.order] if a.shape == self.order.shape else value

    def _natural(self, a: np.ndarray) -> np.ndarray:
        """A per-synapse array read from the Brian2 object, in source-major order."""
        if self.order is None:
            return a
        out = np.empty_like(a)
        out[self.order] = a
        return out

    def _namespace(self) -> dict[str, Any]:
        c = self.cfg
        ns = {name: getattr(c, name) for name in (
            "v_rest_e", "v_reset_e", "v_thresh_e", "tau_e", "theta_plus", "tau_theta",
            "theta_offset", "v_rest_i", "v_reset_i", "v_thresh_i", "tau_i", "tau_ge",
            "tau_gi", "e_exc", "e_inh_e", "e_inh_i", "w_ei", "w_ie", "norm_sum",
        )}  # fmt: skip
        ns.update(tau_post1=c.stdp.tau_post1, tau_post2=c.stdp.tau_post2)
        ns.update(  # one step of the linear decays (_DECAY)
            f_theta=self._factor(c.tau_theta, steps=1),
            f_post1=self._factor(c.stdp.tau_post1, steps=1),
            f_post2=self._factor(c.stdp.tau_post2, steps=1),
        )
        return ns

    def _factor(self, tau, method: str | None = None, steps: int | None = None) -> float:
        """What ``steps`` time steps (default: ``t_skip``) of the integration ``method``
        (default: ``cfg.method``) do to a variable decaying with ``tau``."""
        c = self.cfg
        n = int(round(float(c.t_skip / c.dt))) if steps is None else steps
        if (method or c.method) == "euler":
            return float((1 - float(c.dt / tau)) ** n)
        return float(np.exp(-n * float(c.dt / tau)))

    def _jumps(self) -> dict[str, str]:
        """Brian2 code of the analytic rest, per group (not at a run's first image: the
        state passed in has rested; :meth:`_rest` applies it to the state a run returns).

        Without input and below threshold every variable decays linearly; the factors
        are those of the group's integration method over the skipped steps, so with zero
        conductances the jump equals the stepping it replaces up to rounding.
        """
        c = self.cfg
        f = self._factor
        gate = "_j = int(t > 0 * second)\n"

        def decay(var: str, tau, extra: str = "") -> str:
            return f"{var} = {var} * (1 + _j{extra} * ({f(tau)!r} - 1))\n"

        exc = (
            gate
            + f"v = v_rest_e + (v - v_rest_e) * (1 + _j * ({f(c.tau_e)!r} - 1))\n"
            + decay("ge", c.tau_ge) + decay("gi", c.tau_gi)
            + decay("theta", c.tau_theta, " * plastic")
            + decay("post1", c.stdp.tau_post1) + decay("post2", c.stdp.tau_post2)
        )  # fmt: skip
        inh = (
            gate
            + f"v = v_rest_i + (v - v_rest_i) * (1 + _j * ({f(c.tau_i)!r} - 1))\n"
            + decay("ge", c.tau_ge)
        )  # fmt: skip
        out = {"exc": exc, "inh": inh}
        if self.fast:
            out["inp"] = (
                gate + f"pre = pre * (1 + _j * ({self._factor(c.stdp.tau_pre, 'exact')!r} - 1))\n"
            )
        return out

    def _rest(self, new: dict[str, Any], plastic: float) -> None:
        """The analytic rest after a run's last presentation, on the returned state."""
        c = self.cfg
        v_rest_e, v_rest_i = float(c.v_rest_e / b2.volt), float(c.v_rest_i / b2.volt)
        new["v_e"] = v_rest_e + (new["v_e"] - v_rest_e) * self._factor(c.tau_e)
        new["v_i"] = v_rest_i + (new["v_i"] - v_rest_i) * self._factor(c.tau_i)
        if plastic:
            new["theta"] = new["theta"] * self._factor(c.tau_theta)

    def _construct(self, rate_values: np.ndarray, state: dict[str, np.ndarray] | None):
        c, ns = self.cfg, self._namespace()
        # One clock for every per-step object: the network loop then advances one clock
        # instead of one per group (Brian2 gives each object with its own dt a clock).
        clock = b2.Clock(c.dt, name="clk")
        # Presentations start at multiples of t_image (the normalisation, the column-sum
        # reset and the input's rate update run then, on one clock).
        image_clock = b2.Clock(c.t_image_stepped, name="image_clk")
        # Row k of the TimedArray is image k's rate per intensity unit (pixel / 8 Hz); the
        # input reads row ``img`` by calling it at time ``img * dt`` (the array's dt).
        rates = b2.TimedArray(rate_values * Hz, dt=c.dt, name="rates")
        ctl = b2.NeuronGroup(1, _CTL, method="exact", name="ctl", clock=clock)
        ctl.run_regularly(_CTL_STEP, when="end", order=100, name="ctl_step")
        ctl.namespace.update(
            steps_image=self.steps_image, min_spikes=c.min_spikes,
            max_repeats=c.max_repeats, intensity_step=c.intensity_step,
            level0=c.intensity, stop_run=stop_run,
        )  # fmt: skip
        inp_eqs = (
            "run_seed : integer (shared)\nr : Hz\n"
            "img_c : integer (linked)\nlevel_c : 1 (linked)\nstep_c : integer (linked)\n"
        )
        if self.fast:
            inp_eqs += "dpre/dt = -pre / tau_pre : 1\n"
        rate_code = "r = rates(img_c * rates_dt, i) * level_c"
        if self.jump:  # physical time = t + toff (the skipped rests so far)
            inp_eqs += "toff : second (shared)\n"
            rate_code = "toff = t_skip * int(t / t_stepped + 0.5)\n" + rate_code
        reset = "pre = 1\n" if self.fast else ""
        if c.input_sampling == "interval":
            # A Bernoulli draw per step (probability p = r dt) fires after a geometric
            # number of steps: draw that number once per spike, K = floor(log(1 - U) /
            # log(1 - p)), P(K >= k) = (1 - p)^k. A zero-rate pixel never fires.
            inp_eqs += "nxt : integer\nlq : 1\n"
            draw = "int(clip(log(1 - rand()) / lq, 0, steps_image))"
            rate_code += (
                "\nlq = log(1 - clip(r * rates_dt, 1e-12, 1 - 1e-12))\n"
                "_on = int(r > 0 * Hz)\n"
                f"nxt = _on * {draw} + (1 - _on) * steps_image"
            )
            threshold = f"nxt == {_STEP} and nxt < steps_on"
            reset += f"nxt = step_c + 1 + {draw}\n"
        else:
            # Zero-rate pixels (most of an MNIST image) and the rest period draw no random
            # number: ``and`` short-circuits in the generated code.
            threshold = f"{_STEP} < steps_on and r > 0 * Hz and rand() < r * dt"
        inp = b2.NeuronGroup(
            self.n_input, inp_eqs, threshold=threshold, reset=reset, method="exact",
            namespace={"rates": rates, "tau_pre": c.stdp.tau_pre, "rates_dt": c.dt,
                       "steps_on": self.steps_on, "steps_image": self.steps_image,
                       "t_skip": c.t_skip,
                       "t_stepped": c.t_image_stepped},
            name="inp", clock=clock,
        )  # fmt: skip
        inp.img_c = b2.linked_var(ctl, "img")
        inp.level_c = b2.linked_var(ctl, "level")
        inp.step_c = b2.linked_var(ctl, "step")
        inp.run_regularly(rate_code, clock=image_clock, when="start", order=2,
                          name="inp_rate")  # fmt: skip
        exc = b2.NeuronGroup(
            self.n_exc, _EXC, threshold="v > v_thresh_e + theta - theta_offset",
            reset="v = v_reset_e\ntheta += plastic * theta_plus\npost1 = 1\npost2 = 1",
            refractory=c.refrac_e, method=c.method, namespace=ns, name="exc", clock=clock,
        )  # fmt: skip
        inh = b2.NeuronGroup(
            self.n_exc, _INH, threshold="v > v_thresh_i", reset="v = v_reset_i",
            refractory=c.refrac_i, method=c.method, namespace=ns, name="inh", clock=clock,
        )  # fmt: skip
        code = self.code
        syn = b2.Synapses(
            inp, exc, model=code.model, on_pre=code.on_pre, on_post=code.on_post or None,
            namespace={**code.namespace, "norm_sum": c.norm_sum, "delay_max": c.delay_max},
            name="syn", clock=clock,
        )  # fmt: skip
        if self.order is None:
            syn.connect()
        else:  # stored grouped by delay per input (see _layout)
            syn.connect(i=self.order // self.n_exc, j=self.order % self.n_exc)
            syn.delay = self.delay_steps * c.dt
            if "tpre" in syn.variables:
                syn.tpre = -1e9 * second  # no arrival yet: a zero presynaptic trace
        if code.normalise:  # before every presentation, re-shows included
            # the factor once per neuron, then one multiplication per synapse
            exc.run_regularly("nratio = norm_sum / (colsum + 1e-12)", clock=image_clock,
                              when="start", order=-1, name="nratio")  # fmt: skip
            syn.run_regularly(code.normalise, clock=image_clock, when="start", order=0,
                              name="norm")  # fmt: skip
        exc.run_regularly("colsum += plastic * (norm_sum - colsum)", clock=image_clock,
                          when="start", order=1, name="colsum_reset")  # fmt: skip
        if self.jump:  # the rest beyond t_rest_step, at the start of every presentation
            for group, code in self._jumps().items():
                {"exc": exc, "inh": inh, "inp": inp}[group].run_regularly(
                    code, clock=image_clock, when="start", order=-2, name=f"{group}_jump"
                )
        exc.run_regularly(_DECAY, when="groups", order=1, name="exc_decay")
        ei = b2.Synapses(exc, inh, on_pre="ge_post += w_ei", namespace=ns, name="ei",
                         clock=clock)  # fmt: skip
        ei.connect(j="i")
        ie = b2.Synapses(inh, exc, on_pre="gi_post += w_ie", namespace=ns, name="ie",
                         clock=clock)  # fmt: skip
        ie.connect(condition="i != j")
        count = b2.Synapses(exc, ctl, on_pre="nspk_post += 1", name="count", clock=clock)
        count.connect()
        mon_e = b2.SpikeMonitor(exc, name="mon_e")
        mon_in = b2.SpikeMonitor(inp, record=False, name="mon_in")
        mon_i = b2.SpikeMonitor(inh, record=False, name="mon_i")
        net = b2.Network(ctl, inp, exc, inh, syn, ei, ie, count, mon_e, mon_in, mon_i)
        h = dict(net=net, rates=rates, ctl=ctl, inp=inp, exc=exc, inh=inh, syn=syn, ei=ei,
                 ie=ie, mon_e=mon_e, mon_in=mon_in, mon_i=mon_i)  # fmt: skip
        if state is not None:  # runtime: set the values directly
            self._assign(h, state)
        return h

    def _construct_placeholder(self) -> dict[str, Any]:
        h = self._construct(np.zeros((self.n_images, self.n_input)), None)
        insert_seed(h["inp"])
        h["net"].run(self.duration)
        return h

    def _state_vars(self, h: dict[str, Any]) -> dict[str, Any]:
        v = {
            "w": h["syn"].w, "theta": h["exc"].theta,
            "v_e": h["exc"].v, "v_i": h["inh"].v, "colsum": h["exc"].colsum,
            "plastic": h["exc"].plastic, "seed": h["inp"].run_seed,
            "level": h["ctl"].level, "rep": h["ctl"].rep, "n_img": h["ctl"].n_img,
        }  # fmt: skip
        for name in self.synapse.state_names:
            v[name] = getattr(h["syn"], name)
        return v

    _UNITS = {"theta": b2.volt, "v_e": b2.volt, "v_i": b2.volt,
              "lastwrite": second}  # fmt: skip

    def _assign(self, h: dict[str, Any], state: dict[str, np.ndarray]) -> None:
        views = self._state_vars(h)
        for name, value in state.items():
            unit = self._UNITS.get(name)
            views[name][:] = value if unit is None else np.asarray(value) * unit

    # -- running -------------------------------------------------------------------
    def run(
        self,
        rate_values: np.ndarray,
        state: dict[str, Any],
        seed: int,
        *,
        n_img: int | None = None,
    ) -> dict[str, Any]:
        """Show images until each has had a presentation with enough spikes.

        Parameters
        ----------
        rate_values : numpy.ndarray
            Input rates per intensity unit in Hz, shape ``(n_images, n_input)``: row ``k``
            is image ``k`` (rows from ``n_img`` on are not shown).
        state : dict
            ``w``, ``theta`` (V), ``v_e``, ``v_i`` (V), ``colsum``,
            ``plastic`` (0 or 1), and the synapse's ``state_names`` (device synapses:
            ``drift`` and ``lastwrite`` (s); pairs also ``wm`` and ``driftm``);
            ``seed`` is added from ``seed``.
        seed : int
            Seeds this run's random numbers (Poisson inputs, stochastic pulses): in the
            standalone binary through the ``run_seed`` variable, in runtime mode through
            ``brian2.seed`` right before the run (Brian2's generator is global).
        n_img : int, optional
            Images to show (default: all ``n_images`` rows), each starting at intensity
            ``cfg.intensity``.

        Returns
        -------
        dict
            ``counts`` (``n_img`` × n_exc spike counts of each image's final
            presentation), ``shown`` (presentations per image), ``levels`` (final
            intensity per image), ``presentations``, ``run_s`` (simulated seconds),
            ``input_spikes``, ``inh_spikes``, ``exc_spikes`` (totals) and the new state
            (same keys as ``state``).
        """
        c = self.cfg
        n_img = self.n_images if n_img is None else int(n_img)
        if not 1 <= n_img <= self.n_images:
            raise ValueError(f"n_img must be in [1, {self.n_images}]; got {n_img}")
        if not self.learning and float(state.get("plastic", 0.0)) != 0.0:
            raise ValueError("the inference network runs with plastic = 0 only")
        state = dict(state, seed=seed, level=float(c.intensity), rep=0, n_img=n_img)
        state = {name: self._stored(name, value) for name, value in state.items()}
        if self.backend == "standalone":
            assert self._project is not None
            h = self._project._ensure()
            views = self._state_vars(h)
            args: dict[Any, Any] = {h["rates"]: rate_values * Hz}
            for name, value in state.items():
                unit = self._UNITS.get(name)
                args[views[name]] = value if unit is None else np.asarray(value) * unit
            self._project.run(args)
        else:
            use_runtime()
            h = self._construct(rate_values, None)
            self._assign(h, {k: v for k, v in state.items() if k != "seed"})
            b2.seed(seed)
            h["net"].run(self.duration, namespace={})
        out = self._collect(h, state, n_img)
        if self._project is not None:
            self._project.cleanup_run_args()
        return out

    def _collect(self, h: dict[str, Any], state: dict[str, Any], n_img: int) -> dict[str, Any]:
        c = self.cfg
        level0 = float(c.intensity)
        i = np.asarray(h["mon_e"].i[:], dtype=int)
        steps = np.rint(np.asarray(h["mon_e"].t[:] / c.dt)).astype(np.int64)
        npres = int(h["ctl"].npres[0])
        slot = np.minimum(steps // self.steps_image, max(npres - 1, 0))
        per_slot = np.zeros((max(npres, 1), self.n_exc), dtype=np.int64)
        np.add.at(per_slot, (slot, i), 1)
        # Replay the controller's decisions from the spike counts of each presentation:
        # the same integer rule, so the presentation of each image is known.
        counts = np.zeros((n_img, self.n_exc), dtype=np.int64)
        shown = np.zeros(n_img, dtype=np.int64)
        levels = np.zeros(n_img)
        k, rep, lvl = 0, 0, level0
        for s in range(npres):
            shown[k] += 1
            n = int(per_slot[s].sum())
            if n < c.min_spikes and rep < c.max_repeats:
                rep, lvl = rep + 1, lvl + c.intensity_step
            else:
                counts[k], levels[k] = per_slot[s], lvl
                k, rep, lvl = k + 1, 0, level0
        if k != n_img or int(h["ctl"].img[0]) != n_img:
            raise RuntimeError(
                f"Diehl & Cook run ended after {k} of {n_img} images "
                f"(controller at image {int(h['ctl'].img[0])}, {npres} presentations)"
            )
        new = {
            "w": self._natural(np.asarray(h["syn"].w[:], dtype=float)),
            "theta": np.asarray(h["exc"].theta[:] / b2.volt),
            "v_e": np.asarray(h["exc"].v[:] / b2.volt),
            "v_i": np.asarray(h["inh"].v[:] / b2.volt),
            "plastic": state["plastic"],
        }
        for name in self.synapse.state_names:
            unit = self._UNITS.get(name, 1)
            new[name] = self._natural(np.asarray(getattr(h["syn"], name)[:] / unit, dtype=float))
        if self.jump:
            self._rest(new, float(state["plastic"]))
            if "lastwrite" in new:  # simulated time -> physical time (skipped rests added)
                lw, t_st = new["lastwrite"], float(c.t_image_stepped / second)
                skipped = np.floor(lw / t_st + 1e-9) * float(c.t_skip / second)
                new["lastwrite"] = np.where(lw >= 0, lw + skipped, lw)
            thr = float((c.v_thresh_e - c.theta_offset) / b2.volt) + new["theta"]
            if np.any(thr <= float(c.v_rest_e / b2.volt)):
                warnings.warn(
                    f"{int(np.sum(thr <= float(c.v_rest_e / b2.volt)))} excitatory "
                    "neurons have a threshold at or below v_rest_e and would fire during "
                    "the rest that DiehlCookConfig.t_rest_step skips; set t_rest_step = "
                    "t_rest to step it",
                    RuntimeWarning,
                    stacklevel=3,
                )
        return {
            "counts": counts,
            "shown": shown,
            "levels": levels,
            "presentations": npres,
            "run_s": npres * float(c.t_image / second),
            "input_spikes": int(np.sum(h["mon_in"].count[:])),
            "inh_spikes": int(np.sum(h["mon_i"].count[:])),
            "exc_spikes": int(len(i)),
            "state": new,
        }

    @property
    def build_time_s(self) -> float | None:
        """Seconds the standalone build took in this process (None before it, or runtime)."""
        return None if self._project is None else self._project.build_time_s
