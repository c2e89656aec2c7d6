"""Training-ready data: SFT, RL and verl exports, a sandboxed reward function for RL trainers,
and a solver model's pass rates as a difficulty signal (``codefactory label``)."""
