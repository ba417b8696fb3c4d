"""Analog in-memory computing: the cost model against measured PCM chips, nothing fitted.

**Calibration: none.** No constant of :mod:`crossbar.cost` is fitted to a measured chip.
Every figure comes from a circuit-level source that is not a validation chip: ISAAC's
32 nm periphery (Shafiee et al., ISCA 2016; the ADC series as encoded in Accelergy's
``hwcomponents-library``), Horowitz's ISSCC 2014 digital energies, the ITRS wire
capacitance, all scaled to the chip's node and supply by C·V² (``CostConfig.scaled``).
The time-proportional power of a lane is that of its converter: the measured chips use
integrating CCO-based converters (``CostConfig.adc_type = "cco"``) that run for the whole
read window, priced at the running power of ISAAC's GS/s converter
(:func:`crossbar.cost.adc_power`). An earlier version fitted a per-lane static power to
the HERMES core's 10.5 TOPS/W; that constant is gone and HERMES is now held out.

**Held-out validation: two chips.**

* HERMES core (Khaddam-Aljameh et al., "HERMES-Core — a 1.59-TOPS/mm² PCM on 14-nm CMOS
  in-memory compute core using 300-ps/LSB linearized CCO-based ADCs", IEEE JSSC 57(4),
  1027–1038, 2022): one 256×256 core, 1.008 TOPS at **10.5 TOPS/W** (1 GHz, 0.8 V).
* IBM's 64-core chip (Le Gallo et al., "A 64-core mixed-signal in-memory compute chip
  based on phase-change memory for deep neural network inference", Nature Electronics 6,
  680–693, 2023; arXiv 2212.02872): 64 such cores with on-chip digital units and an
  on-chip network; 8-bit input/output MVMs at 63.1 TOPS and 9.76 TOPS/W in the one-phase
  read mode, 16.1 TOPS and 2.48 TOPS/W in the four-phase mode.

The two share the core design (one chip family, one converter type); they test the time
model (PWM window, read phases, conversions), the converter's running power against a
measured CCO-based core, how energy splits between per-event and time-proportional
terms (four-phase: four times the time at nearly the same power) and the step from one
core to 64. The model predicts about 1.5-1.6 times the measured energy (ratios 0.6-0.7 in
TOPS/W): ISAAC's SAR at 1.28 GS/s draws more than HERMES's CCO lane does.

**The preset** (``hermes_core``): 256 rows × 256 weight columns of unit cells of four PCM
devices, two per polarity (Khaddam-Aljameh 2022: 8T4R cell; our differential pair of
cells, each two devices in parallel, so the mean cell value is twice the device's);
8-bit signed PWM inputs (7 magnitude bits, sign as polarity) with a 1 ns step (a 128 ns
integration window at the 1 GHz clock); 8-bit outputs, one CCO-based ADC per column (``adc_type="cco"``); the device's read time
set to the 128 ns window; the periphery constants of ``CostConfig`` scaled to 14 nm and
0.8 V by C·V². The four-phase mode reads the four sign quadrants (input ±,
weight ±) in four windows (``CostConfig.read_phases = 4``).

**The workload** (published shape, no free parameter): one full 256×256 MVM at an
operating point of a trained network — weights Gaussian (N(0, 1), seeded) mapped as the
chip maps them (per-column ``max|W|`` to ``g_max``), inputs the rectified Gaussian
activations of a ReLU layer, both measured as the analog target measures its layers
(:func:`crossbar.cost.programmed_mean`, :class:`crossbar.cost.InputStats`).
"""

from __future__ import annotations

import dataclasses
import functools

import torch

import devices
from crossbar import ADCConfig, CrossbarConfig, DACConfig
from crossbar.cost import CostReport, InputStats, matrix_cost, programmed_mean
from neuro.validate import Check, register_check

