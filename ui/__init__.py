"""Screen layouts, fonts and shaping, display drivers and the simulator."""
