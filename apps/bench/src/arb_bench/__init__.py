"""make bench: every benchmark of the engine in one run, with the peers and the floor.

An app beside the services: it starts them, the simulator and the peers from outside, so no
service ships code that imports the simulator. ``arb bench`` (and ``python -m arb_bench``) is
the front door; ``report`` runs the sections and renders the table.
"""