__all__ = [
    "hermes_core",
    "operating_point",
    "core_mvm",
    "HERMES_TOPS",
    "HERMES_TOPS_PER_W",
    "neurram_core",
    "neurram_mvm",
    "NEURRAM_TOPS_PER_W",
]

#: HERMES core (Khaddam-Aljameh et al., JSSC 2022, Table I): 1.008 TOPS at 10.5 TOPS/W.
HERMES_TOPS = 1.008
HERMES_TOPS_PER_W = 10.5
#: IBM 64-core chip (Le Gallo et al., Nature Electronics 2023).
CORES = 64
ONE_PHASE_TOPS, ONE_PHASE_TOPS_PER_W = 63.1, 9.76
FOUR_PHASE_TOPS, FOUR_PHASE_TOPS_PER_W = 16.1, 2.48
#: 14 nm CMOS at 0.8 V (Khaddam-Aljameh 2022).
NODE_M, VDD_V = 14e-9, 0.8
#: NeuRRAM (Wan et al., Nature 2022): measured TOPS/W at (input bits, output bits), inputs
#: signed (one sign bit), 4-bit weights.
NEURRAM_TOPS_PER_W = {(4, 6): 15.95, (2, 4): 40.33}
#: NeuRRAM: 130 nm CMOS, neurons and control at 1.8 V, read pulses of 0.5 V and 10 ns.
NEURRAM_NODE_M, NEURRAM_VDD_V, NEURRAM_VREAD_V, NEURRAM_PULSE_S = 130e-9, 1.8, 0.5, 10e-9
#: Samples that define the operating point (weights 256×256, 1,024 input vectors).
_SEED, _N_INPUTS = 0, 1024


def hermes_core(read_phases: int = 1) -> tuple[devices.DeviceModel, CrossbarConfig]:
    """The device and crossbar configuration of one HERMES core (see the module docstring)."""
    device = devices.get("pcm", t_read_s=128e-9)
    base = CrossbarConfig()
    cost = dataclasses.replace(
        base.cost.scaled(NODE_M, VDD_V), read_phases=read_phases, adc_type="cco"
    )
    config = CrossbarConfig(
        tile_rows=256,
        tile_cols=512,
        dac=DACConfig(bits=7, mode="pwm", pwm_step_s=1e-9),
        adc=ADCConfig(bits=8, columns_per_adc=1),
        cost=cost,
        self_test=False,
    )
    return device, config


@functools.cache
def operating_point() -> tuple[InputStats, float]:
    """Input statistics and mean cell value (S) of the validation workload: a 256×256
    Gaussian weight matrix (two devices per cell) and ReLU(Gaussian) inputs."""
    device, config = hermes_core()
    gen = torch.Generator().manual_seed(_SEED)
    w = torch.randn((256, 256), generator=gen, dtype=torch.float64)
    x = torch.relu(torch.randn((_N_INPUTS, 256), generator=gen, dtype=torch.float64))
    g = 2.0 * programmed_mean(w, device, config)  # two PCM devices per cell
    return InputStats.measure(x, config), g


def core_mvm(read_phases: int = 1) -> CostReport:
    """Cost of one 256×256 MVM on one core at the operating point."""
    device, config = hermes_core(read_phases)
    stats, g = operating_point()
    return matrix_cost(device, config, 256, 256, 1, stats, mean_value=g)


def _ops() -> float:
    return 2.0 * 256 * 256


def _tops(read_phases: int, cores: int = 1) -> float:
    return cores * _ops() / core_mvm(read_phases).latency_s / 1e12


def _tops_per_w(read_phases: int) -> float:
    return _ops() / core_mvm(read_phases).total_energy_J / 1e12


