"""`tolk bench`: speed, quality and memory, side by side with peers, with history and plots."""
