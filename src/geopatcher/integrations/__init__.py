"""Glue between geopatcher and the frameworks: ``pipekit`` (Operators) and ``pipekit_jax``."""