def neurram_core(input_bits: int, output_bits: int) -> tuple[devices.DeviceModel, CrossbarConfig]:
    """The device and crossbar configuration of one NeuRRAM core at ``input_bits`` signed
    inputs and ``output_bits`` outputs.

    Published architecture (Wan et al., Nature 608:504-512, 2022; the timing and voltages
    as CiMLoop's model of the chip states them, Andrulis et al., ISPASS 2024,
    ``wan_nature_2022``): 256×256 1T1R HfOx RRAM per core, a signed weight on two devices
    (128 weight columns); a signed n-bit input is ``2^(n-1) - 1`` read pulses at most of
    10 ns at ±0.5 V (a pulse count: PWM-like conduction, ``n - 1`` magnitude bits);
    outputs by each neuron's integrator and charge-counting converter, a converter that
    costs per conversion, not per unit time (``adc_type="sar"``); 130 nm, neurons at
    1.8 V (``CostConfig`` scaled by C·V²). The cell is our HfOx ``reram`` device (Wu et
    al., VLSI 2018, the same Tsinghua HfOx process family) at 0.5 V and 10 ns. The
    measured efficiency covers the core's MVM (word-line switching, neuron operations and
    control, input pulses); the chip has no on-chip activation buffer, so the preset has
    no buffer energy (``buffer_J_per_byte = 0``).
    """
    device = devices.get("reram", read_voltage_V=NEURRAM_VREAD_V, t_read_s=NEURRAM_PULSE_S)
    cost = dataclasses.replace(
        CrossbarConfig().cost.scaled(NEURRAM_NODE_M, NEURRAM_VDD_V),
        adc_type="sar",
        buffer_J_per_byte=0.0,
    )
    config = CrossbarConfig(
        tile_rows=256,
        tile_cols=256,
        dac=DACConfig(bits=input_bits - 1, mode="pwm", pwm_step_s=NEURRAM_PULSE_S),
        adc=ADCConfig(bits=output_bits, columns_per_adc=1),
        cost=cost,
        self_test=False,
    )
    return device, config


def neurram_mvm(input_bits: int, output_bits: int) -> CostReport:
    """Cost of one 256-row × 128-weight MVM on one NeuRRAM core at the operating point of
    :func:`operating_point` (Gaussian weights, ReLU(Gaussian) inputs, same seed)."""
    device, config = neurram_core(input_bits, output_bits)
    gen = torch.Generator().manual_seed(_SEED)
    w = torch.randn((128, 256), generator=gen, dtype=torch.float64)
    x = torch.relu(torch.randn((_N_INPUTS, 256), generator=gen, dtype=torch.float64))
    g = programmed_mean(w, device, config)
    return matrix_cost(device, config, 128, 256, 1, InputStats.measure(x, config), mean_value=g)


def _neurram_tops_per_w(input_bits: int, output_bits: int) -> float:
    ops = 2.0 * 256 * 128
    return ops / neurram_mvm(input_bits, output_bits).total_energy_J / 1e12


_HERMES_SOURCE = (
    "Khaddam-Aljameh et al., IEEE JSSC 57(4):1027-1038, 2022 (HERMES core, 14 nm, 256x256 PCM)"
)
_LEGALLO_SOURCE = (
    "Le Gallo et al., Nature Electronics 6:680-693, 2023 (arXiv 2212.02872), IBM 64-core PCM chip"
)
_CCO = (
    "lanes priced as CCO converters running through the window at ISAAC's GS/s converter "
    "power (no constant fitted); "
)

