"""The simulator's side of MEXC spot (imported only by the simulator)."""
