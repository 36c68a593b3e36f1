"""The simulator's side of Gate: imported only by the simulator (``VenueSpec.sim_app``)."""
