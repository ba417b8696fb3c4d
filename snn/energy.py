"""What a spiking chip pays: each chip's energy table, term by term, each with its source.

A chip's table (:class:`ChipEnergy`) prices what a simulation counts (:class:`Activity`):

=====================  ====================================================  ============
term                   charged per                                           group
=====================  ====================================================  ============
``synaptic_op_J``      synaptic event (one spike reaching one synapse)        compute
``neuron_update_*_J``  neuron and time step, active (it integrated input or   conversion
                       a bias) or idle
``spike_out_J``        spike a neuron emits (spike generation)               conversion
``message_J``          spike message sent to one destination core            movement
``hop_*_J``            message and mesh hop: inside a tile, east-west,        movement
                       north-south
``static_W``           second of the run (leakage, clock, idle power)         static
``control_W``          second of the run: the embedded management cores      static
                       (Loihi's x86) that run the host interface while a
                       model runs
``host_io_J_per_byte`` byte crossing the chip boundary (input spikes in,      off_chip
                       results out)
=====================  ====================================================  ============

The groups are those of :data:`neuro.result.ENERGY_GROUPS` (written out here: ``snn``
does not import ``neuro``). A term a chip's sources do not give is ``None`` and its entry
in ``sources`` says why; a figure that already contains other terms (TrueNorth's dynamic
energy per event contains the neuron updates and routing of the networks it was measured
on; SpiNNaker's measured energy per event is the whole machine's) names them in
``includes`` and they are reported as included, never as 0.

Spike routing needs a placement: :func:`mesh_routes` places each population on whole
cores in order (``neurons_per_core``), cores on tiles (``cores_per_tile``) and tiles on a
mesh ``mesh_width`` wide in raster order, and counts, per spike, one message to every core
of the target population that can hold one of its targets (``min(cores, fan-out)``: an
upper bound for convolutions), each travelling the mean Manhattan distance between the
source and target cores' tiles, x hops east-west and y hops north-south (dimension-order
routing). A network larger than one chip continues on the same mesh (chip-to-chip links
priced as on-chip hops: a lower bound).

Placement also respects a core's synaptic memory (``synapses_per_core``: Loihi holds
128 KB of synaptic state per core, Davies 2018 constraint 2, i.e. 65,536 dense 16-bit
synapses), so a population with a large fan-in spreads over more cores than its neurons
need (Blouw et al. 2019 put the keyword spotter's 390 x 256 layer on two cores).

Time (:func:`inference_time`): a chip with a fixed real-time tick (``tick_s``: TrueNorth's
1 kHz, SpiNNaker's 1 ms, BrainScaleS-2's 1 ms biological step at 1,000x = 1 us) takes one
tick per time step. Loihi has no tick: its asynchronous mesh ends a time step when every
core has finished its synaptic and neuron work and a mesh-wide barrier has completed
(Davies 2018). Its step time is ``max over cores (synaptic ops x t_syn + neuron updates x
t_active/idle) + the longest route's latency + the barrier``, with the per-operation times of
Davies 2018, Table 2 and the mean activity per step spread evenly over a population's
cores (a lower bound: the busiest step and the busiest core take longer). Static and
control power are charged over ``steps x step time``; ``dt_s`` overrides it.

Chips (:func:`chips_needed`): static and control power are per chip, and a network larger
than one chip draws them on every chip it occupies: Loihi's placed cores over its 128
cores per chip; BrainScaleS-2's neuron circuits (512 per chip, a neuron of fan-in F taking
``ceil(F / 256)`` merged circuits) and TrueNorth's 1,048,576 neurons per chip (256 axons
per core: a neuron of fan-in F takes ``ceil(F / 256)``, a lower bound, as the partial sums
need combining). The chips
run in parallel (time unchanged); chip-to-chip links are not priced.

Device-backed synapses (``snn:<device>``, :func:`device_chip`) pay the crossbar periphery
per event, not a bare cell read: a spike drives its row in every column tile (word-line
driver and wire, priced by :func:`crossbar.cost.matrix_cost` for a 1-bit input), each
synaptic event reads the cells of one weight (both polarities), and every output column
that received input in a time step is sensed once (one ADC conversion, priced by the same
model) with its lane's static power over that sensing (lanes are power-gated between
steps); the neurons behind the columns, the mesh and the chip's idle power are Loihi's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from devices.base import DeviceModel
from devices.validation import ConfigError, param, require, validate

__all__ = [
    "Activity",
    "ChipEnergy",
    "PRESETS",
    "preset",
    "device_chip",
    "mesh_routes",
    "Routes",
    "crossbar_counts",
    "TERMS",
    "TERM_GROUP",
    "Timing",
    "inference_time",
    "place",
    "chips_needed",
    "HOST_LINK_J_PER_BYTE",
    "AER_BYTES",
]

#: Every priced term of a chip's table and the energy group it is charged to.
TERM_GROUP: dict[str, str] = {
    "synaptic_op_J": "compute",
    "neuron_update_active_J": "conversion",
    "neuron_update_idle_J": "conversion",
    "spike_out_J": "conversion",
    "message_J": "movement",
    "hop_in_tile_J": "movement",
    "hop_ew_J": "movement",
    "hop_ns_J": "movement",
    "static_W": "static",
    "control_W": "static",
    "host_io_J_per_byte": "off_chip",
}
TERMS: tuple[str, ...] = tuple(TERM_GROUP)
#: The per-operation times a chip without a tick needs (:func:`inference_time`).
_STEP_FIELDS = ("synaptic_op_s", "neuron_update_active_s", "neuron_update_idle_s",
                "hop_in_tile_s", "hop_ew_s", "hop_ns_s", "barrier_one_tile_s",
                "barrier_full_chip_s")  # fmt: skip
_GROUPS = ("compute", "conversion", "movement", "static", "off_chip")

#: One byte over an off-chip spike link: TrueNorth's chip-to-chip interface, 26 pJ per bit
#: at 1.8 V, measured (Merolla et al., Science 345:668, 2014, suppl. S5) = 208 pJ/byte. The
#: one measured off-chip spike-link figure in our sources; used for every chip's host link.
HOST_LINK_J_PER_BYTE = 8 * 26e-12
#: Bytes per spike crossing the chip boundary: one 32-bit address-event packet (the width
#: of TrueNorth's spike packet, Merolla 2014 suppl. Fig. S4); a result value is 4 bytes too.
AER_BYTES = 4

_MEROLLA = "Merolla et al., Science 345:668 (2014)"
_AKOPYAN = "Akopyan et al., IEEE TCAD 34(10):1537 (2015), sec. VII"
_DAVIES = "Davies et al., IEEE Micro 38(1):82 (2018), Table 2 (pre-silicon, 0.75 V)"
#: Frady et al., NICE 2020 (Pohoiki Springs): the embedded x86 cores draw 2.09-2.14 W on
#: the 32-chip runs of Table 1, i.e. 65-67 mW per chip while a model runs.
_FRADY = (
    "Frady et al., Neuromorphic Nearest Neighbor Search Using Intel's Pohoiki Springs, "
    "NICE 2020, Table 1: x86 power 2.09-2.14 W over 32 Loihi chips"
)
#: Blouw et al. 2019 report the same mechanism on one chip (idle after a model has run minus
#: idle from boot: about 70 mW, "the embedded x86 processors ... activated upon executing a
#: model"); not used as the figure: their run is the held-out keyword-spotting check.
LOIHI_X86_W = 2.09 / 32
_SANAFE = (
    "Boyle et al., SANA-FE, IEEE TCAD 44(8):3165 (2025), Loihi table fitted to Loihi "
    "energy-probe measurements (sanafe/examples/loihi.yaml)"
)
_HOST = (
    "host link: 26 pJ/bit, TrueNorth's measured chip-to-chip interface (Merolla 2014, "
    "suppl. S5), x 8 bits"
)
#: SpiNNaker 2 per-operation energies: Hoeppner et al., "Dynamic power management for
#: neuromorphic many-core systems", IEEE TCAS-I 66(8):2973 (2019), arXiv:1903.08941 (a 28 nm
#: SLP test chip with 4 processing elements, 0.7-1.0 V at 125-500 MHz under DVFS), as
#: tabulated in nengo/keras-spiking, keras_spiking/model_energy.py, ModelEnergy.devices
#: ["spinnaker2"] = dict(energy_per_synop=450e-12, energy_per_neuron=2.19e-9), which cites
#: that paper. A secondary source: the performance level the figures belong to is not
#: stated there, and the paper's own table could not be read in our sources.
SPINNAKER2_SYNOP_J = 450e-12
SPINNAKER2_NEURON_J = 2.19e-9
_SPINNAKER2 = (
    "SpiNNaker 2 28 nm test chip (Hoeppner et al., IEEE TCAS-I 66(8):2973, 2019, "
    "arXiv:1903.08941) as tabulated in nengo/keras-spiking ModelEnergy.devices['spinnaker2'] "
    "(secondary source; operating point not stated; not the 22 nm chip)"
)


@dataclasses.dataclass(frozen=True)
class Activity:
    """What one inference did on the chip (per inference; counts are floats: means).

    Attributes
    ----------
    synaptic_events : float
        Spikes reaching synapses (Σ spikes × fan-out).
    neuron_updates_active, neuron_updates_idle : float
        Neuron-time-steps in which the neuron integrated input (or a bias), and the rest.
    spikes_out : float
        Spikes emitted by the chip's neurons (input spikes come from the host).
    messages : float
        Spike messages, one per destination core (:func:`mesh_routes`).
    messages_in_tile, hops_ew, hops_ns : float
        Messages delivered inside their own tile; east-west and north-south hops of all
        messages.
    host_bytes : float
        Bytes over the chip boundary (input spikes in, results out).
    time_s : float
        Duration of the inference on the chip, s (static energy = ``static_W × time_s``).
    row_drives, column_conversions, cells_per_event : float
        Device-backed synapses only: word-line drives, column sensings, cells read per
        synaptic event.
    steps, step_s : float
        Time steps per inference and the mean time of one (``time_s = steps x step_s``;
        informative, see :func:`inference_time`).
    chips : float
        Chips the network occupies (:func:`chips_needed`); static and control power are
        drawn by every one of them for ``time_s``.
    """

    synaptic_events: float
    neuron_updates_active: float = 0.0
    neuron_updates_idle: float = 0.0
    spikes_out: float = 0.0
    messages: float = 0.0
    messages_in_tile: float = 0.0
    hops_ew: float = 0.0
    hops_ns: float = 0.0
    host_bytes: float = 0.0
    time_s: float = 0.0
    row_drives: float = 0.0
    column_conversions: float = 0.0
    cells_per_event: float = 1.0
    steps: float = 0.0
    step_s: float = 0.0
    chips: float = 1.0

    def __post_init__(self) -> None:
        if not self.chips >= 1.0:
            raise ConfigError(f"Activity.chips must be at least 1 (a network occupies whole "
                              f"chips); got {self.chips!r}")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class ChipEnergy:
    """One chip's energy table (SI units: J per event, W, J per byte).

    Attributes
    ----------
    name, title : str
        Registry name (``snn:<name>``) and a human title.
    synaptic_op_J, neuron_update_active_J, neuron_update_idle_J, spike_out_J, message_J, \
