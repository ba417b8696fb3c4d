"""Analog in-memory computing: crossbar arrays of device cells computing matrix-vector products.

``Crossbar(device, config)`` maps a weight matrix onto tiles of cells (differential pairs or
an offset column, optional bit-slicing), converts inputs with DACs, accumulates currents or
charges on the columns with the device and circuit non-idealities (programming and read
noise, drift, finite levels, stuck-at faults, IR drop, sneak paths), digitises with ADCs and
adds tile partial sums digitally; ``cost()`` gives energy by component, latency and area.
``crossbar.nn`` converts any torch model to analog layers. Imports ``devices`` only.
"""
