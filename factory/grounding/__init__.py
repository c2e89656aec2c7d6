"""Grounded and targeted generation: what a run's plan can be steered by besides the taxonomy.

Seed snippets from real code (``code_seeds``), the failures of an evaluated model
(``focus``), audiences (``personas``), and the settings the run fingerprint keeps of them.
"""