hop_in_tile_J, hop_ew_J, hop_ns_J, static_W, host_io_J_per_byte : float or None
        The terms of the module table; None where the chip's sources do not give it.
    sources : Mapping[str, str]
        For every term of :data:`TERMS`: its citation (with the operating point), or for a
        None term the reason it is not modelled.
    includes : tuple of str
        Groups whose energy the ``synaptic_op_J`` figure already contains (measured all-in
        or whole-chip dynamic figures); they are reported as included, not as 0.
    neurons_per_core, cores_per_tile, mesh_width : int or None
        Placement for spike routing (None: routing is not priced separately).
    row_drive_J, column_sense_J : float or None
        Device-backed synapses: one word-line drive, one column sensing (J).
    sense_static_J : float or None
        Device-backed synapses: static power of one column lane over one sensing (J; the
        lanes are power-gated between sensings, as :func:`crossbar.cost.matrix_cost`
        takes idle lanes to be).
    control_W : float or None
        Power of the embedded management cores while a model runs (W, group ``static``).
    tick_s : float or None
        A fixed real-time step (s); None: the step time is modelled from the work.
    synaptic_op_s, neuron_update_active_s, neuron_update_idle_s, hop_in_tile_s, hop_ew_s, \
hop_ns_s : float or None
        Time of one synaptic operation, one neuron update, one message inside a tile and
        one mesh hop (s): the step-time model of a chip without a tick.
    barrier_one_tile_s, barrier_full_chip_s : float or None
        Mesh-wide barrier synchronisation on one tile and across the whole chip (s);
        interpolated linearly in the diameter of the used mesh.
    array_read_s : float or None
        Device-backed synapses: one crossbar pass (all rows of a step in parallel), s.
    synapses_per_core : int or None
        Synapses one core can hold (placement).
    cores_per_chip : int or None
        Cores of one chip (the mesh's height is ``cores_per_chip / cores_per_tile /
        mesh_width``); with a placement, the chips a network occupies are its cores over
        this (:func:`chips_needed`).
    neurons_per_chip : int or None
        Neuron circuits of one chip, for a chip without a placement (:func:`chips_needed`);
        None: a network is taken to fit on one chip.
    fan_in_per_neuron : int or None
        Synapses of one neuron circuit; a neuron with a larger mean fan-in takes
        ``ceil(fan_in / fan_in_per_neuron)`` circuits (BrainScaleS-2 merges circuits into
        one logical neuron to raise its fan-in). None: one circuit per neuron.
    time_source : str
        Citation of the tick, or of the step-time figures.
    """

    name: str
    title: str
    synaptic_op_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    neuron_update_active_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    neuron_update_idle_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    spike_out_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    message_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    hop_in_tile_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    hop_ew_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    hop_ns_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    static_W: float | None = param(None, unit="W", ge=0.0, optional=True)
    host_io_J_per_byte: float | None = param(None, unit="J", ge=0.0, optional=True)
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict)
    includes: tuple[str, ...] = ()
    neurons_per_core: int | None = param(None, integer=True, ge=1, optional=True)
    cores_per_tile: int | None = param(None, integer=True, ge=1, optional=True)
    mesh_width: int | None = param(None, integer=True, ge=1, optional=True)
    row_drive_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    column_sense_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    sense_static_J: float | None = param(None, unit="J", ge=0.0, optional=True)
    control_W: float | None = param(None, unit="W", ge=0.0, optional=True)
    tick_s: float | None = param(1e-3, unit="s", gt=0.0, optional=True)
    synaptic_op_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    neuron_update_active_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    neuron_update_idle_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    hop_in_tile_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    hop_ew_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    hop_ns_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    barrier_one_tile_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    barrier_full_chip_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    array_read_s: float | None = param(None, unit="s", ge=0.0, optional=True)
    synapses_per_core: int | None = param(None, integer=True, ge=1, optional=True)
    cores_per_chip: int | None = param(None, integer=True, ge=1, optional=True)
    neurons_per_chip: int | None = param(None, integer=True, ge=1, optional=True)
    fan_in_per_neuron: int | None = param(None, integer=True, ge=1, optional=True)
    time_source: str = "1 ms per time step: real time (TrueNorth's 1 kHz tick)"

    def __post_init__(self) -> None:
        validate(self)
        require(bool(self.time_source.strip()), self, "time_source", self.time_source,
                "a citation of the tick or of the step-time figures")  # fmt: skip
        if self.tick_s is None:
            timed = [getattr(self, f) for f in _STEP_FIELDS]
            require(all(v is not None for v in timed) and self.places
                    and self.cores_per_chip is not None, self, "tick_s", None,
                    f"a number unless {', '.join(_STEP_FIELDS)}, the placement and "
                    "cores_per_chip are all given")  # fmt: skip
        for term in TERMS:
            require(bool(str(self.sources.get(term, "")).strip()), self, f"sources[{term!r}]",
                    self.sources.get(term), "a citation, or the reason the term is None")  # fmt: skip
        require(set(self.includes) <= set(_GROUPS) - {"compute"}, self, "includes",
                self.includes, "groups other than compute")  # fmt: skip
        require(not self.includes or self.synaptic_op_J is not None, self, "includes",
                self.includes, "empty when synaptic_op_J is None")  # fmt: skip
        placed = (self.neurons_per_core, self.cores_per_tile, self.mesh_width)
        require(all(p is None for p in placed) or all(p is not None for p in placed), self,
                "neurons_per_core", placed, "given with cores_per_tile and mesh_width")  # fmt: skip

    @property
    def places(self) -> bool:
        """Whether routing is priced from a placement (:func:`mesh_routes`)."""
        return self.neurons_per_core is not None

    @property
    def source(self) -> str:
        """All sources in one line (for configs and archives)."""
        return "; ".join(f"{t}: {self.sources[t]}" for t in TERMS)

    def energy(self, a: Activity) -> tuple[dict[str, tuple[str, float]], dict[str, str]]:
        """Energy of one inference by component, and what is not modelled.

        Returns
        -------
        components : dict[str, (str, float)]
            ``{component: (group, J)}``: ``synaptic_events``, ``cell_reads``,
            ``row_drive``, ``column_sense``, ``lane_static``, ``neuron_updates``,
            ``spike_generation``, ``spike_routing``, ``static``, ``host_io``, where the chip
            prices them.
        missing : dict[str, str]
            Groups (or components) without a figure, with the reason; groups the all-in
            figure contains say so.
        """
        comp: dict[str, tuple[str, float]] = {}
        miss: dict[str, str] = {}
        src = self.sources

        def add(name: str, group: str, *terms: tuple[str, float]) -> None:
            known = [(t, n) for t, n in terms if getattr(self, t) is not None]
            absent = [t for t, _ in terms if getattr(self, t) is None]
            if known:
                comp[name] = (group, float(sum(getattr(self, t) * n for t, n in known)))
            for t in absent:
                key = name if not known else f"{name}.{t}"
                if src[t] not in miss.get(key, ""):
                    miss[key] = f"{miss[key]}; {src[t]}" if key in miss else src[t]

        if self.row_drive_J is not None:  # device-backed synapses: crossbar periphery
            if self.synaptic_op_J is not None:
                comp["cell_reads"] = (
                    "compute",
                    a.synaptic_events * a.cells_per_event * self.synaptic_op_J,
                )
            comp["row_drive"] = ("conversion", a.row_drives * self.row_drive_J)
            comp["column_sense"] = ("conversion", a.column_conversions * (self.column_sense_J or 0))
            if self.sense_static_J is not None:
                comp["lane_static"] = ("static", a.column_conversions * self.sense_static_J)
        else:
            add("synaptic_events", "compute", ("synaptic_op_J", a.synaptic_events))
        if "conversion" not in self.includes:
            add("neuron_updates", "conversion", ("neuron_update_active_J", a.neuron_updates_active),
                ("neuron_update_idle_J", a.neuron_updates_idle))  # fmt: skip
            add("spike_generation", "conversion", ("spike_out_J", a.spikes_out))
        if "movement" not in self.includes:
            add("spike_routing", "movement", ("message_J", a.messages),
                ("hop_in_tile_J", a.messages_in_tile), ("hop_ew_J", a.hops_ew),
                ("hop_ns_J", a.hops_ns))  # fmt: skip
        if "static" in self.includes:
            pass
        elif self.static_W is None and "lane_static" in comp:
            miss["always_on_static"] = src["static_W"]
        else:
            add("static", "static", ("static_W", a.time_s * a.chips))
        if "static" not in self.includes:
            if self.control_W is not None:
                comp["control"] = ("static", self.control_W * a.time_s * a.chips)
            elif not src["control_W"].startswith("included"):
                miss["control"] = src["control_W"]
        if "off_chip" not in self.includes:
            add("host_io", "off_chip", ("host_io_J_per_byte", a.host_bytes))
        for g in self.includes:
            miss[g] = f"included in the {self.name} per-event figure ({src['synaptic_op_J']})"
        present = {g for g, _ in comp.values()}
        for g in _GROUPS:
            if g not in present and g not in miss:
                reasons = sorted(
                    {miss[k] for k in miss if k.split(".")[0] in _COMP_GROUPS.get(g, ())}
                )
                miss[g] = "; ".join(reasons) or "not modelled"
        if not any(g in present for g in _GROUPS[:4]):
            # nothing of the chip is priced: no energy at all rather than a lone host link
            comp = {}
        return comp, miss


_COMP_GROUPS = {
    "compute": ("synaptic_events", "cell_reads"),
    "conversion": ("neuron_updates", "spike_generation", "row_drive", "column_sense"),
    "movement": ("spike_routing",),
    "static": ("static", "lane_static", "control"),
    "off_chip": ("host_io",),
}


def _loihi_sources() -> dict[str, str]:
    return {
        "synaptic_op_J": f"35.5 pJ per synaptic spike, dense synapses: {_SANAFE} "
        f"(pre-silicon: 23.6 pJ, {_DAVIES})",
        "neuron_update_active_J": f"72.8 pJ, active (51.2 access + 21.6 update): {_SANAFE} "
        f"(pre-silicon 81 pJ, {_DAVIES})",
        "neuron_update_idle_J": f"51.2 pJ, inactive: {_SANAFE} (pre-silicon 52 pJ, {_DAVIES})",
        "spike_out_J": f"69.3 pJ per spike generated: {_SANAFE}",
        "message_J": f"111 pJ per spike message out of a core (axon out): {_SANAFE}",
        "hop_in_tile_J": f"1.7 pJ per spike within a tile: {_DAVIES}",
        "hop_ew_J": f"3.0 pJ per east-west hop: {_DAVIES}",
        "hop_ns_J": f"4.2 pJ per north-south hop: {_DAVIES} (4.0-4.2 pJ) and SANA-FE",
        "static_W": "29 mW: Loihi idle power, Blouw et al., arXiv:1812.01739 (2019), Table 1; "
        "not validated (the held-out keyword-spotting check compares dynamic energy)",
        "control_W": f"{LOIHI_X86_W * 1e3:.1f} mW: the embedded x86 (Lakemont) cores that run "
        f"the host interface while a model runs, {_FRADY} (Blouw et al. 2019 saw about "
        "70 mW of the same on their board)",
        "host_io_J_per_byte": _HOST,
    }


_LOIHI_TIME = (
    f"step = max over cores (synaptic ops x 3.5 ns + neuron updates x 8.4 ns active / 5.3 "
    f"ns inactive) + the longest route (2.1 ns in a tile, 4.1 ns per E-W hop, 6.5 ns per "
    f"N-S hop) + mesh-wide barrier 113-465 ns for 1-32 tiles: {_DAVIES}; 128 KB of "
    f"synaptic state per core (constraint 2, p. 89) = 65,536 synapses of 16 bits (8-bit "
    f"weight, sign, delay and tag: SANA-FE's Loihi architecture file)"
)


#: SENECA, all pre-silicon (one core synthesized in GF 22 nm, energies from gate-level
#: power estimation): Tang et al., "SENECA: building a fully digital neuromorphic
#: processor, design trade-offs and challenges", Front. Neurosci. 17:1187252 (2023). Read:
#: the abstract, Table 3 and Table 8 (PMC10326429); the rest of the text was not in our
#: sources. 2.8 pJ per synaptic operation: abstract and Table 3 ("only mentioned for
#: high-level comparison"; the synaptic operation varies between applications).
SENECA_SYNOP_J = 2.8e-12
_TANG = "Tang et al., Front. Neurosci. 17:1187252 (2023)"
_TANG8 = f"{_TANG}, Table 8 (pre-silicon, synthesized GF 22 nm core; all numbers in pJ)"
#: Table 8, event generator: the event-capture instruction (EVC) costs "+1.1" pJ "per
#: generated event" on top of the 0.5 pJ per NPE of the instruction itself (which runs for
#: every neuron checked, spiking or not, and so belongs to the neuron update).
SENECA_SPIKE_OUT_J = 1.1e-12
#: Table 8, NoC: 2 pJ "per 32b event transmission". Not charged: no placement (neurons per
#: core, mesh) and no hop count per transmission in what we read (see sources['message_J']).
SENECA_NOC_EVENT_J = 2e-12
#: Table 8, RISC-V (the per-event controller): 11.6 pJ averaged per instruction (5.9 pJ
#: core and peripheries + 5.7 pJ instruction memory), +10 pJ with a data-memory access. An
#: energy per instruction, not a power; the instructions per event are not in what we read.
SENECA_RISCV_INSTR_J = 11.6e-12

#: BrainScaleS-2's whole-chip power while trained spiking networks run on it: "less than
#: 200 mW" (Cramer et al., "Surrogate gradients for analog neuromorphic computing", PNAS
#: 119(4):e2109194119, 2022, abstract: the networks "perform inference at rates of up to
#: 85,000 frames per second, and consume less than 200 mW"; the rest of the paper was not in
#: our sources). A bound, taken as the power. Of the chip, not the setup: the FPGA system
#: around one chip draws 5.6 W (Stradmann et al., IEEE OJCAS 3:252, 2022, abstract). The
#: authors' tutorial gives the MNIST run as "more than 85k images per second with an energy
#: budget of only 2.4 uJ per image" (electronicvisions/brainscales2-demos,
#: common_task_superspike.rst), i.e. 204 mW: the same run, so no validation of it.
BRAINSCALES2_CHIP_W = 0.2
_CRAMER = "Cramer et al., PNAS 119(4):e2109194119 (2022), abstract"
#: The chip's architecture: Billaudelle's thesis (Heidelberg 2022), chapter "The
#: BrainScaleS-2 system", as the authors' lab course reproduces it (fp_brainscales.rst).
_BSS2_CHAPTER = (
    "Billaudelle, PhD thesis, Heidelberg 2022, ch. 'The BrainScaleS-2 system' "
    "(electronicvisions/brainscales2-demos, fp_brainscales.rst)"
)
_BSS2_IN_CHIP_W = (
    f"included in static_W ({BRAINSCALES2_CHIP_W * 1e3:g} mW, the whole chip while trained "
    f"spiking networks run, {_CRAMER})"
)


#: The chips, by the name of their target (``snn:<name>``).
PRESETS: dict[str, ChipEnergy] = {
    "loihi": ChipEnergy(
        "loihi", "Intel Loihi (14 nm, 128 cores x 1,024 neurons)",
        synaptic_op_J=35.5e-12, neuron_update_active_J=72.8e-12, neuron_update_idle_J=51.2e-12,
        spike_out_J=69.3e-12, message_J=111e-12, hop_in_tile_J=1.7e-12, hop_ew_J=3.0e-12,
        hop_ns_J=4.2e-12, static_W=0.029, host_io_J_per_byte=HOST_LINK_J_PER_BYTE,
        sources=_loihi_sources(),
        # Davies 2018: 128 cores, 4 per tile, tiles in an 8 x 4 mesh (SANA-FE's Loihi arch)
        neurons_per_core=1024, cores_per_tile=4, mesh_width=8,
        control_W=LOIHI_X86_W, tick_s=None, synaptic_op_s=3.5e-9, neuron_update_active_s=8.4e-9,
        neuron_update_idle_s=5.3e-9, hop_in_tile_s=2.1e-9, hop_ew_s=4.1e-9, hop_ns_s=6.5e-9,
        barrier_one_tile_s=113e-9, barrier_full_chip_s=465e-9, synapses_per_core=65536,
        cores_per_chip=128, time_source=_LOIHI_TIME,
    ),
    "truenorth": ChipEnergy(
        "truenorth", "IBM TrueNorth (28 nm, 4,096 cores x 256 neurons)",
        # (145 mW at the peak point - 42 mW zero-activity floor) / 58 GSOPS; 145 mW =
        # 58 GSOPS / 400 GSOPS/W (Akopyan 2015). Registered as derived constants in
        # neuro.validate.spiking; the all-in 26 pJ is the roadmap figure, not the model.
        synaptic_op_J=(58e9 / 400e9 - 42e-3) / 58e9,
        static_W=42e-3, host_io_J_per_byte=HOST_LINK_J_PER_BYTE,
        includes=("conversion", "movement"),
        sources={
            "synaptic_op_J": "1.78 pJ dynamic energy per synaptic event, neuron updates and "
            "spike routing of the measured networks included: (58 GSOPS / 400 GSOPS/W = "
            f"145 mW at 0.75 V - 42 mW at 0 Hz, 0.70 V) / 58 GSOPS, {_AKOPYAN}. The all-in "
            f"26 pJ ({_MEROLLA}) holds only at 20 Hz x 128 synapses on the whole chip",
            "neuron_update_active_J": "included in the dynamic per-event figure",
            "neuron_update_idle_J": "included in the dynamic per-event figure",
            "spike_out_J": "included in the dynamic per-event figure",
            "message_J": "included in the dynamic per-event figure (networks routed 21.3 "
            "cores in x and y on average, Merolla 2014 suppl. S7)",
            "hop_in_tile_J": "included in the dynamic per-event figure",
            "hop_ew_J": "included in the dynamic per-event figure (2.3 pJ per hop, Merolla "
            "2014 suppl. Fig. S4)",
            "hop_ns_J": "included in the dynamic per-event figure",
            "static_W": f"42 mW: the chip at 0 Hz firing and 0 synapses, 0.70 V, 1 kHz tick, "
            f"{_AKOPYAN}",
            "control_W": "included in the 42 mW static floor (the whole chip; TrueNorth has no "
            "embedded processor cores)",
            "host_io_J_per_byte": _HOST,
        },
        # 4,096 cores x 256 neurons = 1,048,576 neurons per chip; a core's crossbar has 256
        # axons, so a neuron's fan-in above 256 takes more neurons (Merolla 2014)
        neurons_per_chip=4096 * 256, fan_in_per_neuron=256,
        tick_s=1e-3, time_source=f"1 ms per time step: TrueNorth's global 1 kHz tick, {_MEROLLA}",
    ),
    "seneca": ChipEnergy(
        "seneca", "imec SENECA (GF 22 nm, 0.47 mm^2 per core; pre-silicon)",
        synaptic_op_J=SENECA_SYNOP_J, spike_out_J=SENECA_SPIKE_OUT_J,
        host_io_J_per_byte=HOST_LINK_J_PER_BYTE,
        sources={
            "synaptic_op_J": f"2.8 pJ per synaptic operation (pre-silicon: one core "
            f"synthesized in GF 22 nm), {_TANG}, abstract and Table 3 (a figure 'only "
            f"mentioned for high-level comparison')",
            "neuron_update_active_J": f"not modelled: {_TANG8} prices the NPE instructions a "
            "neuron update is built from (16-bit data-memory load 3.7, store 3.9, FP16 "
            "add/sub/mul 1.4, FP16 compare 1.2, event capture 0.5 pJ per NPE), but the "
            "instruction sequence of a neuron update, and so its energy, is not in the parts "
            "we read (the abstract, Tables 3 and 8; Tang et al., ISCAS 2023, arXiv:2303.15224, "
            "and Xu et al., Front. Neurosci. 18:1335422, 2024: abstracts only)",
            "neuron_update_idle_J": f"not modelled: no idle neuron-update figure, nor whether "
            f"SENECA's NPEs skip neurons without input, in {_TANG8} or the abstracts we read",
            "spike_out_J": f"1.1 pJ per generated event: the event generator's increment of "
            f"the event-capture instruction (EVC, '+1.1 per generated event'), {_TANG8}",
            "message_J": f"not modelled: {_TANG8} gives {SENECA_NOC_EVENT_J * 1e12:g} pJ per "
            "32-bit event transmission on the NoC, but no placement (neurons per core, cores "
            "per mesh row) or hops per transmission, so messages cannot be counted (without a "
            "placement they would read 0)",
            **{t: f"not modelled: {_TANG8} gives one NoC figure per 32-bit event "
               f"transmission ({SENECA_NOC_EVENT_J * 1e12:g} pJ), not split per hop"
               for t in ("hop_in_tile_J", "hop_ew_J", "hop_ns_J")},
            "static_W": f"not modelled: no leakage or idle power of a SENECA core in {_TANG8} "
            "or the abstracts we read",
            "control_W": f"not modelled: {_TANG8} prices SENECA's RISC-V controller per "
            f"instruction ({SENECA_RISCV_INSTR_J * 1e12:g} pJ averaged, +10 pJ with a "
            "data-memory access), not as a power, and the instructions it runs per event "
            "are not in what we read",
            "host_io_J_per_byte": _HOST,
        },  # fmt: skip
        tick_s=1e-3, time_source="1 ms per time step: real time (an assumption: Tang et al. "
        "2023, Tables 3 and 8, give energies only, no clock or time per operation or step)",
    ),
    "spinnaker": ChipEnergy(
        "spinnaker", "SpiNNaker (130 nm, 18 ARM968 cores per chip), whole machine",
        synaptic_op_J=5.9e-6, includes=("conversion", "movement", "static", "off_chip"),
        sources={
            "synaptic_op_J": "5.9 uJ per synaptic event, measured for the whole SpiNNaker "
            "machine (boards and power supplies) on the full-scale cortical microcircuit "
            "(~77k neurons, 0.3 G synapses) at 20x slower than real time: van Albada et al., "
            "Front. Neurosci. 12:291 (2018)",
            **{t: "included in the whole-machine energy per synaptic event" for t in TERMS[1:]},
        },
        tick_s=1e-3, time_source="1 ms per time step: SpiNNaker's real-time 1 ms timer tick "
        "(van Albada et al. 2018 ran the microcircuit at 0.1 ms steps, 20x slower than real "
        "time; a converted network runs at 1 ms)",
    ),
    "spinnaker2": ChipEnergy(
        "spinnaker2", "SpiNNaker 2 (ARM Cortex-M4F processing elements; energies of the 28 nm "
        "prototype)",
        # Hoeppner et al. 2019's 28 nm SpiNNaker 2 test chip, as tabulated by nengo/keras-spiking
        # (ModelEnergy.devices["spinnaker2"]): 450 pJ per synaptic operation, 2.19 nJ per neuron
        # update. The 22 nm chip's own per-event figures are not in our sources.
        synaptic_op_J=SPINNAKER2_SYNOP_J, neuron_update_active_J=SPINNAKER2_NEURON_J,
        neuron_update_idle_J=SPINNAKER2_NEURON_J, host_io_J_per_byte=HOST_LINK_J_PER_BYTE,
        sources={
            "synaptic_op_J": f"450 pJ per synaptic operation, {_SPINNAKER2}",
            "neuron_update_active_J": f"2.19 nJ per neuron update, {_SPINNAKER2}",
            "neuron_update_idle_J": f"2.19 nJ per neuron update, {_SPINNAKER2}; the same as an "
            "active one: a SpiNNaker core updates every neuron on every timer tick (keras-spiking "
            "charges it per neuron and time step)",
            "spike_out_J": "not modelled: no spike-generation figure of SpiNNaker 2 in our "
            "sources (it may be part of the neuron-update figure; the source does not say)",
            **{t: "not modelled: no network-on-chip energy per packet or hop of SpiNNaker 2 in "
               "our sources" for t in ("message_J", "hop_in_tile_J", "hop_ew_J", "hop_ns_J")},
            "static_W": "not modelled: no leakage or idle power of SpiNNaker 2 in our sources "
            "(Hoeppner et al., arXiv:2103.08392, and Mayr et al., arXiv:1911.02385, state the "
            "architecture and a 10x capacity-per-watt goal over SpiNNaker 1)",
            "control_W": "not modelled: no power figure of SpiNNaker 2's management in our "
            "sources",
            "host_io_J_per_byte": _HOST,
        },  # fmt: skip
        tick_s=1e-3, time_source="1 ms per time step: real time, SpiNNaker's default timer tick "
        "(an assumption for SpiNNaker 2)",
    ),
    "brainscales2": ChipEnergy(
        "brainscales2", "BrainScaleS-2 (65 nm mixed-signal, 512 neurons, 131k synapses)",
        # An analog chip in continuous time: its one measured figure is the whole chip's power
        # while trained spiking networks run (Cramer et al. 2022), charged over the time on
        # the chip; the per-event terms are in it (at the measured networks' activity).
        static_W=BRAINSCALES2_CHIP_W, host_io_J_per_byte=HOST_LINK_J_PER_BYTE,
        # 512 neuron circuits in two rows of 256, each under a synapse array of 256 rows;
        # circuits merge into larger logical neurons to raise the fan-in (_BSS2_CHAPTER)
        neurons_per_chip=512, fan_in_per_neuron=256,
        sources={
            "synaptic_op_J": f"{_BSS2_IN_CHIP_W}: it holds the analog synapse currents of the "
            "measured networks' events (on average less than one spike per hidden neuron and "
            "input, same abstract); no per-event energy of BrainScaleS-2 in our sources, so "
            "activity above theirs is not priced",
            **{t: f"{_BSS2_IN_CHIP_W}: the 512 analog neuron circuits evolve in continuous "
               f"time ({_BSS2_CHAPTER}); no per-neuron figure in our sources"
               for t in ("neuron_update_active_J", "neuron_update_idle_J")},
            "spike_out_J": f"{_BSS2_IN_CHIP_W}; no per-spike figure in our sources",
            **{t: f"{_BSS2_IN_CHIP_W}: one on-chip event router, no mesh ({_BSS2_CHAPTER}); "
               "no routing energy per event in our sources"
               for t in ("message_J", "hop_in_tile_J", "hop_ew_J", "hop_ns_J")},
            "static_W": f"{BRAINSCALES2_CHIP_W * 1e3:g} mW: the whole chip while trained spiking "
            f"networks run (MNIST at up to 85,000 frames/s, and SHD), 'less than 200 mW', "
            f"{_CRAMER}: a bound taken as the power, all activity and the embedded processors "
            "included; the chip, not the setup (the FPGA system around one chip draws 5.6 W, "
            "Stradmann et al., IEEE OJCAS 3:252, 2022, abstract). 2.4 uJ per MNIST image at "
            "more than 85k images/s (the authors' tutorial, brainscales2-demos "
            "common_task_superspike.rst) is the same run. Not validated: no held-out "
            "measurement of the chip in spiking operation in our sources "
            "(neuro.validate.brainscales2)",
            "control_W": f"{_BSS2_IN_CHIP_W}: the two embedded plasticity processors (PPUs, one "
            f"per half of the chip, {_BSS2_CHAPTER}) are on the chip whose power it is",
            "host_io_J_per_byte": _HOST,
        },  # fmt: skip
        tick_s=1e-6, time_source="1 us per time step: the converted network's 1 ms biological "
        "step on an analog chip that runs 1,000x faster than biology (Pehle et al. 2022; "
        "continuous time, so the step is the presentation time per step, not a clock)",
    ),
}  # fmt: skip


def preset(name: str) -> ChipEnergy:
    """The chip table called ``name``; an unknown name lists the valid ones."""
    if name not in PRESETS:
        raise ConfigError(f"spiking chip must be one of {', '.join(PRESETS)}; got {name!r}")
    return PRESETS[name]


def device_chip(device: DeviceModel, crossbar_config=None) -> ChipEnergy:
    """Device-backed synapses on crossbar tiles with Loihi's digital neurons and mesh.

    Per event: the cells of one weight read for one spike (the device's read energy, or
    ``C·V²`` for capacitive cells, as :func:`crossbar.cost.matrix_cost` prices them), the
    word-line drive of the spike's row in each column tile, one column sensing (ADC
    conversion) per output column and time step with input. Priced by
    :func:`crossbar.cost.matrix_cost` on one 256 × 256 tile with 1-bit inputs; ``config``
    defaults to :class:`crossbar.config.CrossbarConfig`'s defaults.
    """
    from crossbar.config import CrossbarConfig, DACConfig
    from crossbar.cost import matrix_cost
    from crossbar.mapping import TileMap

    cfg = crossbar_config or CrossbarConfig()
    cfg = dataclasses.replace(cfg, dac=DACConfig(bits=1, mode="bit-serial"))
    n_in, n_out = cfg.tile_rows, cfg.weight_cols_per_tile
    rep = matrix_cost(device, cfg, n_out, n_in, n_vectors=1, input_activity=1.0)
    tm = TileMap.build(n_out, n_in, cfg)
    e = rep.energy_J
    cell = e.get("cell_read", 0.0) / (n_in * n_out * cfg.cells_per_weight)
    row = (e.get("dac", 0.0) + e.get("drivers", 0.0)) / (n_in * tm.tiles_c)
    sense = e.get("adc", 0.0) / max(rep.adc_conversions, 1)
    lane_static = e.get("static", 0.0) / max(rep.adc_conversions, 1)
    loihi = PRESETS["loihi"]
    src = dict(loihi.sources)
    cost = f"crossbar.cost.matrix_cost, CrossbarConfig defaults ({cfg.tile_rows}x{cfg.tile_cols})"
    src.update({
        "synaptic_op_J": f"{device.name}: one cell read per cell of the weight, {cost}",
        "static_W": f"29 mW, Loihi's idle power (the neurons and mesh are Loihi's; "
        f"{loihi.sources['static_W']}); the crossbar's column lanes are power-gated between "
        f"time steps and add their static power (CostConfig.static_W_per_adc) only while "
        f"sensing ({cost})",
    })  # fmt: skip
    return dataclasses.replace(
        loihi, name=device.name, title=f"{device.name} synapses on crossbar tiles, Loihi neurons",
        synaptic_op_J=cell, sources=src, row_drive_J=row, column_sense_J=sense,
        sense_static_J=lane_static, synaptic_op_s=0.0, array_read_s=rep.latency_s,
        time_source=f"Loihi's step model ({loihi.time_source}), the synaptic ops replaced by "
        f"one crossbar pass per step and core with input (all rows in parallel, "
        f"{rep.latency_s * 1e9:.3g} ns: {cost})",
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Routes:
    """Spike routing per inference (see :func:`mesh_routes`).

    ``cores``: cores used; ``population_cores``: cores of each population; ``route_s``:
    latency of the longest route a spike takes (the last message of a step), s.
    """

    messages: float
    messages_in_tile: float
    hops_ew: float
    hops_ns: float
    cores: int
    population_cores: tuple[int, ...] = ()
    route_s: float = 0.0


def _tile_xy(core: int, cores_per_tile: int, width: int) -> tuple[int, int]:
    t = core // cores_per_tile
    return t % width, t // width


def place(
    sizes: Sequence[int], chip: ChipEnergy, synapses_in: Sequence[float] | None = None
) -> tuple[int, ...]:
    """Cores of each population: enough for its neurons and for its incoming synapses.

    ``max(ceil(n / neurons_per_core), ceil(synapses / synapses_per_core))``; a population
    without incoming synapses (the input) needs cores for its neurons only.
    """
    if not chip.places:
        raise ConfigError(f"mesh_routes: chip {chip.name!r} has no placement (neurons_per_core)")
    syn = list(synapses_in) if synapses_in is not None else [0.0] * len(sizes)
    if len(syn) != len(sizes):
        raise ConfigError(f"place: {len(sizes)} populations but {len(syn)} synapse counts")
    spc = chip.synapses_per_core
    return tuple(
        max(math.ceil(n / chip.neurons_per_core), math.ceil(s / spc) if spc and s > 0 else 1)
        for n, s in zip(sizes, syn)
    )


def chips_needed(
    chip: ChipEnergy,
    sizes: Sequence[int],
    synapses_in: Sequence[float],
    routes: Routes | None = None,
) -> int:
    """Chips a network of ``sizes`` populations occupies on ``chip``.

    With a placement (Loihi): ``ceil(routes.cores / cores_per_chip)``. Else, with
    ``neurons_per_chip``: every population with incoming synapses (the input comes from
    the host) needs ``n x ceil(fan-in / fan_in_per_neuron)`` neuron circuits, ``fan-in``
    its mean synapses per neuron (``synapses_in / n``), and the chips are the circuits
    over ``neurons_per_chip``, rounded up. Otherwise 1 (a chip without a capacity figure).

    Static and control power are per chip (:meth:`ChipEnergy.energy`); the chips run in
    parallel, so the time per inference is unchanged (running the parts one after another
    on one chip, as BrainScaleS-2's partitioned emulation does, costs the same energy and
    that many times the time). Chip-to-chip links are not priced.
    """
    if len(synapses_in) != len(sizes):
        raise ConfigError(
            f"chips_needed: {len(sizes)} populations but {len(synapses_in)} synapse counts"
        )
    if chip.places and chip.cores_per_chip is not None and routes is not None:
        return max(1, math.ceil(routes.cores / chip.cores_per_chip))
    if chip.neurons_per_chip is None:
        return 1
    circuits = 0
    for n, syn in zip(sizes, synapses_in):
        if n <= 0 or syn <= 0:
            continue
        fan_in = round(syn / n, 6)  # a mean of float fan-outs: 256.0000001 is 256
        merge = math.ceil(fan_in / chip.fan_in_per_neuron) if chip.fan_in_per_neuron else 1
        circuits += n * merge
    return max(1, math.ceil(circuits / chip.neurons_per_chip))


def mesh_routes(
    sizes: Sequence[int],
    projections: Sequence[tuple[int, int, float]],
    spikes: Sequence[float],
    chip: ChipEnergy,
    synapses_in: Sequence[float] | None = None,
) -> Routes:
    """Messages and hops of the spikes of ``sizes`` populations placed on ``chip``'s mesh.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per population, in placement order (each starts on a new core).
    projections : sequence of (int, int, float)
        ``(source, target, mean fan-out)``: population indices and the synapses each
        source neuron has in the target.
    spikes : sequence of float
        Spikes of each population per inference (0 for one that does not spike).
    chip : ChipEnergy
        Its ``neurons_per_core``, ``cores_per_tile``, ``mesh_width`` (and
        ``synapses_per_core``, hop latencies).
    synapses_in : sequence of float, optional
        Synapses into each population (:func:`place`); None: placed by neurons only.
    """
    if not chip.places:
        raise ConfigError(f"mesh_routes: chip {chip.name!r} has no placement (neurons_per_core)")
    if len(spikes) != len(sizes):
        raise ConfigError(f"mesh_routes: {len(sizes)} populations but {len(spikes)} spike counts")
    cpt, w = chip.cores_per_tile, chip.mesh_width
    ncores = place(sizes, chip, synapses_in)
    first, core = [], 0
    for c in ncores:
        first.append(core)
        core += c
    msgs = in_tile = ew = ns = 0.0
    route_s = 0.0
    for src, dst, fan in projections:
        s_cores = range(first[src], first[src] + ncores[src])
        d_cores = range(first[dst], first[dst] + ncores[dst])
        per_spike = min(len(d_cores), max(1.0, float(fan)))
        pairs = [(_tile_xy(s, cpt, w), _tile_xy(d, cpt, w)) for s in s_cores for d in d_cores]
        dx = sum(abs(a[0] - b[0]) for a, b in pairs) / len(pairs)
        dy = sum(abs(a[1] - b[1]) for a, b in pairs) / len(pairs)
        same = sum(a == b for a, b in pairs) / len(pairs)
        m = spikes[src] * per_spike
        msgs += m
        in_tile += m * same
        ew += m * dx
        ns += m * dy
        if m > 0 and chip.hop_in_tile_s is not None:
            longest = max(
                chip.hop_in_tile_s if a == b
                else abs(a[0] - b[0]) * chip.hop_ew_s + abs(a[1] - b[1]) * chip.hop_ns_s
                for a, b in pairs
            )  # fmt: skip
            route_s = max(route_s, longest)
    return Routes(msgs, in_tile, ew, ns, core, ncores, route_s)


@dataclasses.dataclass(frozen=True)
class Timing:
    """Time of one inference (:func:`inference_time`); all in s.

    ``step_s = core_s + route_s + barrier_s + overhead_s`` for a chip without a tick
    (``core_s``: the busiest core's work; ``critical``: the population on it);
    ``step_s = tick_s`` (or ``dt_s``) ``+ overhead_s`` otherwise, with the other parts 0.
    ``overhead_s``: the deployment's software time per step (:func:`inference_time`).
    """

    time_s: float
    steps: float
    step_s: float
    core_s: float = 0.0
    route_s: float = 0.0
    barrier_s: float = 0.0
    critical: int = -1
    source: str = ""
    overhead_s: float = 0.0


def barrier_s(chip: ChipEnergy, cores: int) -> float:
    """Mesh-wide barrier over ``cores`` cores placed in raster order on the chip's mesh.

    Davies 2018 gives 113 ns on one tile and 465 ns across all 32 tiles; in between the
    time is interpolated linearly in the diameter ``(columns - 1) + (rows - 1)`` of the used
    tiles (the barrier is a wave that crosses the mesh). A network beyond one chip goes on
    along the same mesh (a lower bound: chip-to-chip links are slower; Frady et al. 2020
    measured 14.3-16.2 us across 256-768 chips).
    """
    w, cpt = chip.mesh_width, chip.cores_per_tile
    tiles = max(1, math.ceil(cores / cpt))
    diameter = (min(tiles, w) - 1) + (math.ceil(tiles / w) - 1)
    rows = max(1, chip.cores_per_chip // cpt // w)
    full = (w - 1) + (rows - 1)
    b1, bn = chip.barrier_one_tile_s, chip.barrier_full_chip_s
    return b1 + (bn - b1) * diameter / max(full, 1)


def inference_time(
    chip: ChipEnergy,
    steps: float,
    *,
    routes: Routes | None = None,
    events_in: Sequence[float] = (),
    updates_active: Sequence[float] = (),
    updates_idle: Sequence[float] = (),
    dt_s: float | None = None,
    overhead_s: float = 0.0,
) -> Timing:
    """Time of one inference of ``steps`` time steps on ``chip``.

    Parameters
    ----------
    chip : ChipEnergy
        A chip with ``tick_s`` (one tick per step), or with the per-operation times.
    steps : float
        Time steps per inference.
    routes : Routes, optional
        The placement (:func:`mesh_routes`); needed by a chip without a tick.
    events_in, updates_active, updates_idle : sequence of float
        Per population (in placement order), per inference: synaptic events into it, its
        active and idle neuron updates.
    dt_s : float, optional
        Override: every step takes ``dt_s`` (e.g. 1 ms to run in real time).
    overhead_s : float
        Seconds added to every step, whatever sets it: the deployment's software (a host
        or embedded-core management phase, host I/O every step), which the chip's own
        model leaves out (0: the chip alone).

    Returns
    -------
    Timing
        ``time_s = steps x step_s``.
    """
    if not overhead_s >= 0.0:
        raise ConfigError(f"inference_time: overhead_s must be >= 0 s; got {overhead_s!r}")
    t = _chip_timing(chip, steps, routes, events_in, updates_active, updates_idle, dt_s)
    if overhead_s == 0.0:
        return t
    step = t.step_s + overhead_s
    return dataclasses.replace(
        t, time_s=steps * step, step_s=step, overhead_s=overhead_s,
        source=f"{t.source}; + {overhead_s:g} s per step of the deployment's software "
        "(step_overhead_s)",
    )  # fmt: skip


def _chip_timing(
    chip: ChipEnergy,
    steps: float,
    routes: Routes | None,
    events_in: Sequence[float],
    updates_active: Sequence[float],
    updates_idle: Sequence[float],
    dt_s: float | None,
) -> Timing:
    """:func:`inference_time` without the software overhead."""
    if dt_s is not None:
        return Timing(steps * dt_s, steps, dt_s, source=f"dt_s = {dt_s:g} s per step (override)")
    if chip.tick_s is not None:
        return Timing(steps * chip.tick_s, steps, chip.tick_s, source=chip.time_source)
    if routes is None or not routes.population_cores:
        raise ConfigError(f"inference_time: chip {chip.name!r} models its step time from a "
                          "placement; pass routes (mesh_routes)")  # fmt: skip
    n = len(routes.population_cores)
    ev, act, idle = (list(v) + [0.0] * (n - len(v)) for v in (events_in, updates_active,
                                                                updates_idle))  # fmt: skip
    per = max(steps, 1e-30)
    core_s, critical = 0.0, -1
    for j, cores in enumerate(routes.population_cores):
        work = (ev[j] * chip.synaptic_op_s + act[j] * chip.neuron_update_active_s
                + idle[j] * chip.neuron_update_idle_s) / per / cores  # fmt: skip
        if chip.array_read_s is not None and ev[j] > 0:
            work += chip.array_read_s
        if work > core_s:
            core_s, critical = work, j
    bar = barrier_s(chip, routes.cores)
    step = core_s + routes.route_s + bar
    return Timing(steps * step, steps, step, core_s, routes.route_s, bar, critical,
                  chip.time_source)  # fmt: skip


def crossbar_counts(
    shapes: Sequence[tuple[int, int]],
    input_spikes: Sequence[float],
    steps: int,
    crossbar_config=None,
) -> tuple[float, float, float]:
    """Row drives, column conversions and cells per synaptic event of device-backed layers.

    ``shapes`` are ``(n_out, n_in)`` weight matrices; ``input_spikes`` the spikes that
    reached each layer's rows per inference over ``steps`` time steps. A spike drives its
    row in every column tile; each output column of a row tile is sensed in a step when at
    least one of that tile's rows spiked (probability ``1 - exp(-λ)``, λ the tile's mean
    input spikes per step: spikes treated as independent).
    """
    from crossbar.config import CrossbarConfig
    from crossbar.mapping import TileMap

    cfg = crossbar_config or CrossbarConfig()
    drives = conversions = 0.0
    for (n_out, n_in), s in zip(shapes, input_spikes):
        tm = TileMap.build(n_out, n_in, cfg)
        drives += s * tm.tiles_c
        lam = s / max(steps, 1) / tm.tiles_r
        conversions += n_out * cfg.n_slices * tm.tiles_r * steps * (1.0 - math.exp(-lam))
    return drives, conversions, float(cfg.cells_per_weight)
