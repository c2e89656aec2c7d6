"""Evaluating code samples and code models (pass@k) in the sandbox.

``benchmarks/`` holds one adapter per benchmark; ``runner`` streams samples through the sandbox
pool; ``pass_at_k`` is the estimator; ``model_eval`` asks an OpenAI-compatible endpoint for
samples (resumably) and evaluates them.
"""
