"""The production topology on one machine (``make cluster``); see topology.py (state and
control), layout.py (``create``), probes.py and the configuration files beside it, which
docs/operations.md ("Scaling out") refers to."""
