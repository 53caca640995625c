"""Audio capture, playback, endpointing and resampling."""
