"""The simulator's side of this venue: imported only by the simulator (``VenueSpec.sim_app``)."""