register_check(
    Check(
        name="analog.hermes-core.tops_per_w",
        paradigm="analog",
        quantity="TOPS/W, one core, 8-bit PWM in, 8-bit out",
        unit="TOPS/W",
        measured=HERMES_TOPS_PER_W,
        model=lambda: _tops_per_w(1),
        source=_HERMES_SOURCE,
        figure_id="khaddam2022-hermes-core-10.5TOPS/W",
        note=_CCO + "the model's lane draws more than the measured CCO lane",
    )
)
register_check(
    Check(
        name="analog.hermes-core.tops",
        paradigm="analog",
        quantity="TOPS, one core, 8-bit PWM MVM (128 ns window)",
        unit="TOPS",
        measured=HERMES_TOPS,
        model=lambda: _tops(1),
        source=_HERMES_SOURCE,
        figure_id="khaddam2022-hermes-core-1.008TOPS",
        note="time model: (2^7 - 1) x 1 ns PWM window + one 1.28 GS/s conversion (ISAAC); "
        "no constant fitted to it",
    )
)
register_check(
    Check(
        name="analog.ibm64.one_phase.tops",
        paradigm="analog",
        quantity="TOPS, 64 cores, 8-bit I/O MVM, one-phase read",
        unit="TOPS",
        measured=ONE_PHASE_TOPS,
        model=lambda: _tops(1, CORES),
        source=_LEGALLO_SOURCE,
        figure_id="legallo2023-ibm64-1phase-63.1TOPS",
        note="64 x one core's MVM rate; on-chip network and global units not modelled",
    )
)
register_check(
    Check(
        name="analog.ibm64.four_phase.tops",
        paradigm="analog",
        quantity="TOPS, 64 cores, 8-bit I/O MVM, four-phase read",
        unit="TOPS",
        measured=FOUR_PHASE_TOPS,
        model=lambda: _tops(4, CORES),
        source=_LEGALLO_SOURCE,
        figure_id="legallo2023-ibm64-4phase-16.1TOPS",
        note="four integration windows and conversions per MVM (read_phases = 4)",
    )
)
register_check(
    Check(
        name="analog.ibm64.one_phase.tops_per_w",
        paradigm="analog",
        quantity="TOPS/W, 8-bit I/O MVM, one-phase read",
        unit="TOPS/W",
        measured=ONE_PHASE_TOPS_PER_W,
        model=lambda: _tops_per_w(1),
        source=_LEGALLO_SOURCE,
        figure_id="legallo2023-ibm64-1phase-9.76TOPS/W",
        note=_CCO + "same core design as HERMES (one chip family); the chip's on-chip "
        "network and global digital units are not modelled",
    )
)
register_check(
    Check(
        name="analog.ibm64.four_phase.tops_per_w",
        paradigm="analog",
        quantity="TOPS/W, 8-bit I/O MVM, four-phase read",
        unit="TOPS/W",
        measured=FOUR_PHASE_TOPS_PER_W,
        model=lambda: _tops_per_w(4),
        source=_LEGALLO_SOURCE,
        figure_id="legallo2023-ibm64-4phase-2.48TOPS/W",
        note="tests the split of the core's energy into per-event terms (cells once per "
        "MVM) and time-proportional terms (static, conversions: x4)",
    )
)

_NEURRAM_SOURCE = (
    "Wan et al., Nature 608:504-512, 2022 (NeuRRAM, 48 cores of 256x256 RRAM, 130 nm): "
    "energy efficiency against input/output bits, as digitized in CiMLoop's "
    "wan_nature_2022 model (Andrulis et al., ISPASS 2024)"
)
for (_bi, _bo), _tpw in NEURRAM_TOPS_PER_W.items():
    register_check(
        Check(
            name=f"analog.neurram.in{_bi}b_out{_bo}b.tops_per_w",
            paradigm="analog",
            quantity=f"TOPS/W, {_bi}-bit signed input, 4-bit weight, {_bo}-bit output MVM",
            unit="TOPS/W",
            measured=_tpw,
            model=functools.partial(_neurram_tops_per_w, _bi, _bo),
            source=_NEURRAM_SOURCE,
            figure_id=f"wan2022-neurram-in{_bi}-out{_bo}-{_tpw}TOPS/W",
            note="a different design from IBM's: RRAM, 130 nm, voltage-mode sensing and "
            "per-conversion neuron converters (adc_type='sar'); the model's DC conduction "
            "over each pulse overestimates voltage-mode cell energy and it has no term for "
            "the word-line switching that gates the neurons' integration",
        )
    )
