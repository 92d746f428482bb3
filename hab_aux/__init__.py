"""hab-aux: spatially grounded robot learning for home rearrangement.

The core package (schema, store I/O, task names, CLI) imports neither the simulator nor torch,
so the trainer installs on a cluster without SAPIEN.
"""

__version__ = "0.1.0"
